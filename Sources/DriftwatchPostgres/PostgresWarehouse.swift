import DriftwatchCore
import Logging
import PostgresNIO

/// A PostgreSQL database as a monitored warehouse, read in a read-only transaction.
///
/// Schema names match exactly, with a lowercase fallback: a requested `RAW` reads schema `raw` when no
/// schema `RAW` exists (unquoted PostgreSQL identifiers fold to lowercase). Tables come back under the
/// requested `SchemaRef`. Partitions of a partitioned table are left out (the parent is listed).
public struct PostgresWarehouse: WarehouseIntrospector {
  public var locator: PostgresLocator
  public var logger: Logger
  public var connectTimeout: Duration
  /// Rows read per table at most when profiling or sampling a large table (see `profile` and `sample`).
  public var rowBudget: Double = PostgresWarehouse.defaultRowBudget

  public init(
    locator: PostgresLocator, logger: Logger = PostgresSession.silentLogger,
    connectTimeout: Duration = .seconds(5)
  ) {
    self.locator = locator
    self.logger = logger
    self.connectTimeout = connectTimeout
  }

  public var displayName: String { locator.displayURL }
  public var dialect: SQLDialect { .postgres }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    guard !schemas.isEmpty else { return LiveSchema(inspected: [], tables: []) }
    return try await withReadOnlySession { session in
      try await Self.introspect(schemas: schemas, on: session)
    }
  }

  /// Reads `schemas` with the one catalog query on `session`'s connection, inside whatever transaction it
  /// is in: `introspect(schemas:)` uses a read-only one; the pre-deploy check reads, in its own transaction,
  /// the schema a migration left behind before rolling it back.
  public static func introspect(schemas: [SchemaRef], on session: ReadOnlySession) async throws -> LiveSchema
  {
    guard !schemas.isEmpty else { return LiveSchema(inspected: [], tables: []) }
    var candidates: [String] = []
    for ref in schemas {
      for name in [ref.schema, ref.schema.lowercased()] where !candidates.contains(name) {
        candidates.append(name)
      }
    }
    let rows = try await session.catalogRows(schemaNames: candidates)
    return liveSchema(requested: schemas, rows: rows)
  }

  /// Connects, runs `START TRANSACTION READ ONLY`, runs `body`, then `ROLLBACK` and closes the connection,
  /// whatever `body` does. The session cannot write: PostgreSQL rejects any write in a read-only transaction.
  /// Use it for any other read of a monitored warehouse (samples, distinct values).
  public func withReadOnlySession<T: Sendable>(_ body: (ReadOnlySession) async throws -> T) async throws -> T
  {
    try await PostgresSession.withConnection(
      to: locator, readOnly: true, logger: logger, connectTimeout: connectTimeout
    ) { connection in
      let session = ReadOnlySession(connection: connection, locator: locator, logger: logger)
      try await session.run("START TRANSACTION READ ONLY")
      let result: Result<T, any Error>
      do {
        result = .success(try await body(session))
      } catch {
        result = .failure(error)
      }
      try? await session.run("ROLLBACK")
      return try result.get()
    }
  }

  /// A connection and what to say about it in errors. From `withReadOnlySession` it is inside a read-only
  /// transaction; the pre-deploy check makes one over its own (rolled-back) transaction.
  /// Every statement is logged at debug level (`postgres statement`, metadata `sql`), never with its
  /// bound values.
  public struct ReadOnlySession: Sendable {
    public let connection: PostgresConnection
    let locator: PostgresLocator
    let logger: Logger

    public init(connection: PostgresConnection, locator: PostgresLocator, logger: Logger) {
      self.connection = connection
      self.locator = locator
      self.logger = logger
    }

    /// Runs `sql` with `binds` and returns all rows. Errors are `WarehouseError`s.
    @discardableResult
    public func query(_ sql: String, binds: PostgresBindings = PostgresBindings()) async throws
      -> [PostgresRow]
    {
      logger.debug("postgres statement", metadata: ["sql": .string(sql)])
      do {
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
          .collect()
      } catch {
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
    }

    func run(_ sql: String) async throws {
      try await query(sql)
    }

    func catalogRows(schemaNames: [String]) async throws -> [CatalogRow] {
      var binds = PostgresBindings()
      binds.append(schemaNames)
      let rows = try await query(PostgresWarehouse.catalogQuery, binds: binds)
      do {
        return try rows.map { row in
          let (schema, relation, kind, column, position, dataType, notNull, isKey) = try row.decode(
            (String, String?, String?, String?, Int32?, String?, Bool?, Bool?).self)
          return CatalogRow(
            schema: schema, relation: relation, kind: kind, column: column, position: position.map(Int.init),
            dataType: dataType, notNull: notNull ?? false, isKey: isKey ?? false)
        }
      } catch {
        throw WarehouseError(
          .queryFailed,
          "cannot read the catalog of \(locator.displayURL): unexpected column types "
            + "(\(String(describing: error).lowercased())); please report this with your postgresql version")
      }
    }
  }

  /// The one catalog query. `$1` is the text array of schema names; names are bound, never spliced.
  /// Every matching schema yields at least one row (with null relation) so that empty schemas are known.
  static let catalogQuery = """
    SELECT n.nspname::text AS schema_name,
      c.relname::text AS relation,
      c.relkind::text AS kind,
      a.attname::text AS column_name,
      a.attnum::int4 AS position,
      pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
      a.attnotnull AS not_null,
      (
        EXISTS (
          SELECT 1 FROM pg_catalog.pg_constraint k
          WHERE k.conrelid = c.oid AND k.contype = 'p' AND a.attnum = ANY (k.conkey)
        )
        OR EXISTS (
          SELECT 1 FROM pg_catalog.pg_index i
          WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
            AND i.indkey[0] = a.attnum AND i.indpred IS NULL
        )
      ) AS is_key
    FROM pg_catalog.pg_namespace n
    LEFT JOIN pg_catalog.pg_class c
      ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname::text = ANY ($1::text[])
    ORDER BY 1, 2, 5
    """

  struct CatalogRow: Sendable {
    var schema: String
    var relation: String?
    var kind: String?
    var column: String?
    var position: Int?
    var dataType: String?
    var notNull: Bool
    var isKey: Bool
  }

  static func liveSchema(requested: [SchemaRef], rows: [CatalogRow]) -> LiveSchema {
    var existing: Set<String> = []
    var tablesBySchema: [String: [(name: String, kind: RelationKind, columns: [LiveColumn])]] = [:]
    var current: (schema: String, name: String, kind: RelationKind, columns: [LiveColumn])?

    func flush() {
      if let table = current {
        tablesBySchema[table.schema, default: []].append((table.name, table.kind, table.columns))
      }
      current = nil
    }

    for row in rows {
      existing.insert(row.schema)
      guard let relation = row.relation else { continue }
      if current?.schema != row.schema || current?.name != relation {
        flush()
        let kind: RelationKind = (row.kind == "v" || row.kind == "m") ? .view : .table
        current = (row.schema, relation, kind, [])
      }
      if let column = row.column, let position = row.position {
        current?.columns.append(
          LiveColumn(
            name: column, dataType: row.dataType ?? "", position: position, isKey: row.isKey,
            isNullable: !row.notNull))
      }
    }
    flush()

    var tables: [LiveTable] = []
    for ref in requested {
      let resolved =
        existing.contains(ref.schema)
        ? ref.schema : (existing.contains(ref.schema.lowercased()) ? ref.schema.lowercased() : nil)
      guard let resolved else { continue }
      for table in tablesBySchema[resolved] ?? [] {
        tables.append(LiveTable(schema: ref, name: table.name, kind: table.kind, columns: table.columns))
      }
    }
    return LiveSchema(inspected: requested, tables: tables)
  }
}
