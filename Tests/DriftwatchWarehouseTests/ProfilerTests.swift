import DriftwatchCore
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// `WarehouseProfiler` on real SQLite files and the real PostgreSQL: the same data gives the same profile.
@Suite("Warehouse profiler")
struct ProfilerTests {
  static let table = """
    CREATE TABLE accounts (
      id INTEGER PRIMARY KEY,
      tier TEXT,
      zip TEXT,
      score INTEGER,
      "Odd \"\"name\"\"" TEXT
    );
    INSERT INTO accounts VALUES (1, 'gold', '02139', 10, 'x');
    INSERT INTO accounts VALUES (2, 'gold', '10001', 9, 'x');
    INSERT INTO accounts VALUES (3, 'silver', 'AB-12', 100, NULL);
    INSERT INTO accounts VALUES (4, 'bronze', '94107', NULL, NULL);
    INSERT INTO accounts VALUES (5, NULL, '94107', 2, 'y');
    INSERT INTO accounts VALUES (6, 'gold', NULL, 2, 'y');
    """

  static let raw = SchemaRef(schema: "raw")
  static func ref(_ column: String, table: String = "accounts") -> ColumnRef {
    ColumnRef(schema: raw, table: table, column: column)
  }

  /// What both warehouses must report for `table`.
  static func checkProfiles(_ profiles: [ColumnProfile]) throws {
    // Missing columns and tables are left out; order follows the request.
    #expect(profiles.map(\.column) == [ref("tier"), ref("zip"), ref("score"), ref("Odd \"name\"")])

    let tier = profiles[0]
    #expect(tier.rowCount == 6)
    #expect(tier.nullCount == 1)
    #expect(tier.distinctCount == 3)
    #expect(tier.topValues == [ValueCount(value: "gold", count: 3), ValueCount(value: "bronze", count: 1)])
    #expect(tier.minValue == "bronze")
    #expect(tier.maxValue == "silver")
    #expect(tier.averageLength == 24.0 / 5.0)
    #expect(tier.topShapes == [ValueCount(value: "aaaa", count: 3), ValueCount(value: "aaaaaa", count: 2)])
    #expect(!tier.topValuesComplete)

    let zip = profiles[1]
    #expect(zip.distinctCount == 4)
    #expect(zip.topValues.first == ValueCount(value: "94107", count: 2))
    #expect(zip.topShapes == [ValueCount(value: "99999", count: 4), ValueCount(value: "AA-99", count: 1)])
    #expect(zip.minValue == "02139")

    // Numbers keep their own order for min/max (10 > 9), and are compared as text for values.
    let score = profiles[2]
    #expect(score.nullCount == 1)
    #expect(score.minValue == "2")
    #expect(score.maxValue == "100")
    #expect(score.topValues.first == ValueCount(value: "2", count: 2))
    #expect(score.distinctCount == 4)

    let odd = profiles[3]
    #expect(odd.nullCount == 2)
    #expect(odd.topValues == [ValueCount(value: "x", count: 2), ValueCount(value: "y", count: 2)])
  }

  static let request = [
    ref("tier"), ref("zip"), ref("missing"), ref("score"), ref("id", table: "no_such_table"),
    ref("Odd \"name\""),
  ]

  @Test func sqliteProfilesColumnsInTheWarehouse() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("warehouse.db")
      try await TestSQLite.create(at: path, sql: Self.table)
      let before = try Data(contentsOf: URL(fileURLWithPath: path))
      let profiles = try await SQLiteWarehouse(path: path).profile(columns: Self.request, topK: 2)
      try Self.checkProfiles(profiles)
      // Read-only: the file is unchanged.
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
  }

  @Test func sqliteProfilesAttachedSchemasAndEmptyTables() async throws {
    try await withTemporaryDirectory { directory in
      let main = directory.file("main.db")
      let staging = directory.file("staging.db")
      try await TestSQLite.create(at: main, sql: "CREATE TABLE other (x TEXT);")
      try await TestSQLite.create(at: staging, sql: Self.table + "CREATE TABLE empty (x TEXT);")
      let warehouse = SQLiteWarehouse(path: main, attachments: ["raw": staging])
      try Self.checkProfiles(try await warehouse.profile(columns: Self.request, topK: 2))
      let empty = try await warehouse.profile(columns: [Self.ref("x", table: "empty")], topK: 5)
      #expect(
        empty == [
          ColumnProfile(
            column: Self.ref("x", table: "empty"), rowCount: 0, nullCount: 0, distinctCount: 0, topValues: [],
            topShapes: [])
        ])
      #expect(try await warehouse.profile(columns: [], topK: 5).isEmpty)
    }
  }

  @Test func postgresProfilesColumnsInAReadOnlyTransaction() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: Self.table, into: locator, searchPath: "raw")
      let profiles = try await PostgresWarehouse(locator: locator).profile(columns: Self.request, topK: 2)
      try Self.checkProfiles(profiles)
      // Upper-case schema names fall back to the folded name, as introspection does.
      let upper = ColumnRef(schema: SchemaRef(schema: "RAW"), table: "accounts", column: "tier")
      let folded = try await PostgresWarehouse(locator: locator).profile(columns: [upper], topK: 1)
      #expect(folded.map(\.topValues) == [[ValueCount(value: "gold", count: 3)]])
    }
  }

  @Test func postgresOrdersNonOrderableTypesAsText() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(
        sql: """
          CREATE TABLE flags (ok boolean, doc jsonb, tags text[]);
          INSERT INTO flags VALUES (true, '{"a": 1}', '{b,c}'), (false, '[]', '{a}'), (true, NULL, NULL);
          """, into: locator, searchPath: "raw")
      let profiles = try await PostgresWarehouse(locator: locator).profile(
        columns: ["ok", "doc", "tags"].map { Self.ref($0, table: "flags") }, topK: 3)
      #expect(profiles.map(\.minValue) == ["false", "[]", "{a}"])
      #expect(profiles.map(\.maxValue) == ["true", "{\"a\": 1}", "{b,c}"])
      #expect(
        profiles[0].topValues == [ValueCount(value: "true", count: 2), ValueCount(value: "false", count: 1)])
      #expect(profiles[1].nullCount == 1)
    }
  }

  @Test func postgresReadsABoundedSampleOfALargeTable() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(
        sql: """
          CREATE TABLE big (id integer PRIMARY KEY, tier text, note text);
          INSERT INTO big SELECT i, (ARRAY['gold','silver','bronze','gold'])[1 + i % 4],
            CASE WHEN i % 10 = 0 THEN NULL ELSE 'n' || i END FROM generate_series(1, 40000) i;
          ANALYZE big;
          """, into: locator, searchPath: "raw")
      var warehouse = PostgresWarehouse(locator: locator)
      warehouse.rowBudget = 2000
      let refs = ["tier", "note"].map { Self.ref($0, table: "big") }
      let profiles = try await warehouse.profile(columns: refs, topK: 5)
      #expect(profiles.count == 2)
      let tier = profiles[0]
      #expect(tier.estimated == true)
      #expect(tier.rowCount == 40000, "pg_class.reltuples after ANALYZE")
      #expect(tier.distinctCount == 3, "from pg_stats")
      #expect(tier.topValues.first?.value == "gold")
      let gold = try #require(tier.topValues.first { $0.value == "gold" }).count
      #expect(gold > 14000 && gold < 26000, "scaled from the sample: about half of 40,000")
      let note = profiles[1]
      #expect(note.nullCount > 3000 && note.nullCount < 5000, "null_frac from pg_stats: about 10 %")
      // The same bounded, repeatable sample of keys each time.
      let table = TableRef(schema: Self.raw, name: "big")
      let first = try #require(
        try await warehouse.sample(table: table, key: "id", columns: ["tier"], limit: 50))
      #expect(first.count == 50)
      #expect(try await warehouse.sample(table: table, key: "id", columns: ["tier"], limit: 50) == first)
      // A small table is read whole: exact counts.
      let exact = try await PostgresWarehouse(locator: locator).profile(columns: [refs[0]], topK: 5)
      #expect(exact.first?.estimated == nil)
      #expect(exact.first?.topValues.first == ValueCount(value: "gold", count: 20000))
    }
  }

  @Test func shapeMapsDigitsAndLettersAndKeepsSeparators() {
    #expect(ValueShape.of("12 Oak St, Boston, MA 02139") == "99 Aaa Aa, Aaaaaa, AA 99999")
    #expect(ValueShape.of("été-9") == "éaé-9")
    #expect(ValueShape.of(String(repeating: "x", count: 40)) == String(repeating: "a", count: 32))
  }
}
