import DriftwatchCore
import PostgresNIO

extension PostgresWarehouse: WarehouseProfiler {
  /// One statement per column, run by PostgreSQL inside the read-only transaction: counts, min/max,
  /// average length, the `topK` most frequent values and shapes. Values are compared as text (`::text`).
  /// Columns (or tables) that do not exist are left out.
  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    return try await withReadOnlySession { session in
      try await Self.profile(columns: columns, topK: topK, on: session)
    }
  }

  /// `profile(columns:topK:)` on `session`'s connection, inside whatever transaction it is in (the
  /// pre-deploy check profiles the data a migration left behind before rolling it back).
  public static func profile(columns: [ColumnRef], topK: Int, on session: ReadOnlySession) async throws
    -> [ColumnProfile]
  {
    guard !columns.isEmpty else { return [] }
    let schemas = Array(Set(columns.map(\.schema))).sorted()
    let (live, schemaNames) = try await session.liveSchema(schemas)
    var profiles: [ColumnProfile] = []
    for ref in columns {
      guard let (table, column) = live.resolve(ref), let schema = schemaNames[ref.schema] else { continue }
      profiles.append(
        try await session.profile(ref, schema: schema, table: table.name, column: column, topK: max(0, topK)))
    }
    return profiles
  }

  /// Types whose own order `min`/`max` can use; others are ordered as text.
  static func isOrderable(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    if type.hasSuffix("[]") { return false }
    let prefixes = [
      "smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision", "money", "character",
      "text", "varchar", "char", "date", "time", "interval", "uuid", "inet", "cidr", "name", "citext", "oid",
    ]
    return prefixes.contains { type.hasPrefix($0) }
  }

  /// `$1` is top-K, `$2`/`$3` the `translate` maps of `ValueShape`.
  /// Part 0 is the aggregates, part 1 the top values, part 2 the top shapes.
  static func profileStatement(schema: String, table: String, column: LiveColumn) -> String {
    let relation = "\(PostgresSession.quoted(schema)).\(PostgresSession.quoted(table))"
    let raw = PostgresSession.quoted(column.name)
    let value = "\(raw)::text"
    let ordered = isOrderable(column.dataType) ? raw : value
    return """
      SELECT 0::int4 AS part, count(*)::int8 AS n, count(\(raw))::int8 AS nn,
        count(DISTINCT \(value))::int8 AS d, min(\(ordered))::text AS lo, max(\(ordered))::text AS hi,
        avg(length(\(value)))::float8 AS avg_len, NULL::text AS v, NULL::int8 AS c
      FROM \(relation)
      UNION ALL
      (SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, \(value), count(*)::int8 FROM \(relation)
        WHERE \(raw) IS NOT NULL GROUP BY \(value) ORDER BY count(*) DESC, \(value) LIMIT $1)
      UNION ALL
      (SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, left(translate(\(value), $2, $3), \(ValueShape.maxLength)),
        count(*)::int8 FROM \(relation)
        WHERE \(raw) IS NOT NULL GROUP BY 8 ORDER BY 9 DESC, 8 LIMIT $1)
      """
  }
}

extension PostgresWarehouse.ReadOnlySession {
  /// The live schema of `schemas`, resolved like `introspect`, read inside this session, and the name each
  /// requested schema has in the database (exact, else lowercase; missing schemas are left out).
  func liveSchema(_ schemas: [SchemaRef]) async throws -> (LiveSchema, [SchemaRef: String]) {
    var candidates: [String] = []
    for ref in schemas {
      for name in [ref.schema, ref.schema.lowercased()] where !candidates.contains(name) {
        candidates.append(name)
      }
    }
    let rows = try await catalogRows(schemaNames: candidates)
    let existing = Set(rows.map(\.schema))
    var names: [SchemaRef: String] = [:]
    for ref in schemas {
      if existing.contains(ref.schema) {
        names[ref] = ref.schema
      } else if existing.contains(ref.schema.lowercased()) {
        names[ref] = ref.schema.lowercased()
      }
    }
    return (PostgresWarehouse.liveSchema(requested: schemas, rows: rows), names)
  }

  func profile(_ ref: ColumnRef, schema: String, table: String, column: LiveColumn, topK: Int) async throws
    -> ColumnProfile
  {
    var binds = PostgresBindings()
    binds.append(Int64(topK))
    binds.append(ValueShape.from)
    binds.append(ValueShape.to)
    let rows = try await query(
      PostgresWarehouse.profileStatement(schema: schema, table: table, column: column), binds: binds)
    var profile = ColumnProfile(column: ref, rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [])
    var values: [ValueCount] = []
    var shapes: [ValueCount] = []
    do {
      for row in rows {
        let (part, n, nn, d, lo, hi, average, value, count) = try row.decode(
          (Int32, Int64?, Int64?, Int64?, String?, String?, Double?, String?, Int64?).self)
        switch part {
        case 0:
          profile.rowCount = Int(n ?? 0)
          profile.nullCount = Int((n ?? 0) - (nn ?? 0))
          profile.distinctCount = Int(d ?? 0)
          profile.minValue = lo
          profile.maxValue = hi
          profile.averageLength = average
        case 1:
          if let value { values.append(ValueCount(value: value, count: Int(count ?? 0))) }
        default:
          if let value { shapes.append(ValueCount(value: value, count: Int(count ?? 0))) }
        }
      }
    } catch {
      throw WarehouseError(
        .queryFailed,
        "cannot read the profile of \(ref) from \(locator.displayURL): unexpected column types; please report this"
      )
    }
    profile.topValues = ColumnProfile.ranked(values)
    profile.topShapes = ColumnProfile.ranked(shapes)
    return profile
  }
}
