import DriftwatchCore
import Foundation

/// A warehouse read through the user's own dbt adapter: driftwatch's macros run with `dbt run-operation`
/// (`BridgeMacros`), one dbt invocation per step — introspection, profiles, samples, live rows — whatever
/// the number of tables. Names are resolved against the last introspection (exact, then ignoring case, as
/// the native drivers do), and the macros get the warehouse's own names.
public struct DbtBridge: WarehouseBackend, WarehouseProfiler, WarehouseSampler {
  /// The adapter type of the profile's target (`duckdb`, `snowflake`, …).
  public var adapter: String
  public var displayName: String
  public var runner: any DbtOperationRunner
  /// Applied to every message built from dbt's output.
  public var redact: @Sendable (String) -> String
  private let state = State()

  public init(
    adapter: String, displayName: String, runner: any DbtOperationRunner,
    redact: @escaping @Sendable (String) -> String = { $0 }
  ) {
    self.adapter = adapter.lowercased()
    self.displayName = displayName
    self.runner = runner
    self.redact = redact
  }

  /// The adapters whose SQL the macros dispatch; others run the default (information_schema, ANSI SQL).
  public static let dispatchedAdapters = [
    "postgres", "redshift", "snowflake", "bigquery", "databricks", "spark", "duckdb", "trino",
  ]

  public var dialect: SQLDialect {
    switch adapter {
    case "postgres": return .postgres
    case "redshift": return .redshift
    case "snowflake": return .snowflake
    case "bigquery": return .bigquery
    case "duckdb": return .duckdb
    default: return .generic
    }
  }

  public var capabilities: WarehouseCapabilities { [.data, .batchedSteps] }
  public var profiler: (any WarehouseProfiler)? { self }
  public var sampler: (any WarehouseSampler)? { self }

  /// Each dbt invocation so far: the operation, its wall time in seconds (dbt's start-up included) and the
  /// statements it ran in the warehouse (as the macros count them; nil when the answer did not say).
  public var invocations: [(operation: String, seconds: Double, statements: Int?)] { state.invocations }

  // MARK: - steps

  func call(_ operation: String, _ request: BridgeJSON) async throws -> [String: Any] {
    let output = try await runner.run(
      operation: operation, request: BridgeMacros.requestFile(request.encoded))
    let result = try BridgeOutput.result(
      stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode, operation: operation,
      redact: redact)
    state.record(operation, output.seconds, statements: (result["statements"] as? NSNumber)?.intValue)
    return result
  }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    guard !schemas.isEmpty else { return LiveSchema(inspected: [], tables: []) }
    let request = Self.introspectRequest(schemas)
    let result = try await call("driftwatch_introspect", request.json)
    guard let groups = result["groups"] as? [Any], groups.count == request.groups.count else {
      throw DbtBridgeError.unexpectedOutput(
        operation: "driftwatch_introspect", what: "one answer per database")
    }
    let (live, names) = Self.liveSchema(
      requested: schemas, groups: zip(request.groups, groups).map { ($0.0.database, BridgeOutput.rows($0.1)) }
    )
    state.remember(live, names)
    return live
  }

  struct IntrospectRequest {
    var groups: [(database: String?, schemas: [String])]
    var json: BridgeJSON {
      .object([
        ("step", .string("introspect")),
        (
          "groups",
          .array(
            groups.map { .object([("database", .optional($0.database)), ("schemas", .strings($0.schemas))]) })
        ),
      ])
    }
  }

  /// One group per database (nil: the target's); each schema asked as written, lowercased and uppercased
  /// (unquoted names fold one way or the other).
  static func introspectRequest(_ schemas: [SchemaRef]) -> IntrospectRequest {
    var groups: [(database: String?, schemas: [String])] = []
    for ref in schemas.sorted() {
      let index =
        groups.firstIndex { $0.database == ref.database }
        ?? {
          groups.append((ref.database, []))
          return groups.count - 1
        }()
      for name in [ref.schema, ref.schema.lowercased(), ref.schema.uppercased()]
      where !groups[index].schemas.contains(name) {
        groups[index].schemas.append(name)
      }
    }
    return IntrospectRequest(groups: groups)
  }

  /// Rows: schema, relation, kind, column, position, data type, not null, key. Tables come back under the
  /// requested `SchemaRef`, in byte order of their names, as the native drivers return them.
  static func liveSchema(requested: [SchemaRef], groups: [(database: String?, rows: [[String?]])]) -> (
    LiveSchema, [SchemaRef: WarehouseName]
  ) {
    var tables: [LiveTable] = []
    var names: [SchemaRef: WarehouseName] = [:]
    for ref in requested {
      guard let group = groups.first(where: { $0.database == ref.database }) else { continue }
      let existing = Set(group.rows.compactMap { $0.first ?? nil })
      guard
        let schema = [ref.schema, ref.schema.lowercased(), ref.schema.uppercased()].first(where: {
          existing.contains($0)
        })
      else { continue }
      names[ref] = WarehouseName(database: ref.database, schema: schema)
      var grouped: [String: (kind: RelationKind, columns: [LiveColumn])] = [:]
      for row in group.rows where row.count >= 8 && row[0] == schema {
        guard let relation = row[1] else { continue }
        let kind: RelationKind = row[2] == "view" ? .view : .table
        var entry = grouped[relation] ?? (kind, [])
        if let column = row[3], let position = BridgeOutput.integer(row[4]) {
          entry.columns.append(
            LiveColumn(
              name: column, dataType: row[5] ?? "", position: position, isKey: row[7] == "1",
              isNullable: row[6] != "1"))
        }
        grouped[relation] = entry
      }
      for name in grouped.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
        guard let entry = grouped[name] else { continue }
        tables.append(LiveTable(schema: ref, name: name, kind: entry.kind, columns: entry.columns))
      }
    }
    return (LiveSchema(inspected: requested, tables: tables), names)
  }

  /// A schema as the warehouse names it.
  struct WarehouseName: Sendable, Hashable {
    var database: String?
    var schema: String
  }

  /// The live schema to resolve names against: the last introspection when it covers `schemas`.
  func resolved(_ schemas: [SchemaRef]) async throws -> (LiveSchema, [SchemaRef: WarehouseName]) {
    if let known = state.known, Set(schemas).isSubset(of: Set(known.0.inspected)) { return known }
    let wanted = Array(Set(schemas + (state.known?.0.inspected ?? [])))
    _ = try await introspect(schemas: wanted)
    return state.known ?? (LiveSchema(inspected: [], tables: []), [:])
  }

  // MARK: profiles

  /// The row budget of a profile (`TableEstimate.defaultRowBudget`): a table the warehouse estimates above
  /// twice this many rows is read as a repeatable sample of about this many rows where the adapter can
  /// sample (`driftwatch_tablesample`), its counts scaled and its profiles marked estimated, as the native
  /// driver does. 0 reads every table whole.
  public var rowBudget: Double = TableEstimate.defaultRowBudget

  /// One dbt invocation; in it one statement for the tables' row estimates (adapters that can sample) and
  /// one statement per table for all its columns' profiles.
  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    let (live, names) = try await resolved(Array(Set(columns.map(\.schema))))
    var tables: [ProfiledTable] = []
    for ref in columns {
      guard let (table, column) = live.resolve(ref), let name = names[ref.schema] else { continue }
      let index =
        tables.firstIndex { $0.name == name && $0.table == table.name }
        ?? {
          tables.append(ProfiledTable(name: name, table: table.name, columns: []))
          return tables.count - 1
        }()
      if !tables[index].columns.contains(where: { $0.ref == ref }) {
        tables[index].columns.append((ref, column))
      }
    }
    guard !tables.isEmpty else { return [] }
    let result = try await call(
      "driftwatch_profile",
      Self.profileRequest(tables.map { $0.json(adapter: adapter) }, topK: topK, rowBudget: rowBudget))
    guard let answers = result["profiles"] as? [Any], answers.count == tables.count else {
      throw DbtBridgeError.unexpectedOutput(operation: "driftwatch_profile", what: "one profile per table")
    }
    var byRef: [ColumnRef: ColumnProfile] = [:]
    for (table, answer) in zip(tables, answers) {
      if let rows = ((answer as? [String: Any])?["rows"] as? NSNumber)?.doubleValue {
        state.remember(rows: rows, of: Self.tableKey(table.name, table.table))
      }
      for profile in Self.tableProfiles(table.columns, answer: answer as? [String: Any] ?? [:], topK: topK) {
        byRef[profile.column] = profile
      }
    }
    return columns.compactMap { byRef[$0] }
  }

  static func tableKey(_ name: WarehouseName, _ table: String) -> String {
    [name.database ?? "", name.schema, table].joined(separator: "\u{0}")
  }

  /// The columns of one table to profile, as the warehouse names them.
  struct ProfiledTable {
    var name: WarehouseName
    var table: String
    var columns: [(ref: ColumnRef, column: LiveColumn)]

    func json(adapter: String) -> BridgeJSON {
      .object([
        ("database", .optional(name.database)), ("schema", .string(name.schema)), ("table", .string(table)),
        (
          "columns",
          .array(
            columns.map {
              .object([
                ("column", .string($0.column.name)),
                ("orderable", .bool(DbtBridge.isOrderable($0.column.dataType, adapter: adapter))),
                ("string", .bool(DbtBridge.isString($0.column.dataType, adapter: adapter))),
                ("numeric", .bool(DbtBridge.isNumeric($0.column.dataType, adapter: adapter))),
                ("complex", .bool(DbtBridge.isComplex($0.column.dataType))),
              ])
            })
        ),
      ])
    }
  }

  static func profileRequest(_ tables: [BridgeJSON], topK: Int, rowBudget: Double) -> BridgeJSON {
    .object([
      ("step", .string("profile")), ("top_k", .int(max(0, topK))),
      ("row_budget", .int(Int(max(0, rowBudget).rounded()))), ("shape_from", .string(ValueShape.from)),
      ("shape_to", .string(ValueShape.to)), ("shape_length", .int(ValueShape.maxLength)),
      ("tables", .array(tables)),
    ])
  }

  /// One table's answer: `cells` (part, i, v, c, d), and when it was read from a sample the `percent`, the
  /// estimated `rows` and the `statistics` ([column, null fraction, distinct]) to scale it with.
  static func tableProfiles(
    _ columns: [(ref: ColumnRef, column: LiveColumn)], answer: [String: Any], topK: Int
  )
    -> [ColumnProfile]
  {
    var profiles = columns.map {
      ColumnProfile(column: $0.ref, rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [])
    }
    var values = [[ValueCount]](repeating: [], count: columns.count)
    var shapes = [[ValueCount]](repeating: [], count: columns.count)
    var classes = [[ValueCount]](repeating: [], count: columns.count)
    var nonNull = [Int](repeating: 0, count: columns.count)
    var rows = 0
    for row in BridgeOutput.rows(answer["cells"] as Any) where row.count >= 5 {
      guard let name = row[1], let value = row[2] else { continue }
      let field = String(name.prefix { $0.isLetter })
      if row[0] == "0", field == "n", name == "n" {
        rows = BridgeOutput.integer(value) ?? 0
        continue
      }
      guard let i = Int(name.dropFirst(field.count)), profiles.indices.contains(i) else { continue }
      let count = BridgeOutput.integer(row[3]) ?? 0
      switch (row[0], field) {
      case ("0", "nn"): nonNull[i] = BridgeOutput.integer(value) ?? 0
      case ("0", "lo"): profiles[i].minValue = value
      case ("0", "hi"): profiles[i].maxValue = value
      case ("0", "len"): profiles[i].averageLength = Double(value)
      case ("0", "mag"): profiles[i].meanMagnitude = Double(value)
      case ("1", "v"):
        values[i].append(ValueCount(value: value, count: count))
        profiles[i].distinctCount = BridgeOutput.integer(row[4]) ?? 0
      case ("1", "s"): shapes[i].append(ValueCount(value: value, count: count))
      case ("1", "k"): classes[i].append(ValueCount(value: value, count: count))
      default: continue
      }
    }
    var estimate: TableEstimate?
    if answer["percent"] is NSNumber {
      var statistics: [String: TableEstimate.ColumnStatistics] = [:]
      for entry in answer["statistics"] as? [Any] ?? [] {
        guard let parts = entry as? [Any], parts.count == 3, let name = parts[0] as? String,
          let nullFraction = (parts[1] as? NSNumber)?.doubleValue,
          let distinct = (parts[2] as? NSNumber)?.doubleValue
        else { continue }
        statistics[name] = .init(nullFraction: nullFraction, distinct: distinct)
      }
      estimate = TableEstimate(rows: (answer["rows"] as? NSNumber)?.doubleValue ?? -1, columns: statistics)
    }
    for i in profiles.indices {
      profiles[i].rowCount = rows
      profiles[i].nullCount = rows - nonNull[i]
      // The statement keeps at least one value per column (for its distinct count): cut to `topK` here.
      profiles[i].setCounts(values: values[i], shapes: shapes[i], classes: classes[i], topK: topK)
      if let estimate {
        profiles[i] = profiles[i].scaled(to: estimate, columnName: columns[i].column.name)
      }
    }
    return profiles
  }

  /// Numeric types, whose average absolute value a profile keeps for scale changes.
  static func isNumeric(_ dataType: String, adapter: String) -> Bool {
    if adapter == "postgres" || adapter == "redshift" { return PostgresTypes.isNumeric(dataType) }
    let type = dataType.lowercased()
    if type.contains("range") { return false }
    if type.hasSuffix("[]") || type.hasPrefix("array") || type.hasPrefix("struct") || type.hasPrefix("map") {
      return false
    }
    let prefixes = [
      "smallint", "integer", "int", "bigint", "tinyint", "hugeint", "ubigint", "uinteger", "usmallint",
      "utinyint", "numeric", "decimal", "number", "real", "double", "float", "bignumeric", "byteint",
    ]
    return prefixes.contains { type.hasPrefix($0) } && !type.hasPrefix("interval")
  }

  /// Types whose own order `min`/`max` use; others are ordered as text (PostgreSQL: the native driver's list).
  static func isOrderable(_ dataType: String, adapter: String) -> Bool {
    let type = dataType.lowercased()
    if adapter == "postgres" || adapter == "redshift" { return PostgresTypes.isOrderable(dataType) }
    let unordered = [
      "array", "struct", "map", "json", "variant", "object", "geo", "record", "bool", "binary", "bytes",
      "blob",
      "[]", "list", "union",
    ]
    return !unordered.contains { type.contains($0) }
  }

  /// Nested and special types (arrays, structs, records, maps, JSON, geography, ranges), which some
  /// warehouses cannot cast to text (BigQuery: their values are read as JSON, `driftwatch_column_text`).
  static func isComplex(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    return type.contains("<") || type.hasSuffix("[]")
      || ["array", "struct", "record", "map", "json", "geography", "range", "variant", "object"].contains {
        type.hasPrefix($0)
      }
  }

  /// Shapes tell something only about strings.
  static func isString(_ dataType: String, adapter: String) -> Bool {
    if adapter == "postgres" || adapter == "redshift" { return PostgresTypes.isString(dataType) }
    let type = dataType.lowercased()
    return ["text", "char", "string", "citext"].contains { type.hasPrefix($0) } || type.hasPrefix("varchar")
      || type.hasPrefix("nvarchar") || type.hasPrefix("character")
  }

  // MARK: samples and rows

  struct ResolvedTable {
    var json: [(String, BridgeJSON)]
    /// `DbtBridge.tableKey` of the table.
    var key: String
  }

  func resolveTable(
    _ table: TableRef, key: String, columns: [String], live: LiveSchema, names: [SchemaRef: WarehouseName]
  ) -> ResolvedTable? {
    guard let found = live.resolve(schema: table.schema, table: table.name), let name = names[table.schema]
    else { return nil }
    func column(_ wanted: String) -> String? {
      (found.columns.first { $0.name == wanted }
        ?? found.columns.first { $0.name.lowercased() == wanted.lowercased() })?.name
    }
    guard let keyName = column(key) else { return nil }
    let resolved = columns.compactMap(column)
    guard resolved.count == columns.count else { return nil }
    // Columns some warehouses cannot cast to text (`driftwatch_column_text`).
    let complex = ([keyName] + resolved).filter { wanted in
      found.columns.first { $0.name == wanted }.map { Self.isComplex($0.dataType) } ?? false
    }
    var json: [(String, BridgeJSON)] = [
      ("database", .optional(name.database)), ("schema", .string(name.schema)),
      ("table", .string(found.name)),
      ("key", .string(keyName)), ("columns", .strings(resolved)),
    ]
    if !complex.isEmpty { json.append(("complex_columns", .strings(complex))) }
    return ResolvedTable(json: json, key: Self.tableKey(name, found.name))
  }

  public func samples(of targets: [SnapshotPlan.SampleTarget], limit: Int) async throws -> [[KeyedRow]?] {
    try await samples(targets.map { ($0.table, $0.key, $0.columns) }, limit: limit)
  }

  func samples(_ targets: [(table: TableRef, key: String, columns: [String])], limit: Int) async throws
    -> [[KeyedRow]?]
  {
    guard !targets.isEmpty else { return [] }
    let (live, names) = try await resolved(Array(Set(targets.map(\.table.schema))))
    var slots: [Int?] = []
    var items: [BridgeJSON] = []
    for target in targets {
      if var table = resolveTable(
        target.table, key: target.key, columns: target.columns, live: live, names: names)
      {
        // A table the profile step found large is sampled as the native driver samples it.
        if let rows = state.rows(of: table.key),
          let percent = TableEstimate(rows: rows).samplePercent(budget: max(rowBudget, Double(limit) * 20))
        {
          table.json.append(("percent", .string(String(percent))))
        }
        slots.append(items.count)
        items.append(.object(table.json))
      } else {
        slots.append(nil)
      }
    }
    guard !items.isEmpty else { return targets.map { _ in nil } }
    let result = try await call(
      "driftwatch_sample",
      .object([("step", .string("sample")), ("limit", .int(max(0, limit))), ("targets", .array(items))]))
    guard let answers = result["samples"] as? [Any], answers.count == items.count else {
      throw DbtBridgeError.unexpectedOutput(operation: "driftwatch_sample", what: "one sample per table")
    }
    return slots.map { slot in
      slot.map { index in
        BridgeOutput.rows(answers[index]).map {
          KeyedRow(key: ($0.first ?? nil) ?? "", values: Array($0.dropFirst()))
        }
      }
    }
  }

  public func rows(for requests: [DriftEngine.EvidenceRequest]) async throws -> [[String: [String?]]?] {
    guard !requests.isEmpty else { return [] }
    let (live, names) = try await resolved(Array(Set(requests.map(\.table.schema))))
    var slots: [Int?] = []
    var items: [BridgeJSON] = []
    for request in requests {
      if var table = resolveTable(
        request.table, key: request.key, columns: request.columns, live: live, names: names)
      {
        table.json.append(("keys", .strings(request.keys)))
        slots.append(items.count)
        items.append(.object(table.json))
      } else {
        slots.append(nil)
      }
    }
    guard !items.isEmpty else { return requests.map { _ in nil } }
    let result = try await call(
      "driftwatch_rows", .object([("step", .string("rows")), ("targets", .array(items))]))
    guard let answers = result["rows"] as? [Any], answers.count == items.count else {
      throw DbtBridgeError.unexpectedOutput(operation: "driftwatch_rows", what: "one answer per table")
    }
    return slots.map { slot in
      slot.map { index in
        var byKey: [String: [String?]] = [:]
        for row in BridgeOutput.rows(answers[index]) {
          guard let key = row.first ?? nil else { continue }
          byKey[key] = Array(row.dropFirst())
        }
        return byKey
      }
    }
  }

  public func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]?
  {
    try await samples([(table, key, columns)], limit: limit).first ?? nil
  }

  public func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws -> [String:
    [String?]]?
  {
    let (live, names) = try await resolved([table.schema])
    guard var resolved = resolveTable(table, key: key, columns: columns, live: live, names: names) else {
      return nil
    }
    guard !keys.isEmpty else { return [:] }
    resolved.json.append(("keys", .strings(keys)))
    let result = try await call(
      "driftwatch_rows", .object([("step", .string("rows")), ("targets", .array([.object(resolved.json)]))]))
    guard let answers = result["rows"] as? [Any], let first = answers.first else {
      throw DbtBridgeError.unexpectedOutput(operation: "driftwatch_rows", what: "one answer per table")
    }
    var byKey: [String: [String?]] = [:]
    for row in BridgeOutput.rows(first) {
      guard let key = row.first ?? nil else { continue }
      byKey[key] = Array(row.dropFirst())
    }
    return byKey
  }

  // MARK: state

  private final class State: @unchecked Sendable {
    private let lock = NSLock()
    private var live: (LiveSchema, [SchemaRef: WarehouseName])?
    private var calls: [(String, Double, Int?)] = []

    private var estimatedRows: [String: Double] = [:]

    func remember(rows: Double, of table: String) {
      lock.lock()
      estimatedRows[table] = rows
      lock.unlock()
    }

    func rows(of table: String) -> Double? {
      lock.lock()
      defer { lock.unlock() }
      return estimatedRows[table]
    }

    func remember(_ schema: LiveSchema, _ names: [SchemaRef: WarehouseName]) {
      lock.lock()
      live = (schema, names)
      lock.unlock()
    }

    var known: (LiveSchema, [SchemaRef: WarehouseName])? {
      lock.lock()
      defer { lock.unlock() }
      return live
    }

    func record(_ operation: String, _ seconds: Double, statements: Int?) {
      lock.lock()
      calls.append((operation, seconds, statements))
      lock.unlock()
    }

    var invocations: [(operation: String, seconds: Double, statements: Int?)] {
      lock.lock()
      defer { lock.unlock() }
      return calls.map { (operation: $0.0, seconds: $0.1, statements: $0.2) }
    }
  }
}
