import DriftwatchDbt
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// `driftwatch mcp` driven by a real MCP client: the `mcp` package from PyPI (in the venv next to
/// `DRIFTWATCH_DBT`, which scripts/test installs) spawns the built binary over stdio
/// (Fixtures/mcp/mcp_client.py), lists the tools and calls them on acme's drift.
@Suite("driftwatch mcp with the Python MCP client")
struct MCPServerTests {
  static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/mcp/mcp_client.py").path

  /// The venv's Python, with `mcp` importable; a failure (not a skip) when it is missing.
  static func python() async throws -> URL? {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (it installs the mcp client beside dbt)")
      return nil
    }
    let python = URL(fileURLWithPath: dbt).deletingLastPathComponent().appendingPathComponent("python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
      Issue.record("no python next to DRIFTWATCH_DBT (\(python.path)): run scripts/test")
      return nil
    }
    let probe = try await CLI.run(executable: python, ["-c", "import mcp"])
    guard probe.status == 0 else {
      Issue.record("the mcp package is not installed in \(python.path): run scripts/test (\(probe.stderr))")
      return nil
    }
    return python
  }

  /// One client session: spawns `driftwatch mcp` in `directory`, optionally lists the tools, makes the calls.
  static func session(
    python: URL, in scratch: Scratch, directory: String, listTools: Bool = false,
    calls: [(tool: String, arguments: [String: Any])], progress: Set<String> = []
  ) async throws -> [String: Any] {
    let request: [String: Any] = [
      "list_tools": listTools,
      "calls": calls.map {
        ["tool": $0.tool, "arguments": $0.arguments, "progress": progress.contains($0.tool)] as [String: Any]
      },
    ]
    let path = scratch.file("calls-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: request).write(to: URL(fileURLWithPath: path))
    let run = try await CLI.run(
      executable: python, [client, try CLI.executable.path, directory, path])
    #expect(run.status == 0, "mcp client failed: \(run.stderr)")
    return try CLI.json(run.stdout)
  }

  static func results(_ session: [String: Any]) throws -> [[String: Any]] {
    try #require(session["results"] as? [[String: Any]])
  }

  /// A report without its wall times, for comparing two runs.
  static func withoutTimings(_ report: [String: Any]) -> NSDictionary {
    var report = report
    report["timings_ms"] = nil
    return report as NSDictionary
  }

  static func copyAcme(into scratch: Scratch) throws -> String {
    let copy = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: copy)
    for generated in [".driftwatch", "target", "logs"] {
      try? FileManager.default.removeItem(atPath: copy + "/" + generated)
    }
    return copy
  }

  @Test func toolsAreListedWithSchemasAndHonestAnnotations() async throws {
    guard let python = try await Self.python() else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let session = try await Self.session(
      python: python, in: scratch, directory: scratch.path, listTools: true, calls: [])
    let server = try #require(session["server"] as? [String: Any])
    #expect(server["name"] as? String == "driftwatch")
    #expect(!(session["protocol_version"] as? String ?? "").isEmpty)
    let tools = try #require(session["tools"] as? [[String: Any]])
    let byName = Dictionary(
      uniqueKeysWithValues: tools.compactMap { tool in
        (tool["name"] as? String).map { ($0, tool) }
      })
    #expect(
      Set(byName.keys) == [
        "check", "lineage", "impact", "fix_draft", "answer", "fix_apply", "snapshot", "incidents",
        "postmortem",
      ])
    for (name, tool) in byName {
      let input = try #require(tool["inputSchema"] as? [String: Any], "\(name)")
      #expect(input["type"] as? String == "object", "\(name)")
      #expect(input["additionalProperties"] as? Bool == false, "\(name)")
      #expect(!((input["properties"] as? [String: Any]) ?? [:]).isEmpty, "\(name)")
      let output = try #require(tool["outputSchema"] as? [String: Any], "\(name)")
      #expect(output["type"] as? String == "object", "\(name)")
      #expect(!(tool["description"] as? String ?? "").isEmpty, "\(name)")
      let annotations = try #require(tool["annotations"] as? [String: Any], "\(name)")
      let writes = ["fix_apply", "snapshot", "answer"].contains(name)
      #expect(annotations["readOnlyHint"] as? Bool == !writes, "\(name): \(annotations)")
    }
    #expect((byName["fix_apply"]?["annotations"] as? [String: Any])?["destructiveHint"] as? Bool == true)
    #expect((byName["snapshot"]?["annotations"] as? [String: Any])?["destructiveHint"] as? Bool == false)
    let checkInput = byName["check"]?["inputSchema"] as? [String: Any]
    let properties = checkInput?["properties"] as? [String: Any] ?? [:]
    #expect(Set(["project", "warehouse", "state", "manifest", "catalog"]).isSubset(of: Set(properties.keys)))
    let lineageInput = byName["lineage"]?["inputSchema"] as? [String: Any]
    // No selector lists every node, as dbt ls does: selectors are optional.
    #expect((lineageInput?["required"] as? [String] ?? []).isEmpty)
    #expect((lineageInput?["properties"] as? [String: Any])?["selectors"] != nil)
  }

  /// acme end to end through the protocol: snapshot, the migration, check (the CLI's JSON), errors as
  /// isError, fix_draft's questions answered with answer, a refused and an approved fix_apply, and then a
  /// clean check of the written project.
  @Test func acmeDriftThroughTheProtocolMatchesTheCLI() async throws {
    guard let python = try await Self.python() else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let project = try Self.copyAcme(into: scratch)
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let warehouse = "sqlite:\(path)"
    let state = "sqlite:" + scratch.file("state.db")
    let common: [String: Any] = ["project": project, "warehouse": warehouse, "state": state]

    // A baseline before the migration.
    let before = try await Self.session(
      python: python, in: scratch, directory: scratch.path, calls: [("snapshot", common)],
      progress: ["snapshot"])
    let taken = try #require(try Self.results(before).first)
    #expect(taken["is_error"] as? Bool == false, "\(taken["text"] ?? "")")
    // Progress notifications of the call, in order, the last one complete.
    let progress = try #require(taken["progress"] as? [[String: Any]])
    #expect(!progress.isEmpty)
    let done = progress.compactMap { $0["progress"] as? Double }
    #expect(done == done.sorted())
    #expect(progress.last?["progress"] as? Double == progress.last?["total"] as? Double)
    #expect(progress.allSatisfy { !($0["message"] as? String ?? "").isEmpty })
    let snapshot = try #require((taken["structured"] as? [String: Any])?["snapshot"] as? [String: Any])
    #expect(snapshot["project"] as? String == "acme")
    #expect(snapshot["tables"] as? Int == 3)
    #expect(snapshot["sampled_keys"] as? Int == 3000)

    let database = try await SQLiteDatabase.open(at: path)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()

    let cli = try await CLI.run([
      "check", "--project", project, "--warehouse", warehouse, "--state", state, "--format", "json",
    ])
    #expect(cli.status == 1, "\(cli.stderr)")
    let cliReport = try CLI.json(cli.stdout)

    let missing = scratch.file("no-such-dir/warehouse.db")
    let checked = try await Self.session(
      python: python, in: scratch, directory: scratch.path,
      calls: [
        ("check", common),
        ("check", ["project": project, "warehouse": "sqlite:" + missing]),
        ("check", ["project": project, "warehouse": warehouse, "colour": true]),
        ("lineage", ["project": project, "selectors": ["source:acme.raw_customers+"]]),
        ("fix_draft", common),
        ("fix_apply", common),
        ("lineage", ["project": project]),
      ])
    let results = try Self.results(checked)
    try #require(results.count == 7)

    // check: the CLI's --format json, modulo wall times, as structured content and as text.
    #expect(results[0]["is_error"] as? Bool == false)
    let report = try #require(results[0]["structured"] as? [String: Any])
    #expect(Self.withoutTimings(report) == Self.withoutTimings(cliReport))
    #expect(
      Self.withoutTimings(try CLI.json(results[0]["text"] as? String ?? "")) == Self.withoutTimings(cliReport)
    )
    try AcmeEvidence.expectProven(report)

    // Failures: isError with the CLI's one line.
    let cliMissing = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:" + missing])
    #expect(cliMissing.status == 2)
    #expect(results[1]["is_error"] as? Bool == true)
    let missingText = results[1]["text"] as? String ?? ""
    #expect(!missingText.isEmpty && !missingText.contains("\n"))
    #expect("driftwatch: \(missingText)\n" == cliMissing.stderr)
    #expect(results[2]["is_error"] as? Bool == true)
    #expect((results[2]["text"] as? String ?? "").hasPrefix("check has no argument 'colour'"))

    // lineage: the CLI's JSON.
    let cliLineage = try await CLI.run([
      "lineage", "--project", project, "--format", "json", "source:acme.raw_customers+",
    ])
    #expect(results[3]["is_error"] as? Bool == false)
    #expect((results[3]["structured"] as? NSDictionary) == (try CLI.json(cliLineage.stdout) as NSDictionary))
    // No selector: every node, as the CLI (and dbt ls) lists them.
    let cliEverything = try await CLI.run(["lineage", "--project", project, "--format", "json"])
    #expect(cliEverything.status == 0, "\(cliEverything.stderr)")
    let everything = try CLI.json(cliEverything.stdout)
    #expect(
      (everything["nodes"] as? [Any])?.count ?? 0 > (try CLI.json(cliLineage.stdout)["nodes"] as? [Any])?
        .count ?? 0)
    #expect((results[6]["structured"] as? NSDictionary) == (everything as NSDictionary))

    // fix_draft: the questions only a human can answer; fix_apply refuses while they are open, and writes
    // nothing.
    #expect(results[4]["is_error"] as? Bool == false, "\(results[4]["text"] ?? "")")
    let draft = try #require(results[4]["structured"] as? [String: Any])
    let questions = try #require(draft["questions"] as? [[String: Any]])
    let open = questions.filter { $0["status"] as? String == "open" }
    #expect(open.contains { $0["kind"] as? String == "value_mapping" })
    #expect(results[5]["is_error"] as? Bool == true)
    #expect((results[5]["text"] as? String ?? "").contains("open, so nothing was written"))
    let staging = project + "/models/staging/stg_customers.sql"
    #expect(try CLI.read(staging) == CLI.read(CLI.acme + "/models/staging/stg_customers.sql"))

    // The answers, from the report's proposals, recorded through the protocol; then the approved write.
    let decisions = scratch.file("decisions.yml")
    let changes = try #require(report["changes"] as? [[String: Any]])
    var calls: [(tool: String, arguments: [String: Any])] = []
    for question in open {
      let id = try #require(question["change_id"] as? String)
      var answer: [String: Any] = ["decisions": decisions, "change_id": id]
      if question["kind"] as? String == "value_mapping" {
        let change = try #require(changes.first { $0["id"] as? String == id })
        let pairs = try #require(change["mapping"] as? [[String: Any]])
        answer["mapping"] = Dictionary(
          uniqueKeysWithValues: pairs.compactMap { pair in
            (pair["old"] as? String).flatMap { old in (pair["new"] as? String).map { (old, $0) } }
          })
      } else {
        answer["accept"] = true
      }
      calls.append(("answer", answer))
    }
    var apply = common
    apply["decisions"] = decisions
    calls.append(("fix_apply", apply))
    calls.append(("incidents", ["project": project, "state": state]))
    let applied = try await Self.session(python: python, in: scratch, directory: scratch.path, calls: calls)
    let answered = try Self.results(applied)
    try #require(answered.count == open.count + 2)
    for (index, result) in answered.prefix(open.count).enumerated() {
      #expect(result["is_error"] as? Bool == false, "\(result["text"] ?? "")")
      #expect((result["structured"] as? [String: Any])?["answers"] as? Int == index + 1)
    }
    let read = try DecisionsReader.read(path: decisions)
    #expect(Set(read.byChange.keys) == Set(open.compactMap { $0["change_id"] as? String }))
    let written = answered[open.count]
    #expect(written["is_error"] as? Bool == false, "\(written["text"] ?? "")")
    let files = try #require((written["structured"] as? [String: Any])?["files"] as? [[String: Any]])
    #expect(!files.isEmpty)
    #expect(try CLI.read(staging) != CLI.read(CLI.acme + "/models/staging/stg_customers.sql"))
    #expect((answered[open.count + 1]["structured"] as? [String: Any])?["incidents"] as? [Any] != nil)

    // The written project checks clean against the migrated warehouse.
    let after = try await CLI.run(["check", "--project", project, "--warehouse", warehouse, "--state", state])
    #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
  }

  /// Answers hold values from the warehouse: quotes, newlines, braces and Jinja survive the file.
  @Test func answerWritesHostileValuesThatReadBack() async throws {
    guard let python = try await Self.python() else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let decisions = scratch.file("decisions.yml")
    let mapping = ["pre\"mium": "go'ld\n{{ x }}", "a: b # c": "\\", "{% raw %}": "- [x]"]
    let session = try await Self.session(
      python: python, in: scratch, directory: scratch.path,
      calls: [
        ("answer", ["decisions": decisions, "change_id": "c94df8081eb", "mapping": mapping]),
        (
          "answer",
          ["decisions": decisions, "change_id": "c073c62f3ab", "template": "{street}, \"{city}\"\n"]
        ),
        ("answer", ["decisions": decisions, "change_id": "c94df8081eb", "accept": false]),
        ("answer", ["decisions": decisions, "change_id": "not-an-id", "accept": true]),
        ("answer", ["decisions": decisions, "change_id": "c27aa5b39e8"]),
        ("answer", ["decisions": decisions, "change_id": "c27aa5b39e8", "mapping": ["a": 1]]),
      ])
    let results = try Self.results(session)
    try #require(results.count == 6)
    #expect(results.prefix(3).allSatisfy { $0["is_error"] as? Bool == false })
    #expect(results.suffix(3).allSatisfy { $0["is_error"] as? Bool == true })
    #expect((results[3]["text"] as? String ?? "").contains("must be a change id"))
    let read = try DecisionsReader.read(path: decisions)
    #expect(read["c073c62f3ab"]?.template == "{street}, \"{city}\"\n")
    // The second answer for a change replaces the first.
    #expect(read["c94df8081eb"]?.accept == false)
    #expect(read["c94df8081eb"]?.mapping == nil)
    #expect(read.byChange.count == 2)

    let first = try await Self.session(
      python: python, in: scratch, directory: scratch.path,
      calls: [
        ("answer", ["decisions": scratch.file("other.yml"), "change_id": "c94df8081eb", "mapping": mapping])
      ])
    #expect(try Self.results(first).first?["is_error"] as? Bool == false)
    #expect(try DecisionsReader.read(path: scratch.file("other.yml"))["c94df8081eb"]?.mapping == mapping)
  }

  /// impact through the protocol: the CLI's JSON for the acme migration on a SQLite file (tried on a copy,
  /// the file unchanged); a password in a tool's arguments never comes back in a result.
  @Test func impactMatchesTheCLIAndPasswordsStayOut() async throws {
    guard let python = try await Self.python() else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    let state = "sqlite:" + scratch.file("state.db")
    let cli = try await CLI.run([
      "impact", Acme.sqliteMigration, "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--state",
      state,
      "--format", "json",
    ])
    #expect(cli.status == 1, "\(cli.stderr)")
    let port = try await TestNetwork.closedPort()
    let password = "sekrit-pass-4242"
    let session = try await Self.session(
      python: python, in: scratch, directory: scratch.path,
      calls: [
        (
          "impact",
          [
            "migration": Acme.sqliteMigration, "project": CLI.acme, "warehouse": "sqlite:\(path)",
            "state": state,
          ]
        ),
        (
          "check",
          ["project": CLI.acme, "warehouse": "postgres://analyst:\(password)@127.0.0.1:\(port)/acme"]
        ),
      ])
    let results = try Self.results(session)
    try #require(results.count == 2)
    #expect(results[0]["is_error"] as? Bool == false, "\(results[0]["text"] ?? "")")
    let report = try #require(results[0]["structured"] as? [String: Any])
    #expect(report["breaking"] as? Bool == true)
    #expect(Self.withoutTimings(report) == Self.withoutTimings(try CLI.json(cli.stdout)))
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "impact never changes the file")
    #expect(results[1]["is_error"] as? Bool == true)
    let message = results[1]["text"] as? String ?? ""
    #expect(message.contains("cannot connect"), "\(message)")
    #expect(!message.contains(password))
  }
}
