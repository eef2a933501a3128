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

  /// Each dbt invocation so far: the operation and its wall time in seconds (dbt's start-up included).
  public var invocations: [(operation: String, seconds: Double)] { state.invocations }

  // MARK: - steps

  func call(_ operation: String, _ request: BridgeJSON) async throws -> [String: Any] {
    let output = try await runner.run(
      operation: operation, request: BridgeMacros.requestFile(request.encoded))
    state.record(operation, output.seconds)
    return try BridgeOutput.result(
      stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode, operation: operation,
      redact: redact)
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

  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    let (live, names) = try await resolved(Array(Set(columns.map(\.schema))))
    var asked: [(ColumnRef, LiveColumn)] = []
    var items: [BridgeJSON] = []
    for ref in columns {
      guard let (table, column) = live.resolve(ref), let name = names[ref.schema] else { continue }
      asked.append((ref, column))
      items.append(
        .object([
          ("database", .optional(name.database)), ("schema", .string(name.schema)),
          ("table", .string(table.name)), ("column", .string(column.name)),
          ("orderable", .bool(Self.isOrderable(column.dataType, adapter: adapter))),
          ("string", .bool(Self.isString(column.dataType))),
        ]))
    }
    guard !items.isEmpty else { return [] }
    let result = try await call("driftwatch_profile", Self.profileRequest(items, topK: topK))
    guard let answers = result["profiles"] as? [Any], answers.count == asked.count else {
      throw DbtBridgeError.unexpectedOutput(operation: "driftwatch_profile", what: "one profile per column")
    }
    return zip(asked, answers).map { Self.columnProfile($0.0.0, rows: BridgeOutput.rows($0.1)) }
  }

  static func profileRequest(_ columns: [BridgeJSON], topK: Int) -> BridgeJSON {
    .object([
      ("step", .string("profile")), ("top_k", .int(max(0, topK))), ("shape_from", .string(ValueShape.from)),
      ("shape_to", .string(ValueShape.to)), ("shape_length", .int(ValueShape.maxLength)),
      ("columns", .array(columns)),
    ])
  }

  /// Part 0: aggregates; part 1: top values; part 2: top shapes.
  static func columnProfile(_ ref: ColumnRef, rows: [[String?]]) -> ColumnProfile {
    var profile = ColumnProfile(column: ref, rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [])
    var values: [ValueCount] = []
    var shapes: [ValueCount] = []
    for row in rows where row.count >= 9 {
      switch row[0] {
      case "0":
        let n = BridgeOutput.integer(row[1]) ?? 0
        profile.rowCount = n
        profile.nullCount = n - (BridgeOutput.integer(row[2]) ?? 0)
        profile.distinctCount = BridgeOutput.integer(row[3]) ?? 0
        profile.minValue = row[4]
        profile.maxValue = row[5]
        profile.averageLength = row[6].flatMap { Double($0) }
      case "1":
        if let value = row[7] {
          values.append(ValueCount(value: value, count: BridgeOutput.integer(row[8]) ?? 0))
        }
      default:
        if let value = row[7] {
          shapes.append(ValueCount(value: value, count: BridgeOutput.integer(row[8]) ?? 0))
        }
      }
    }
    profile.topValues = ColumnProfile.ranked(values)
    profile.topShapes = ColumnProfile.ranked(shapes)
    return profile
  }

  /// Types whose own order `min`/`max` use; others are ordered as text (PostgreSQL: the native driver's list).
  static func isOrderable(_ dataType: String, adapter: String) -> Bool {
    let type = dataType.lowercased()
    if adapter == "postgres" || adapter == "redshift" {
      if type.hasSuffix("[]") { return false }
      let prefixes = [
        "smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision", "money",
        "character", "text", "varchar", "char", "date", "time", "interval", "uuid", "inet", "cidr", "name",
        "citext", "oid",
      ]
      return prefixes.contains { type.hasPrefix($0) }
    }
    let unordered = [
      "array", "struct", "map", "json", "variant", "object", "geo", "record", "bool", "binary", "bytes",
      "blob",
      "[]", "list", "union",
    ]
    return !unordered.contains { type.contains($0) }
  }

  /// Shapes tell something only about strings.
  static func isString(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    return ["text", "char", "string", "citext"].contains { type.hasPrefix($0) } || type.hasPrefix("varchar")
      || type.hasPrefix("nvarchar") || type.hasPrefix("character")
  }

  // MARK: samples and rows

  struct ResolvedTable {
    var json: [(String, BridgeJSON)]
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
    return ResolvedTable(json: [
      ("database", .optional(name.database)), ("schema", .string(name.schema)),
      ("table", .string(found.name)),
      ("key", .string(keyName)), ("columns", .strings(resolved)),
    ])
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
      if let table = resolveTable(
        target.table, key: target.key, columns: target.columns, live: live, names: names)
      {
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
    private var calls: [(String, Double)] = []

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

    func record(_ operation: String, _ seconds: Double) {
      lock.lock()
      calls.append((operation, seconds))
      lock.unlock()
    }

    var invocations: [(operation: String, seconds: Double)] {
      lock.lock()
      defer { lock.unlock() }
      return calls.map { (operation: $0.0, seconds: $0.1) }
    }
  }
}
