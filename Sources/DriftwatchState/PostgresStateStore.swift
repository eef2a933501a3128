import DriftwatchCore
import DriftwatchPostgres
import PostgresNIO

/// Snapshots in a PostgreSQL database shared by a team (`--state postgres://…`), in schema `driftwatch`.
/// This is the state database the user names, never the monitored warehouse's read-only session.
/// Migrations are versioned in `driftwatch.migrations` and run under an advisory lock; a snapshot is
/// written in one transaction.
public struct PostgresStateStore: StateStore {
  public var locator: PostgresLocator
  /// Tests only: fail after writing this many parts of a snapshot, inside the transaction.
  var failAfterParts: Int?

  public init(locator: PostgresLocator) {
    self.locator = locator
  }

  public var displayName: String { locator.displayURL }

  static let migrations: [[String]] = [
    [
      """
      CREATE TABLE driftwatch.snapshots (
        id text PRIMARY KEY, project text NOT NULL, taken_at text NOT NULL, metadata text NOT NULL)
      """,
      "CREATE INDEX snapshots_by_project ON driftwatch.snapshots (project, taken_at, id)",
      """
      CREATE TABLE driftwatch.snapshot_parts (
        snapshot_id text NOT NULL REFERENCES driftwatch.snapshots (id), part int4 NOT NULL, kind text NOT NULL,
        payload text NOT NULL, PRIMARY KEY (snapshot_id, part))
      """,
    ]
  ]

  public func save(_ snapshot: Snapshot) async throws {
    let rows = try SnapshotRows.encode(snapshot)
    try await database.transaction { connection in
      try await database.run(
        connection,
        """
        INSERT INTO driftwatch.snapshots (id, project, taken_at, metadata)
        VALUES (\(snapshot.id), \(snapshot.metadata.project), \(snapshot.metadata.takenAt), \(rows.metadata))
        """)
      for part in rows.parts {
        if let failAfterParts, part.number >= failAfterParts {
          throw StateError("injected failure after \(failAfterParts) parts")
        }
        try await database.run(
          connection,
          """
          INSERT INTO driftwatch.snapshot_parts (snapshot_id, part, kind, payload)
          VALUES (\(snapshot.id), \(Int32(part.number)), \(part.kind), \(part.payload))
          """)
      }
    }
  }

  public func list(project: String?) async throws -> [SnapshotMetadata] {
    try await database.withConnection { connection in
      let rows = try await database.query(
        connection,
        """
        SELECT metadata FROM driftwatch.snapshots WHERE \(project)::text IS NULL OR project = \(project)
        ORDER BY taken_at, id
        """)
      return try rows.map { try SnapshotRows.decodeMetadata(try $0.decode(String.self), store: displayName) }
    }
  }

  public func load(id: String) async throws -> Snapshot? {
    try await database.withConnection { connection in
      guard
        let metadata = try await database.query(
          connection, "SELECT metadata FROM driftwatch.snapshots WHERE id = \(id)"
        )
        .first
      else { return nil }
      let parts = try await database.query(
        connection,
        "SELECT kind, payload FROM driftwatch.snapshot_parts WHERE snapshot_id = \(id) ORDER BY part")
      return try SnapshotRows.decode(
        metadata: try metadata.decode(String.self),
        parts: try parts.map { try $0.decode((String, String).self) }, store: displayName)
    }
  }

  // MARK: - database

  private var database: PostgresStoreDatabase {
    PostgresStoreDatabase(
      locator: locator, migrationsTable: "migrations", migrations: Self.migrations,
      advisoryLock: 7_242_314_101,
      writtenBy: "the state store \(displayName) was written")
  }
}
