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
  /// `lock_timeout` and `statement_timeout` of every read (set locally in its read-only transaction).
  public var timeouts: ReadTimeouts = .check

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

  /// Connects, runs `START TRANSACTION READ ONLY`, sets `timeouts` for the transaction, runs `body`, then
  /// `ROLLBACK` and closes the connection, whatever `body` does. The session cannot write: PostgreSQL
  /// rejects any write in a read-only transaction. Use it for any other read of a monitored warehouse
  /// (samples, distinct values). A read that waits for a lock longer than `timeouts.lock`, or runs longer
  /// than its statement timeout, fails with a `.lockTimeout` / `.statementTimeout` error naming the table
  /// and, when `pg_locks` shows one, the session holding it.
  public func withReadOnlySession<T: Sendable>(_ body: (ReadOnlySession) async throws -> T) async throws -> T
  {
    try await withReadOnlyConnection { session in
      try await session.inReadOnlyTransaction { try await body(session) }
    }
  }

  /// A session on a connection of its own that cannot write (`default_transaction_read_only`), with this
  /// warehouse's timeouts, outside any transaction: `withReadOnlySession` opens one around `body`, the
  /// snapshot's table reader one per table.
  func withReadOnlyConnection<T: Sendable>(_ body: (ReadOnlySession) async throws -> T) async throws -> T {
    try await PostgresSession.withConnection(
      to: locator, readOnly: true, applicationName: "driftwatch", logger: logger,
      connectTimeout: connectTimeout
    ) { connection in
      try await body(
        ReadOnlySession(
          connection: connection, locator: locator, logger: logger, timeouts: timeouts,
          connectTimeout: connectTimeout))
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
    /// The timeouts `withReadOnlySession` set (nil: the caller's transaction keeps its own).
    let timeouts: ReadTimeouts?
    let connectTimeout: Duration

    public init(
      connection: PostgresConnection, locator: PostgresLocator, logger: Logger, timeouts: ReadTimeouts? = nil,
      connectTimeout: Duration = .seconds(5)
    ) {
      self.connection = connection
      self.locator = locator
      self.logger = logger
      self.timeouts = timeouts
      self.connectTimeout = connectTimeout
    }

    /// Runs `query` and returns all rows. Values are bound by `PostgresQuery`'s string interpolation
    /// (`"… WHERE x = \(value)"`); identifiers go in quoted (`\(unescaped: PostgresSession.quoted(name))`).
    /// Errors are `WarehouseError`s. `reading` names the table the statement reads, for the error when it
    /// waits too long for a lock on it.
    @discardableResult
    public func query(_ query: PostgresQuery, reading: TableLock? = nil) async throws -> [PostgresRow] {
      logger.debug("postgres statement", metadata: ["sql": .string(query.sql)])
      do {
        return try await connection.query(query, logger: logger).collect()
      } catch {
        if let timeouts,
          let timeout = await PostgresReadTimeout.error(
            error, reading: reading, locator: locator, timeouts: timeouts, connectTimeout: connectTimeout)
        {
          throw timeout
        }
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
    }

    /// `START TRANSACTION READ ONLY`, the session's `timeouts` for the transaction, `body`, then `ROLLBACK`
    /// whatever `body` does.
    func inReadOnlyTransaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
      try await run("START TRANSACTION READ ONLY")
      let result: Result<T, any Error>
      do {
        if let timeouts { try await setTimeouts(lock: timeouts.lock, statement: timeouts.statement) }
        result = .success(try await body())
      } catch {
        result = .failure(error)
      }
      try? await run("ROLLBACK")
      return try result.get()
    }

    func run(_ sql: String) async throws {
      try await query(PostgresQuery(unsafeSQL: sql))
    }

    /// `SET LOCAL lock_timeout, statement_timeout` with bound values (whole milliseconds; 0 = no limit).
    func setTimeouts(lock: Duration?, statement: Duration) async throws {
      let statementMilliseconds = String(DurationText.milliseconds(statement))
      if let lock {
        let lockMilliseconds = String(DurationText.milliseconds(lock))
        try await query(
          "SELECT set_config('statement_timeout', \(statementMilliseconds), true), set_config('lock_timeout', \(lockMilliseconds), true)"
        )
      } else {
        try await query("SELECT set_config('statement_timeout', \(statementMilliseconds), true)")
      }
    }

    func catalogRows(schemaNames: [String]) async throws -> [CatalogRow] {
      let rows: [PostgresRow]
      if let timeouts, timeouts.catalogStatement != timeouts.statement {
        try await setTimeouts(lock: nil, statement: timeouts.catalogStatement)
        rows = try await query(PostgresWarehouse.catalogQuery(schemaNames: schemaNames))
        try await setTimeouts(lock: nil, statement: timeouts.statement)
      } else {
        rows = try await query(PostgresWarehouse.catalogQuery(schemaNames: schemaNames))
      }
      do {
        // Cell by cell with concrete types: decoding a tuple per row costs generic metadata lookups that
        // dominate at hundreds of thousands of columns.
        var result: [CatalogRow] = []
        result.reserveCapacity(rows.count)
        for row in rows {
          var cells = row.makeIterator()
          guard let schemaCell = cells.next(), let relation = cells.next(), let kind = cells.next(),
            let column = cells.next(), let position = cells.next(), let dataType = cells.next(),
            let notNull = cells.next(), let isKey = cells.next()
          else {
            throw WarehouseError(.queryFailed, "cannot read the catalog of \(locator.displayURL): short row")
          }
          result.append(
            CatalogRow(
              schema: try schemaCell.decode(String.self), relation: try relation.decode(String?.self),
              kind: try kind.decode(String?.self), column: try column.decode(String?.self),
              position: try position.decode(Int32?.self).map(Int.init),
              dataType: try dataType.decode(String?.self),
              notNull: try notNull.decode(Bool?.self) ?? false, isKey: try isKey.decode(Bool?.self) ?? false))
        }
        return result
      } catch {
        throw WarehouseError(
          .queryFailed,
          "cannot read the catalog of \(locator.displayURL): unexpected column types "
            + "(\(String(describing: error).lowercased())); please report this with your postgresql version")
      }
    }
  }

  /// The one catalog query of `schemaNames` (bound as one text array, never spliced).
  /// Every matching schema yields at least one row (with null relation) so that empty schemas are known.
  /// Keys are looked up in a hash join (a correlated subquery per column cost seconds at 300,000 columns,
  /// and its estimated cost made the server JIT-compile the query, seconds more); rows come unordered and
  /// `liveSchema` groups them, which spares the server a sort of every column (it spills to disk at a few
  /// hundred thousand).
  static func catalogQuery(schemaNames: [String]) -> PostgresQuery {
    """
    WITH keys AS (
      SELECT k.conrelid AS relid, unnest(k.conkey) AS attnum
      FROM pg_catalog.pg_constraint k WHERE k.contype = 'p'
      UNION
      SELECT i.indrelid, i.indkey[0] FROM pg_catalog.pg_index i
      WHERE i.indisunique AND i.indisvalid AND i.indnkeyatts = 1 AND i.indpred IS NULL
    )
    SELECT n.nspname::text AS schema_name,
      c.relname::text AS relation,
      c.relkind::text AS kind,
      a.attname::text AS column_name,
      a.attnum::int4 AS position,
      pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
      a.attnotnull AS not_null,
      (k.relid IS NOT NULL) AS is_key
    FROM pg_catalog.pg_namespace n
    LEFT JOIN pg_catalog.pg_class c
      ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN keys k ON k.relid = c.oid AND k.attnum = a.attnum
    WHERE n.nspname::text = ANY (\(schemaNames)::text[])
    """
  }

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
    var grouped: [(schema: String, name: String, kind: RelationKind, columns: [LiveColumn])] = []
    var slots: [String: Int] = [:]
    var last: (schema: String, name: String, slot: Int)?
    for row in rows {
      if last?.schema != row.schema { existing.insert(row.schema) }
      guard let relation = row.relation else { continue }
      // A relation's columns mostly arrive together: the dictionary is for when they do not.
      let slot: Int
      if let last, last.name == relation, last.schema == row.schema {
        slot = last.slot
      } else {
        let key = row.schema + "\u{0}" + relation
        if let known = slots[key] {
          slot = known
        } else {
          slot = grouped.count
          slots[key] = slot
          let kind: RelationKind = (row.kind == "v" || row.kind == "m") ? .view : .table
          grouped.append((row.schema, relation, kind, []))
        }
      }
      last = (row.schema, relation, slot)
      if let column = row.column, let position = row.position {
        grouped[slot].columns.append(
          LiveColumn(
            name: column, dataType: row.dataType ?? "", position: position, isKey: row.isKey,
            isNullable: !row.notNull))
      }
    }
    // Tables by name within their schema, in byte order (the catalog's "C" collation).
    grouped.sort { lhs, rhs in
      if lhs.schema != rhs.schema { return lhs.schema.utf8.lexicographicallyPrecedes(rhs.schema.utf8) }
      return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
    var tablesBySchema: [String: [(name: String, kind: RelationKind, columns: [LiveColumn])]] = [:]
    for table in grouped {
      tablesBySchema[table.schema, default: []].append((table.name, table.kind, table.columns))
    }

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
