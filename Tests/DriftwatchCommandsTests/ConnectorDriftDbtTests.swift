import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The connector patterns on the real PostgreSQL with real dbt (Fixtures/connector_shop): `_tmp` models built
/// by a union macro that calls source() with vars, staging models that fill absent columns with NULL through
/// adapter.get_columns_in_relation, no data_type in the yml, keyless tables, an identifier set by a var.
/// Upstream drift leaves `dbt build` green while the marts' values go NULL; driftwatch calls it breaking.
@Suite("connector drift with real dbt", .serialized)
struct ConnectorDriftDbtTests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/connector_shop").path

  /// A copy of the fixture wired to a fresh database holding its raw tables.
  static func withConnector(_ body: (AcmeFixDbtTests.Project, PostgresLocator) async throws -> Void)
    async throws
  {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(fixture + "/seed.sql"), into: db)
      let scratch = try Scratch()
      defer { scratch.remove() }
      let directory = scratch.file("connector_shop")
      try FileManager.default.copyItem(atPath: fixture, toPath: directory)
      let environment = [
        "CONNECTOR_PG_HOST": db.host, "CONNECTOR_PG_PORT": String(db.port), "CONNECTOR_PG_USER": db.user,
        "CONNECTOR_PG_PASSWORD": db.password ?? "", "CONNECTOR_PG_DBNAME": db.database,
        "PGPASSWORD": db.password ?? "", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
      ]
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
      try await body(
        AcmeFixDbtTests.Project(directory: directory, environment: environment, url: url), db)
    }
  }

  static func change(_ json: [String: Any], from column: String) -> [String: Any]? {
    (json["changes"] as? [[String: Any]] ?? []).first {
      $0["from"] as? String == column && ($0["kind"] as? String)?.hasPrefix("column_") == true
    }
  }

  static func silentNulls(_ change: [String: Any]?) -> [(node: String, readBy: Set<String>)] {
    (change?["silent_nulls"] as? [[String: Any]] ?? []).map { entry in
      let readBy = entry["read_by"] as? [String: Any] ?? [:]
      let ids = (readBy["models"] as? [String] ?? []) + (readBy["exposures"] as? [String] ?? [])
      return (entry["node"] as? String ?? "", Set(ids))
    }
  }

  /// What driftwatch must say about the drift, from the project files or from the manifest dbt wrote.
  static func expectBreakingSilentNulls(_ check: CLI.Result, _ how: String) throws {
    #expect(check.status == 1, "\(how): \(check.stderr)")
    let json = try CLI.json(check.stdout)
    #expect(json["breaking"] as? Bool == true, "\(how)")
    // amount: dropped upstream, filled with NULL in stg_crm__deals, read by both marts and the dashboard.
    let amount = change(json, from: "amount")
    #expect(amount?["kind"] as? String == "column_missing", "\(how): \(amount ?? [:])")
    #expect(amount?["breaking"] as? Bool == true, "\(how)")
    let amountNulls = silentNulls(amount)
    #expect(amountNulls.map(\.node) == ["model.connector_shop.stg_crm__deals"], "\(how): \(amount ?? [:])")
    #expect(
      amountNulls.first?.readBy
        == [
          "model.connector_shop.fct_pipeline", "model.connector_shop.fct_revenue",
          "exposure.connector_shop.revenue_dashboard",
        ], "\(how)")
    #expect(
      (amount?["evidence"] as? [String] ?? []).contains {
        $0.hasPrefix("silently NULL in model.connector_shop.stg_crm__deals.amount")
          && $0.contains("read by 2 models (fct_pipeline, fct_revenue) and 1 dashboard (revenue_dashboard)")
      }, "\(how): \(amount?["evidence"] ?? "")")
    // label: renamed to stage_label upstream, NULL in stg_crm__stages, fct_pipeline (and the dashboard) read it.
    let label = change(json, from: "label")
    #expect(label?["breaking"] as? Bool == true, "\(how): \(label ?? [:])")
    let labelNulls = silentNulls(label)
    #expect(labelNulls.map(\.node) == ["model.connector_shop.stg_crm__stages"], "\(how): \(label ?? [:])")
    #expect(
      labelNulls.first?.readBy
        == ["model.connector_shop.fct_pipeline", "exposure.connector_shop.revenue_dashboard"], "\(how)")
    // probability is still there: nothing about it.
    #expect(change(json, from: "probability") == nil)
  }

  @Test func upstreamDriftKeepsDbtGreenAndDriftwatchCallsItBreaking() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await Self.withConnector { project, db in
      let before = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(before.status == 0, "\(before.results)")
      let clean = try await CLI.run(
        ["check", "--project", project.directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      #expect(clean.status == 0, "\(clean.stderr)\n\(clean.stdout)")

      try await TestPostgres.load(sql: try CLI.read(Self.fixture + "/drift.sql"), into: db)
      // dbt stays green: the staging models select NULL where the columns were.
      let after = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(after.status == 0, "\(after.results)")
      let pipelineRows = try await TestPostgres.rows(
        "select count(*)::text from analytics.fct_pipeline", in: db)
      #expect(pipelineRows.first?.first == "0", "the mart lost its rows")

      // From the project files: the readers rendered against the live schema.
      let fromFiles = try await CLI.run(
        ["check", "--project", project.directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      try Self.expectBreakingSilentNulls(fromFiles, "project files")
      // From the manifest dbt just wrote: its compiled_code is the SQL that ran.
      let fromManifest = try await CLI.run(
        [
          "check", "--manifest", project.directory + "/target/manifest.json", "--warehouse", project.url,
          "--format", "json",
        ],
        environment: project.environment)
      try Self.expectBreakingSilentNulls(fromManifest, "manifest")
      // The text report says it in words.
      let text = try await CLI.run(
        ["check", "--project", project.directory, "--warehouse", project.url],
        environment: project.environment)
      #expect(text.status == 1)
      #expect(
        text.stdout.contains("silently NULL in model.connector_shop.stg_crm__stages.label"), "\(text.stdout)")
    }
  }
}
