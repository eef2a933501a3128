import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The same incident on the real PostgreSQL server that scripts/test starts, through every way of naming it.
@Suite("acme on PostgreSQL")
struct AcmePostgresTests {
  @Test func cleanThenIncidentByURLAndByProfile() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      let password = db.password ?? ""
      // The password comes from PGPASSWORD, as users should pass it: never in the URL on a command line.
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
      let environment = ["PGPASSWORD": password]

      let clean = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url, "--format", "json"], environment: environment)
      #expect(clean.status == 0, "\(clean.stderr)")
      #expect((try CLI.json(clean.stdout)["changes"] as? [Any])?.isEmpty == true)

      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")

      let byURL = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url, "--format", "json"], environment: environment)
      #expect(byURL.status == 1, "\(byURL.stderr)")
      try Acme.expectIncident(try CLI.json(byURL.stdout))
      #expect(!byURL.stdout.contains(password))

      // The example's own profiles.yml, with its env_var() placeholders filled from the environment.
      let profileEnvironment = [
        "ACME_PG_HOST": db.host, "ACME_PG_PORT": String(db.port), "ACME_PG_USER": db.user,
        "ACME_PG_PASSWORD": password, "ACME_PG_DBNAME": db.database,
      ]
      let byProfile = try await CLI.run(
        ["check", "--project", CLI.acme, "--profiles-dir", CLI.acme, "--target", "dev", "--format", "json"],
        environment: profileEnvironment)
      #expect(byProfile.status == 1, "\(byProfile.stderr)")
      try Acme.expectIncident(try CLI.json(byProfile.stdout))

      let markdown = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url, "--format", "markdown"], environment: environment
      )
      #expect(markdown.status == 1)
      #expect(markdown.stdout.contains("```mermaid"))
      #expect(markdown.stdout.contains("| ❌ | table_renamed |"))

      let text = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url], environment: environment)
      #expect(text.status == 1)
      #expect(text.stdout.contains("blast radius: 9 models, 23 tests, 15 dashboards"))
      #expect(!text.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }
  }

  @Test func wrongPasswordIsAnInputErrorWithoutThePassword() async throws {
    let admin = try TestPostgres.adminLocator()
    let url = "postgres://\(admin.user):not-the-password-42@\(admin.host):\(admin.port)/\(admin.database)"
    let result = try await CLI.run(["check", "--project", CLI.acme, "--warehouse", url])
    #expect(result.status == 2)
    #expect(result.stderr.contains("authentication"))
    #expect(!result.stderr.contains("not-the-password-42"))
  }

  @Test func missingDatabaseIsAnInputError() async throws {
    let admin = try TestPostgres.adminLocator()
    let url = "postgres://\(admin.user)@\(admin.host):\(admin.port)/no_such_database_here"
    let result = try await CLI.run(
      ["check", "--project", CLI.acme, "--warehouse", url], environment: ["PGPASSWORD": admin.password ?? ""])
    #expect(result.status == 2)
    #expect(result.stderr.contains("no_such_database_here"))
  }
}
