import DriftwatchCore
import Foundation
import SQLiteNIO

/// The file behind the SQLite stores (snapshots, incidents): created 0600 in a 0700 directory, opened with
/// busy_timeout and WAL, migrated, and every use retried while SQLite refuses it as locked.
struct SQLiteStoreFile: Sendable {
  let path: String
  /// Which migrations of this store ran (one table per store: both stores may share a file).
  let migrationsTable: String
  /// Statements of each schema version, oldest first.
  let migrations: [[String]]
  /// The store as the subject of "… by a newer driftwatch": "the state store PATH was written".
  let writtenBy: String

  func withConnection<T: Sendable>(create: Bool, _ body: (SQLiteConnection) async throws -> T) async throws
    -> T
  {
    if create { try prepareFile() }
    let connection: SQLiteConnection
    do {
      connection = try await SQLiteConnection.open(storage: .file(path: path))
    } catch {
      throw StateError(
        "cannot open the state store \(path): \(describe(error)); check the path or pass --state")
    }
    var result: Result<T, any Error> = .failure(StateError("the state store \(path) stayed locked"))
    // SQLite answers "database is locked" at once (without waiting out busy_timeout) when a read turns into a
    // write while another process writes; every change is one transaction, so trying again is safe.
    for attempt in 0..<50 {
      do {
        try await run(connection, "PRAGMA busy_timeout = 5000")
        if create { try await run(connection, "PRAGMA journal_mode = WAL") }
        try await migrate(connection)
        result = .success(try await body(connection))
      } catch {
        result = .failure(error)
        if "\(error)".contains("locked") || "\(error)".contains("busy") {
          try? await run(connection, "ROLLBACK")
          try? await Task.sleep(for: .milliseconds(20 + 10 * attempt))
          continue
        }
      }
      break
    }
    try? await connection.close()
    return try result.get()
  }

  /// Applies the migrations this file lacks, in one `BEGIN IMMEDIATE` transaction (re-read under the lock:
  /// another process may have migrated meanwhile).
  private func migrate(_ connection: SQLiteConnection) async throws {
    try await run(
      connection,
      "CREATE TABLE IF NOT EXISTS \(migrationsTable) (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    func version() async throws -> Int {
      try await query(connection, "SELECT coalesce(max(version), 0) AS v FROM \(migrationsTable)").first?
        .column("v")?.integer ?? 0
    }
    let current = try await version()
    guard current < migrations.count else {
      if current > migrations.count {
        throw StateError("\(writtenBy) by a newer driftwatch (schema \(current)); upgrade driftwatch")
      }
      return
    }
    try await transaction(connection) { connection in
      let again = try await version()
      for (index, statements) in migrations.enumerated() where index + 1 > again {
        for statement in statements { try await run(connection, statement) }
        try await run(
          connection, "INSERT INTO \(migrationsTable) (version, applied_at) VALUES (?1, datetime('now'))",
          [.integer(index + 1)])
      }
    }
  }

  /// `body` in one `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when it throws.
  func transaction<T: Sendable>(
    _ connection: SQLiteConnection, _ body: (SQLiteConnection) async throws -> T
  ) async throws -> T {
    try await run(connection, "BEGIN IMMEDIATE")
    do {
      let result = try await body(connection)
      try await run(connection, "COMMIT")
      return result
    } catch {
      try? await run(connection, "ROLLBACK")
      throw error
    }
  }

  /// Creates the directory (0700) and the file (0600) when missing; keeps an existing file at 0600.
  func prepareFile() throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
      do {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw StateError("cannot create \(directory) for the state store: \(describe(error)); pass --state")
      }
    }
    let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
    guard descriptor >= 0 else {
      throw StateError(
        "cannot create the state store \(path): \(String(cString: strerror(errno))); check the directory or pass --state"
      )
    }
    close(descriptor)
    _ = chmod(path, 0o600)
  }

  func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws {
    _ = try await query(connection, sql, binds)
  }

  func query(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws
    -> [SQLiteRow]
  {
    do {
      return try await connection.query(sql, binds)
    } catch {
      throw StateError("state store \(path): \(describe(error))")
    }
  }

  func describe(_ error: any Error) -> String {
    ((error as? SQLiteError)?.message ?? String(describing: error)).lowercased()
  }
}
