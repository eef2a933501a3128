import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// `fix`, `demo`, `watch` and `impact --dbt-build` read a fix's inputs through one piece of code
/// (`FixInputs`): the same drift drafts the same fix whichever command drafts it. In the serialized
/// `impact --dbt-build` suite: its tests count the server's parity copies.
extension ImpactDbtBuildTests {
  /// An earlier `fix --write` left its schema contract test in the project: `impact --dbt-build` regenerates
  /// it like `fix` does (it used to draft it as a new file and then refuse to write over the one it found).
  @Test func impactDbtBuildRegeneratesAnEarlierContractTestLikeFix() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await AcmeFixDbtTests.withAcme { project, migrated in
      try await TestPostgres.load(
        sql: try CLI.read(Acme.postgresMigration), into: migrated, searchPath: "raw")
      let decisions = try await AcmeFixDbtTests.decisions(for: project, rejectMapping: false)
      let contract = project.directory + "/tests/assert_schema_contract_raw_accounts.sql"
      try
        "-- driftwatch schema contract for an earlier fix, drafted by driftwatch.\nselect 1 as missing_column where false\n"
        .write(toFile: contract, atomically: true, encoding: .utf8)

      // fix regenerates it …
      let fix = try await CLI.run(
        [
          "fix", "--project", project.directory, "--warehouse", project.url, "--decisions", decisions,
          "--format", "json",
        ],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)")
      let fixed = (try CLI.json(fix.stdout)["files"] as? [[String: Any]] ?? []).first {
        ($0["path"] as? String)?.hasSuffix("assert_schema_contract_raw_accounts.sql") == true
      }
      #expect(fixed?["status"] as? String == "modified")

      // … and so does impact --dbt-build, which then builds green.
      try await ImpactPostgresTests.withAcme { staging in
        let result = try await CLI.run(
          [
            "impact", Acme.postgresMigration, "--project", project.directory, "--warehouse",
            ImpactPostgresTests.url(staging), "--search-path", "raw", "--dbt-build", "--dbt", dbt,
            "--decisions",
            decisions, "--profiles-dir", project.directory, "--format", "json",
          ],
          environment: ImpactPostgresTests.environment(staging).merging(project.environment) { first, _ in
            first
          })
        #expect(result.status == 1, "\(result.stderr)")
        let build = try #require(
          try CLI.json(result.stdout)["dbt_build"] as? [String: Any], "\(result.stderr)")
        #expect(build["passed"] as? Bool == true, "\(build)")
        #expect(
          (build["fixed_files"] as? [String])?.contains("tests/assert_schema_contract_raw_accounts.sql")
            == true)
      }
    }
  }
}
