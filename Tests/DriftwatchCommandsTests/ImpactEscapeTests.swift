import DriftwatchCore
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What an escape migration may touch: a directory the database server (another OS user on this machine)
/// may write into, the database, who runs it, another session to kill, a slot name.
struct EscapeContext: Sendable {
  var directory: String
  var admin: PostgresLocator
  /// The role the migration runs as (admin or fit): dblink connects as it.
  var runner: PostgresLocator
  var victimPID: Int
  var slot: String

  var connectionString: String {
    "host=\(runner.host) port=\(runner.port) dbname=\(runner.database) user=\(runner.user) "
      + "password=\(runner.password ?? "")"
  }
}

/// One way a migration used to act outside impact's rolled-back transaction, and how to see that it did.
struct Escape: Sendable, CustomTestStringConvertible {
  enum Effect: Sendable { case file(String), table(String), killed, slot }
  var name: String
  var sql: @Sendable (EscapeContext) -> String
  var effect: Effect
  var needsDblink = false

  var testDescription: String { name }

  static let all: [Escape] = [
    Escape(
      name: "quoted lo_export writes a server file",
      sql: {
        "SELECT lo_from_bytea(4242, 'escaped');\nSELECT \"lo_export\"(4242, '\($0.directory)/lo_export.txt');"
      },
      effect: .file("lo_export.txt")),
    Escape(
      name: "schema-qualified quoted lo_export",
      sql: {
        "SELECT lo_from_bytea(4242, 'escaped');\n"
          + "SELECT \"pg_catalog\".\"lo_export\"(4242, '\($0.directory)/qualified.txt');"
      },
      effect: .file("qualified.txt")),
    Escape(
      name: "DO block EXECUTEs COPY … TO PROGRAM",
      sql: {
        "DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch \($0.directory)/do_program.txt'''; END $$;"
      },
      effect: .file("do_program.txt")),
    Escape(
      name: "COPY … TO PROGRAM inside a CREATE FUNCTION body, then called",
      sql: {
        """
        CREATE FUNCTION escape_by_program() RETURNS void LANGUAGE plpgsql AS $body$
        BEGIN
          COPY (SELECT 1) TO PROGRAM 'touch \($0.directory)/function_program.txt';
        END
        $body$;
        SELECT escape_by_program();
        """
      },
      effect: .file("function_program.txt")),
    Escape(
      name:
        "standard_conforming_strings off, then a string read one way by the check and another by the server",
      sql: {
        // With the setting on (as the check read it) this is one string; off, lo_export runs.
        "SELECT lo_from_bytea(4242, 'escaped');\nSET standard_conforming_strings = off;\n"
          + "SELECT 'x\\'', lo_export(4242, $$\($0.directory)/conforming.txt$$) --'\n;"
      },
      effect: .file("conforming.txt")),
    Escape(
      name: "quoted dblink_exec persists a table",
      sql: {
        "SELECT \"dblink_exec\"('\($0.connectionString)', 'CREATE TABLE public.escaped_by_dblink (x int)');"
      },
      effect: .table("escaped_by_dblink"), needsDblink: true),
    Escape(
      name: "dblink_exec inside a function persists a table",
      sql: {
        """
        CREATE FUNCTION escape_by_dblink() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM dblink_exec('\($0.connectionString)', 'CREATE TABLE public.escaped_by_dblink (x int)');
        END $$;
        SELECT escape_by_dblink();
        """
      },
      effect: .table("escaped_by_dblink"), needsDblink: true),
    Escape(
      name: "pg_terminate_backend kills another session",
      sql: { "SELECT pg_terminate_backend(\($0.victimPID));" }, effect: .killed),
    Escape(
      name: "a replication slot persists",
      sql: { "SELECT pg_create_physical_replication_slot('\($0.slot)');" }, effect: .slot),
  ]
}

/// Each escape, four ways: the CLI as a superuser (refused before anything runs, exit 2, one line), the
/// trial itself as a superuser with the lexical layer skipped (the role check refuses), the CLI as a fit role
/// (refused lexically), and the trial as a fit role with the lexical layer skipped (the server refuses inside
/// the transaction). After each: the file does not exist, the table is not there, the other session is
/// alive, there is no slot.
@Suite("impact escapes on PostgreSQL", .serialized)
struct ImpactEscapeTests {
  static func url(_ db: PostgresLocator) -> String {
    "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
  }

  static func environment(_ db: PostgresLocator) -> [String: String] { ["PGPASSWORD": db.password ?? ""] }

  /// Whether the escape's effect happened.
  static func happened(_ escape: Escape, _ context: EscapeContext) async throws -> Bool {
    switch escape.effect {
    case .file(let name):
      return FileManager.default.fileExists(atPath: context.directory + "/" + name)
    case .table(let name):
      let rows = try await TestPostgres.rows(
        "SELECT count(*)::text FROM pg_catalog.pg_tables WHERE tablename = '\(name)'", in: context.admin)
      return rows.first?.first != "0"
    case .killed:
      // A terminated backend leaves pg_stat_activity within moments; give it a second.
      let clock = ContinuousClock()
      let started = clock.now
      while clock.now - started < .seconds(1) {
        let rows = try await TestPostgres.rows(
          "SELECT count(*)::text FROM pg_catalog.pg_stat_activity WHERE pid = \(context.victimPID)",
          in: context.admin)
        if rows.first?.first == "0" { return true }
        try await Task.sleep(for: .milliseconds(100))
      }
      return false
    case .slot:
      let rows = try await TestPostgres.rows(
        "SELECT count(*)::text FROM pg_catalog.pg_replication_slots WHERE slot_name = '\(context.slot)'",
        in: context.admin)
      return rows.first?.first != "0"
    }
  }

  /// A fresh database (dblink installed when the escape needs it, its functions not granted to PUBLIC so that
  /// the fit role passes the role check), a fit role, a server-writable directory, a victim session.
  static func withEscape(
    _ escape: Escape, revokeDblink: Bool = true,
    _ body: (EscapeContext) async throws -> Void
  ) async throws {
    let setup =
      escape.needsDblink
      ? "CREATE EXTENSION dblink;"
        + (revokeDblink ? " REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;" : "") : nil
    try await TestPostgres.withFitRole(setup: setup) { admin, fit in
      let scratch = try Scratch()
      defer { scratch.remove() }
      chmod(scratch.path, 0o777)
      let slot =
        "driftwatch_escape_"
        + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12)
        .lowercased()
      let result: Result<Void, any Error>
      do {
        try await TestPostgres.withConnection(to: admin) { victim in
          let pid =
            try await victim.query("SELECT pg_backend_pid()", logger: PostgresSession.silentLogger)
            .collect().first?.decode(Int32.self) ?? 0
          let context = EscapeContext(
            directory: scratch.path, admin: admin, runner: fit, victimPID: Int(pid), slot: String(slot))
          try await body(context)
        }
        result = .success(())
      } catch {
        result = .failure(error)
      }
      // A slot would outlive the database (and hold WAL): drop it whatever happened.
      try? await TestPostgres.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '\(slot)'",
        in: admin)
      try result.get()
    }
  }

  static func write(_ sql: String, in directory: String) throws -> String {
    let file = directory + "/migration.sql"
    try sql.write(toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  @Test(arguments: Escape.all)
  func asASuperuserTheCLIRefusesBeforeRunningAnything(_ escape: Escape) async throws {
    try await Self.withEscape(escape) { context in
      var context = context
      context.runner = context.admin
      let file = try Self.write(escape.sql(context), in: context.directory)
      let result = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", Self.url(context.admin)],
        environment: Self.environment(context.admin))
      #expect(result.status == 2, "\(result.stderr)")
      #expect(result.stderr.hasPrefix("driftwatch: "), "\(result.stderr)")
      #expect(result.stderr.hasSuffix("nothing was run\n") || result.stderr.contains("nothing was run ("))
      #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
      #expect(result.stdout.isEmpty)
      #expect(!result.stderr.contains(context.admin.password ?? "no password"))
      let happened = try await Self.happened(escape, context)
      #expect(!happened, "\(escape.name) happened")
    }
  }

  @Test(arguments: Escape.all)
  func asASuperuserTheTrialRefusesTheRoleEvenWithoutTheLexicalCheck(_ escape: Escape) async throws {
    try await Self.withEscape(escape) { context in
      var context = context
      context.runner = context.admin
      let statements = SQLScript.statements(in: escape.sql(context))
      await #expect(throws: UnfitRoleError.self) {
        _ = try await PostgresMigrationTrial(locator: context.admin).run(
          statements: statements, schemas: [SchemaRef(schema: "public")])
      }
      let happened = try await Self.happened(escape, context)
      #expect(!happened, "\(escape.name) happened")
    }
  }

  @Test(arguments: Escape.all)
  func asAFitRoleTheCLIRefusesLexically(_ escape: Escape) async throws {
    try await Self.withEscape(escape) { context in
      let file = try Self.write(escape.sql(context), in: context.directory)
      let result = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", Self.url(context.runner)],
        environment: Self.environment(context.runner))
      #expect(result.status == 2, "\(result.stderr)")
      #expect(result.stderr.hasPrefix("driftwatch: \(file):"), "\(result.stderr)")
      #expect(result.stderr.contains(": refused: "), "\(result.stderr)")
      let happened = try await Self.happened(escape, context)
      #expect(!happened, "\(escape.name) happened")
    }
  }

  /// The structural guarantee: run anyway, as a fit role, the escape fails inside the transaction.
  @Test(arguments: Escape.all)
  func asAFitRoleTheEscapeFailsInsideTheTransaction(_ escape: Escape) async throws {
    try await Self.withEscape(escape) { context in
      let statements = SQLScript.statements(in: escape.sql(context))
      await #expect(throws: MigrationStatementFailure.self) {
        _ = try await PostgresMigrationTrial(locator: context.runner).run(
          statements: statements, schemas: [SchemaRef(schema: "public")])
      }
      let happened = try await Self.happened(escape, context)
      #expect(!happened, "\(escape.name) happened")
    }
  }

  /// dblink installed with its default grant to PUBLIC: every role may run SQL on another connection, so
  /// the role check refuses even a fit role.
  @Test func dblinkGrantedToPublicMakesAnyRoleUnfit() async throws {
    guard let escape = Escape.all.first(where: \.needsDblink) else { return }
    try await Self.withEscape(escape, revokeDblink: false) { context in
      let statements = SQLScript.statements(in: escape.sql(context))
      do {
        _ = try await PostgresMigrationTrial(locator: context.runner).run(
          statements: statements, schemas: [SchemaRef(schema: "public")])
        Issue.record("the trial ran as a role that may execute dblink")
      } catch let error as UnfitRoleError {
        #expect(error.problems.contains { $0.hasPrefix("it may execute dblink") }, "\(error.problems)")
        #expect(error.message.contains("no EXECUTE on dblink"))
      }
      let happened = try await Self.happened(escape, context)
      #expect(!happened)
    }
  }
}

/// The role check itself: what makes a role unfit, the recipe it prints, and what a fit role cannot do.
@Suite("impact role check on PostgreSQL", .serialized)
struct ImpactRoleCheckTests {
  static let harmless = [SQLStatement(text: "CREATE TABLE probe (x int)", line: 1)]

  /// As a superuser: one line, why, and the SQL of a fit role — which, run as given, makes one that works.
  @Test func aSuperuserGetsTheRecipeAndTheRecipeWorks() async throws {
    let recipeRole =
      "driftwatch_recipe_"
      + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10)
      .lowercased()
    let password = UUID().uuidString
    try await ImpactPostgresTests.withAcme { fit in
      var admin = try TestPostgres.adminLocator()
      admin.database = fit.database
      let scratch = try Scratch()
      defer { scratch.remove() }
      let file = scratch.file("0002_add_loyalty_points.sql")
      try "ALTER TABLE raw.raw_customers ADD COLUMN loyalty_points integer;\n".write(
        toFile: file, atomically: true, encoding: .utf8)
      let refused = try await CLI.run(
        ["impact", file, "--project", CLI.acme, "--warehouse", ImpactEscapeTests.url(admin)],
        environment: ImpactEscapeTests.environment(admin))
      #expect(refused.status == 2)
      #expect(refused.stdout.isEmpty)
      let line = refused.stderr
      #expect(line.filter { $0 == "\n" }.count == 1, "\(line)")
      #expect(
        line.hasPrefix(
          "driftwatch: refusing to run the migration as \"\(admin.user)\": \(admin.user) is a superuser, so what "
            + "the migration does outside its transaction"), "\(line)")
      #expect(line.hasSuffix("(see docs/impact.md); nothing was run\n"), "\(line)")
      let recipeStart = try #require(line.range(of: "cannot act outside it: "))
      let recipeEnd = try #require(line.range(of: " — no membership"))
      let recipe = String(line[recipeStart.upperBound..<recipeEnd.lowerBound])
      #expect(
        recipe
          == "CREATE ROLE driftwatch_impact LOGIN PASSWORD '…' NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS; "
          + "GRANT USAGE, CREATE ON SCHEMA \"raw\" TO driftwatch_impact; GRANT \"\(fit.user)\" TO driftwatch_impact;"
      )

      try await TestPostgres.execute(
        recipe.replacingOccurrences(of: "driftwatch_impact", with: recipeRole)
          .replacingOccurrences(of: "'…'", with: "'\(password)'"), in: admin)
      var made = admin
      made.user = recipeRole
      made.password = password
      let result = try await CLI.run(
        [
          "impact", file, "--project", CLI.acme, "--warehouse", ImpactEscapeTests.url(made), "--format",
          "json",
        ],
        environment: ImpactEscapeTests.environment(made))
      #expect(result.status == 0, "\(result.stderr)")
    }
    try await TestPostgres.dropRole(recipeRole)
  }

  /// Each grant that lets a role act outside the transaction makes it unfit, also through a chain of
  /// memberships without INHERIT (SET ROLE reaches them).
  @Test(arguments: [
    ("GRANT pg_execute_server_program TO {fit}", "is a member of pg_execute_server_program"),
    ("GRANT pg_write_server_files TO {fit}", "is a member of pg_write_server_files"),
    ("GRANT pg_read_server_files TO {fit}", "is a member of pg_read_server_files"),
    ("GRANT pg_signal_backend TO {fit}", "is a member of pg_signal_backend"),
    (
      "CREATE ROLE {mid} NOLOGIN NOINHERIT; GRANT pg_execute_server_program TO {mid}; "
        + "ALTER ROLE {fit} NOINHERIT; GRANT {mid} TO {fit}", "is a member of pg_execute_server_program"
    ),
    ("CREATE ROLE {mid} NOLOGIN SUPERUSER; GRANT {mid} TO {fit}", "(a superuser)"),
    ("ALTER ROLE {fit} CREATEROLE", "allowed to create roles"),
    ("ALTER ROLE {fit} REPLICATION", "is a replication role"),
    (
      "GRANT EXECUTE ON FUNCTION pg_catalog.lo_export(oid, text) TO {fit}",
      "it may execute lo_export(oid,text)"
    ),
    ("GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO {fit}", "it may execute pg_reload_conf()"),
    (
      "CREATE FUNCTION public.definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
      "it may execute definer() (security definer, owned by"
    ),
    (
      "CREATE EXTENSION postgres_fdw; CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw; "
        + "GRANT USAGE ON FOREIGN SERVER loop TO {fit}", "it may use the foreign server loop"
    ),
    (
      "GRANT SET ON PARAMETER session_replication_role TO {fit}",
      "superuser-only setting session_replication_role"
    ),
  ])
  func unfitRoles(_ grant: String, _ problem: String) async throws {
    let mid =
      "driftwatch_mid_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
    try await TestPostgres.withFitRole { admin, fit in
      try await TestPostgres.execute(
        grant.replacingOccurrences(of: "{fit}", with: PostgresSession.quoted(fit.user))
          .replacingOccurrences(of: "{mid}", with: PostgresSession.quoted(mid)), in: admin)
      do {
        _ = try await PostgresMigrationTrial(locator: fit).run(
          statements: Self.harmless, schemas: [SchemaRef(schema: "public")])
        Issue.record("ran as an unfit role: \(grant)")
      } catch let error as UnfitRoleError {
        #expect(error.problems.contains { $0.contains(problem) }, "\(error.problems)")
        #expect(error.role == fit.user)
      }
      let probe = try await TestPostgres.rows(
        "SELECT count(*)::text FROM pg_catalog.pg_tables WHERE tablename = 'probe'", in: admin)
      #expect(probe.first?.first == "0")
      // Grants on parameters and memberships outlive the database: undo them before the roles go.
      try? await TestPostgres.execute(
        "REVOKE SET ON PARAMETER session_replication_role FROM \(PostgresSession.quoted(fit.user))", in: admin
      )
    }
    try? await TestPostgres.dropRole(mid)
  }

  /// A fit role cannot make itself unfit inside the migration: each of these fails on the server.
  @Test(arguments: [
    "SET ROLE postgres",
    "SET SESSION AUTHORIZATION postgres",
    "GRANT pg_execute_server_program TO CURRENT_USER",
    "ALTER ROLE CURRENT_USER SUPERUSER",
    "CREATE ROLE driftwatch_made_inside",
    "SELECT pg_reload_conf()",
    "SELECT pg_rotate_logfile()",
    "COPY (SELECT 1) TO '/tmp/driftwatch-should-not-exist'",
    "COPY probe FROM PROGRAM 'true'",
    "SELECT lo_import('/etc/hostname')",
    "SELECT set_config('session_replication_role', 'replica', false)",
    "CREATE EXTENSION dblink",
    "CREATE EXTENSION adminpack",
    "LOAD 'auto_explain'",
  ])
  func aFitRoleCannotElevateItself(_ statement: String) async throws {
    try await TestPostgres.withFitRole { _, fit in
      await #expect(throws: MigrationStatementFailure.self) {
        _ = try await PostgresMigrationTrial(locator: fit).run(
          statements: [
            SQLStatement(text: "CREATE TABLE probe (x int)", line: 1), SQLStatement(text: statement, line: 2),
          ],
          schemas: [SchemaRef(schema: "public")])
      }
    }
    #expect(!FileManager.default.fileExists(atPath: "/tmp/driftwatch-should-not-exist"))
  }

  /// A server that reads '…' with backslash escapes (standard_conforming_strings off for the role): the
  /// migration is checked again as the server reads it, before anything runs.
  @Test func theLexicalCheckFollowsTheServersStringSetting() async throws {
    try await ImpactPostgresTests.withAcme { fit in
      let scratch = try Scratch()
      defer { scratch.remove() }
      let file = scratch.file("0003_label.sql")
      // As the standard reads it: the text lo\137export. With backslash escapes: lo_export.
      try "ALTER TABLE raw.raw_customers ADD COLUMN label text;\nSELECT 'lo\\137export';\n".write(
        toFile: file, atomically: true, encoding: .utf8)
      let arguments = ["impact", file, "--project", CLI.acme, "--warehouse", ImpactEscapeTests.url(fit)]
      let conforming = try await CLI.run(arguments, environment: ImpactEscapeTests.environment(fit))
      #expect(conforming.status == 0, "\(conforming.stderr)")

      var admin = try TestPostgres.adminLocator()
      admin.database = fit.database
      try await TestPostgres.execute(
        "ALTER ROLE \(PostgresSession.quoted(fit.user)) SET standard_conforming_strings = off", in: admin)
      let escaping = try await CLI.run(arguments, environment: ImpactEscapeTests.environment(fit))
      #expect(escaping.status == 2)
      #expect(
        escaping.stderr.hasPrefix(
          "driftwatch: \(file):2: refused: lo_export() (named inside a string or body"),
        "\(escaping.stderr)")
      #expect(escaping.stderr.hasSuffix("; nothing was run\n"))
    }
  }
}

/// SQLite: the trial runs on a copy; nothing in the migration reaches another file.
@Suite("impact on SQLite stays in its copy")
struct ImpactSQLiteContainmentTests {
  @Test(arguments: [
    ("ATTACH DATABASE '{dir}/outside.db' AS outside;\nCREATE TABLE outside.t (x);", "ATTACH"),
    ("VACUUM INTO '{dir}/outside.db';", "VACUUM"),
    ("SELECT load_extension('{dir}/outside');", "load_extension()"),
  ])
  func nothingIsWrittenOutsideTheCopy(_ sql: String, _ mentions: String) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let outside = scratch.file("outside")
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
    let text = sql.replacingOccurrences(of: "{dir}", with: outside)
    let file = scratch.file("migration.sql")
    try text.write(toFile: file, atomically: true, encoding: .utf8)

    // The lexical layer refuses it before anything runs …
    let refused = try await CLI.run(["impact", file, "--project", CLI.acme, "--warehouse", "sqlite:\(path)"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("\(file):1: refused: \(mentions)"), "\(refused.stderr)")

    // … and, run anyway on the copy, SQLite refuses it.
    await #expect(throws: MigrationStatementFailure.self) {
      _ = try await SQLiteMigrationTrial(path: path).run(
        statements: SQLScript.statements(in: text, dialect: .sqlite), schemas: [SchemaRef(schema: "main")])
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
  }
}
