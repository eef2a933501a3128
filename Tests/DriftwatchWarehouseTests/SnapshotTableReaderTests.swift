import DriftwatchCore
import DriftwatchPostgres
import DriftwatchTestSupport
import Foundation
import PostgresNIO
import Testing

/// `snapshot` on the real PostgreSQL reads table by table (`SnapshotTableReading`): each table's profile and
/// keyed sample on `jobs` connections kept open, one read-only transaction per table, no catalog read of the
/// whole schema per table. What it records must be what the call-by-call path records, and what the rows say.
@Suite("snapshot table reader on PostgreSQL")
struct SnapshotTableReaderTests {
  static let raw = SchemaRef(schema: "raw")

  /// Mixed types, NULLs, a name that needs quoting, and more distinct values than `topK` with tied counts, so
  /// that which values make the top is decided by the tie order.
  static let seed = #"""
    CREATE TABLE people (id integer, name text, email text, tier text, amount numeric(10, 2),
      seen timestamp, "Odd ""col""" text, flag boolean);
    INSERT INTO people SELECT i,
      (ARRAY['Ann Lee', 'Bob Moss', 'Cleo Nash', 'dev ortiz'])[1 + i % 4],
      'u' || i || '@example.com',
      CASE WHEN i % 7 = 0 THEN NULL ELSE 't' || (i % 70) END,
      CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 37 % 1000) / 10.0 END,
      timestamp '2026-01-01' + i * interval '1 hour',
      CASE WHEN i % 3 = 0 THEN 'Zz-' || (i % 90) ELSE 'zz ' || (i % 61) END,
      i % 2 = 0
    FROM generate_series(1, 700) i;
    CREATE TABLE orders (order_id text PRIMARY KEY, person integer, total numeric);
    INSERT INTO orders SELECT 'o-' || i, i % 50, i * 1.5 FROM generate_series(1, 300) i;
    CREATE TABLE ledger (entry_id bigint PRIMARY KEY, memo text);
    INSERT INTO ledger SELECT i, 'm' || (i % 13) FROM generate_series(1, 120) i;
    ANALYZE;
    """#

  /// Two declared sources (`people` keyed by a unique test, `orders` by its primary key); `ledger` is an
  /// undeclared keyed table of the same schema, sampled only.
  static func project() -> ProjectGraph {
    let people = SourceTable(
      uniqueID: "source.shop.app.people", packageName: "shop", sourceName: "app", name: "people",
      schema: "raw")
    let orders = SourceTable(
      uniqueID: "source.shop.app.orders", packageName: "shop", sourceName: "app", name: "orders",
      schema: "raw")
    let unique = GraphNode(
      uniqueID: "test.shop.unique_people_id", resourceType: .test, name: "unique_people_id",
      packageName: "shop", dependsOn: [people.uniqueID],
      test: TestInfo(testName: "unique", columnName: "id", attachedNode: people.uniqueID))
    return ProjectGraph(projectName: "shop", sources: [people, orders], nodes: [unique])
  }

  static let metadata = SnapshotMetadata(
    id: "s", takenAt: "2026-02-17T14:00:00Z", project: "shop", warehouse: "test", driftwatchVersion: "test",
    sampleSize: 0, valuesHashed: false)

  /// The warehouse as a plain profiler and sampler: `SnapshotPlan.run` then calls `profile` per table and
  /// `sample` per keyed table, each on a connection of its own (the path every other backend takes).
  struct CallByCall: WarehouseProfiler, WarehouseSampler {
    var warehouse: PostgresWarehouse
    func profile(columns: [ColumnRef], topK: Int) async throws -> [ColumnProfile] {
      try await warehouse.profile(columns: columns, topK: topK)
    }
    func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]? {
      try await warehouse.sample(table: table, key: key, columns: columns, limit: limit)
    }
    func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws -> [String:
      [String?]]?
    {
      try await warehouse.rows(table: table, key: key, keys: keys, columns: columns)
    }
  }

  static func snapshot(
    _ warehouse: PostgresWarehouse, plan: SnapshotPlan, live: LiveSchema, jobs: Int, callByCall: Bool = false
  ) async throws -> Snapshot {
    let profiler: any WarehouseProfiler = callByCall ? CallByCall(warehouse: warehouse) : warehouse
    let sampler: any WarehouseSampler = callByCall ? CallByCall(warehouse: warehouse) : warehouse
    return try await plan.run(
      metadata: metadata, live: live, profiler: profiler, sampler: sampler, sampleSize: 40, hashValues: false,
      jobs: jobs)
  }

  @Test func readingTableByTableRecordsWhatTheCallByCallPathRecords() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.seed, into: locator, searchPath: "raw")
      let warehouse = PostgresWarehouse(locator: locator)
      let live = try await warehouse.introspect(schemas: [Self.raw])
      let plan = SnapshotPlan.make(project: Self.project(), live: live)
      #expect(plan.samples.map(\.table.name) == ["orders", "people", "ledger"])
      let expected = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 1, callByCall: true)
      #expect(expected.profiles.count == 8 + 3)
      #expect(expected.samples.count == 3)
      for jobs in [1, 3] {
        let byTable = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: jobs)
        #expect(byTable == expected, "jobs \(jobs)")
      }
    }
  }

  /// The `SnapshotPlan.topK` most frequent of `counts`, ties by value bytewise.
  static func top(_ counts: [String: Int]) -> [ValueCount] {
    let bytewise = counts.map { ValueCount(value: $0.key, count: $0.value) }.sorted {
      $0.count != $1.count ? $0.count > $1.count : $0.value.utf8.lexicographicallyPrecedes($1.value.utf8)
    }
    return Array(bytewise.prefix(SnapshotPlan.topK))
  }

  static let peopleColumns = ["id", "name", "email", "tier", "amount", "seen", "Odd \"col\"", "flag"]

  /// The profiles of `people` in `snapshot` against what its `rows` (every column as text) say.
  static func expectProfiles(of snapshot: Snapshot, equal rows: [[String?]]) throws {
    let columns = peopleColumns
    let textColumns: Set<String> = ["name", "email", "tier", "Odd \"col\""]
    for (index, name) in columns.enumerated() {
      let profile = try #require(
        snapshot.profiles.first { $0.column.table == "people" && $0.column.column == name })
      let values = rows.compactMap { $0[index] }
      var counts: [String: Int] = [:]
      for value in values { counts[value, default: 0] += 1 }
      #expect(profile.rowCount == 700)
      #expect(profile.nullCount == 700 - values.count, "\(name)")
      #expect(profile.distinctCount == counts.count, "\(name)")
      #expect(profile.topValues == ColumnProfile.ranked(Self.top(counts)), "\(name)")
      #expect(profile.estimated == nil)
      guard textColumns.contains(name) else {
        #expect(profile.shapeClasses == nil, "\(name)")
        continue
      }
      var shapes: [String: Int] = [:]
      var classes: [String: Int] = [:]
      for value in values {
        shapes[ValueShape.of(value), default: 0] += 1
        classes[ShapeClass.of(value: value).rawValue, default: 0] += 1
      }
      #expect(profile.topShapes == ColumnProfile.ranked(Self.top(shapes)), "\(name)")
      #expect(
        profile.shapeClasses
          == ColumnProfile.ranked(classes.map { ValueCount(value: $0.key, count: $0.value) }),
        "\(name)")
    }
  }

  /// Every figure of the one-statement profile against the same figures computed in Swift from the rows
  /// (values as text, ties in the top values and shapes broken bytewise, classes by `ShapeClass.of`).
  @Test func theTableProfileIsWhatTheRowsSay() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.seed, into: locator, searchPath: "raw")
      let warehouse = PostgresWarehouse(locator: locator)
      let live = try await warehouse.introspect(schemas: [Self.raw])
      let plan = SnapshotPlan.make(project: Self.project(), live: live)
      let snapshot = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 2)
      let select = Self.peopleColumns.map { "\(PostgresSession.quoted($0))::text" }.joined(separator: ", ")
      let rows = try await TestPostgres.rows("SELECT \(select) FROM raw.people", in: locator)
      try Self.expectProfiles(of: snapshot, equal: rows)
      // More distinct values than topK, with tied counts: the top is cut at topK.
      let tier = try #require(snapshot.profiles.first { $0.column.column == "tier" })
      #expect(tier.distinctCount == 60 && tier.topValues.count == SnapshotPlan.topK)
    }
  }

  /// A table dropped or a column dropped between the introspection and the reads is left out, as the
  /// call-by-call path leaves it out; nothing fails.
  @Test func tablesAndColumnsGoneSinceTheIntrospectionAreLeftOut() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.seed, into: locator, searchPath: "raw")
      let warehouse = PostgresWarehouse(locator: locator)
      let live = try await warehouse.introspect(schemas: [Self.raw])
      let plan = SnapshotPlan.make(project: Self.project(), live: live)
      try await TestPostgres.execute(
        "ALTER TABLE raw.people DROP COLUMN email; DROP TABLE raw.ledger", in: locator)
      let snapshot = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 2)
      let expected = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 1, callByCall: true)
      #expect(snapshot == expected)
      #expect(!snapshot.profiles.contains { $0.column.column == "email" })
      #expect(snapshot.profiles.filter { $0.column.table == "people" }.count == 7)
      // people's sample names email, which is gone; ledger is gone.
      #expect(snapshot.samples.map(\.table.name) == ["orders"])
    }
  }

  /// Each table is read in its own read-only transaction: once a table is read, the reader's connection
  /// holds no lock on it (a long snapshot does not hold every table it has read until it ends).
  @Test func aReaderHoldsNoLockOnATableItHasRead() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.seed, into: locator, searchPath: "raw")
      let warehouse = PostgresWarehouse(locator: locator)
      let ref = TableRef(schema: Self.raw, name: "orders")
      let live = try await warehouse.introspect(schemas: [Self.raw])
      let target = try #require(
        SnapshotPlan.make(project: Self.project(), live: live).samples.first { $0.table == ref })
      let locks = try await warehouse.withTableReader { reader in
        let read = try await reader.read(
          table: ref, columns: [ColumnRef(schema: Self.raw, table: "orders", column: "total")],
          sample: target, topK: 5, sampleSize: 10)
        #expect(read.profiles.map(\.column.column) == ["total"])
        #expect(read.sample?.count == 10)
        return try await TestPostgres.rows(
          """
          SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE a.application_name = 'driftwatch' AND a.datname = current_database()
            AND l.relation = 'raw.orders'::regclass
          """, in: locator)
      }
      #expect(locks.isEmpty)
    }
  }

  /// A table larger than twice the row budget is read from a TABLESAMPLE: its profiles are marked
  /// estimated (the snapshot says which tables were sampled), counts scaled to the table.
  @Test func largeTablesAreProfiledFromASampleAndMarkedEstimated() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.seed, into: locator, searchPath: "raw")
      var warehouse = PostgresWarehouse(locator: locator)
      warehouse.rowBudget = 100
      let live = try await warehouse.introspect(schemas: [Self.raw])
      let plan = SnapshotPlan.make(project: Self.project(), live: live)
      let snapshot = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 2)
      let people = snapshot.profiles.filter { $0.column.table == "people" }
      #expect(people.count == 8)
      #expect(people.allSatisfy { $0.estimated == true && $0.rowCount == 700 })
      // orders (300 rows) is above 2 x 100 too; a budget of 1,000 reads both whole.
      warehouse.rowBudget = 1000
      let whole = try await Self.snapshot(warehouse, plan: plan, live: live, jobs: 2)
      #expect(whole.profiles.allSatisfy { $0.estimated == nil })
    }
  }
}
