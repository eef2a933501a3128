import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The fix, proven with real dbt on the real PostgreSQL: build the example, break it with the backend's
/// migration, let `driftwatch fix --write` draft the mapping, build again, and compare every row of the
/// nine models with what they held before the migration.
@Suite("fix proven with real dbt", .serialized)
struct AcmeFixDbtTests {
  struct Project {
    var directory: String
    var environment: [String: String]
    var url: String
  }

  static var dbt: String? {
    guard let dbt = ProcessInfo.processInfo.environment[DbtComparisonTests.dbtVariable], !dbt.isEmpty else {
      Issue.record(
        "\(DbtComparisonTests.dbtVariable) is not set: run scripts/test (it installs dbt and sets it)")
      return nil
    }
    return dbt
  }

  /// A copy of examples/acme wired to a fresh database holding the seed.
  static func withAcme(_ body: (Project, PostgresLocator) async throws -> Void) async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      let scratch = try Scratch()
      defer { scratch.remove() }
      let directory = scratch.file("acme")
      try FileManager.default.copyItem(atPath: CLI.acme, toPath: directory)
      for generated in ["target", "logs", "dbt_packages"] {
        try? FileManager.default.removeItem(atPath: directory + "/" + generated)
      }
      let environment = [
        "ACME_PG_HOST": db.host, "ACME_PG_PORT": String(db.port), "ACME_PG_USER": db.user,
        "ACME_PG_PASSWORD": db.password ?? "", "ACME_PG_DBNAME": db.database, "PGPASSWORD": db.password ?? "",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
      ]
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
      try await body(Project(directory: directory, environment: environment, url: url), db)
    }
  }

  /// Each of `models` holds the rows it held before (`keep.<model>`, copied then), EXCEPT ALL both ways over
  /// `columns(model)`, and is not empty; `before` names that moment in the failure message.
  static func expectSameRows(
    _ models: [String], columns: (String) -> String = { _ in "*" }, since before: String = "the drift",
    in db: PostgresLocator, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    for model in models {
      let compared = columns(model)
      let difference = try await TestPostgres.rows(
        """
        select count(*)::text from (
          (select \(compared) from keep.\(model) except all select \(compared) from analytics.\(model))
          union all
          (select \(compared) from analytics.\(model) except all select \(compared) from keep.\(model))
        ) as d
        """, in: db)
      #expect(
        difference.first?.first == "0", "\(model) differs from before \(before)",
        sourceLocation: sourceLocation)
      let count = try await TestPostgres.rows("select count(*)::text from analytics.\(model)", in: db)
      #expect(count.first?.first != "0", "\(model) is empty", sourceLocation: sourceLocation)
    }
  }

  static func dbtBuild(_ project: Project, dbt: String) async throws -> (
    status: Int32, results: [String: String]
  ) {
    let result = try await CLI.run(
      executable: URL(fileURLWithPath: dbt),
      ["build", "--project-dir", project.directory, "--profiles-dir", project.directory, "--no-use-colors"],
      environment: project.environment, directory: project.directory)
    let data = try Data(contentsOf: URL(fileURLWithPath: project.directory + "/target/run_results.json"))
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    var statuses: [String: String] = [:]
    for entry in json?["results"] as? [[String: Any]] ?? [] {
      if let id = entry["unique_id"] as? String, let status = entry["status"] as? String {
        statuses[id] = status
      }
    }
    return (result.status, statuses)
  }

  /// Answers the drafted questions the way the backend's migration says they should be answered.
  static func decisions(for project: Project, rejectMapping: Bool) async throws -> String {
    let draft = try await CLI.run(
      ["fix", "--project", project.directory, "--warehouse", project.url, "--format", "json"],
      environment: project.environment)
    #expect(draft.status == 0, "\(draft.stderr)")
    let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
    var lines = ["version: 1", "decisions:"]
    for question in questions {
      guard let id = question["change_id"] as? String, let kind = question["kind"] as? String else {
        continue
      }
      lines.append("  \(id):")
      switch kind {
      case "value_mapping":
        lines.append(
          rejectMapping
            ? "    accept: false" : "    mapping: {premium: gold, standard: silver, basic: bronze}")
      case "split_template":
        lines.append("    template: \"{street}, {city}, {state_code} {postal_code}\"")
      default:
        lines.append("    accept: true")
      }
    }
    #expect(questions.contains { $0["kind"] as? String == "value_mapping" }, "the tier remap is a question")
    #expect(
      questions.contains { $0["kind"] as? String == "split_template" }, "the address format is a question")
    let path = project.directory + "/../decisions.yml"
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func fixHealsThePipelineWithTheSameRows() async throws {
    guard let dbt = Self.dbt else { return }
    try await Self.withAcme { project, db in
      // 1. Green before the migration; keep every row of the nine models.
      let before = try await Self.dbtBuild(project, dbt: dbt)
      #expect(
        before.status == 0,
        "dbt build on the seed: \(before.results.filter { $0.value != "success" && $0.value != "pass" })")
      let models = Acme.radiusModels.map { String($0.split(separator: ".").last ?? "") }.sorted()
      var keep = ["create schema keep"]
      for model in models { keep.append("create table keep.\(model) as select * from analytics.\(model)") }
      try await TestPostgres.load(sql: keep.joined(separator: ";\n") + ";", into: db)

      // 2. The backend's migration: stg_customers errors, the rest of the radius does not build.
      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")
      let broken = try await Self.dbtBuild(project, dbt: dbt)
      #expect(broken.status != 0)
      #expect(
        broken.results["model.acme.stg_customers"] == "error"
          || broken.results["model.acme.stg_customers"] == "skipped")
      for model in Acme.radiusModels where model != "model.acme.stg_customers" {
        #expect(broken.results[model] == "skipped", "\(model): \(broken.results[model] ?? "not run")")
      }

      // 3. The drafted fix, answers from a decisions file.
      let decisions = try await Self.decisions(for: project, rejectMapping: false)
      let fix = try await CLI.run(
        [
          "fix", "--project", project.directory, "--warehouse", project.url, "--decisions", decisions,
          "--write",
        ],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")
      #expect(fix.stdout.contains("wrote 3 files"))
      let healed = try await Self.dbtBuild(project, dbt: dbt)
      #expect(healed.status == 0, "\(healed.results.filter { $0.value != "success" && $0.value != "pass" })")
      #expect(healed.results["test.acme.assert_schema_contract_raw_accounts"] == "pass")
      // Exposures are not built: dbt reports them as no-op.
      let notGreen = healed.results.filter { !["success", "pass", "no-op"].contains($0.value) }
      #expect(!healed.results.isEmpty && notGreen.isEmpty, "\(notGreen)")

      // 4. The same rows, both ways, and the same revenue to the cent.
      try await Self.expectSameRows(models, since: "the migration", in: db)
      let revenueColumns = try await TestPostgres.rows(
        """
        select table_name, column_name from information_schema.columns
        where table_schema = 'keep' and column_name like '%revenue%' and data_type in ('numeric', 'double precision', 'real', 'integer', 'bigint')
        order by 1, 2
        """, in: db)
      #expect(!revenueColumns.isEmpty)
      for row in revenueColumns {
        guard let table = row[0], let column = row[1] else { continue }
        let sums = try await TestPostgres.rows(
          "select round(sum(\(column))::numeric, 2)::text from keep.\(table) union all select round(sum(\(column))::numeric, 2)::text from analytics.\(table)",
          in: db)
        #expect(sums.count == 2 && sums[0].first == sums[1].first, "\(table).\(column): \(sums)")
      }
    }
  }

  @Test func rejectedMappingDraftsNoCaseAndNamesTheTestsThatWillFail() async throws {
    guard let dbt = Self.dbt else { return }
    try await Self.withAcme { project, db in
      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")
      let decisions = try await Self.decisions(for: project, rejectMapping: true)
      let draft = try await CLI.run(
        [
          "fix", "--project", project.directory, "--warehouse", project.url, "--decisions", decisions,
          "--format", "json",
        ],
        environment: project.environment)
      #expect(draft.status == 0, "\(draft.stderr)")
      let json = try CLI.json(draft.stdout)
      let staging = (json["files"] as? [[String: Any]] ?? []).first {
        ($0["path"] as? String)?.hasSuffix("stg_customers.sql") == true
      }
      let content = staging?["content"] as? String ?? ""
      #expect(content.contains("account_tier as customer_segment"))
      #expect(!content.lowercased().contains("case account_tier"), "a rejected mapping drafts no CASE")
      let expected = Set(
        (json["expected_failures"] as? [[String: Any]] ?? []).compactMap { $0["test"] as? String })
      #expect(!expected.isEmpty)
      #expect(expected.allSatisfy { $0.contains("accepted_values") })

      // Real dbt agrees: exactly those tests fail.
      let fix = try await CLI.run(
        [
          "fix", "--project", project.directory, "--warehouse", project.url, "--decisions", decisions,
          "--write",
        ],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)")
      let build = try await Self.dbtBuild(project, dbt: dbt)
      // dbt skips what sits downstream of a failing test, so a predicted failure may show as skipped.
      let failed = Set(build.results.filter { $0.value == "fail" || $0.value == "error" }.keys)
      #expect(!failed.isEmpty)
      #expect(
        failed.isSubset(of: expected), "dbt failed \(failed.sorted()), driftwatch said \(expected.sorted())")
      for test in expected.subtracting(failed) {
        #expect(build.results[test] == "skipped", "\(test): \(build.results[test] ?? "not run")")
      }
    }
  }

  @Test func writeRefusesWhileQuestionsAreOpen() async throws {
    try await Self.withAcme { project, db in
      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")
      let before = try CLI.read(project.directory + "/models/staging/stg_customers.sql")
      let refused = try await CLI.run(
        ["fix", "--project", project.directory, "--warehouse", project.url, "--write"],
        environment: project.environment)
      #expect(refused.status == 2)
      #expect(refused.stderr.contains("open, so nothing was written"))
      #expect(refused.stderr.contains("value_mapping"))
      #expect(try CLI.read(project.directory + "/models/staging/stg_customers.sql") == before)
      #expect(
        !FileManager.default.fileExists(
          atPath: project.directory + "/tests/assert_schema_contract_raw_accounts.sql"))
    }
  }
}
