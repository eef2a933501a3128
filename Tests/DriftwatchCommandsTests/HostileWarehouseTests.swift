import DriftwatchCore
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchCommands

/// Hostile names made in a real warehouse (SQLite, PostgreSQL), through the real command line: `fix --write`
/// writes inside the project only, drafts no Jinja of the name's, writes what real dbt builds; `check` shows
/// no control character of the name's.
@Suite("hostile warehouse names", .serialized)
struct HostileWarehouseTests {
  /// The acme example after the backend's migration, then `sql` run on the SQLite warehouse.
  static func withAcme(
    _ sql: String, _ body: (_ scratch: Scratch, _ project: String, _ warehouse: String) async throws -> Void
  ) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let database = try await SQLiteDatabase.open(at: warehouse)
    try await database.execute(script: sql)
    try await database.close()
    let project = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: project)
    try await body(scratch, project, warehouse)
  }

  /// A decisions file answering every question of the drafted fix (as the migration means them).
  static func decisions(project: String, warehouse: String, environment: [String: String] = [:]) async throws
    -> String
  {
    let draft = try await CLI.run(
      ["fix", "--project", project, "--warehouse", warehouse, "--format", "json"], environment: environment)
    #expect(draft.status == 0, "\(draft.stderr)")
    let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
    var lines = ["version: 1", "decisions:"]
    for question in questions {
      guard let id = question["change_id"] as? String, let kind = question["kind"] as? String else {
        continue
      }
      lines.append("  \(id):")
      switch kind {
      case "value_mapping": lines.append("    mapping: {premium: gold, standard: silver, basic: bronze}")
      case "split_template": lines.append("    template: \"{street}, {city}, {state_code} {postal_code}\"")
      default: lines.append("    accept: true")
      }
    }
    let path = project + "/../decisions.yml"
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static func files(under directory: String) -> Set<String> {
    Set(FileManager.default.subpaths(atPath: directory) ?? [])
  }

  @Test func aTableRenamedToATraversalIsWrittenInsideTheProject() async throws {
    let hostile = "x/../../../outside/trav"
    try await Self.withAcme("alter table raw_accounts rename to \"\(hostile)\";") {
      scratch, project, warehouse in
      let outside = scratch.file("outside")
      try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
      let decisions = try await Self.decisions(project: project, warehouse: "sqlite:\(warehouse)")
      let before = Self.files(under: scratch.path)
      let fix = try await CLI.run([
        "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--decisions", decisions,
        "--write",
      ])
      #expect(fix.status == 0, "\(fix.stderr)")
      #expect(Self.files(under: outside).isEmpty, "nothing written outside the project")
      let added = Self.files(under: scratch.path).subtracting(before)
      #expect(added.allSatisfy { $0.hasPrefix("acme/") }, "\(added)")
      let contracts = Self.files(under: project + "/tests").filter { $0.hasPrefix("assert_schema_contract_") }
      #expect(contracts.count == 1, "\(contracts)")
      #expect(
        contracts.first?.hasPrefix("assert_schema_contract_x__________outside_trav_") == true, "\(contracts)")
      // The drafted yml and SQL read back as the warehouse's names: the project matches it again.
      let check = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
  }

  @Test func aTableNamedToInjectJinjaIsRefusedAndNothingIsWritten() async throws {
    let hostile = "t2')}}{{run_query('drop table x')}}{{source('inj','t2"
    let quoted = hostile.replacingOccurrences(of: "\"", with: "\"\"")
    try await Self.withAcme("alter table raw_accounts rename to \"\(quoted)\";") {
      scratch, project, warehouse in
      let before = try CLI.read(project + "/models/staging/stg_customers.sql")
      let draft = try await CLI.run(["fix", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(draft.status == 2, "\(draft.stdout)")
      #expect(!draft.stdout.contains("run_query"))
      let lines = draft.stderr.split(separator: "\n")
      #expect(lines.count == 1 && draft.stderr.contains("jinja delimiter"), "\(draft.stderr)")
      let write = try await CLI.run([
        "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--write",
      ])
      #expect(write.status == 2)
      #expect(try CLI.read(project + "/models/staging/stg_customers.sql") == before)
      #expect(!Self.files(under: project + "/tests").contains { $0.hasPrefix("assert_schema_contract_") })
    }
  }

  @Test func controlCharactersInAColumnNameAreShownNotSent() async throws {
    let column = "x\u{1B}]0;pwned\u{07}\u{1B}[2J\nnext"
    try await Self.withAcme("alter table raw_accounts add column \"\(column)\" text;") {
      _, project, warehouse in
      for format in ["text", "markdown"] {
        let check = try await CLI.run([
          "check", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--format", format,
        ])
        #expect(check.status == 1, "\(check.stderr)")
        let raw = check.stdout.unicodeScalars.filter { TextEscape.isInvisibleControl($0) && $0 != "\n" }
        #expect(raw.isEmpty, "\(format): \(raw.map { String($0.value, radix: 16) })")
        #expect(check.stdout.contains("x\\x1b]0;pwned\\x07\\x1b[2J\\nnext"), "\(check.stdout)")
      }
      let fix = try await CLI.run(["fix", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(fix.status == 0, "\(fix.stderr)")
      #expect(!fix.stdout.unicodeScalars.contains { TextEscape.isInvisibleControl($0) && $0 != "\n" })
    }
  }

  @Test func writingThroughASymbolicLinkOutOfTheProjectIsRefused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("project")
    let outside = scratch.file("outside")
    for directory in [root + "/models", outside] {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    try FileManager.default.createSymbolicLink(atPath: root + "/tests", withDestinationPath: outside)
    try "secret\n".write(toFile: outside + "/target.sql", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/linked.sql", withDestinationPath: outside + "/target.sql")
    try FileManager.default.createDirectory(atPath: root + "/inner", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: root + "/alias", withDestinationPath: root + "/inner")
    let transaction = FileTransaction(root: root)
    let refused: [DraftedFile] = [
      DraftedFile(path: "tests/assert_x.sql", original: nil, content: "x\n", reason: ""),
      DraftedFile(path: "models/linked.sql", original: "secret\n", content: "x\n", reason: ""),
      DraftedFile(path: "models/../../outside/y.sql", original: nil, content: "x\n", reason: ""),
      DraftedFile(path: "/tmp/driftwatch-absolute.sql", original: nil, content: "x\n", reason: ""),
    ]
    for file in refused {
      #expect(throws: FileTransaction.Conflict.self, "\(file.path)") {
        try transaction.commit(
          [DraftedFile(path: "models/ok.sql", original: nil, content: "ok\n", reason: "")] + [file])
      }
    }
    #expect(Self.files(under: outside) == ["target.sql"], "nothing written outside")
    #expect(try CLI.read(outside + "/target.sql") == "secret\n")
    #expect(!FileManager.default.fileExists(atPath: root + "/models/ok.sql"), "all or nothing")
    // A link that stays inside the project is followed.
    try transaction.commit([DraftedFile(path: "alias/z.sql", original: nil, content: "z\n", reason: "")])
    #expect(try CLI.read(root + "/inner/z.sql") == "z\n")
  }

  // MARK: PostgreSQL and real dbt

  @Test func realDbtBuildsTheFixForQuotesBackslashesNewlinesAndControls() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    try await AcmeFixDbtTests.withAcme { project, db in
      // dbt writes a source table's name into its own generic tests' Jinja unescaped (a quote there is a
      // compilation error of dbt's, `{{ get_where_subquery(source('acme', 'acc'ts…')) }}`), so this source
      // has none, and the tiers keep their values: what is proven is the names, through driftwatch's drafted
      // model, contract test, retargeted relationship and yml.
      let yml = project.directory + "/models/staging/src_acme.yml"
      let parts = try CLI.read(yml).components(separatedBy: "      - name: raw_orders")
      var customers = parts[0]
      for tests in [
        "            data_tests:\n              - not_null\n              - unique\n",
        "            data_tests:\n              - not_null\n",
        "            data_tests:\n              - accepted_values:\n                  arguments:\n                    values: [\"premium\", \"standard\", \"basic\"]\n",
      ] {
        customers = customers.replacingOccurrences(of: tests, with: "")
      }
      #expect(!customers.contains("data_tests"))
      try ([customers] + parts.dropFirst()).joined(separator: "      - name: raw_orders").write(
        toFile: yml, atomically: true, encoding: .utf8)
      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")
      // dbt itself refuses spaces in the generic tests' names it makes from the table's name.
      let table = "acc'ts\\é{x}"
      let column = "new\nline\u{1B}]0;t\u{07}"
      try await TestPostgres.load(
        sql: """
          alter table raw.raw_accounts rename column account_tier to customer_segment;
          update raw.raw_accounts set customer_segment = case customer_segment
            when 'gold' then 'premium' when 'silver' then 'standard' when 'bronze' then 'basic'
            else customer_segment end;
          alter table raw.raw_accounts rename to "\(table)";
          alter table raw."\(table)" add column "\(column)" text;
          """, into: db)
      let decisions = try await Self.decisions(
        project: project.directory, warehouse: project.url, environment: project.environment)
      let fix = try await CLI.run(
        [
          "fix", "--project", project.directory, "--warehouse", project.url, "--decisions", decisions,
          "--write",
        ],
        environment: project.environment)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")
      #expect(!fix.stdout.unicodeScalars.contains { TextEscape.isInvisibleControl($0) && $0 != "\n" })
      let staging = try CLI.read(project.directory + "/models/staging/stg_customers.sql")
      // The source keeps its name; the hostile table name is its identifier, escaped for YAML.
      #expect(staging.contains("{{ source('acme', 'raw_customers') }}"), "\(staging)")
      #expect(try CLI.read(yml).contains("identifier: \(YAMLEscape.scalar(table))\n"))
      // Real dbt parses the Jinja, runs the SQL with the quoted names and the contract test passes.
      let run = try await CLI.run(
        executable: URL(fileURLWithPath: dbt),
        [
          "build", "--project-dir", project.directory, "--profiles-dir", project.directory, "--no-use-colors",
        ],
        environment: project.environment, directory: project.directory)
      let results = project.directory + "/target/run_results.json"
      guard FileManager.default.fileExists(atPath: results) else {
        Issue.record("dbt build did not run: \(run.stdout.suffix(3000))")
        return
      }
      let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: results)))
      var statuses: [String: String] = [:]
      for entry in (json as? [String: Any])?["results"] as? [[String: Any]] ?? [] {
        if let id = entry["unique_id"] as? String, let status = entry["status"] as? String {
          statuses[id] = status
        }
      }
      let notGreen = statuses.filter { !["success", "pass", "no-op"].contains($0.value) }
      #expect(run.status == 0 && notGreen.isEmpty, "\(notGreen)\n\(staging)\n\(run.stdout.suffix(2000))")
      #expect(
        statuses[statuses.keys.first { $0.hasPrefix("test.acme.assert_schema_contract_acc_ts") } ?? ""]
          == "pass")
      // And driftwatch reads the drafted yml back as the warehouse's names.
      let check = try await CLI.run(
        ["check", "--project", project.directory, "--warehouse", project.url],
        environment: project.environment)
      #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
  }
}

/// `impact --dbt-build` writes the drafted fix into a temporary copy of the project: a migration alone (a
/// table renamed to a path) must not make it write anywhere else.
@Suite("impact --dbt-build with a hostile table name", .serialized)
struct HostileImpactDbtBuildTests {
  @Test func aMigrationRenamingATableToAPathWritesNothingOutsideTheCopy() async throws {
    guard let dbt = AcmeFixDbtTests.dbt else { return }
    let token = UUID().uuidString.prefix(8).lowercased()
    // From <tmp>/driftwatch-parity-…/project/tests/<file>: five levels up is `/`, then /tmp/trav-….sql.
    let hostile = "x/../../../../../tmp/trav-\(token)"
    let target = "/tmp/trav-\(token).sql"
    let scratch = try Scratch()
    defer {
      scratch.remove()
      for name in (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
      where name.hasPrefix("trav-\(token)") {
        try? FileManager.default.removeItem(atPath: "/tmp/" + name)
      }
    }
    let migration = scratch.file("0002_rename.sql")
    try "ALTER TABLE raw_customers RENAME TO \"\(hostile)\";\n".write(
      toFile: migration, atomically: true, encoding: .utf8)
    try await ImpactPostgresTests.withAcme { staging in
      let result = try await CLI.run(
        [
          "impact", migration, "--project", CLI.acme, "--warehouse", ImpactPostgresTests.url(staging),
          "--search-path", "raw", "--dbt-build", "--dbt", dbt, "--profiles-dir", CLI.acme, "--format", "json",
        ],
        environment: ImpactPostgresTests.environment(staging))
      #expect(!FileManager.default.fileExists(atPath: target), "the drafted contract test left the copy")
      #expect(result.status == 1, "\(result.stderr)")
      let report = try CLI.json(result.stdout)
      let build = report["dbt_build"] as? [String: Any]
      let fixed = build?["fixed_files"] as? [String] ?? []
      #expect(fixed.contains { $0.hasPrefix("tests/assert_schema_contract_x_") }, "\(fixed)")
      #expect(fixed.allSatisfy { ProjectRelativePath.isContained($0) }, "\(fixed)")
    }
  }
}
