import DriftwatchCore
import SQLiteNIO

extension SQLiteWarehouse: WarehouseProfiler {
  /// One statement per column, run by SQLite over the read-only file: counts, min/max, average length,
  /// the `topK` most frequent values and shapes. Values are compared as text (`CAST(… AS TEXT)`).
  /// Columns (or tables) that do not exist are left out.
  public func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
    guard !columns.isEmpty else { return [] }
    let schemas = Array(Set(columns.map(\.schema))).sorted()
    let live = try await introspect(schemas: schemas)
    let attached = try attachedDatabases()
    var targets: [(ref: ColumnRef, database: String, table: String, column: String, type: String)] = []
    for ref in columns {
      guard let (table, column) = live.resolve(ref) else { continue }
      targets.append(
        (ref, database(for: ref.schema, attached: attached), table.name, column.name, column.dataType))
    }
    guard !targets.isEmpty else { return [] }
    let databases = Array(Set(targets.map(\.database))).sorted()
    let limit = max(0, topK)
    return try await withReadOnlyConnection(databases: databases, attached: attached) { connection in
      var profiles: [ColumnProfile] = []
      for target in targets {
        let sql = Self.profileStatement(
          database: target.database, table: target.table, column: target.column,
          shapes: Self.mayHoldText(declaredType: target.type))
        let rows: [SQLiteRow]
        do {
          rows = try await SQLiteFiles.rows(connection, sql, [.integer(limit)])
        } catch {
          if let fileError = readError(error) { throw fileError }
          throw WarehouseError(
            .queryFailed,
            "cannot profile \(target.ref) in \(displayName): \(((error as? SQLiteError)?.message ?? "\(error)").lowercased())"
          )
        }
        profiles.append(Self.profile(of: target.ref, rows: rows))
      }
      return profiles
    }
  }

  /// SQLite's affinity rules: a declared type with CHAR, CLOB or TEXT, or none at all, may hold text.
  /// Shapes are computed for those only (numbers and dates have the shape of their type).
  static func mayHoldText(declaredType: String) -> Bool {
    let type = declaredType.uppercased()
    return type.isEmpty || type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT")
  }

  /// `?1` is top-K. Part 0 is the aggregates (with `mag`, the average absolute value of the numeric
  /// values), part 1 the top values, part 2 the top shapes and part 3 the count per `ShapeClass` (parts 2 and
  /// 3 when `shapes`). The shapes are computed once per value, in a materialized `shapes` table.
  static func profileStatement(database: String, table: String, column: String, shapes: Bool = true) -> String
  {
    let relation = "\(SQLiteFiles.quoted(database)).\(SQLiteFiles.quoted(table))"
    let value = "CAST(\(SQLiteFiles.quoted(column)) AS TEXT)"
    let raw = SQLiteFiles.quoted(column)
    return """
      WITH shapes AS MATERIALIZED (
        SELECT \(shapeExpression(value)) AS sh FROM \(relation) WHERE \(raw) IS NOT NULL\(shapes ? "" : " AND 0"))
      SELECT 0 AS part, count(*) AS n, count(\(raw)) AS nn, count(DISTINCT \(value)) AS d,
        CAST(min(\(raw)) AS TEXT) AS lo, CAST(max(\(raw)) AS TEXT) AS hi, avg(length(\(value))) AS avg_len,
        NULL AS v, NULL AS c,
        avg(CASE WHEN typeof(\(raw)) IN ('integer', 'real') THEN abs(\(raw)) END) AS mag
      FROM \(relation)
      UNION ALL
      SELECT * FROM (
        SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, \(value) AS v, count(*) AS c, NULL FROM \(relation)
        WHERE \(raw) IS NOT NULL GROUP BY v ORDER BY c DESC, v LIMIT ?1)
      UNION ALL
      SELECT * FROM (
        SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, substr(sh, 1, \(ValueShape.maxLength)) AS v, count(*) AS c, NULL
        FROM shapes GROUP BY v ORDER BY c DESC, v LIMIT ?1)
      UNION ALL
      SELECT * FROM (
        SELECT 3, NULL, NULL, NULL, NULL, NULL, NULL, v, count(*) AS c, NULL
        FROM (SELECT \(ShapeClass.sqlCase(shape: "sh")) AS v FROM shapes) GROUP BY v)
      """
  }

  /// `ValueShape` in SQLite, which has no `translate`: one `replace` per mapped character.
  static func shapeExpression(_ text: String) -> String {
    var expression = text
    for (from, to) in zip(ValueShape.from, ValueShape.to) {
      expression = "replace(\(expression), '\(from)', '\(to)')"
    }
    return expression
  }

  static func profile(of ref: ColumnRef, rows: [SQLiteRow]) -> ColumnProfile {
    var profile = ColumnProfile(column: ref, rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [])
    var values: [ValueCount] = []
    var shapes: [ValueCount] = []
    var classes: [ValueCount] = []
    for row in rows {
      switch row.column("part")?.integer ?? -1 {
      case 0:
        let rows = row.column("n")?.integer ?? 0
        profile.rowCount = rows
        profile.nullCount = rows - (row.column("nn")?.integer ?? 0)
        profile.distinctCount = row.column("d")?.integer ?? 0
        profile.minValue = row.column("lo")?.string
        profile.maxValue = row.column("hi")?.string
        profile.averageLength = row.column("avg_len")?.double
        profile.meanMagnitude = row.column("mag")?.double
      case 1:
        if let value = row.column("v")?.string {
          values.append(ValueCount(value: value, count: row.column("c")?.integer ?? 0))
        }
      case 2:
        if let value = row.column("v")?.string {
          shapes.append(ValueCount(value: value, count: row.column("c")?.integer ?? 0))
        }
      case 3:
        if let value = row.column("v")?.string {
          classes.append(ValueCount(value: value, count: row.column("c")?.integer ?? 0))
        }
      default: break
      }
    }
    profile.topValues = ColumnProfile.ranked(values)
    profile.topShapes = ColumnProfile.ranked(shapes)
    profile.shapeClasses = classes.isEmpty ? nil : ColumnProfile.ranked(classes)
    return profile
  }
}
