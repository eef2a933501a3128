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
    var binds = PostgresBindings()
    binds.append(Int64(max(0, limit)))
    let keyColumn = PostgresSession.quoted(resolved.key.name)
    // A large table is sampled from a repeatable TABLESAMPLE of enough rows, not read whole.
    let estimate = try await session.estimate(schema: resolved.schema, table: resolved.table)
    let percent = estimate.samplePercent(budget: max(rowBudget, Double(limit) * 20))
    if let percent { binds.append(Float(percent)) }
    let from = fromClause(schema: resolved.schema, table: resolved.table, percentBind: percent.map { _ in 2 })
    let sql = """
      SELECT \(selectList(resolved)) FROM \(from)
      WHERE \(keyColumn) IS NOT NULL
      ORDER BY md5(\(keyColumn)::text), 1 LIMIT $1
      """
    return try keyedRows(
      try await session.query(sql, binds: binds, reading: resolved.lock), columns: resolved.columns.count)
  }

  /// Keys bound as one text array (`= ANY($1)`), cast to the key's type when it is a plain scalar type so
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
    var binds = PostgresBindings()
    binds.append(keys)
    let keyColumn = PostgresSession.quoted(resolved.key.name)
    let condition =
      isIndexableKeyType(resolved.key.dataType, keys: keys)
      ? "\(keyColumn) = ANY ($1::text[]::\(resolved.key.dataType)[])"
      : "\(keyColumn)::text = ANY ($1::text[])"
    let sql = "SELECT \(selectList(resolved)) FROM \(resolved.relation) WHERE \(condition)"
    var result: [String: [String?]] = [:]
    for row in try keyedRows(
      try await session.query(sql, binds: binds, reading: resolved.lock), columns: resolved.columns.count)
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

  private static func selectList(_ table: ResolvedTable) -> String {
    ([table.key.name] + table.columns).map { "\(PostgresSession.quoted($0))::text" }.joined(separator: ", ")
  }

  private static func keyedRows(_ rows: [PostgresRow], columns: Int) throws -> [KeyedRow] {
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
    func column(_ name: String) -> LiveColumn? {
      found.columns.first { $0.name == name }
        ?? found.columns.first { $0.name.lowercased() == name.lowercased() }
    }
    guard let keyColumn = column(key) else { return nil }
    let names = columns.compactMap { column($0)?.name }
    guard names.count == columns.count else { return nil }
    return PostgresWarehouse.ResolvedTable(
      schema: schema, table: found.name,
      relation: "\(PostgresSession.quoted(schema)).\(PostgresSession.quoted(found.name))", key: keyColumn,
      columns: names)
  }
}
