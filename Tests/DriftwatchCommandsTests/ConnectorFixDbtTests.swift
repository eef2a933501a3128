import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The fix on a connector-style project (Fixtures/crm_connector), proven with real dbt on the real
/// PostgreSQL: a source table renamed upstream whose identifier comes from a var and whose staging reads it
/// through a union macro calling source() by name; stage values remapped upstream, with an accepted_values
/// test declaring a value the data never held; a model reading the remapped table through the macro.
@Suite("fix on a connector-style project, proven with real dbt", .serialized)
struct ConnectorFixDbtTests {
  static let fixture = FixRootTests.fixtures + "/crm_connector"
  static let models = [
    "fct_deals", "stg_crm__deal", "stg_crm__stage_event", "stg_crm__stage_event_counts", "won_deals",
  ]

  @Test func fixKeepsDbtGreenAndEveryModelsRows() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Self.fixture + "/warehouse/seed.sql"), into: db)
      let scratch = try Scratch()
      defer { scratch.remove() }
      let directory = scratch.file("crm_connector")
      try FileManager.default.copyItem(atPath: Self.fixture, toPath: directory)
      let project = AcmeFixDbtTests.Project(
        directory: directory,
        environment: [
          "CRM_PG_HOST": db.host, "CRM_PG_PORT": String(db.port), "CRM_PG_USER": db.user,
          "CRM_PG_PASSWORD": db.password ?? "", "CRM_PG_DBNAME": db.database, "PGPASSWORD": db.password ?? "",
          "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        ],
        url: "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)")

      // 1. Green before the drift; every model's rows kept.
      let before = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(before.status == 0, "\(before.results.filter { $0.value != "success" && $0.value != "pass" })")
      try await TestPostgres.load(
        sql: (["create schema keep"]
          + Self.models.map { "create table keep.\($0) as select * from analytics.\($0)" })
          .joined(separator: ";\n") + ";", into: db)

      // 2. The connector's next release.
      try await TestPostgres.load(
        sql: try CLI.read(Self.fixture + "/warehouse/upstream_change.sql"), into: db)
      let check = try await CLI.run(
        ["check", "--project", directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      #expect(check.status == 1, "\(check.stderr)")
      let changes = try CLI.json(check.stdout)["changes"] as? [[String: Any]] ?? []
      #expect(
        changes.contains { $0["kind"] as? String == "table_renamed" && $0["breaking"] as? Bool == true })
      #expect(changes.contains { $0["kind"] as? String == "values_remapped" })

      // 3. The drafted fix, its questions answered in a decisions file.
      let draft = try await CLI.run(
        ["fix", "--project", directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      #expect(draft.status == 0, "\(draft.stderr)")
      let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
      // The model reading stage_event through the macro cannot be rewritten: a question naming its file.
      #expect(
        questions.contains {
          $0["kind"] as? String == "rewrite_by_hand"
            && $0["subject"] as? String == "models/staging/stg_crm__stage_event_counts.sql"
        }, "\(questions)")
      #expect(!questions.contains { ($0["subject"] as? String)?.contains("stg_crm__deal.sql") == true })
      var lines = ["version: 1", "decisions:"]
      for question in questions {
        guard let id = question["change_id"] as? String else { continue }
        lines.append("  \(id):")
        // It counts rows and never reads the stage: nothing to map back there.
        lines.append(
          question["kind"] as? String == "value_mapping"
            ? "    mapping: {open: OPEN, won: WON, lost: LOST}" : "    accept: true")
      }
      let decisions = scratch.file("decisions.yml")
      try lines.joined(separator: "\n").write(toFile: decisions, atomically: true, encoding: .utf8)
      let fix = try await CLI.run(
        ["fix", "--project", directory, "--warehouse", project.url, "--decisions", decisions, "--write"],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")

      // The source keeps its name (the macro calls it by name); the var that sets its identifier changed.
      let vars = try CLI.read(directory + "/dbt_project.yml")
      #expect(vars.contains("crm_deal_identifier: deal_records"), "\(vars)")
      let sources = try CLI.read(directory + "/models/staging/src_crm.yml")
      #expect(sources.contains("      - name: deal\n"))
      #expect(sources.contains(#"identifier: "{{ var('crm_deal_identifier', 'deals') }}""#))
      // Every declared value kept: archived (never in the data) stays beside the mapped ones.
      #expect(sources.contains(#"values: ["OPEN", "WON", "LOST", 'archived']"#), "\(sources)")
      #expect(
        try CLI.read(directory + "/macros/crm_union.sql") == CLI.read(Self.fixture + "/macros/crm_union.sql"))

      // 4. dbt build green, and every model has the rows it had before the drift.
      let healed = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      let notGreen = healed.results.filter { !["success", "pass"].contains($0.value) }
      #expect(healed.status == 0 && !healed.results.isEmpty && notGreen.isEmpty, "\(notGreen)")
      try await AcmeFixDbtTests.expectSameRows(Self.models, in: db)
    }
  }
}
