import DriftwatchCore
import DriftwatchPostgres
import PostgresNIO

/// The database of one of driftwatch's own stores on PostgreSQL (`--state postgres://…`, schema `driftwatch`):
/// a connection per call, the store's versioned migrations applied first (in one transaction, under the
/// store's advisory lock, recorded in its migrations table), statements whose values postgres-nio's
/// interpolation binds, transactions.
/// Never the monitored warehouse's read-only session.
struct PostgresStoreDatabase: Sendable {
  var locator: PostgresLocator
  /// `driftwatch.<name>`: which migrations of this store ran.
  var migrationsTable: String
  /// Statements of each schema version, oldest first.
  var migrations: [[String]]
  /// Serializes migrations of this store across processes.
  var advisoryLock: Int64
  /// The store as the subject of "… by a newer driftwatch": "the state store postgres://… was written".
  var writtenBy: String

  func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await PostgresSession.withConnection(to: locator) { connection in
      try await migrate(connection)
      return try await body(connection)
    }
  }

  /// `body` in one transaction on a fresh connection: committed when it returns, rolled back when it throws.
  func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await withConnection { connection in try await inTransaction(connection, body) }
  }

  func run(_ connection: PostgresConnection, _ statement: PostgresQuery) async throws {
    _ = try await query(connection, statement)
  }

  func query(_ connection: PostgresConnection, _ statement: PostgresQuery) async throws -> [PostgresRow] {
    do {
      return try await connection.query(statement, logger: PostgresSession.silentLogger).collect()
    } catch let error as StateError {
      throw error
    } catch {
      let warehouseError = PostgresSession.warehouseError(error, locator: locator, connecting: false)
      throw StateError("state store: \(warehouseError.message)")
    }
  }

  private func inTransaction<T: Sendable>(
    _ connection: PostgresConnection, _ body: (PostgresConnection) async throws -> T
  ) async throws -> T {
    try await run(connection, "BEGIN")
    do {
      let result = try await body(connection)
      try await run(connection, "COMMIT")
      return result
    } catch {
      try? await run(connection, "ROLLBACK")
      throw error
    }
  }

  private func migrate(_ connection: PostgresConnection) async throws {
    try await inTransaction(connection) { connection in
      try await run(connection, "SELECT pg_advisory_xact_lock(\(advisoryLock))")
      try await run(connection, "CREATE SCHEMA IF NOT EXISTS driftwatch")
      try await run(
        connection,
        "CREATE TABLE IF NOT EXISTS driftwatch.\(unescaped: migrationsTable) (version int4 PRIMARY KEY, applied_at timestamptz NOT NULL)"
      )
      let current =
        try await query(
          connection, "SELECT coalesce(max(version), 0)::int4 FROM driftwatch.\(unescaped: migrationsTable)"
        )
        .first.map { try $0.decode(Int32.self) } ?? 0
      if current > migrations.count {
        throw StateError(
          "\(writtenBy) by a newer driftwatch (schema \(current)); upgrade driftwatch")
      }
      for (index, statements) in migrations.enumerated() where index + 1 > current {
        for statement in statements { try await run(connection, PostgresQuery(unsafeSQL: statement)) }
        try await run(
          connection,
          "INSERT INTO driftwatch.\(unescaped: migrationsTable) (version, applied_at) VALUES (\(Int32(index + 1)), now())"
        )
      }
    }
  }
}
