import DriftwatchCore
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// Drift behind an unchanged schema on real SQLite files and the real PostgreSQL, through the calls `check`
/// makes (`SnapshotPlan.run`, `DriftEngine.changes`, `applyingEvidence` with the warehouse as profiler and
/// sampler): shape classes computed in SQL equal the Swift rule, stable columns stay quiet while the table
/// grows, shrinks and gets new rows every day, and swapped, emptied and rescaled columns are found.
@Suite("profile drift on SQLite and PostgreSQL")
struct ProfileDriftWarehouseTests {
  static let raw = SchemaRef(schema: "raw")
  static let first = ["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lu"]
  static let last = ["Lee", "Moss", "Nash", "Ortiz", "Park", "Quinn", "Roth", "Sato", "Tran"]
  static let statuses = ["active", "trial", "churned", "paused"]

  static let create = """
    CREATE TABLE customers (
      id integer PRIMARY KEY, email text, full_name text, status text, amount numeric(12, 2), note text,
      signed_up text
    );
    """

  /// Rows `ids`, the same on every day they exist (`note` NULL on one row in ten).
  static func insert(_ ids: some Sequence<Int>) -> String {
    let values = ids.map { id in
      let f = first[id % first.count]
      let l = last[(id / first.count) % last.count]
      let cents = (id * 7919) % 50_000 + 100
      let amount = "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
      let note = id % 10 == 0 ? "NULL" : "'n\(id)'"
      let day = 1 + id % 28
      return
        "(\(id), '\(f.lowercased()).\(l.lowercased())\(id)@example.com', '\(f) \(l)', '\(statuses[id % 4])', \(amount), \(note), '2026-02-\(day < 10 ? "0" : "")\(day)')"
    }
    return values.isEmpty ? "" : "INSERT INTO customers VALUES \(values.joined(separator: ",\n")); "
  }

  static func project() -> ProjectGraph {
    let source = SourceTable(
      uniqueID: "source.shop.app.customers", packageName: "shop", sourceName: "app", name: "customers",
      schema: "raw",
      columns: [
        ("id", "integer"), ("email", "text"), ("full_name", "text"), ("status", "text"),
        ("amount", "numeric"),
        ("note", "text"), ("signed_up", "text"),
      ].map { DeclaredColumn(name: $0.0, dataType: $0.1) })
    let model = GraphNode(
      uniqueID: "model.shop.stg_customers", resourceType: .model, name: "stg_customers", packageName: "shop",
      dependsOn: [source.uniqueID],
      rawCode:
        "select id, email, full_name, status, amount, note, signed_up from {{ source('app', 'customers') }}")
    let unique = GraphNode(
      uniqueID: "test.shop.unique_customers_id", resourceType: .test, name: "unique_customers_id",
      packageName: "shop", dependsOn: [source.uniqueID],
      test: TestInfo(testName: "unique", columnName: "id", attachedNode: source.uniqueID))
    return ProjectGraph(projectName: "shop", sources: [source], nodes: [model, unique])
  }

  /// A warehouse the test changes between snapshots and checks.
  struct Warehouse {
    var make: @Sendable () -> any WarehouseIntrospector & WarehouseProfiler & WarehouseSampler
    var run: @Sendable (String) async throws -> Void
  }

  static func snapshot(_ warehouse: Warehouse, id: String) async throws -> Snapshot {
    let connection = warehouse.make()
    let project = project()
    let live = try await connection.introspect(schemas: [raw])
    return try await SnapshotPlan.make(project: project, live: live).run(
      metadata: SnapshotMetadata(
        id: id, takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "test",
        driftwatchVersion: "test",
        sampleSize: 0, valuesHashed: false),
      live: live, profiler: connection, sampler: connection, sampleSize: 200, hashValues: false)
  }

  static func check(_ warehouse: Warehouse, against snapshot: Snapshot) async throws -> [DriftChange] {
    let connection = warehouse.make()
    let engine = DriftEngine(project: project())
    let live = try await connection.introspect(schemas: [raw])
    let changes = try await engine.changes(live: live, profiler: connection)
    return try await engine.applyingEvidence(
      to: changes, live: live, snapshot: snapshot, sampler: connection, profiler: connection)
  }

  /// Day 0: 600 rows and a snapshot. Then a table that grows, shrinks and gets new rows every day stays
  /// quiet (against day 0 and against the day before); then the drift: email and full_name swapped, note
  /// emptied, amounts divided by 100.
  static func scenario(_ warehouse: Warehouse) async throws {
    try await warehouse.run(create + insert(1...600))
    let baseline = try await snapshot(warehouse, id: "s-day0")
    #expect(baseline.profiles.count == 7)
    let email = try #require(baseline.profiles.first { $0.column.column == "email" })
    #expect(email.shapeClasses == [ValueCount(value: "email", count: 600)])
    let amount = try #require(baseline.profiles.first { $0.column.column == "amount" })
    #expect((amount.meanMagnitude ?? 0) > 100)

    var previous = baseline
    let days: [(String, String)] = [
      ("grows", insert(601...1500)),
      ("new rows", "DELETE FROM customers WHERE id <= 300; " + insert(1501...1800)),
      ("shrinks", "DELETE FROM customers WHERE id % 10 < 8;"),
      ("new rows again", insert(1801...1900)),
    ]
    for (index, (day, sql)) in days.enumerated() {
      try await warehouse.run(sql)
      for base in [baseline, previous] {
        let changes = try await check(warehouse, against: base)
        #expect(changes.isEmpty, "\(day) against \(base.id): \(changes.map { ($0.kind, $0.evidence) })")
      }
      previous = try await snapshot(warehouse, id: "s-day\(index + 1)")
    }

    try await warehouse.run(
      "UPDATE customers SET email = full_name, full_name = email, note = NULL, amount = amount / 100;")
    let changes = try await check(warehouse, against: previous)
    #expect(changes.allSatisfy { $0.kind.isProfileDrift && $0.breaking }, "\(changes.map(\.kind))")
    #expect(Set(changes.map(\.kind)) == [.columnsSwapped, .nullRateChanged, .scaleChanged])
    let swap = try #require(changes.first { $0.kind == .columnsSwapped })
    #expect(swap.from == "email" && swap.to == .one("full_name") && swap.confidence == 0.99)
    let null = try #require(changes.first { $0.kind == .nullRateChanged })
    #expect(null.from == "note" && null.measure?.after == 1)
    let scale = try #require(changes.first { $0.kind == .scaleChanged })
    #expect(scale.measure?.factor == 0.01)
    let keys = try #require(scale.measure?.keysJoined)
    #expect(keys > 100 && scale.measure?.keysAgreeing == keys)
    #expect(
      scale.evidence.contains("amount = amount (snapshot s-day4) / 100 on \(keys)/\(keys) sampled keys"))
  }

  @Test func sqliteStableColumnsStayQuietAndDriftIsFound() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("warehouse.db")
      try await TestSQLite.create(at: path, sql: "")
      let warehouse = Warehouse(
        make: { SQLiteWarehouse(path: path) },
        run: { sql in
          let database = try await SQLiteDatabase.open(at: path)
          do {
            try await database.execute(script: sql)
          } catch {
            try? await database.close()
            throw error
          }
          try await database.close()
        })
      try await Self.scenario(warehouse)
    }
  }

  @Test func postgresStableColumnsStayQuietAndDriftIsFound() async throws {
    try await TestPostgres.withDatabase { locator in
      let warehouse = Warehouse(
        make: { PostgresWarehouse(locator: locator) },
        run: { sql in try await TestPostgres.load(sql: sql + " ANALYZE;", into: locator, searchPath: "raw") })
      try await Self.scenario(warehouse)
    }
  }

  // MARK: - jobs

  /// The same snapshot whatever the number of tables profiled at once.
  static func expectSameSnapshotWhateverTheJobs(
    _ make: @Sendable () -> any WarehouseIntrospector & WarehouseProfiler & WarehouseSampler
  ) async throws {
    let connection = make()
    var sources: [SourceTable] = []
    for index in 0..<6 {
      sources.append(
        SourceTable(
          uniqueID: "source.shop.app.t\(index)", packageName: "shop", sourceName: "app", name: "t\(index)",
          schema: "raw"))
    }
    let project = ProjectGraph(projectName: "shop", sources: sources, nodes: [])
    let live = try await connection.introspect(schemas: [raw])
    let plan = SnapshotPlan.make(project: project, live: live)
    #expect(plan.samples.count == 6)
    var snapshots: [Snapshot] = []
    for jobs in [1, 4] {
      snapshots.append(
        try await plan.run(
          metadata: SnapshotMetadata(
            id: "s", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "test",
            driftwatchVersion: "test", sampleSize: 0, valuesHashed: false),
          live: live, profiler: connection, sampler: connection, sampleSize: 50, hashValues: false, jobs: jobs
        ))
    }
    #expect(snapshots[0].profiles.count == 6 * 7)
    #expect(snapshots[0] == snapshots[1])
  }

  static var sixTables: String {
    (0..<6).map {
      create.replacingOccurrences(of: "customers", with: "t\($0)")
        + insert(1...(40 + 10 * $0)).replacingOccurrences(of: "customers", with: "t\($0)")
    }.joined()
  }

  @Test func sqliteSnapshotIsTheSameWhateverTheJobs() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("warehouse.db")
      try await TestSQLite.create(at: path, sql: Self.sixTables)
      try await Self.expectSameSnapshotWhateverTheJobs { SQLiteWarehouse(path: path) }
    }
  }

  @Test func postgresSnapshotIsTheSameWhateverTheJobs() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.sixTables, into: locator, searchPath: "raw")
      try await Self.expectSameSnapshotWhateverTheJobs { PostgresWarehouse(locator: locator) }
    }
  }

  // MARK: - shape classes in SQL

  static let corpus: [String] = [
    "", "ann.lee@example.com", "A.B@x.co", "Ann Lee", "Mary-Jo O'Neil", "https://x.io/a?b=1", "http://a",
    "123e4567-e89b-12d3-a456-426614174000", "2026-02-17", "2026-02-17 14:00:00", "2026-02-17T14:00:00Z",
    "-12.50", "1234", "1.2.3", "(555) 010-0199", "+1 555 0100", "past_due", "US", "NASA Ames", "a@b",
    "ann lee@x.com", "x@.com", "n123", ".5", "-", "été", "Ärger", "O'Neil", "a_b-c d", "MIXED_case",
    "x@y.", "AA", "A", "%_@_%", "9999-99-99", "__", "  ",
  ]

  static func expectSQLMatchesSwift(_ profiles: [ColumnProfile]) throws {
    let profile = try #require(profiles.first)
    var expected: [String: Int] = [:]
    for value in corpus { expected[ShapeClass.of(value: value).rawValue, default: 0] += 1 }
    let measured = Dictionary(
      (profile.shapeClasses ?? []).map { ($0.value, $0.count) }, uniquingKeysWith: +)
    #expect(measured == expected)
  }

  static var corpusSQL: String {
    "CREATE TABLE corpus (v text); INSERT INTO corpus VALUES "
      + corpus.map { "('\($0.replacingOccurrences(of: "'", with: "''"))')" }.joined(separator: ", ") + ";"
  }

  @Test func sqliteShapeClassesEqualTheSwiftRule() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("warehouse.db")
      try await TestSQLite.create(at: path, sql: Self.corpusSQL)
      let profiles = try await SQLiteWarehouse(path: path).profile(
        columns: [ColumnRef(schema: Self.raw, table: "corpus", column: "v")], topK: 5)
      try Self.expectSQLMatchesSwift(profiles)
    }
  }

  @Test func postgresShapeClassesEqualTheSwiftRule() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.corpusSQL, into: locator, searchPath: "raw")
      let profiles = try await PostgresWarehouse(locator: locator).profile(
        columns: [ColumnRef(schema: Self.raw, table: "corpus", column: "v")], topK: 5)
      try Self.expectSQLMatchesSwift(profiles)
    }
  }
}
