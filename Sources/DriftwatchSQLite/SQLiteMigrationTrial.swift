import DriftwatchCore
import Foundation
import SQLiteNIO

/// The pre-deploy check on SQLite: the database file (and its attached files) is copied into a temporary
/// directory, the migration runs on the copy, the copy is read, and the directory is deleted. The original
/// files are only ever opened read-only, and held in a read transaction while they are copied so that no
/// writer commits halfway through the copy.
///
/// What the migration can reach is structural: once the copies are attached, an authorizer denies every
/// `ATTACH` and `DETACH` (SQLite also asks it for the `ATTACH` that `VACUUM INTO` runs), so no statement can
/// open, create or write another file; the bundled SQLite is built without `load_extension` and without
/// deprecated pragmas (`temp_store_directory`); SQLite has no other statement that names a file.
public struct SQLiteMigrationTrial: Sendable {
  public var path: String
  /// Schema name → attached file, as for `SQLiteWarehouse`.
  public var attachments: [String: String]

  public init(path: String, attachments: [String: String] = [:]) {
    self.path = path
    self.attachments = attachments
  }

  /// Runs `statements` (already checked by `MigrationSafety`) on a copy and returns `schemas` before and
  /// after. A statement SQLite rejects throws `MigrationStatementFailure` with its line.
  /// `inspect` runs on the original (read-only) and on the migrated copy, with the schema and the database
  /// (`ImpactAnalysis.changes`: profiles and samples of the migrated rows).
  public func run(
    statements: [SQLStatement], schemas: [SchemaRef], inspect: MigrationTrial.Inspection? = nil
  ) async throws -> MigrationTrial {
    let clock = ContinuousClock()
    var started = clock.now
    let original = SQLiteWarehouse(path: path, attachments: attachments)
    let before = try await original.introspect(schemas: schemas)
    let beforeChanges = try await inspect?(before, original)
    var introspect = clock.now - started

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "driftwatch-impact-\(UUID().uuidString.lowercased())"
    ).path
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    } catch {
      throw WarehouseError(
        .queryFailed,
        "cannot create a temporary directory for the copy of '\(path)': \(error.localizedDescription.lowercased()); "
          + "check TMPDIR")
    }
    defer { try? FileManager.default.removeItem(atPath: directory) }

    let copy = "\(directory)/main.db"
    var copiedAttachments: [String: String] = [:]
    var copies = [(path, copy)]
    for (offset, name) in attachments.keys.sorted().enumerated() {
      guard let file = attachments[name] else { continue }
      let target = "\(directory)/attached-\(offset).db"
      copiedAttachments[name] = target
      copies.append((file, target))
    }
    try await copyConsistently(copies)

    started = clock.now
    try await apply(statements, to: copy, attachments: copiedAttachments)
    let apply = clock.now - started

    started = clock.now
    let migrated = SQLiteWarehouse(path: copy, attachments: copiedAttachments)
    let after = try await migrated.introspect(schemas: schemas)
    let afterChanges = try await inspect?(after, migrated)
    introspect += clock.now - started
    return MigrationTrial(
      before: before, after: after, applyMs: milliseconds(apply), introspectMs: milliseconds(introspect),
      beforeChanges: beforeChanges, afterChanges: afterChanges)
  }

  /// Copies each file (with its `-wal`, if any) while a read transaction on the original keeps writers
  /// from committing.
  private func copyConsistently(_ copies: [(from: String, to: String)]) async throws {
    for (from, to) in copies {
      let connection = try await SQLiteFiles.open(from, mode: .readOnly)
      try await SQLiteFiles.using(connection) { connection in
        _ = try await SQLiteFiles.rows(connection, "BEGIN")
        _ = try await SQLiteFiles.rows(connection, "SELECT count(*) FROM sqlite_schema")
        do {
          try FileManager.default.copyItem(atPath: from, toPath: to)
          if FileManager.default.fileExists(atPath: from + "-wal") {
            try FileManager.default.copyItem(atPath: from + "-wal", toPath: to + "-wal")
          }
        } catch {
          _ = try? await SQLiteFiles.rows(connection, "ROLLBACK")
          throw WarehouseError(
            .queryFailed,
            "cannot copy '\(from)' to a temporary directory: \(error.localizedDescription.lowercased()); "
              + "check free space in TMPDIR")
        }
        _ = try? await SQLiteFiles.rows(connection, "ROLLBACK")
      }
    }
  }

  /// Runs the statements on the copy in one transaction, attached files attached under their names first
  /// (SQLite cannot attach inside a transaction).
  private func apply(_ statements: [SQLStatement], to copy: String, attachments: [String: String])
    async throws
  {
    let connection = try await SQLiteFiles.open(copy, mode: .readWrite)
    try await SQLiteFiles.using(connection) { connection in
      for (name, file) in attachments.sorted(by: { $0.key < $1.key }) {
        _ = try await SQLiteFiles.rows(
          connection, "ATTACH DATABASE ? AS ?",
          [.text(SQLiteFiles.uri(for: file, mode: .readWrite)), .text(name)])
      }
      _ = try await connection.setAuthorizerValidator(lifetime: .pinned) { event in
        event.action == .attach || event.action == .detach ? .deny : .allow
      }
      _ = try await SQLiteFiles.rows(connection, "BEGIN IMMEDIATE")
      for statement in statements {
        do {
          _ = try await SQLiteFiles.rows(connection, statement.text)
        } catch {
          _ = try? await SQLiteFiles.rows(connection, "ROLLBACK")
          let message = (error as? SQLiteError)?.message ?? "\(error)"
          throw MigrationStatementFailure(line: statement.line, message: message.lowercased())
        }
      }
      _ = try await SQLiteFiles.rows(connection, "COMMIT")
    }
  }

  private func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }
}
