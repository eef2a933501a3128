import DriftwatchCore
import DriftwatchPostgres
import Foundation
import PostgresNIO

/// A failure of the test harness itself (no server configured, a fixture that does not load).
public struct TestSupportError: UserFacingError {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// Throwaway PostgreSQL databases on the server that `scripts/test` starts.
/// Also `TestNetwork` for ports with nothing (or something silent) behind them.
///
/// The server is named by `DRIFTWATCH_TEST_POSTGRES_URL` (a superuser URL). When it is not set the helpers
/// throw, so PostgreSQL tests fail rather than being skipped: run them through `scripts/test`.
///
/// ```swift
/// try await TestPostgres.withDatabase { db in
///   try await TestPostgres.load(sql: seed, into: db, searchPath: "raw")
///   let live = try await PostgresWarehouse(locator: db).introspect(schemas: [SchemaRef(schema: "raw")])
/// }
/// ```
public enum TestPostgres {
  public static let urlVariable = "DRIFTWATCH_TEST_POSTGRES_URL"

  /// The admin (superuser) locator from `DRIFTWATCH_TEST_POSTGRES_URL` in `environment`.
  public static func adminLocator(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> PostgresLocator {
    guard let url = environment[urlVariable], !url.isEmpty else {
      throw TestSupportError(
        "\(urlVariable) is not set: run scripts/test (it starts a throwaway postgresql server)")
    }
    guard case .postgres(let locator) = try WarehouseLocator.parse(url, environment: ["USER": "postgres"])
    else {
      throw TestSupportError("\(urlVariable) must be a postgres:// url: run scripts/test")
    }
    return locator
  }

  /// Creates an empty database with a unique name on the test server (or on `server`, an admin locator of
  /// another one, e.g. a `TestCluster`'s); returns its locator (admin user).
  public static func createDatabase(on server: PostgresLocator? = nil) async throws -> PostgresLocator {
    var locator = try server ?? adminLocator()
    let name =
      "driftwatch_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    try await withConnection(to: locator) { connection in
      try await run("CREATE DATABASE \(PostgresSession.quoted(name))", on: connection)
    }
    locator.database = name
    return locator
  }

  /// Drops a database made by `createDatabase(on:)` (pass the same `server`), closing any session still
  /// connected to it.
  public static func dropDatabase(_ locator: PostgresLocator, on server: PostgresLocator? = nil) async throws
  {
    let admin = try server ?? adminLocator()
    try await withConnection(to: admin) { connection in
      try await run(
        "DROP DATABASE IF EXISTS \(PostgresSession.quoted(locator.database)) WITH (FORCE)", on: connection)
    }
  }

  /// Runs `body` with a fresh database (on the test server, or on `server`) and drops it afterwards, whether
  /// `body` succeeds or throws. When `body` threw, its error is the one rethrown (a drop that fails then,
  /// e.g. because the test stopped the server, does not hide it).
  public static func withDatabase<T: Sendable>(
    on server: PostgresLocator? = nil, _ body: (PostgresLocator) async throws -> T
  ) async throws -> T {
    let locator = try await createDatabase(on: server)
    let result: Result<T, any Error>
    do {
      result = .success(try await body(locator))
    } catch {
      try? await dropDatabase(locator, on: server)
      throw error
    }
    try await dropDatabase(locator, on: server)
    return try result.get()
  }

  /// A fresh database owned by a fresh login role fit for `driftwatch impact` (not a superuser, no
  /// predefined role, no `REPLICATION`/`CREATEROLE`; `CREATEDB`, which `impact --dbt-build` needs). `body`
  /// gets the admin locator of the database and the role's locator; the database, then the role, are dropped
  /// afterwards. `setup` runs as admin in the database before `body` (extensions, grants).
  public static func withFitRole<T: Sendable>(
    setup: String? = nil, _ body: (_ admin: PostgresLocator, _ fit: PostgresLocator) async throws -> T
  ) async throws -> T {
    let admin = try adminLocator()
    let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    var fit = admin
    fit.user = "driftwatch_fit_\(suffix)"
    fit.password = UUID().uuidString
    try await withConnection(to: admin) { connection in
      try await run(
        "CREATE ROLE \(PostgresSession.quoted(fit.user)) LOGIN PASSWORD '\(fit.password ?? "")' NOSUPERUSER "
          + "NOCREATEROLE NOREPLICATION CREATEDB", on: connection)
    }
    let result: Result<T, any Error>
    do {
      result = .success(
        try await withDatabase { db in
          fit.database = db.database
          try await withConnection(to: db) { connection in
            try await run(
              "ALTER DATABASE \(PostgresSession.quoted(db.database)) OWNER TO \(PostgresSession.quoted(fit.user))",
              on: connection)
            if let setup {
              for statement in SQLScript.statements(in: setup) {
                try await run(statement.text, on: connection)
              }
            }
          }
          return try await body(db, fit)
        })
    } catch {
      result = .failure(error)
    }
    try? await dropRole(fit.user)
    return try result.get()
  }

  /// Drops a role made by a test (after the databases it owns or has privileges in were dropped).
  public static func dropRole(_ name: String) async throws {
    try await withConnection(to: try adminLocator()) { connection in
      try await run("DROP ROLE IF EXISTS \(PostgresSession.quoted(name))", on: connection)
    }
  }

  /// Runs `sql` (statements split with `SQLScript`) outside any transaction, one by one.
  public static func execute(_ sql: String, in locator: PostgresLocator) async throws {
    try await withConnection(to: locator) { connection in
      for statement in SQLScript.statements(in: sql) { try await run(statement.text, on: connection) }
    }
  }

  /// Runs a multi-statement script (split with `SQLScript`) in one transaction: all or nothing.
  /// With `searchPath`, that schema is created if missing and is the search path while the script runs,
  /// so unqualified names land in it (e.g. `examples/acme/warehouse/seed.sql` into `raw`).
  /// A failure names the statement's line.
  public static func load(sql: String, into locator: PostgresLocator, searchPath: String? = nil) async throws
  {
    let statements = SQLScript.removingTransactionWrapper(SQLScript.statements(in: sql, dialect: .postgres))
    try await withConnection(to: locator) { connection in
      try await run("BEGIN", on: connection)
      do {
        if let searchPath {
          let schema = PostgresSession.quoted(searchPath)
          try await run("CREATE SCHEMA IF NOT EXISTS \(schema)", on: connection)
          try await run("SET LOCAL search_path TO \(schema)", on: connection)
        }
        for statement in statements {
          do {
            try await run(statement.text, on: connection)
          } catch {
            throw TestSupportError("statement at line \(statement.line) failed: \(describe(error))")
          }
        }
        try await run("COMMIT", on: connection)
      } catch {
        try? await run("ROLLBACK", on: connection)
        throw error
      }
    }
  }

  /// Runs `sql` (one statement) and returns every row's cells as text; cast non-text columns with `::text`.
  public static func rows(_ sql: String, in locator: PostgresLocator) async throws -> [[String?]] {
    try await withConnection(to: locator) { connection in
      var result: [[String?]] = []
      for try await row in try await connection.query(
        PostgresQuery(unsafeSQL: sql), logger: PostgresSession.silentLogger)
      {
        result.append(try row.map { cell in try cell.decode(String?.self) })
      }
      return result
    }
  }

  /// A connection to `locator` (read-write), closed after `body`.
  public static func withConnection<T: Sendable>(
    to locator: PostgresLocator, _ body: (PostgresConnection) async throws -> T
  ) async throws -> T {
    try await PostgresSession.withConnection(to: locator, body)
  }

  private static func run(_ sql: String, on connection: PostgresConnection) async throws {
    do {
      try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresSession.silentLogger)
    } catch {
      throw TestSupportError(describe(error))
    }
  }

  private static func describe(_ error: any Error) -> String {
    if let error = error as? PSQLError, let message = error.serverInfo?[.message] {
      return "\(message) (sqlstate \(error.serverInfo?[.sqlState] ?? "?"))"
    }
    if let error = error as? TestSupportError { return error.message }
    return String(describing: error)
  }
}

/// Local ports for connection-failure tests. Only 127.0.0.1 is used.
public enum TestNetwork {
  /// A port on 127.0.0.1 that nothing listens on (bound, then released).
  public static func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
  }

  /// Runs `body` with the port of a listener on 127.0.0.1 that accepts connections and never answers.
  public static func withSilentListener<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
      .bind(host: "127.0.0.1", port: 0).get()
    let result: Result<T, any Error>
    do {
      result = .success(try await body(channel.localAddress?.port ?? 0))
    } catch {
      result = .failure(error)
    }
    try? await channel.close()
    return try result.get()
  }
}
