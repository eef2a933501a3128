import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchDbtBridge

/// Names and values from the warehouse are hostile input: through real dbt-duckdb, a table and columns named
/// with quotes, backticks, backslashes, Jinja, SQL comments and non-ASCII letters are introspected, profiled
/// (one statement for the table, every column), sampled and read back by key, each value exactly as stored.
@Suite("dbt bridge with hostile names on DuckDB", .serialized)
struct DbtBridgeHostileNameTests {
  static let table = "we\"ird'tab`le {{ 7*7 }}"
  static let columns = ["id", "it's", "\"quoted\"", "back\\slash", "semi;colon -- x", "{% if %}", "ünïcode"]

  /// `name` as a DuckDB identifier.
  static func quoted(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  @Test func introspectedProfiledSampledAndReadByKey() async throws {
    guard let (dbt, python) = DbtBridgeDuckDBTests.tools else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let database = scratch.file("hostile.duckdb")
    let select = Self.columns.dropFirst().enumerated().map { index, name in
      // Values with quotes, a backslash, Jinja and a NULL now and then.
      "case when i % 6 = \(index) then null else 'v''\\{{ x }}' || (i % 3) end as \(Self.quoted(name))"
    }
    let sql =
      "create schema raw; create table raw.\(Self.quoted(Self.table)) as select i as id, "
      + select.joined(separator: ", ") + " from range(1, 61) t(i);"
    let load = try await CLI.run(
      executable: URL(fileURLWithPath: python),
      [
        "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute(sys.argv[2]); c.close()",
        database, sql,
      ])
    try #require(load.status == 0, "\(load.stderr)")
    try """
    hostile:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: \(database)
          schema: main

    """.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    let bridge = DbtBridge(
      adapter: "duckdb", displayName: "dbt:hostile.dev (duckdb)",
      runner: DbtProcessRunner(
        invocation: DbtInvocation(
          dbt: dbt, workingDirectory: scratch.file(""), profilesDirectory: scratch.file(""),
          profile: "hostile", target: nil, environment: ProcessInfo.processInfo.environment)))

    let raw = SchemaRef(schema: "raw")
    let live = try await bridge.introspect(schemas: [raw])
    let found = try #require(live.tables.first)
    #expect(found.name == Self.table)
    #expect(found.columns.map(\.name) == Self.columns)

    let refs = Self.columns.map { ColumnRef(schema: raw, table: Self.table, column: $0) }
    let profiles = try await bridge.profile(columns: refs, topK: 10)
    #expect(profiles.map(\.column) == refs)
    #expect(bridge.invocations.last?.statements == 2, "the estimate and one statement for the table")
    for profile in profiles.dropFirst() {
      #expect(profile.rowCount == 60 && profile.nullCount == 10, "\(profile.column)")
      #expect(Set(profile.topValues.map(\.value)) == ["v'\\{{ x }}0", "v'\\{{ x }}1", "v'\\{{ x }}2"])
      #expect(profile.shapeClasses?.reduce(0) { $0 + $1.count } == 50)
    }

    let table = TableRef(schema: raw, name: Self.table)
    let sample = try #require(
      try await bridge.sample(table: table, key: "id", columns: Array(Self.columns.dropFirst()), limit: 5))
    #expect(sample.count == 5)
    let keys = sample.map(\.key)
    let rows = try #require(
      try await bridge.rows(
        table: table, key: "id", keys: keys + ["o'brien\\"], columns: ["it's", "ünïcode"]))
    #expect(Set(rows.keys) == Set(keys))
    for row in sample {
      #expect(rows[row.key]?.first == row.values.first, "\(row.key)")
    }
  }
}
