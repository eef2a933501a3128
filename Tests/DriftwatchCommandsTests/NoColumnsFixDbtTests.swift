import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The project whose sources declare no columns (Fixtures/jaffle_nocolumns), on the real PostgreSQL with real
/// dbt: upstream renames the raw column stg_orders reads; `dbt build` fails, driftwatch names the rename
/// (breaking), `fix --write` maps it back, and every model holds the rows it held before.
@Suite("fix on a project whose sources declare no columns, proven with real dbt", .serialized)
struct NoColumnsFixDbtTests {
  static let models = ["stg_customers", "stg_orders", "stg_locations", "orders", "customers"]

  @Test func aRenameOfAColumnAModelReadsIsCaughtBreakingAndFixed() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(NoColumnsProject.seed), into: db, searchPath: "raw")
      let scratch = try Scratch()
      defer { scratch.remove() }
      let directory = scratch.file("jaffle_nocolumns")
      try FileManager.default.copyItem(atPath: NoColumnsProject.path, toPath: directory)
      // dbt's connection, in the copy only (the fixture itself has no profiles.yml).
      try """
      jaffle_nocolumns:
        target: dev
        outputs:
          dev:
            type: postgres
            host: "{{ env_var('NOCOLUMNS_PG_HOST') }}"
            port: "{{ env_var('NOCOLUMNS_PG_PORT') | as_number }}"
            user: "{{ env_var('NOCOLUMNS_PG_USER') }}"
            password: "{{ env_var('NOCOLUMNS_PG_PASSWORD') }}"
            dbname: "{{ env_var('NOCOLUMNS_PG_DBNAME') }}"
            schema: analytics
            threads: 1
      """.write(toFile: directory + "/profiles.yml", atomically: true, encoding: .utf8)
      let project = AcmeFixDbtTests.Project(
        directory: directory,
        environment: [
          "NOCOLUMNS_PG_HOST": db.host, "NOCOLUMNS_PG_PORT": String(db.port), "NOCOLUMNS_PG_USER": db.user,
          "NOCOLUMNS_PG_PASSWORD": db.password ?? "", "NOCOLUMNS_PG_DBNAME": db.database,
          "PGPASSWORD": db.password ?? "", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        ],
        url: "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)")
      let before = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(before.status == 0, "\(before.results)")
      try await TestPostgres.load(
        sql: (["create schema keep"]
          + Self.models.map { "create table keep.\($0) as select * from analytics.\($0)" })
          .joined(separator: ";\n") + ";", into: db)

      // Upstream renames the column; the views dbt built on raw_orders follow it, so dbt is the one that fails.
      try await TestPostgres.load(sql: try CLI.read(NoColumnsProject.rename), into: db, searchPath: "raw")
      let broken = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      #expect(broken.status != 0, "dbt build should fail on the missing column: \(broken.results)")
      let check = try await CLI.run(
        ["check", "--project", directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      #expect(check.status == 1, "\(check.stderr)")
      try NoColumnsProject.expectRename(try CLI.json(check.stdout))

      // The fix, its questions answered in a decisions file as a user would.
      let draft = try await CLI.run(
        ["fix", "--project", directory, "--warehouse", project.url, "--format", "json"],
        environment: project.environment)
      #expect(draft.status == 0, "\(draft.stderr)")
      let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
      #expect(!questions.contains { $0["kind"] as? String == "rewrite_by_hand" }, "\(questions)")
      var lines = ["version: 1", "decisions:"]
      for id in Set(questions.compactMap { $0["change_id"] as? String }).sorted() {
        lines += ["  \(id):", "    accept: true"]
      }
      let decisions = scratch.file("decisions.yml")
      try lines.joined(separator: "\n").write(toFile: decisions, atomically: true, encoding: .utf8)
      let fix = try await CLI.run(
        ["fix", "--project", directory, "--warehouse", project.url, "--decisions", decisions, "--write"],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")
      let staging = try CLI.read(directory + "/models/staging/stg_orders.sql")
      #expect(staging.contains("customer_id"), "\(staging)")

      let healed = try await AcmeFixDbtTests.dbtBuild(project, dbt: dbt)
      let notGreen = healed.results.filter { !["success", "pass"].contains($0.value) }
      #expect(healed.status == 0 && !healed.results.isEmpty && notGreen.isEmpty, "\(notGreen)")
      try await AcmeFixDbtTests.expectSameRows(Self.models, in: db)
    }
  }
}
