import DriftwatchCore
import DriftwatchDbt
import DriftwatchPostgres
import DriftwatchReports
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a staging database looks like, for "nothing changed" checks: every relation, column, type,
/// constraint and index outside the system schemas, and the row count of every table in `raw`.
enum StagingSnapshot {
  static func take(_ db: PostgresLocator) async throws -> [String] {
    let columns = try await TestPostgres.rows(
      """
      SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(a.attname, '') || ' '
        || coalesce(pg_catalog.format_type(a.atttypid, a.atttypmod), '') || ' ' || coalesce(a.attnotnull::text, '')
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1
      """, in: db)
    let constraints = try await TestPostgres.rows(
      """
      SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_catalog.pg_get_constraintdef(oid)
      FROM pg_catalog.pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace) ORDER BY 1
      """, in: db)
    let counts = try await TestPostgres.rows(
      """
      SELECT string_agg(table_name || '=' || (xpath('/row/c/text()',
        query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text,
        ', ' ORDER BY table_name)
      FROM information_schema.tables WHERE table_schema = 'raw' AND table_type = 'BASE TABLE'
      """, in: db)
    return (columns + constraints + counts).map { $0.compactMap { $0 }.joined() }
  }
}

/// `driftwatch impact` on the real PostgreSQL server scripts/test starts.
@Suite("impact on PostgreSQL")
struct ImpactPostgresTests {
  static func url(_ db: PostgresLocator) -> String {
    "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
  }
  static func environment(_ db: PostgresLocator) -> [String: String] { ["PGPASSWORD": db.password ?? ""] }

  /// Staging with acme's seed, owned by (and reached as) a role fit for impact: impact refuses a superuser.
  static func withAcme<T: Sendable>(_ body: (PostgresLocator) async throws -> T) async throws -> T {
    try await TestPostgres.withFitRole { _, db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      return try await body(db)
    }
  }

  @Test func theSeedMigrationBreaksTheIncidentAndChangesNothing() async throws {
    try await Self.withAcme { db in
      let before = try await StagingSnapshot.take(db)
      let arguments = [
        "impact", Acme.postgresMigration, "--project", CLI.acme, "--warehouse", Self.url(db), "--search-path",
        "raw",
      ]
      let json = try await CLI.run(arguments + ["--format", "json"], environment: Self.environment(db))
      #expect(json.status == 1, "\(json.stderr)")
      let report = try CLI.json(json.stdout)
      try Acme.expectIncident(report)
      #expect(report["kind"] as? String == "impact")
      // The remap is proven on the migrated rows, read inside the transaction before it was rolled back.
      let remap = (report["changes"] as? [[String: Any]] ?? []).first {
        $0["kind"] as? String == "values_remapped"
      }
      #expect(remap?["from"] as? String == "customer_segment")
      #expect(remap?["to"] as? String == "account_tier")
      #expect(Set(remap?["values"] as? [String] ?? []) == ["gold", "silver", "bronze"], "\(remap ?? [:])")
      let migration = try #require(report["migration"] as? [String: Any])
      #expect(migration["statements"] as? Int == 3)
      #expect(migration["rolled_back"] as? Bool == true)
      let summary = try #require(report["summary"] as? [String: Any])
      #expect(summary["dashboards"] as? Int == 15)
      #expect(summary["preexisting_changes"] as? Int == 0)
      // Each change points at the statement that caused it: the DROP for the table, the CREATE for columns.
      let migrationLines = try CLI.read(Acme.postgresMigration).split(
        separator: "\n", omittingEmptySubsequences: false)
      let createLine = (migrationLines.firstIndex { $0.hasPrefix("CREATE TABLE raw_accounts") } ?? -1) + 1
      let dropLine = (migrationLines.firstIndex { $0.hasPrefix("DROP TABLE raw_customers") } ?? -1) + 1
      for change in report["changes"] as? [[String: Any]] ?? [] {
        let expected = change["kind"] as? String == "table_renamed" ? dropLine : createLine
        #expect(
          change["migration_line"] as? Int == expected, "\(change["kind"] ?? "") \(change["from"] ?? "")")
      }
      #expect(!json.stdout.contains(db.password ?? "no password"))

      let text = try await CLI.run(arguments, environment: Self.environment(db))
      #expect(text.status == 1)
      #expect(text.stdout.contains("✗ this migration breaks 9 dbt models, 23 tests, 15 dashboards of acme"))
      #expect(text.stdout.contains("run in a transaction, rolled back"))
      #expect(text.stdout.contains("↳ line \(dropLine)"))

      let github = try await CLI.run(arguments + ["--format", "github"], environment: Self.environment(db))
      #expect(github.status == 1)
      let annotations = github.stdout.split(separator: "\n").filter { $0.hasPrefix("::error ") }
      #expect(annotations.count == 6)
      #expect(
        annotations.first?.hasPrefix(
          "::error file=\(Acme.postgresMigration),line=\(dropLine),title=driftwatch%3A table_renamed::")
          == true)

      let markdown = try await CLI.run(
        arguments + ["--format", "markdown"], environment: Self.environment(db))
      #expect(markdown.status == 1)
      #expect(markdown.stdout.contains("breaks 9 dbt models, 23 tests, 15 dashboards"))
      #expect(markdown.stdout.contains("```mermaid"))
      #expect(markdown.stdout.contains("<details>"))

      #expect(try await StagingSnapshot.take(db) == before, "the staging database changed")
    }
  }

  /// With a baseline snapshot, the keyed samples are joined to the migrated rows inside the transaction: the
  /// remap and the split are proven from the data before the rollback.
  @Test func aSnapshotProvesTheRemapFromTheMigratedRows() async throws {
    try await Self.withAcme { db in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let state = "sqlite:" + scratch.file("state.db")
      let snapshot = try await CLI.run(
        ["snapshot", "--project", CLI.acme, "--warehouse", Self.url(db), "--state", state],
        environment: Self.environment(db))
      #expect(snapshot.status == 0, "\(snapshot.stderr)")
      let before = try await StagingSnapshot.take(db)
      let result = try await CLI.run(
        [
          "impact", Acme.postgresMigration, "--project", CLI.acme, "--warehouse", Self.url(db),
          "--search-path",
          "raw", "--state", state, "--format", "json",
        ], environment: Self.environment(db))
      #expect(result.status == 1, "\(result.stderr)")
      let changes = try CLI.json(result.stdout)["changes"] as? [[String: Any]] ?? []
      let remap = changes.first { $0["kind"] as? String == "values_remapped" }
      let mapping = Dictionary(
        uniqueKeysWithValues: (remap?["mapping"] as? [[String: Any]] ?? []).compactMap { pair in
          (pair["old"] as? String).map { ($0, pair["new"] as? String ?? "") }
        })
      #expect(mapping == ["premium": "gold", "standard": "silver", "basic": "bronze"], "\(remap ?? [:])")
      let split = changes.first { $0["kind"] as? String == "column_split" }
      #expect(split?["template"] != nil, "\(split ?? [:])")
      #expect(try await StagingSnapshot.take(db) == before)
    }
  }

  @Test func aHarmlessMigrationExitsZero() async throws {
    try await Self.withAcme { db in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let file = scratch.file("0002_add_loyalty_points.sql")
      try "-- a column nobody reads yet\nALTER TABLE raw.raw_customers ADD COLUMN loyalty_points integer;\n"
        .write(toFile: file, atomically: true, encoding: .utf8)
      let before = try await StagingSnapshot.take(db)
      let result = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", Self.url(db), "--format", "json"],
        environment: Self.environment(db))
      #expect(result.status == 0, "\(result.stderr)")
      let report = try CLI.json(result.stdout)
      #expect(report["breaking"] as? Bool == false)
      let changes = report["changes"] as? [[String: Any]] ?? []
      #expect(changes.map { $0["kind"] as? String } == ["column_added"])
      #expect(changes.first?["migration_line"] as? Int == 2)
      let text = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", Self.url(db)],
        environment: Self.environment(db))
      #expect(text.status == 0)
      #expect(text.stdout.contains("✓ safe for acme"))
      #expect(try await StagingSnapshot.take(db) == before)
    }
  }

  @Test func aFailingStatementNamesItsLineAndRollsBack() async throws {
    try await Self.withAcme { db in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let file = scratch.file("0003_typo.sql")
      try "CREATE TABLE raw.probe (id int);\n\nALTER TABLE raw.no_such_table ADD COLUMN x int;\n"
        .write(toFile: file, atomically: true, encoding: .utf8)
      let before = try await StagingSnapshot.take(db)
      let result = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", Self.url(db)],
        environment: Self.environment(db))
      #expect(result.status == 2)
      #expect(
        result.stderr.contains(
          "\(file):3: the migration failed: relation \"raw.no_such_table\" does not exist"))
      #expect(result.stderr.contains("rolled back, nothing was changed"))
      #expect(result.stdout.isEmpty)
      #expect(try await StagingSnapshot.take(db) == before)
    }
  }

  @Test func timeoutsAreSetAndExplained() async throws {
    try await Self.withAcme { db in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let slow = scratch.file("slow.sql")
      // A migration that lifts the timeout itself (as pg_dump output does) does not escape it.
      try "SET statement_timeout = 0;\nALTER TABLE raw.raw_customers ADD COLUMN x int;\nSELECT pg_sleep(5);\n"
        .write(
          toFile: slow, atomically: true, encoding: .utf8)
      let timedOut = try await CLI.run(
        ["impact", slow, "--project", CLI.acme, "--warehouse", Self.url(db), "--statement-timeout", "300ms"],
        environment: Self.environment(db))
      #expect(timedOut.status == 2)
      #expect(timedOut.stderr.contains("\(slow):3:"))
      #expect(timedOut.stderr.contains("--statement-timeout 300ms"))

      // Another session holds a lock on raw_customers: the migration gives up after --lock-timeout.
      let locked = scratch.file("locked.sql")
      try "ALTER TABLE raw.raw_customers ADD COLUMN y int;\n".write(
        toFile: locked, atomically: true, encoding: .utf8)
      try await TestPostgres.withConnection(to: db) { connection in
        try await connection.query("BEGIN", logger: PostgresSession.silentLogger)
        try await connection.query(
          "LOCK TABLE raw.raw_customers IN ACCESS SHARE MODE", logger: PostgresSession.silentLogger)
        let waited = try await CLI.run(
          ["impact", locked, "--project", CLI.acme, "--warehouse", Self.url(db), "--lock-timeout", "200ms"],
          environment: Self.environment(db))
        #expect(waited.status == 2)
        #expect(waited.stderr.contains("\(locked):1:"))
        #expect(waited.stderr.contains("--lock-timeout 200ms"))
        try await connection.query("ROLLBACK", logger: PostgresSession.silentLogger)
      }
    }
  }

  /// Refusals happen before connecting: the warehouse here does not even exist.
  @Test func refusedBeforeAnythingRuns() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = scratch.file("0004_index.sql")
    try
      "-- speed up lookups\nALTER TABLE raw_accounts ADD COLUMN tier text;\n\nCREATE INDEX CONCURRENTLY accounts_tier ON raw_accounts (tier);\n"
      .write(toFile: file, atomically: true, encoding: .utf8)
    let port = try await TestNetwork.closedPort()
    let result = try await CLI.run([
      "impact", file, "--project", CLI.acme, "--warehouse", "postgres://ci@127.0.0.1:\(port)/staging",
    ])
    #expect(result.status == 2)
    #expect(
      result.stderr
        == "driftwatch: \(file):4: refused: CREATE INDEX CONCURRENTLY cannot run inside a transaction; to check "
        + "this migration, write the statement without CONCURRENTLY (the resulting schema is the same); nothing was run\n"
    )
  }

  /// SIGKILL mid-migration: the server rolls back, nothing of the migration persists.
  @Test func killedMidMigrationLeavesNothingBehind() async throws {
    try await Self.withAcme { db in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let file = scratch.file("0005_slow.sql")
      try """
      CREATE TABLE raw_accounts (account_id integer primary key);
      ALTER TABLE raw_customers RENAME TO raw_customers_old;
      SELECT pg_sleep(600);
      """.write(toFile: file, atomically: true, encoding: .utf8)
      let before = try await StagingSnapshot.take(db)

      let process = Process()
      process.executableURL = try CLI.executable
      process.arguments = [
        "impact", file, "--project", CLI.acme, "--warehouse", Self.url(db), "--search-path", "raw",
        "--statement-timeout", "15min",
      ]
      var environment = ProcessInfo.processInfo.environment
      environment["PGPASSWORD"] = db.password ?? ""
      process.environment = environment
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()

      let activity = """
        SELECT count(*)::text FROM pg_catalog.pg_stat_activity
        WHERE application_name = 'driftwatch impact' AND datname = '\(db.database)'
        """
      // Wait until the migration is inside pg_sleep: the DDL before it has run, uncommitted. The sleep is
      // long (10 minutes) and the wait is by the clock, so a loaded machine cannot make the test miss it.
      let clock = ContinuousClock()
      let started = clock.now
      var sleeping = false
      while !sleeping, clock.now - started < .seconds(240) {
        let rows = try await TestPostgres.rows(
          activity + " AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", in: db)
        sleeping = rows.first?.first == "1"
        if !sleeping { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(sleeping, "driftwatch impact never reached pg_sleep")
      let seen = try await TestPostgres.rows(
        "SELECT count(*)::text FROM pg_catalog.pg_tables WHERE schemaname = 'raw' AND tablename = 'raw_accounts'",
        in: db)
      #expect(seen.first?.first == "0", "another session must not see the uncommitted migration")

      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal)
      #expect(process.terminationStatus == SIGKILL)

      // The server notices the dead client (client_connection_check_interval, 1 s) and rolls back, long
      // before the 10-minute statement would have ended on its own.
      let killedAt = clock.now
      var gone = false
      while !gone, clock.now - killedAt < .seconds(240) {
        gone = try await TestPostgres.rows(activity, in: db).first?.first == "0"
        if !gone { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(gone, "the killed session's backend is still running")
      #expect(clock.now - killedAt < .seconds(120), "the server took \(clock.now - killedAt) to roll back")
      #expect(try await StagingSnapshot.take(db) == before, "something of the killed migration persisted")
    }
  }
}

/// `driftwatch impact` on SQLite: a temporary copy, the original's bytes untouched.
@Suite("impact on SQLite")
struct ImpactSQLiteTests {
  @Test func theSeedMigrationOnACopy() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let result = try await CLI.run([
      "impact", Acme.sqliteMigration, "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--format",
      "json",
    ])
    #expect(result.status == 1, "\(result.stderr)")
    try Acme.expectIncident(try CLI.json(result.stdout))
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original, "the database file changed")
    let entries = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
    #expect(entries == ["warehouse.db"], "\(entries)")
  }

  @Test func harmlessAndFailingMigrations() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let harmless = scratch.file("harmless.sql")
    // SQLite's rebuild recipe: pragmas around the file's own transaction.
    try
      "PRAGMA foreign_keys=off;\nBEGIN TRANSACTION;\nALTER TABLE raw_customers ADD COLUMN loyalty_points integer;\nCOMMIT;\nPRAGMA foreign_keys=on;\n"
      .write(
        toFile: harmless, atomically: true, encoding: .utf8)
    let safe = try await CLI.run(["impact", harmless, "--project", CLI.acme, "--warehouse", "sqlite:\(path)"])
    #expect(safe.status == 0, "\(safe.stderr)")
    #expect(safe.stdout.contains("run on a temporary copy, deleted"))

    let failing = scratch.file("failing.sql")
    try "CREATE TABLE t (x);\nINSERT INTO nowhere VALUES (1);\n".write(
      toFile: failing, atomically: true, encoding: .utf8)
    let failed = try await CLI.run([
      "impact", failing, "--project", CLI.acme, "--warehouse", "sqlite:\(path)",
    ])
    #expect(failed.status == 2)
    #expect(failed.stderr.contains("\(failing):2: the migration failed: no such table: nowhere"))
    #expect(failed.stderr.contains("the database file is unchanged"))

    let attach = scratch.file("attach.sql")
    try "ATTACH DATABASE '\(path)' AS prod;\nDROP TABLE prod.raw_customers;\n".write(
      toFile: attach, atomically: true, encoding: .utf8)
    let refused = try await CLI.run([
      "impact", attach, "--project", CLI.acme, "--warehouse", "sqlite:\(path)",
    ])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("\(attach):1: refused: ATTACH"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
  }

  @Test func githubAnnotationsAreRelativeToTheWorkspace() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let result = try await CLI.run(
      [
        "impact", Acme.sqliteMigration, "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--format",
        "github",
      ], environment: ["GITHUB_WORKSPACE": CLI.repository.path])
    #expect(result.status == 1, "\(result.stderr)")
    let migrationLines = try CLI.read(Acme.sqliteMigration).split(
      separator: "\n", omittingEmptySubsequences: false)
    let dropLine = (migrationLines.firstIndex { $0.hasPrefix("DROP TABLE raw_customers") } ?? -1) + 1
    #expect(
      result.stdout.hasPrefix(
        "::error file=examples/acme/migrations/0001_users_to_accounts.sqlite.sql,line=\(dropLine),title=driftwatch%3A table_renamed::"
      ), "\(result.stdout.prefix(300))")
  }

  @Test func badInput() async throws {
    let missing = try await CLI.run([
      "impact", "/no/such/migration.sql", "--project", CLI.acme, "--warehouse", "sqlite:x.db",
    ])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("migration '/no/such/migration.sql' does not exist"))
    let badTimeout = try await CLI.run([
      "impact", Acme.sqliteMigration, "--project", CLI.acme, "--warehouse", "sqlite:x.db",
      "--statement-timeout",
      "soon",
    ])
    #expect(badTimeout.status == 2)
    #expect(badTimeout.stderr.contains("--statement-timeout 'soon' is not a duration"))
    let noWarehouse = try await CLI.run(["impact", Acme.sqliteMigration, "--project", CLI.acme])
    #expect(noWarehouse.status == 2)
    #expect(noWarehouse.stderr.contains("--warehouse"))
  }
}

/// The impact report of the seed's migration on acme, pinned in every format. Built in-process on the real
/// PostgreSQL server with a fixed display URL; no timings, so the files are stable.
@Suite("impact golden files")
struct ImpactGoldenTests {
  @Test func acmeImpactReports() async throws {
    try await ImpactPostgresTests.withAcme { db in
      let project = try DbtProjectReader.read(projectDirectory: CLI.acme)
      let statements = SQLScript.statements(in: try CLI.read(Acme.postgresMigration), dialect: .postgres)
      let trial = try await PostgresMigrationTrial(locator: db, searchPath: "raw").run(
        statements: statements, schemas: project.sourceSchemas,
        inspect: { live, warehouse in
          try await ImpactAnalysis.changes(project: project, live: live, warehouse: warehouse, snapshot: nil)
        })
      let migration = "examples/acme/migrations/0001_users_to_accounts.postgres.sql"
      let report = ImpactAnalysis.report(
        project: project, migration: migration, statements: statements, dialect: .postgres, trial: trial,
        warehouse: "postgres://ci@staging:5432/acme")
      let renderer = ImpactReportRenderer(color: false, toolVersion: "test")
      try golden.check(renderer.render(report, as: .text), named: "acme-impact.txt")
      try golden.check(renderer.render(report, as: .json), named: "acme-impact.json")
      try golden.check(renderer.render(report, as: .markdown), named: "acme-impact.md")
      try golden.check(renderer.render(report, as: .github), named: "acme-impact.github")
    }
  }
}

/// `impact --dbt-build`: staging parity with the real dbt on the real PostgreSQL.
@Suite("impact --dbt-build with real dbt", .serialized)
struct ImpactDbtBuildTests {
  @Test func theDraftedFixPassesDbtBuildOnAMigratedCopy() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    // The data team's answers, from `driftwatch fix` on a database the migration was applied to.
    try await AcmeFixDbtTests.withAcme { project, migrated in
      try await TestPostgres.load(
        sql: try CLI.read(Acme.postgresMigration), into: migrated, searchPath: "raw")
      let decisions = try await AcmeFixDbtTests.decisions(for: project, rejectMapping: false)

      try await ImpactPostgresTests.withAcme { staging in
        let before = try await StagingSnapshot.take(staging)
        let result = try await CLI.run(
          [
            "impact", Acme.postgresMigration, "--project", CLI.acme, "--warehouse",
            ImpactPostgresTests.url(staging),
            "--search-path", "raw", "--dbt-build", "--dbt", dbt, "--decisions", decisions, "--profiles-dir",
            CLI.acme,
            "--format", "json",
          ],
          environment: ImpactPostgresTests.environment(staging).merging(project.environment) { first, _ in
            first
          })
        #expect(result.status == 1, "\(result.stderr)")
        let report = try CLI.json(result.stdout)
        try Acme.expectIncident(report)
        let build = try #require(report["dbt_build"] as? [String: Any], "\(result.stdout.prefix(300))")
        let nodes = Dictionary(
          uniqueKeysWithValues: (build["nodes"] as? [[String: Any]] ?? []).compactMap { node in
            (node["unique_id"] as? String).map { ($0, node["status"] as? String ?? "") }
          })
        #expect(
          build["passed"] as? Bool == true,
          "\(nodes.filter { !["success", "pass", "no-op"].contains($0.value) })")
        #expect(build["dbt_exit_code"] as? Int == 0)
        #expect((build["fixed_files"] as? [String])?.count == 3)
        #expect((build["open_questions"] as? [String])?.isEmpty == true)
        for model in Acme.radiusModels {
          #expect(nodes[model] == "success", "\(model): \(nodes[model] ?? "not run")")
        }
        #expect(nodes["test.acme.assert_schema_contract_raw_accounts"] == "pass")
        #expect(nodes.values.filter { $0 == "pass" }.count >= 23)

        // Staging is as it was; the copy is gone.
        #expect(try await StagingSnapshot.take(staging) == before)
        let copies = try await TestPostgres.rows(
          "SELECT count(*)::text FROM pg_catalog.pg_database WHERE datname LIKE 'driftwatch_parity_%'",
          in: staging)
        #expect(copies.first?.first == "0")
      }
    }
  }

  @Test func dbtBuildNeedsPostgres() async throws {
    let result = try await CLI.run([
      "impact", Acme.sqliteMigration, "--project", CLI.acme, "--warehouse", "sqlite:x.db", "--dbt-build",
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--dbt-build needs a postgresql staging database"))
  }
}
