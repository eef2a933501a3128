import DriftwatchCore
import Foundation
import SQLiteNIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The default state store: one SQLite file (`.driftwatch/state.db` beside the project), mode 0600 in a
/// 0700 directory, WAL journal, schema versioned in `driftwatch_migrations`. A snapshot is written in one
/// `BEGIN IMMEDIATE … COMMIT`: a crash or error half-way leaves no part of it and every earlier one intact.
public struct SQLiteStateStore: StateStore {
  public let path: String
  /// Tests only: fail after writing this many parts of a snapshot, inside the transaction.
  var failAfterParts: Int?

  public init(path: String) {
    self.path = path
  }

  /// The store of a project directory: `DIR/.driftwatch/state.db`.
  public static func defaultPath(projectDirectory: String) -> String {
    (projectDirectory as NSString).appendingPathComponent(".driftwatch/state.db")
  }

  public var displayName: String { "sqlite:\(path)" }

  static let migrations: [[String]] = [
    [
      """
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY, project TEXT NOT NULL, taken_at TEXT NOT NULL, metadata TEXT NOT NULL)
      """,
      "CREATE INDEX snapshots_by_project ON snapshots (project, taken_at, id)",
      """
      CREATE TABLE snapshot_parts (
        snapshot_id TEXT NOT NULL REFERENCES snapshots (id), part INTEGER NOT NULL, kind TEXT NOT NULL,
        payload TEXT NOT NULL, PRIMARY KEY (snapshot_id, part))
      """,
    ]
  ]

  public func save(_ snapshot: Snapshot) async throws {
    let rows = try SnapshotRows.encode(snapshot)
    do {
      try await file.withConnection(create: true) { connection in
        try await file.transaction(connection) { connection in
          try await file.run(
            connection, "INSERT INTO snapshots (id, project, taken_at, metadata) VALUES (?1, ?2, ?3, ?4)",
            [
              .text(snapshot.id), .text(snapshot.metadata.project), .text(snapshot.metadata.takenAt),
              .text(rows.metadata),
            ])
          for part in rows.parts {
            if let failAfterParts, part.number >= failAfterParts {
              throw StateError("injected failure after \(failAfterParts) parts")
            }
            try await file.run(
              connection,
              "INSERT INTO snapshot_parts (snapshot_id, part, kind, payload) VALUES (?1, ?2, ?3, ?4)",
              [.text(snapshot.id), .integer(part.number), .text(part.kind), .text(part.payload)])
          }
        }
      }
    } catch {
      if let error = error as? StateError, error.message.contains("unique constraint") {
        throw StateError("snapshot \(snapshot.id) is already in \(displayName): take a new one")
      }
      throw error
    }
  }

  public func list(project: String?) async throws -> [SnapshotMetadata] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try await file.withConnection(create: false) { connection in
      let rows: [SQLiteRow]
      if let project {
        rows = try await file.query(
          connection, "SELECT metadata FROM snapshots WHERE project = ?1 ORDER BY taken_at, id",
          [.text(project)])
      } else {
        rows = try await file.query(connection, "SELECT metadata FROM snapshots ORDER BY taken_at, id")
      }
      return try rows.map {
        try SnapshotRows.decodeMetadata($0.column("metadata")?.string ?? "", store: displayName)
      }
    }
  }

  public func load(id: String) async throws -> Snapshot? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try await file.withConnection(create: false) { connection in
      guard
        let metadata = try await file.query(
          connection, "SELECT metadata FROM snapshots WHERE id = ?1", [.text(id)]
        )
        .first?.column("metadata")?.string
      else { return nil }
      let parts = try await file.query(
        connection, "SELECT kind, payload FROM snapshot_parts WHERE snapshot_id = ?1 ORDER BY part",
        [.text(id)])
      return try SnapshotRows.decode(
        metadata: metadata,
        parts: parts.map { ($0.column("kind")?.string ?? "", $0.column("payload")?.string ?? "") },
        store: displayName)
    }
  }

  // MARK: - connection, file and migrations

  private var file: SQLiteStoreFile {
    SQLiteStoreFile(
      path: path, migrationsTable: "driftwatch_migrations", migrations: Self.migrations,
      writtenBy: "the state store \(path) was written")
  }
}
