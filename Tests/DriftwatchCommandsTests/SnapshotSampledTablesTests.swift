import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// `snapshot` on PostgreSQL says which tables it profiled from a sample of their rows (larger than twice the
/// 50,000-row budget), in its text and JSON output, and reads the others whole.
@Suite("snapshot says which tables were sampled")
struct SnapshotSampledTablesTests {
  static let seed = """
    CREATE TABLE big (id integer PRIMARY KEY, tier text);
    INSERT INTO big SELECT i, (ARRAY['gold', 'silver', 'bronze'])[1 + i % 3] FROM generate_series(1, 120000) i;
    CREATE TABLE small (id integer PRIMARY KEY, tier text);
    INSERT INTO small SELECT i, 'gold' FROM generate_series(1, 500) i;
    ANALYZE;
    """

  static let sources = """
    version: 2
    sources:
      - name: app
        schema: raw
        tables:
          - name: big
          - name: small

    """

  @Test func textAndJSONNameTheSampledTables() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: Self.seed, into: db, searchPath: "raw")
      try await withTemporaryDirectory { project in
        try project.write(
          "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n", to: "dbt_project.yml")
        try FileManager.default.createDirectory(
          atPath: project.file("models"), withIntermediateDirectories: true)
        try project.write(Self.sources, to: "models/sources.yml")
        let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
        let environment = ["PGPASSWORD": db.password ?? ""]
        let json = try await CLI.run(
          [
            "snapshot", "--project", project.path, "--warehouse", url, "--state",
            "sqlite:\(project.file("state.db"))", "--format", "json",
          ], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(try CLI.json(json.stdout)["estimated_tables"] as? [String] == ["raw.big"])
        let text = try await CLI.run(
          [
            "snapshot", "--project", project.path, "--warehouse", url, "--state",
            "sqlite:\(project.file("state.db"))", "--jobs", "1",
          ], environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("1 large table was profiled from a sample of its rows"))
        #expect(text.stdout.contains(": raw.big\n"))
        #expect(!text.stdout.contains("raw.small"))
      }
    }
  }

  /// A declared source table the warehouse does not have is named, never left out silently: a line in the
  /// text, `not_found_tables` in the JSON.
  @Test func aDeclaredTableTheWarehouseDoesNotHaveIsNamed() async throws {
    try await withTemporaryDirectory { project in
      let url = "sqlite:" + project.file("warehouse.db")
      try await TestSQLite.create(
        at: project.file("warehouse.db"), sql: "CREATE TABLE small (id integer PRIMARY KEY, tier text);")
      try project.write(
        "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n", to: "dbt_project.yml")
      try FileManager.default.createDirectory(
        atPath: project.file("models"), withIntermediateDirectories: true)
      try project.write(
        Self.sources.replacingOccurrences(of: "schema: raw", with: "schema: main"), to: "models/sources.yml")
      let state = "sqlite:\(project.file("state.db"))"
      let text = try await CLI.run([
        "snapshot", "--project", project.path, "--warehouse", url, "--state", state,
      ])
      #expect(text.status == 0, "\(text.stderr)")
      #expect(text.stdout.contains("1 declared source table is not in the warehouse and not recorded"))
      #expect(text.stdout.contains("  app.big (main.big)\n"), "\(text.stdout)")
      let json = try await CLI.run([
        "snapshot", "--project", project.path, "--warehouse", url, "--state", state, "--format", "json",
      ])
      #expect(try CLI.json(json.stdout)["not_found_tables"] as? [String] == ["main.big"])
    }
  }
}
