import DriftwatchCore
import Logging
import PostgresNIO

/// Runs a migration on a PostgreSQL database inside one transaction, reads the schema it leaves behind on the
/// same connection in the same transaction, and always rolls back: the pre-deploy check.
///
/// Safety lies in four places. Callers refuse statements that cannot run in a transaction or escape it
/// (`MigrationSafety`) before calling `run` — a lexical check, friendly but never complete. Here, before
/// `BEGIN`: `PostgresRoleCheck` refuses a role that could act outside the transaction at all (superuser,
/// `pg_execute_server_program`, dblink, …: `UnfitRoleError`), which is what the guarantee rests on, and
/// when the server reads `'…'` strings with backslash escapes (`standard_conforming_strings` off) the
/// lexical check is run again as the server reads them (`MigrationRefusals`). Then: `statement_timeout` and `lock_timeout` are set with
/// `SET LOCAL` semantics, every path ends in `ROLLBACK` and closing the connection, and on PostgreSQL 14 and
/// later `client_connection_check_interval` is set for the transaction so that the server notices within a
/// second when this process dies mid-statement, cancels the statement and rolls back. Whatever happens to
/// the process, the transaction is never committed: PostgreSQL rolls back a transaction whose connection
/// is gone.
///
/// Sequence values drawn by the migration (`nextval`, `serial` inserts) are not rolled back: PostgreSQL
/// never rolls sequences back.
public struct PostgresMigrationTrial: Sendable {
  public static let applicationName = "driftwatch impact"

  public var locator: PostgresLocator
  public var statementTimeout: Duration
  public var lockTimeout: Duration
  /// When set, the search path for the migration (for files with unqualified table names).
  public var searchPath: String?
  public var logger: Logger
  public var connectTimeout: Duration

  public init(
    locator: PostgresLocator, statementTimeout: Duration = .seconds(30), lockTimeout: Duration = .seconds(5),
    searchPath: String? = nil, logger: Logger = PostgresSession.silentLogger,
    connectTimeout: Duration = .seconds(5)
  ) {
    self.locator = locator
    self.statementTimeout = statementTimeout
    self.lockTimeout = lockTimeout
    self.searchPath = searchPath
    self.logger = logger
    self.connectTimeout = connectTimeout
  }

  /// Runs `statements` (already checked by `MigrationSafety`) and returns `schemas` before and after.
  /// A statement the server rejects throws `MigrationStatementFailure` with its line; other failures are
  /// `WarehouseError`s. The transaction is rolled back in every case.
  /// `inspect` runs twice inside the transaction, before and after the statements, with the schema and the
  /// database as it is then (`ImpactAnalysis.changes`: profiles and samples of the migrated rows).
  public func run(
    statements: [SQLStatement], schemas: [SchemaRef], inspect: MigrationTrial.Inspection? = nil
  ) async throws -> MigrationTrial {
    try await PostgresSession.withConnection(
      to: locator, applicationName: Self.applicationName, logger: logger, connectTimeout: connectTimeout
    ) { connection in
      let session = PostgresWarehouse.ReadOnlySession(
        connection: connection, locator: locator, logger: logger)
      try await Self.preflight(
        session, statements: statements, schemas: schemas.map(\.schema) + (searchPath.map { [$0] } ?? []))
      try await session.run("BEGIN")
      let result: Result<MigrationTrial, any Error>
      do {
        result = .success(
          try await trial(
            session, statements: statements, schemas: schemas, inspect: inspect))
      } catch {
        result = .failure(error)
      }
      // If the connection is broken the server has already rolled back; closing it is enough.
      try? await session.run("ROLLBACK")
      return try result.get()
    }
  }

  /// The role check, and the lexical check again when the server reads strings differently from the
  /// standard. Read-only, before `BEGIN`: throws `UnfitRoleError` or `MigrationRefusals`.
  static func preflight(
    _ session: PostgresWarehouse.ReadOnlySession, statements: [SQLStatement], schemas: [String]
  ) async throws {
    let facts = try await PostgresRoleCheck.check(session, schemas: schemas)
    if !facts.standardConformingStrings {
      let refusals = MigrationSafety.refusals(
        in: statements, dialect: .postgres, standardConformingStrings: false)
      if !refusals.isEmpty { throw MigrationRefusals(refusals) }
    }
  }

  private func trial(
    _ session: PostgresWarehouse.ReadOnlySession, statements: [SQLStatement], schemas: [SchemaRef],
    inspect: MigrationTrial.Inspection?
  ) async throws -> MigrationTrial {
    // PostgreSQL 14+: notice a vanished client during a long statement (missing_ok read: older servers skip).
    let setting = "client_connection_check_interval"
    let known = try await session.query("SELECT current_setting(\(setting), true)")
    let checksClient = (known.first.flatMap { try? $0.decode(String?.self) }) != nil
    try await setGuards(session, checksClient: checksClient)
    if let searchPath {
      try await setLocal("search_path", PostgresSession.quoted(searchPath), session)
    }

    let clock = ContinuousClock()
    var started = clock.now
    let warehouse = PostgresTransactionWarehouse(session: session)
    let before = try await warehouse.introspect(schemas: schemas)
    let dependencies = try await Self.dependencies(on: schemas.map(\.schema), session)
    let beforeChanges = try await inspect?(before, warehouse)
    var introspect = clock.now - started
    started = clock.now
    for statement in statements {
      logger.debug("migration statement", metadata: ["line": .stringConvertible(statement.line)])
      do {
        // Drain the rows: a statement's error (a timeout in a SELECT) may come with them.
        let rows = try await session.connection.query(
          PostgresQuery(unsafeSQL: statement.text), logger: logger)
        for try await _ in rows {}
        // pg_dump-style files start with `SET statement_timeout = 0`: the guards stay driftwatch's.
        let head = statement.text.prefix(6).uppercased()
        if head.hasPrefix("SET") || head.hasPrefix("RESET")
          || statement.text.lowercased().contains("set_config")
        {
          try await setGuards(session, checksClient: checksClient)
        }
      } catch let error as PSQLError where error.code == .server {
        // Refused because views depend on what it changes: say which (read before it ran).
        let sqlState = error.serverInfo?[.sqlState] ?? ""
        let related =
          ["2BP01", "0A000"].contains(sqlState)
          ? Self.dependencies(dependencies, namedIn: statement) : []
        throw MigrationStatementFailure(
          line: statement.line, message: describe(error), dependencies: related)
      } catch {
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
    }
    let apply = clock.now - started
    started = clock.now
    let after = try await warehouse.introspect(schemas: schemas)
    let afterChanges = try await inspect?(after, warehouse)
    introspect += clock.now - started
    var trial = MigrationTrial(
      before: before, after: after, applyMs: milliseconds(apply), introspectMs: milliseconds(introspect),
      beforeChanges: beforeChanges, afterChanges: afterChanges)
    trial.dependencies = dependencies
    return trial
  }

  /// Views and materialized views (in any schema) whose query reads a table in `schemas`: one row per
  /// column read (`pg_depend` through the view's rewrite rule), or with a null column for a dependency on
  /// the whole table. Schema names are bound.
  static func dependencyQuery(schemas: [String]) -> PostgresQuery {
    """
    SELECT DISTINCT vn.nspname::text, v.relname::text, v.relkind::text, tn.nspname::text, t.relname::text,
      a.attname::text
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
    JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = t.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
    WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
      AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND v.relkind IN ('v', 'm') AND v.oid <> t.oid AND tn.nspname = ANY(\(schemas))
    """
  }

  static func dependencies(on schemas: [String], _ session: PostgresWarehouse.ReadOnlySession) async throws
    -> [WarehouseDependency]
  {
    let rows = try await session.query(dependencyQuery(schemas: schemas))
    var result: [WarehouseDependency] = []
    for row in rows {
      let (viewSchema, view, kind, tableSchema, table, column) = try row.decode(
        (String, String, String, String, String, String?).self)
      result.append(
        WarehouseDependency(
          dependent: TableRef(schema: SchemaRef(schema: viewSchema), name: view),
          kind: kind == "m" ? "materialized view" : "view",
          table: TableRef(schema: SchemaRef(schema: tableSchema), name: table), column: column))
    }
    return result.sorted {
      ($0.dependent, $0.table, $0.column ?? "") < ($1.dependent, $1.table, $1.column ?? "")
    }
  }

  /// The dependencies on the tables `statement` names, and on the columns it names (or on a whole table).
  static func dependencies(_ all: [WarehouseDependency], namedIn statement: SQLStatement)
    -> [WarehouseDependency]
  {
    let names = Set(
      SQLTokenizer.tokens(in: statement.text, dialect: .postgres).compactMap { $0.identifier?.lowercased() })
    return all.filter { dependency in
      guard names.contains(dependency.table.name.lowercased()) else { return false }
      guard let column = dependency.column else { return true }
      return names.contains(column.lowercased())
    }
  }

  /// The timeouts (and the dead-client check) for the rest of the transaction.
  private func setGuards(_ session: PostgresWarehouse.ReadOnlySession, checksClient: Bool) async throws {
    try await setLocal("statement_timeout", String(DurationText.milliseconds(statementTimeout)), session)
    try await setLocal("lock_timeout", String(DurationText.milliseconds(lockTimeout)), session)
    if checksClient { try await setLocal("client_connection_check_interval", "1000", session) }
  }

  /// `SET LOCAL name = value`, with the value bound (`set_config(name, value, is_local => true)`).
  private func setLocal(_ name: String, _ value: String, _ session: PostgresWarehouse.ReadOnlySession)
    async throws
  {
    try await session.query("SELECT set_config(\(name), \(value), true)")
  }

  /// The server's message, and for timeouts and lock waits what to do about them.
  private func describe(_ error: PSQLError) -> String {
    let sqlState = error.serverInfo?[.sqlState] ?? ""
    let message = error.serverInfo?[.message] ?? "unknown server error"
    switch sqlState {
    case "57014":
      return
        "\(message) (sqlstate 57014): the statement ran longer than --statement-timeout "
        + "\(DurationText.format(statementTimeout)); raise it if the statement is expected to be slow on this data"
    case "55P03":
      return
        "\(message) (sqlstate 55P03): waited longer than --lock-timeout \(DurationText.format(lockTimeout)) "
        + "for a lock another session holds; retry when the database is quiet or raise --lock-timeout"
    case "42P01" where searchPath == nil, "42883" where searchPath == nil:
      return
        "\(message) (sqlstate \(sqlState)); if the migration uses unqualified names, pass --search-path SCHEMA"
    default:
      var text = "\(message) (sqlstate \(sqlState))"
      if let detail = error.serverInfo?[.detail] { text += "; \(detail.lowercased())" }
      return text
    }
  }

  private func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }
}

/// The database as a migration left it, inside the pre-deploy check's transaction: catalog, profiles and
/// samples all read on that one connection, before the rollback.
public struct PostgresTransactionWarehouse: WarehouseIntrospector, WarehouseProfiler, WarehouseSampler {
  let session: PostgresWarehouse.ReadOnlySession

  public var displayName: String { session.locator.displayURL }
  public var dialect: SQLDialect { .postgres }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    try await PostgresWarehouse.introspect(schemas: schemas, on: session)
  }

  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    try await PostgresWarehouse.profile(columns: columns, topK: topK, on: session)
  }

  public func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  {
    try await PostgresWarehouse.sample(table: table, key: key, columns: columns, limit: limit, on: session)
  }

  public func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws
    -> [String: [String?]]?
  {
    try await PostgresWarehouse.rows(table: table, key: key, keys: keys, columns: columns, on: session)
  }
}
