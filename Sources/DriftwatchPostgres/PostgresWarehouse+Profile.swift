import DriftwatchCore
import PostgresNIO

extension PostgresWarehouse: WarehouseProfiler {
  /// One statement per column, run by PostgreSQL inside the read-only transaction: counts, min/max,
  /// average length, the `topK` most frequent values and shapes. Values are compared as text (`::text`).
  /// Columns (or tables) that do not exist are left out.
  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    return try await withReadOnlySession { session in
      try await Self.profile(columns: columns, topK: topK, rowBudget: rowBudget, on: session)
    }
  }

  /// `profile(columns:topK:)` on `session`'s connection, inside whatever transaction it is in (the
  /// pre-deploy check profiles the data a migration left behind before rolling it back).
  public static func profile(
    columns: [ColumnRef], topK: Int, rowBudget: Double = PostgresWarehouse.defaultRowBudget,
    on session: ReadOnlySession
  ) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    let schemas = Array(Set(columns.map(\.schema))).sorted()
    let (live, schemaNames) = try await session.liveSchema(schemas)
    var profiles: [ColumnProfile] = []
    var estimates: [String: PostgresWarehouse.TableEstimate] = [:]
    for ref in columns {
      guard let (table, column) = live.resolve(ref), let schema = schemaNames[ref.schema] else { continue }
      let key = schema + "\u{0}" + table.name
      if estimates[key] == nil {
        estimates[key] = try await session.estimate(schema: schema, table: table.name)
      }
      profiles.append(
        try await session.profile(
          ref, schema: schema, table: table.name, column: column, topK: max(0, topK),
          estimate: estimates[key] ?? PostgresWarehouse.TableEstimate(rows: -1, columns: [:]),
          budget: rowBudget))
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

  /// The default `rowBudget`: a large table is one above twice this many rows (by
  /// `pg_class.reltuples`), statements read a `TABLESAMPLE SYSTEM` of about this many rows and counts are
  /// scaled, with `pg_stats` for null fractions and distinct counts. Time then stays flat as tables grow.
  public static let defaultRowBudget = 50_000.0

  /// What PostgreSQL's statistics say about a table: estimated rows (-1: never analyzed) and, per column,
  /// the null fraction and `n_distinct`.
  struct TableEstimate: Sendable {
    var rows: Double
    var columns: [String: (nullFraction: Double, distinct: Double)]

    /// The `TABLESAMPLE SYSTEM` percentage to read about `budget` rows, or nil to read the whole table.
    func samplePercent(budget: Double) -> Double? {
      guard rows > 2 * budget else { return nil }
      return max(0.01, min(100, 100 * budget / rows))
    }
  }

  /// The FROM clause: the table, or a repeatable `TABLESAMPLE SYSTEM` of it when `percentBind` is given.
  static func fromClause(schema: String, table: String, percentBind: Int?) -> String {
    let relation = "\(PostgresSession.quoted(schema)).\(PostgresSession.quoted(table))"
    guard let percentBind else { return relation }
    return "\(relation) TABLESAMPLE SYSTEM ($\(percentBind)::float4) REPEATABLE (0)"
  }

  /// `$1` is top-K, `$2`/`$3` the `translate` maps of `ValueShape`, `$4` (when sampled) the percentage.
  /// Part 0 is the aggregates, part 1 the top values, part 2 the top shapes.
  static func profileStatement(schema: String, table: String, column: LiveColumn, sampled: Bool = false)
    -> String
  {
    let relation = fromClause(schema: schema, table: table, percentBind: sampled ? 4 : nil)
    let raw = PostgresSession.quoted(column.name)
    let value = "\(raw)::text"
    let ordered = isOrderable(column.dataType) ? raw : value
    // Shapes tell something only about strings; other types have the shape of their type.
    let type = column.dataType.lowercased()
    let isString = type.hasPrefix("text") || type.hasPrefix("character") || type.hasPrefix("citext")
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
        WHERE \(raw) IS NOT NULL\(isString ? "" : " AND false") GROUP BY 8 ORDER BY 9 DESC, 8 LIMIT $1)
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

  func estimate(schema: String, table: String) async throws -> PostgresWarehouse.TableEstimate {
    var binds = PostgresBindings()
    binds.append(schema)
    binds.append(table)
    let rows = try await query(
      """
      SELECT c.reltuples::float8 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2
      """, binds: binds)
    let stats = try await query(
      """
      SELECT attname::text, null_frac::float8, n_distinct::float8 FROM pg_catalog.pg_stats
      WHERE schemaname = $1 AND tablename = $2
      """, binds: binds)
    do {
      let estimate = try rows.first?.decode(Double.self) ?? -1
      var columns: [String: (nullFraction: Double, distinct: Double)] = [:]
      for row in stats {
        let (name, nullFraction, distinct) = try row.decode((String, Double, Double).self)
        columns[name] = (nullFraction, distinct)
      }
      return PostgresWarehouse.TableEstimate(rows: estimate, columns: columns)
    } catch {
      return PostgresWarehouse.TableEstimate(rows: -1, columns: [:])
    }
  }

  func profile(
    _ ref: ColumnRef, schema: String, table: String, column: LiveColumn, topK: Int,
    estimate: PostgresWarehouse.TableEstimate, budget: Double
  ) async throws -> ColumnProfile {
    var binds = PostgresBindings()
    binds.append(Int64(topK))
    binds.append(ValueShape.from)
    binds.append(ValueShape.to)
    let percent = estimate.samplePercent(budget: budget)
    if let percent { binds.append(Float(percent)) }
    let rows = try await query(
      PostgresWarehouse.profileStatement(
        schema: schema, table: table, column: column, sampled: percent != nil),
      binds: binds, reading: TableLock(schema: schema, table: table))
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
    if percent != nil {
      // Scale the sample's counts to the table; the statistics know nulls and distinct values better.
      let total = max(estimate.rows, Double(profile.rowCount))
      let scale = total / Double(max(profile.rowCount, 1))
      let scaled = { (counts: [ValueCount]) in
        counts.map { ValueCount(value: $0.value, count: Int((Double($0.count) * scale).rounded())) }
      }
      profile.topValues = scaled(profile.topValues)
      profile.topShapes = scaled(shapes)
      if let stats = estimate.columns[column.name] {
        profile.nullCount = Int((stats.nullFraction * total).rounded())
        profile.distinctCount = Int(
          (stats.distinct >= 0 ? stats.distinct : -stats.distinct * total).rounded())
      } else {
        profile.nullCount = Int((Double(profile.nullCount) * scale).rounded())
      }
      profile.rowCount = Int(total.rounded())
      profile.estimated = true
    }
    return profile
  }
}
