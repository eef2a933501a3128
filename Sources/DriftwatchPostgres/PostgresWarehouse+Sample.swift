import DriftwatchCore
import PostgresNIO

extension PostgresWarehouse: WarehouseSampler {
  /// Rows ordered by `md5(key::text)`: the same keys on every run while they exist, spread over the table.
  /// Read in the read-only transaction; memory is bounded by `limit`. A table larger than twice
  /// `rowBudget` (or 20 × `limit`) is sampled from a repeatable `TABLESAMPLE SYSTEM` of that many rows.
  public func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  {
    try await withReadOnlySession { session in
      try await Self.sample(
        table: table, key: key, columns: columns, limit: limit, rowBudget: rowBudget, on: session)
    }
  }

  /// `sample` on `session`, inside whatever transaction it is in (the pre-deploy check samples the rows a
  /// migration left behind, before rolling back).
  public static func sample(
    table: TableRef, key: String, columns: [String], limit: Int,
    rowBudget: Double = PostgresWarehouse.defaultRowBudget, on session: ReadOnlySession
  ) async throws -> [KeyedRow]? {
    guard let resolved = try await session.resolve(table: table, key: key, columns: columns) else {
      return nil
    }
    let estimate = try await session.estimate(schema: resolved.schema, table: resolved.table)
    return try await sample(resolved, limit: limit, estimate: estimate, rowBudget: rowBudget, on: session)
  }

  /// The keyed sample of a resolved table; a large table (by `estimate`) is sampled from a repeatable
  /// TABLESAMPLE of enough rows, not read whole.
  static func sample(
    _ resolved: ResolvedTable, limit: Int, estimate: TableEstimate, rowBudget: Double,
    on session: ReadOnlySession
  ) async throws -> [KeyedRow] {
    let keyColumn = PostgresSession.quoted(resolved.key.name)
    let percent = estimate.samplePercent(budget: max(rowBudget, Double(limit) * 20))
    var q = QueryBuilder()
    q.sql("SELECT \(selectList(resolved)) FROM ")
    appendFrom(resolved.relation, percent: percent, to: &q)
    q.sql(" WHERE \(keyColumn) IS NOT NULL ORDER BY md5(\(keyColumn)::text), 1 LIMIT ")
    q.bind(Int64(max(0, limit)))
    return try keyedRows(
      try await session.query(q.query, reading: resolved.lock), columns: resolved.columns.count)
  }

  /// Keys bound as one text array (`= ANY(keys)`), cast to the key's type when it is a plain scalar type so
  /// that the key's index is used.
  public func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws
    -> [String: [String?]]?
  {
    try await withReadOnlySession { session in
      try await Self.rows(table: table, key: key, keys: keys, columns: columns, on: session)
    }
  }

  /// `rows` on `session`, inside whatever transaction it is in.
  public static func rows(
    table: TableRef, key: String, keys: [String], columns: [String], on session: ReadOnlySession
  ) async throws -> [String: [String?]]? {
    guard let resolved = try await session.resolve(table: table, key: key, columns: columns) else {
      return nil
    }
    guard !keys.isEmpty else { return [:] }
    let keyColumn = PostgresSession.quoted(resolved.key.name)
    let select = "SELECT \(selectList(resolved)) FROM \(resolved.relation)"
    let sql: PostgresQuery =
      isIndexableKeyType(resolved.key.dataType, keys: keys)
      ? "\(unescaped: select) WHERE \(unescaped: keyColumn) = ANY (\(keys)::text[]::\(unescaped: resolved.key.dataType)[])"
      : "\(unescaped: select) WHERE \(unescaped: keyColumn)::text = ANY (\(keys)::text[])"
    var result: [String: [String?]] = [:]
    for row in try keyedRows(
      try await session.query(sql, reading: resolved.lock), columns: resolved.columns.count)
    {
      result[row.key] = row.values
    }
    return result
  }

  /// Whether `keys` can be compared to the key column in its own type (so that its index is used): text
  /// types always, integer types when every key is an integer. Otherwise keys are compared as text, which
  /// cannot fail on a key whose type changed (`'abc'` against an integer key).
  static func isIndexableKeyType(_ dataType: String, keys: [String]) -> Bool {
    if dataType == "text" || dataType.hasPrefix("character varying") { return true }
    if ["smallint", "integer", "bigint"].contains(dataType) {
      return keys.allSatisfy { Int64($0) != nil }
    }
    return false
  }

  struct ResolvedTable {
    var schema: String
    var table: String
    var relation: String
    var key: LiveColumn
    var columns: [String]

    var lock: TableLock { TableLock(schema: schema, table: table) }
  }

  static func selectList(_ table: ResolvedTable) -> String {
    ([table.key.name] + table.columns).map { "\(PostgresSession.quoted($0))::text" }.joined(separator: ", ")
  }

  static func keyedRows(_ rows: [PostgresRow], columns: Int) throws -> [KeyedRow] {
    try rows.map { row in
      var cells: [String?] = []
      for cell in row { cells.append(try cell.decode(String?.self)) }
      return KeyedRow(key: cells.first.flatMap { $0 } ?? "", values: Array(cells.dropFirst().prefix(columns)))
    }
  }
}

extension PostgresWarehouse.ReadOnlySession {
  fileprivate func resolve(table: TableRef, key: String, columns: [String]) async throws
    -> PostgresWarehouse.ResolvedTable?
  {
    let (live, schemaNames) = try await liveSchema([table.schema])
    guard let found = live.resolve(schema: table.schema, table: table.name),
      let schema = schemaNames[table.schema]
    else { return nil }
    return PostgresWarehouse.resolved(
      schema: schema, table: found.name, in: found.columns, key: key, columns: columns)
  }
}

extension PostgresWarehouse {
  /// The key and columns of a table (`schema` and `table` as named in the database) among its live
  /// `available` columns: exact names first, then ignoring case. nil when the key or a column is missing.
  static func resolved(
    schema: String, table: String, in available: [LiveColumn], key: String, columns: [String]
  )
    -> ResolvedTable?
  {
    func column(_ name: String) -> LiveColumn? {
      available.first { $0.name == name } ?? available.first { $0.name.lowercased() == name.lowercased() }
    }
    guard let keyColumn = column(key) else { return nil }
    let names = columns.compactMap { column($0)?.name }
    guard names.count == columns.count else { return nil }
    return ResolvedTable(
      schema: schema, table: table,
      relation: "\(PostgresSession.quoted(schema)).\(PostgresSession.quoted(table))", key: keyColumn,
      columns: names)
  }
}
