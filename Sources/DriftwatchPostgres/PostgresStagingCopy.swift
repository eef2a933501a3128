import DriftwatchCore
import Foundation
import Logging
import PostgresNIO

/// A throwaway database created from a staging database as its template, for staging parity
/// (`driftwatch impact --dbt-build`): the migration is applied to it for real, dbt builds in it, and it is
/// dropped. The staging database itself is only read (by PostgreSQL, as the template).
///
/// PostgreSQL copies a database only while nobody else is connected to it; a busy staging database makes
/// `create` fail with a message saying so.
public struct PostgresStagingCopy: Sendable {
  /// The copy: the staging locator with the copy's database name.
  public let locator: PostgresLocator
  let maintenance: PostgresLocator
  let logger: Logger

  /// Creates `driftwatch_parity_<random>` from `staging`, connecting to `maintenanceDatabase` to do so.
  public static func create(
    from staging: PostgresLocator, maintenanceDatabase: String = "postgres",
    logger: Logger = PostgresSession.silentLogger
  ) async throws -> PostgresStagingCopy {
    var maintenance = staging
    maintenance.database = maintenanceDatabase
    var copy = staging
    copy.database =
      "driftwatch_parity_"
      + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
      .prefix(12)
    let sql =
      "CREATE DATABASE \(PostgresSession.quoted(copy.database)) TEMPLATE \(PostgresSession.quoted(staging.database))"
    try await PostgresSession.withConnection(to: maintenance, logger: logger) { connection in
      do {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
      } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55006" {
        throw WarehouseError(
          .queryFailed,
          "cannot copy \(staging.displayURL) for --dbt-build: other sessions are connected to it, and PostgreSQL "
            + "copies a database only while nobody uses it; run --dbt-build against a quiet copy of staging")
      } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
        throw WarehouseError(
          .queryFailed,
          "cannot copy \(staging.displayURL) for --dbt-build: user \(staging.user) may not create databases; "
            + "grant CREATEDB or run without --dbt-build")
      } catch {
        throw PostgresSession.warehouseError(error, locator: maintenance, connecting: false)
      }
    }
    return PostgresStagingCopy(locator: copy, maintenance: maintenance, logger: logger)
  }

  /// Applies `statements` to the copy and commits: the copy is thrown away afterwards. The role is checked
  /// first as for the trial (`PostgresRoleCheck`): what a migration does outside a database is not dropped
  /// with it.
  public func apply(_ statements: [SQLStatement], searchPath: String?, schemas: [String] = []) async throws {
    try await PostgresSession.withConnection(to: locator, logger: logger) { connection in
      let session = PostgresWarehouse.ReadOnlySession(
        connection: connection, locator: locator, logger: logger)
      try await PostgresMigrationTrial.preflight(
        session, statements: statements, schemas: schemas + (searchPath.map { [$0] } ?? []))
      try await session.run("BEGIN")
      do {
        if let searchPath {
          let path = PostgresSession.quoted(searchPath)
          try await session.query("SELECT set_config('search_path', \(path), true)")
        }
        for statement in statements {
          do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: statement.text), logger: logger)
            for try await _ in rows {}
          } catch let error as PSQLError where error.code == .server {
            throw MigrationStatementFailure(
              line: statement.line,
              message: "\(error.serverInfo?[.message] ?? "server error") (in the staging copy)")
          }
        }
        try await session.run("COMMIT")
      } catch {
        try? await session.run("ROLLBACK")
        throw error
      }
    }
  }

  /// Drops the copy, closing any session dbt left on it. `WITH (FORCE)` ends every other session on the copy;
  /// a role that is not a superuser may not end an autovacuum worker's (PostgreSQL refuses the whole drop,
  /// sqlstate 42501, while autovacuum is busy with the freshly built copy). Then the copy is dropped as
  /// PostgreSQL drops a database in use by autovacuum only: the role's own sessions ended, a plain `DROP`
  /// (which stops autovacuum workers itself), retried while something still holds the copy.
  public func drop() async throws {
    let name = PostgresSession.quoted(locator.database)
    try await PostgresSession.withConnection(to: maintenance, logger: logger) { connection in
      do {
        try await connection.query(
          PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        return
      } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
        // Another role's session on the copy: autovacuum's. Handled below.
      } catch {
        throw PostgresSession.warehouseError(error, locator: maintenance, connecting: false)
      }
      var attempt = 0
      while true {
        do {
          let ended = try await connection.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
            WHERE datname = \(locator.database) AND usename = current_user AND pid <> pg_backend_pid()
            """, logger: logger)
          for try await _ in ended {}
          try await connection.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name)"), logger: logger)
          return
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55006" && attempt < 20 {
          // Still in use (a session ending, autovacuum stopping): wait and try again, at most ~10 s.
          attempt += 1
          try await Task.sleep(for: .milliseconds(500))
        } catch {
          throw PostgresSession.warehouseError(error, locator: maintenance, connecting: false)
        }
      }
    }
  }
}
