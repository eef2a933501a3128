import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The connector patterns on the real PostgreSQL with real dbt (Fixtures/connector_shop): `_tmp` models built
/// by a union macro that calls source() with vars (and gives no rows for a table that is not there), staging
/// models that fill absent columns with NULL through adapter.get_columns_in_relation, no data_type in the
/// yml, keyless tables, identifiers set by vars. Upstream drift leaves `dbt build` green while the marts'
/// values go NULL or their rows go; driftwatch names every change, breaking; `fix --write` brings every
/// model's rows back (except the values of the column the connector dropped: no fix can restore those).
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
    // owner_id: integer → text against the baseline snapshot, though the yml declares no data_type.
    let changes = json["changes"] as? [[String: Any]] ?? []
    let owner = changes.first {
      $0["kind"] as? String == "column_type_changed" && $0["column"] as? String == "owner_id"
    }
    #expect(owner?["from"] as? String == "integer", "\(how): \(owner ?? [:])")
    #expect(owner?["breaking"] as? Bool == true, "\(how): \(owner ?? [:])")
    // owners: renamed to owner_records; the union macro now gives no rows, and dim_owners none.
    let owners = changes.first { $0["kind"] as? String == "table_renamed" }
    #expect(owners?["source"] as? String == "crm.owners", "\(how): \(owners ?? [:])")
    #expect("\(owners?["to"] ?? "")".contains("owner_records"), "\(how): \(owners ?? [:])")
    #expect(owners?["breaking"] as? Bool == true, "\(how)")
    // probability is still there: nothing about it; and nothing else changed.
    #expect(change(json, from: "probability") == nil)
    let kinds = changes.compactMap { $0["kind"] as? String }.sorted()
    #expect(
      kinds == ["column_missing", "column_missing", "column_type_changed", "table_renamed"]
        || kinds == ["column_missing", "column_renamed", "column_type_changed", "table_renamed"],
      "\(how): \(kinds)")
  }

  static let models = [
    "stg_crm__deals_tmp", "stg_crm__stages_tmp", "stg_crm__owners_tmp", "stg_crm__deals", "stg_crm__stages",
    "stg_crm__owners", "fct_pipeline", "fct_revenue", "dim_owners",
  ]
  /// The columns compared before and after: all but those holding the dropped `amount` or computed from it.
  static let compared = [
    "stg_crm__deals_tmp": "deal_id, stage_id, owner_id", "stg_crm__deals": "deal_id, stage_id, owner_id",
    "fct_pipeline": "deal_id, stage, owner_id", "fct_revenue": "stage_id, deals",
  ]

  @Test func upstreamDriftKeepsDbtGreenDriftwatchCallsItBreakingAndTheFixBringsTheRowsBack() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await Self.withConnector { project, db in
      let before = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(before.status == 0, "\(before.results)")
      try await TestPostgres.load(
        sql: (["create schema keep"]
          + Self.models.map { "create table keep.\($0) as select * from analytics.\($0)" })
          .joined(separator: ";\n") + ";", into: db)
      // The baseline: every column of the watched tables, with its type.
      let snapshot = try await CLI.run(
        ["snapshot", "--project", project.directory, "--profiles-dir", project.directory],
        environment: project.environment)
      #expect(snapshot.status == 0, "\(snapshot.stderr)")
      let clean = try await CLI.run(
        ["check", "--project", project.directory, "--profiles-dir", project.directory, "--format", "json"],
        environment: project.environment)
      #expect(clean.status == 0, "\(clean.stderr)\n\(clean.stdout)")

      try await TestPostgres.load(sql: try CLI.read(Self.fixture + "/drift.sql"), into: db)
      // dbt stays green: the staging models select NULL where the columns were, and no rows for owners.
      let after = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(after.status == 0, "\(after.results)")
      for mart in ["fct_pipeline", "dim_owners"] {
        let rows = try await TestPostgres.rows("select count(*)::text from analytics.\(mart)", in: db)
        #expect(rows.first?.first == "0", "\(mart) lost its rows")
      }

      // From the project files: the readers rendered against the live schema.
      let fromFiles = try await CLI.run(
        ["check", "--project", project.directory, "--profiles-dir", project.directory, "--format", "json"],
        environment: project.environment)
      try Self.expectBreakingSilentNulls(fromFiles, "project files")
      // From the manifest dbt just wrote: its compiled_code is the SQL that ran.
      let fromManifest = try await CLI.run(
        [
          "check", "--manifest", project.directory + "/target/manifest.json", "--profiles-dir",
          project.directory,
          "--format", "json",
        ],
        environment: project.environment)
      try Self.expectBreakingSilentNulls(fromManifest, "manifest")
      // The text report says it in words.
      let text = try await CLI.run(
        ["check", "--project", project.directory, "--profiles-dir", project.directory],
        environment: project.environment)
      #expect(text.status == 1)
      #expect(
        text.stdout.contains("silently NULL in model.connector_shop.stg_crm__stages.label"), "\(text.stdout)")

      // The fix, its questions answered in a decisions file as a user would: every mapping accepted; the
      // dropped amount not filled by the fix (the staging macro already gives it a typed NULL).
      let draft = try await CLI.run(
        ["fix", "--project", project.directory, "--profiles-dir", project.directory, "--format", "json"],
        environment: project.environment)
      #expect(draft.status == 0, "\(draft.stderr)")
      let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
      // The _tmp models' macro selects each table's rows as they are: mapped around, not asked about.
      #expect(!questions.contains { $0["kind"] as? String == "rewrite_by_hand" }, "\(questions)")
      var lines = ["version: 1", "decisions:"]
      for question in questions {
        guard let id = question["change_id"] as? String else { continue }
        lines += ["  \(id):", "    accept: \(question["kind"] as? String != "fill_missing")"]
      }
      let decisions = URL(fileURLWithPath: project.directory).deletingLastPathComponent()
        .appendingPathComponent("decisions.yml").path
      try lines.joined(separator: "\n").write(toFile: decisions, atomically: true, encoding: .utf8)
      let fix = try await CLI.run(
        [
          "fix", "--project", project.directory, "--profiles-dir", project.directory, "--decisions",
          decisions, "--write",
        ],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")
      let vars = try CLI.read(project.directory + "/dbt_project.yml")
      #expect(vars.contains("crm_owners_identifier: owner_records"), "\(vars)")
      #expect(
        try CLI.read(project.directory + "/macros/union_source.sql")
          == CLI.read(Self.fixture + "/macros/union_source.sql"))

      // dbt build green, and every model has the rows it had before the drift.
      let healed = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      let notGreen = healed.results.filter { !["success", "pass", "no-op"].contains($0.value) }
      #expect(healed.status == 0 && !healed.results.isEmpty && notGreen.isEmpty, "\(notGreen)")
      try await AcmeFixDbtTests.expectSameRows(Self.models, columns: { Self.compared[$0] ?? "*" }, in: db)
    }
  }
}
