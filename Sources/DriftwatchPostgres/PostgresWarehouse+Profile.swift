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
  static func isOrderable(_ dataType: String) -> Bool { PostgresTypes.isOrderable(dataType) }

  /// The default `rowBudget` (`TableEstimate.defaultRowBudget`): a large table is one above twice this many
  /// rows (by `pg_class.reltuples`); statements read a `TABLESAMPLE SYSTEM` of about this many rows and
  /// counts are scaled, with `pg_stats` for null fractions and distinct counts.
  public static let defaultRowBudget = TableEstimate.defaultRowBudget

  /// What PostgreSQL's statistics say about a table (`reltuples`, -1: never analyzed; `pg_stats`).
  typealias TableEstimate = DriftwatchCore.TableEstimate

  /// Numeric types, whose average absolute value (`mag`) a profile keeps for scale changes.
  static func isNumeric(_ dataType: String) -> Bool { PostgresTypes.isNumeric(dataType) }
}

/// A `PostgresQuery` put together piece by piece with postgres-nio's interpolation: `sql` appends SQL text
/// (identifiers quoted by the caller with `PostgresSession.quoted`), `bind` a value as the next `$n`.
struct QueryBuilder {
  private var interpolation = PostgresQuery.StringInterpolation(literalCapacity: 4096, interpolationCount: 8)

  mutating func sql(_ text: String) { interpolation.appendLiteral(text) }
  mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) {
    interpolation.appendInterpolation(value)
  }

  var query: PostgresQuery { PostgresQuery(stringInterpolation: interpolation) }
}

extension PostgresWarehouse {
  /// `relation`, or a repeatable `TABLESAMPLE SYSTEM` of `percent` % of it (the percentage bound).
  static func appendFrom(_ relation: String, percent: Double?, to builder: inout QueryBuilder) {
    builder.sql(relation)
    guard let percent else { return }
    builder.sql(" TABLESAMPLE SYSTEM (")
    builder.bind(Float(percent))
    builder.sql("::float4) REPEATABLE (0)")
  }

  /// The profile of several columns of one table in one statement: the table is read once for the
  /// aggregates (`agg`) and once for its cells (`cells`: every non-null value of every column as text, with
  /// its count, from one `LATERAL (VALUES …)` unpivot and one hash aggregate). Distinct counts, top values,
  /// top shapes and shape classes all come from `cells`: each column's `topK` values by a bounded top-N
  /// sort of its own cells (not a sort of every cell), shapes computed once per distinct value and grouped
  /// before they are cut or classified (the class `CASE` runs once per distinct shape, not per value).
  /// Ties are ordered bytewise (`COLLATE "C"`), as `ColumnProfile.ranked` orders them.
  ///
  /// `relation` is the quoted table; `percent`, when given, reads a `TABLESAMPLE SYSTEM` of it. Result
  /// rows: `part` (0 aggregates, 1 top values, 2 top shapes, 3 shape classes), `i` (the column's index in
  /// `columns`), `n` rows, `nn` non-null, `d` distinct, `lo`/`hi` min/max as text (in the type's own order
  /// when orderable), `avg_len`, `v` the value/shape/class, `c` its count, `mag` the average absolute value
  /// (numeric types). Shapes for text types only.
  static func tableProfileStatement(
    relation: String, columns: [LiveColumn], topK: Int, percent: Double? = nil
  )
    -> PostgresQuery
  {
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
      if PostgresTypes.isString(column.dataType) { strings.append(i) }
    }
    let stringList = strings.isEmpty ? "NULL" : strings.map(String.init).joined(separator: ", ")
    let k = Int64(max(0, topK))
    var q = QueryBuilder()
    q.sql("WITH agg AS (SELECT \(aggregates.joined(separator: ", ")) FROM ")
    appendFrom(relation, percent: percent, to: &q)
    q.sql("),\ncells AS (\n  SELECT u.i, u.v, count(*)::int8 AS c FROM ")
    appendFrom(relation, percent: percent, to: &q)
    q.sql(
      """

        CROSS JOIN LATERAL (VALUES \(unpivot.joined(separator: ", "))) AS u(i, v)
        WHERE u.v IS NOT NULL GROUP BY u.i, u.v),
      distinct_counts AS (SELECT i, count(*)::int8 AS d FROM cells GROUP BY i),
      top_values AS (
        SELECT dc.i, t.v, t.c FROM distinct_counts dc CROSS JOIN LATERAL (
          SELECT v, c FROM cells WHERE cells.i = dc.i ORDER BY c DESC, v COLLATE "C" LIMIT
      """)
    q.sql(" ")
    q.bind(k)
    q.sql(") t),\nshapes AS (\n  SELECT i, translate(v, ")
    q.bind(ValueShape.from)
    q.sql(", ")
    q.bind(ValueShape.to)
    q.sql(
      """
      ) AS sh, sum(c)::int8 AS c FROM cells WHERE i IN (\(stringList)) GROUP BY 1, 2),
      top_shapes AS (
        SELECT i, v, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, v COLLATE "C") AS r
        FROM (SELECT i, left(sh, \(ValueShape.maxLength)) AS v, sum(c)::int8 AS c FROM shapes GROUP BY 1, 2) s)
      SELECT 0::int4 AS part, a.i::int4 AS i, agg.n AS n, a.nn::int8 AS nn, coalesce(dc.d, 0)::int8 AS d,
        a.lo::text AS lo, a.hi::text AS hi, a.len::float8 AS avg_len, NULL::text AS v, NULL::int8 AS c,
        a.mag::float8 AS mag
      FROM agg CROSS JOIN LATERAL (VALUES \(rows.joined(separator: ", "))) AS a(i, nn, lo, hi, len, mag)
      LEFT JOIN distinct_counts dc ON dc.i = a.i
      UNION ALL
      SELECT 1, i, NULL, NULL, NULL, NULL, NULL, NULL, v, c, NULL FROM top_values
      UNION ALL
      SELECT 2, i, NULL, NULL, NULL, NULL, NULL, NULL, v, c, NULL FROM top_shapes WHERE r <=
      """)
    q.sql(" ")
    q.bind(k)
    q.sql(
      """

      UNION ALL
      SELECT 3, i, NULL, NULL, NULL, NULL, NULL, NULL, cls, sum(c)::int8, NULL
      FROM (SELECT i, \(ShapeClass.sqlCase(shape: "sh")) AS cls, c FROM shapes) classes GROUP BY i, cls
      """)
    return q.query
  }

  /// Settings for the profile statement, local to its transaction: no JIT compilation (it costs more
  /// than it saves on statements of a second or less, and the per-column expressions make it compile a
  /// lot), and enough `work_mem` for the hash aggregate of a table's cells not to spill to disk.
  static let profileSettings: PostgresQuery = """
    SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)
    """
}

extension PostgresWarehouse.ReadOnlySession {
  /// The profiles of `columns` of one table, from `tableProfileStatement`; a large table (by `estimate`) is
  /// read as a bounded `TABLESAMPLE` and its counts scaled, as `profile` does per column.
  func profileTable(
    schema: String, table: String, columns: [(ref: ColumnRef, column: LiveColumn)], topK: Int,
    estimate: PostgresWarehouse.TableEstimate, budget: Double
  ) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    let percent = estimate.samplePercent(budget: budget)
    try await query(PostgresWarehouse.profileSettings)
    let relation = "\(PostgresSession.quoted(schema)).\(PostgresSession.quoted(table))"
    let rows = try await query(
      PostgresWarehouse.tableProfileStatement(
        relation: relation, columns: columns.map(\.column), topK: topK, percent: percent),
      reading: TableLock(schema: schema, table: table))
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
      profiles[i].setCounts(values: values[i], shapes: shapes[i], classes: classes[i], topK: topK)
      if percent != nil {
        profiles[i] = profiles[i].scaled(to: estimate, columnName: columns[i].column.name)
      }
    }
    return profiles
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

  /// The statistics of one table (`estimate`) in one statement.
  func estimate(schema: String, table: String) async throws -> PostgresWarehouse.TableEstimate {
    let rows = try await query(
      """
      SELECT c.reltuples::float8, s.attname::text, s.null_frac::float8, s.n_distinct::float8
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
      WHERE n.nspname = \(schema) AND c.relname = \(table)
      """)
    do {
      var estimate = PostgresWarehouse.TableEstimate(rows: -1, columns: [:])
      for row in rows {
        let (tuples, name, nullFraction, distinct) = try row.decode((Double, String?, Double?, Double?).self)
        estimate.rows = tuples
        if let name, let nullFraction, let distinct {
          estimate.columns[name] = .init(nullFraction: nullFraction, distinct: distinct)
        }
      }
      return estimate
    } catch {
      return PostgresWarehouse.TableEstimate(rows: -1, columns: [:])
    }
  }
}
