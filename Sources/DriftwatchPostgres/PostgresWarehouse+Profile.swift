import DriftwatchCore
import PostgresNIO

extension PostgresWarehouse: WarehouseProfiler {
  /// One statement per table (`tableProfileStatement`), run by PostgreSQL inside the read-only
  /// transaction: counts, min/max, average length, the `topK` most frequent values and shapes, the shape
  /// classes. Values are compared as text (`::text`). Columns (or tables) that do not exist are left out.
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
    // The requested columns by live table, in request order; one statement per table.
    var tables: [(schema: String, table: String, columns: [(ref: ColumnRef, column: LiveColumn)])] = []
    for ref in columns {
      guard let (table, column) = live.resolve(ref), let schema = schemaNames[ref.schema] else { continue }
      if let index = tables.firstIndex(where: { $0.schema == schema && $0.table == table.name }) {
        if !tables[index].columns.contains(where: { $0.column.name == column.name && $0.ref == ref }) {
          tables[index].columns.append((ref, column))
        }
      } else {
        tables.append((schema, table.name, [(ref, column)]))
      }
    }
    var byRef: [ColumnRef: ColumnProfile] = [:]
    for entry in tables {
      let estimate = try await session.estimate(schema: entry.schema, table: entry.table)
      let profiles = try await session.profileTable(
        schema: entry.schema, table: entry.table, columns: entry.columns, topK: max(0, topK),
        estimate: estimate, budget: rowBudget)
      for profile in profiles { byRef[profile.column] = profile }
    }
    return columns.compactMap { byRef[$0] }
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

  /// Numeric types, whose average absolute value (`mag`) a profile keeps for scale changes.
  static func isNumeric(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    if type.hasSuffix("[]") { return false }
    return ["smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision"].contains {
      type.hasPrefix($0)
    }
  }
}

extension PostgresWarehouse {
  /// The profile of several columns of one table in one statement: the table is read once for the
  /// aggregates (`agg`) and once for its cells (`cells`: every non-null value of every column as text, with
  /// its count, from one `LATERAL (VALUES …)` unpivot and one hash aggregate). Distinct counts, top values,
  /// top shapes and shape classes all come from `cells` (shapes are computed once per distinct value and
  /// weighted by its count), so the work grows with the table once, not once per column.
  ///
  /// Binds: `$1` top-K, `$2`/`$3` the `translate` maps of `ValueShape`, `$4` (when `sampled`) the
  /// `TABLESAMPLE SYSTEM` percentage. Result rows: `part` (0 aggregates, 1 top values, 2 top shapes,
  /// 3 shape classes), `i` (the column's index in `columns`), `n` rows, `nn` non-null, `d` distinct, `lo`/`hi`
  /// min/max as text (in the type's own order when orderable), `avg_len`, `v` the value/shape/class, `c` its
  /// count, `mag` the average absolute value (numeric types). Shapes for text types only.
  static func tableProfileStatement(
    schema: String, table: String, columns: [LiveColumn], sampled: Bool = false
  ) -> String {
    let relation = fromClause(schema: schema, table: table, percentBind: sampled ? 4 : nil)
    var aggregates: [String] = ["count(*)::int8 AS n"]
    var unpivot: [String] = []
    var rows: [String] = []
    var strings: [Int] = []
    for (i, column) in columns.enumerated() {
      let raw = PostgresSession.quoted(column.name)
      let ordered = isOrderable(column.dataType) ? raw : "\(raw)::text"
      aggregates += [
        "count(\(raw))::int8 AS nn\(i)", "min(\(ordered))::text AS lo\(i)", "max(\(ordered))::text AS hi\(i)",
        "avg(length(\(raw)::text))::float8 AS len\(i)",
        (isNumeric(column.dataType) ? "avg(abs(\(raw)))::float8" : "NULL::float8") + " AS mag\(i)",
      ]
      unpivot.append("(\(i), \(raw)::text)")
      rows.append("(\(i), agg.nn\(i), agg.lo\(i), agg.hi\(i), agg.len\(i), agg.mag\(i))")
      let type = column.dataType.lowercased()
      if type.hasPrefix("text") || type.hasPrefix("character") || type.hasPrefix("citext") {
        strings.append(i)
      }
    }
    let stringList = strings.isEmpty ? "NULL" : strings.map(String.init).joined(separator: ", ")
    return """
      WITH agg AS (SELECT \(aggregates.joined(separator: ", ")) FROM \(relation)),
      cells AS (
        SELECT u.i, u.v, count(*)::int8 AS c FROM \(relation)
        CROSS JOIN LATERAL (VALUES \(unpivot.joined(separator: ", "))) AS u(i, v)
        WHERE u.v IS NOT NULL GROUP BY u.i, u.v),
      shapes AS MATERIALIZED (
        SELECT i, translate(v, $2, $3) AS sh, c FROM cells WHERE i IN (\(stringList))),
      distinct_counts AS (SELECT i, count(*)::int8 AS d FROM cells GROUP BY i),
      top_values AS (
        SELECT i, v, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, v) AS r FROM cells),
      top_shapes AS (
        SELECT i, v, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, v) AS r
        FROM (SELECT i, left(sh, \(ValueShape.maxLength)) AS v, sum(c)::int8 AS c FROM shapes GROUP BY 1, 2) s)
      SELECT 0::int4 AS part, a.i::int4 AS i, agg.n AS n, a.nn::int8 AS nn, coalesce(dc.d, 0)::int8 AS d,
        a.lo::text AS lo, a.hi::text AS hi, a.len::float8 AS avg_len, NULL::text AS v, NULL::int8 AS c,
        a.mag::float8 AS mag
      FROM agg CROSS JOIN LATERAL (VALUES \(rows.joined(separator: ", "))) AS a(i, nn, lo, hi, len, mag)
      LEFT JOIN distinct_counts dc ON dc.i = a.i
      UNION ALL
      SELECT 1, i, NULL, NULL, NULL, NULL, NULL, NULL, v, c, NULL FROM top_values WHERE r <= $1
      UNION ALL
      SELECT 2, i, NULL, NULL, NULL, NULL, NULL, NULL, v, c, NULL FROM top_shapes WHERE r <= $1
      UNION ALL
      SELECT 3, i, NULL, NULL, NULL, NULL, NULL, NULL, cls, sum(c)::int8, NULL
      FROM (SELECT i, \(ShapeClass.sqlCase(shape: "sh")) AS cls, c FROM shapes) classes GROUP BY i, cls
      """
  }
}

extension PostgresWarehouse.ReadOnlySession {
  /// The profiles of `columns` of one table, from `tableProfileStatement`; a large table (by `estimate`) is
  /// read as a bounded `TABLESAMPLE` and its counts scaled, as `profile` does per column.
  func profileTable(
    schema: String, table: String, columns: [(ref: ColumnRef, column: LiveColumn)], topK: Int,
    estimate: PostgresWarehouse.TableEstimate, budget: Double
  ) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    var binds = PostgresBindings()
    binds.append(Int64(topK))
    binds.append(ValueShape.from)
    binds.append(ValueShape.to)
    let percent = estimate.samplePercent(budget: budget)
    if let percent { binds.append(Float(percent)) }
    let rows = try await query(
      PostgresWarehouse.tableProfileStatement(
        schema: schema, table: table, columns: columns.map(\.column), sampled: percent != nil),
      binds: binds, reading: TableLock(schema: schema, table: table))
    var profiles = columns.map {
      ColumnProfile(column: $0.ref, rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [])
    }
    var values = [[ValueCount]](repeating: [], count: columns.count)
    var shapes = [[ValueCount]](repeating: [], count: columns.count)
    var classes = [[ValueCount]](repeating: [], count: columns.count)
    do {
      for row in rows {
        let (part, i32, n, nn, d, lo, hi, average, value, count, magnitude) = try row.decode(
          (Int32, Int32, Int64?, Int64?, Int64?, String?, String?, Double?, String?, Int64?, Double?).self)
        let i = Int(i32)
        guard profiles.indices.contains(i) else { continue }
        switch part {
        case 0:
          profiles[i].rowCount = Int(n ?? 0)
          profiles[i].nullCount = Int((n ?? 0) - (nn ?? 0))
          profiles[i].distinctCount = Int(d ?? 0)
          profiles[i].minValue = lo
          profiles[i].maxValue = hi
          profiles[i].averageLength = average
          profiles[i].meanMagnitude = magnitude
        case 1:
          if let value { values[i].append(ValueCount(value: value, count: Int(count ?? 0))) }
        case 2:
          if let value { shapes[i].append(ValueCount(value: value, count: Int(count ?? 0))) }
        default:
          if let value { classes[i].append(ValueCount(value: value, count: Int(count ?? 0))) }
        }
      }
    } catch {
      throw WarehouseError(
        .queryFailed,
        "cannot read the profile of \(schema).\(table) from \(locator.displayURL): unexpected column types; please report this"
      )
    }
    for i in profiles.indices {
      profiles[i].topValues = ColumnProfile.ranked(values[i])
      profiles[i].topShapes = ColumnProfile.ranked(shapes[i])
      profiles[i].shapeClasses = classes[i].isEmpty ? nil : ColumnProfile.ranked(classes[i])
      if percent != nil {
        profiles[i] = Self.scaled(profiles[i], column: columns[i].column, estimate: estimate)
      }
    }
    return profiles
  }

  /// A profile of a `TABLESAMPLE` scaled to the table: counts by the sample's share, nulls and distinct
  /// values from the statistics when there are some.
  static func scaled(
    _ sampled: ColumnProfile, column: LiveColumn, estimate: PostgresWarehouse.TableEstimate
  ) -> ColumnProfile {
    var profile = sampled
    let total = max(estimate.rows, Double(profile.rowCount))
    let scale = total / Double(max(profile.rowCount, 1))
    let scaled = { (counts: [ValueCount]) in
      counts.map { ValueCount(value: $0.value, count: Int((Double($0.count) * scale).rounded())) }
    }
    profile.topValues = scaled(profile.topValues)
    profile.topShapes = scaled(profile.topShapes ?? [])
    profile.shapeClasses = profile.shapeClasses.map(scaled)
    if let stats = estimate.columns[column.name] {
      profile.nullCount = Int((stats.nullFraction * total).rounded())
      profile.distinctCount = Int((stats.distinct >= 0 ? stats.distinct : -stats.distinct * total).rounded())
    } else {
      profile.nullCount = Int((Double(profile.nullCount) * scale).rounded())
    }
    profile.rowCount = Int(total.rounded())
    profile.estimated = true
    return profile
  }

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
}
