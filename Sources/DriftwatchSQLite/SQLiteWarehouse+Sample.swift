import DriftwatchCore
import SQLiteNIO

extension SQLiteWarehouse: WarehouseSampler {
  /// Rows ordered by `driftwatch_hash(key)` (FNV-1a of the key as text, a function installed on the
  /// read-only connection): the same keys on every run while they exist, spread over the table.
  public func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  {
    guard let resolved = try await resolve(table: table, key: key, columns: columns) else { return nil }
    return try await withConnection(resolved.database) { connection in
      try await connection.install(customFunction: Self.hashFunction)
      let sql = """
        SELECT \(Self.selectList(resolved)) FROM \(resolved.relation)
        WHERE \(SQLiteFiles.quoted(resolved.key)) IS NOT NULL
        ORDER BY driftwatch_hash(CAST(\(SQLiteFiles.quoted(resolved.key)) AS TEXT)), 1 LIMIT ?1
        """
      let rows = try await query(connection, sql, [.integer(max(0, limit))], what: "sample \(table)")
      return rows.map { Self.keyedRow($0, columns: resolved.columns.count) }
    }
  }

  /// Keys bound in batches of `IN (?, ?, …)`; the key column's affinity applies to them, so an integer key
  /// finds its rows by its index.
  public func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws
    -> [String: [String?]]?
  {
    guard let resolved = try await resolve(table: table, key: key, columns: columns) else { return nil }
    guard !keys.isEmpty else { return [:] }
    return try await withConnection(resolved.database) { connection in
      var result: [String: [String?]] = [:]
      var start = 0
      while start < keys.count {
        let batch = Array(keys[start..<min(keys.count, start + Self.batchSize)])
        let placeholders = batch.indices.map { "?\($0 + 1)" }.joined(separator: ", ")
        let sql = """
          SELECT \(Self.selectList(resolved)) FROM \(resolved.relation)
          WHERE \(SQLiteFiles.quoted(resolved.key)) IN (\(placeholders))
          """
        for row in try await query(connection, sql, batch.map { .text($0) }, what: "read \(table)") {
          let keyed = Self.keyedRow(row, columns: resolved.columns.count)
          result[keyed.key] = keyed.values
        }
        start += Self.batchSize
      }
      return result
    }
  }

  static let batchSize = 500

  static let hashFunction = SQLiteCustomFunction("driftwatch_hash", argumentCount: 1, pure: true) { values in
    guard let text = values.first?.string else { return nil as Int? }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return Int(Int64(bitPattern: hash))
  }

  struct ResolvedTable {
    var database: String
    var relation: String
    var key: String
    var columns: [String]
  }

  private func resolve(table: TableRef, key: String, columns: [String]) async throws -> ResolvedTable? {
    let live = try await introspect(schemas: [table.schema])
    guard let found = live.resolve(schema: table.schema, table: table.name) else { return nil }
    func column(_ name: String) -> String? {
      (found.columns.first { $0.name == name }
        ?? found.columns.first { $0.name.lowercased() == name.lowercased() })?
        .name
    }
    guard let keyName = column(key) else { return nil }
    let names = columns.compactMap(column)
    guard names.count == columns.count else { return nil }
    let database = database(for: table.schema, attached: try attachedDatabases())
    return ResolvedTable(
      database: database, relation: "\(SQLiteFiles.quoted(database)).\(SQLiteFiles.quoted(found.name))",
      key: keyName, columns: names)
  }

  private func withConnection<T: Sendable>(_ database: String, _ body: (SQLiteConnection) async throws -> T)
    async throws -> T
  {
    try await withReadOnlyConnection(databases: [database], attached: try attachedDatabases(), body)
  }

  private func query(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData], what: String)
    async throws -> [SQLiteRow]
  {
    do {
      return try await SQLiteFiles.rows(connection, sql, binds)
    } catch {
      if let fileError = readError(error) { throw fileError }
      throw WarehouseError(
        .queryFailed,
        "cannot \(what) in \(displayName): \(((error as? SQLiteError)?.message ?? "\(error)").lowercased())")
    }
  }

  private static func selectList(_ table: ResolvedTable) -> String {
    ([table.key] + table.columns).enumerated().map { index, name in
      "CAST(\(SQLiteFiles.quoted(name)) AS TEXT) AS c\(index)"
    }.joined(separator: ", ")
  }

  private static func keyedRow(_ row: SQLiteRow, columns: Int) -> KeyedRow {
    KeyedRow(
      key: row.column("c0")?.string ?? "", values: (0..<columns).map { row.column("c\($0 + 1)")?.string })
  }
}
