import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The dbt bridge on a real engine: acme loaded into a DuckDB file with the `duckdb` Python package, read
/// through the user's dbt (dbt-duckdb) and profile — check, snapshot, the backend's migration, check with data
/// evidence, fix --write, and a real `dbt build` of the fixed project.
@Suite("dbt bridge on DuckDB", .serialized)
struct DbtBridgeDuckDBTests {
  struct Project {
    var directory: String
    var dbt: String
    var python: String
    var state: String
    var environment: [String: String]

    var database: String { directory + "/acme.duckdb" }
  }

  /// dbt and its Python (the `python` beside it, which has the `duckdb` package). Without them the test fails
  /// when CI is set, and is skipped with a recorded issue otherwise.
  static var tools: (dbt: String, python: String)? {
    let environment = ProcessInfo.processInfo.environment
    guard let dbt = environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-duckdb and sets it)")
      return nil
    }
    let python = (dbt as NSString).deletingLastPathComponent + "/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
      Issue.record("no python beside \(dbt): the duckdb package is needed to load the warehouse")
      return nil
    }
    return (dbt, python)
  }

  static let profiles = """
    acme:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: acme.duckdb
          schema: analytics
          threads: 1

    """

  /// A copy of examples/acme whose profile is a DuckDB file holding the seed.
  static func withAcme(_ body: (Project) async throws -> Void) async throws {
    guard let (dbt, python) = tools else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let directory = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: directory)
    for generated in ["target", "logs", "dbt_packages"] {
      try? FileManager.default.removeItem(atPath: directory + "/" + generated)
    }
    try profiles.write(toFile: directory + "/profiles.yml", atomically: true, encoding: .utf8)
    let project = Project(
      directory: directory, dbt: dbt, python: python, state: "sqlite:" + scratch.file("state.db"),
      environment: ["DRIFTWATCH_DBT": dbt, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"])
    try await run(sql: Acme.seed, in: project)
    try await body(project)
  }

  /// Runs a SQL file on the DuckDB file with the `duckdb` package, `raw` as the current schema (retrying
  /// while another process — dbt, polled by watch — holds the file's lock).
  static func run(sql path: String, in project: Project) async throws {
    let script = """
      import duckdb, sys, time
      for attempt in range(600):
          try:
              con = duckdb.connect(sys.argv[1])
              break
          except duckdb.IOException:
              time.sleep(0.2)
      else:
          con = duckdb.connect(sys.argv[1])
      con.execute("create schema if not exists raw")
      con.execute("set schema 'raw'")
      con.execute(open(sys.argv[2]).read())
      con.close()
      """
    let result = try await CLI.run(
      executable: URL(fileURLWithPath: project.python), ["-c", script, project.database, path])
    #expect(result.status == 0, "loading \(path) into duckdb: \(result.stderr)")
  }

  func driftwatch(_ arguments: [String], _ project: Project) async throws -> CLI.Result {
    try await CLI.run(
      arguments + ["--project", project.directory, "--profiles-dir", project.directory],
      environment: project.environment)
  }

  @Test func acmeEndToEndThroughDbtDuckDB() async throws {
    try await Self.withAcme { project in
      // Clean before the migration: no drift, exit 0, read through dbt.
      let clean = try await driftwatch(["check", "--format", "json", "--state", project.state], project)
      #expect(clean.status == 0, "\(clean.stderr)\n\(clean.stdout)")
      let cleanReport = try CLI.json(clean.stdout)
      #expect((cleanReport["changes"] as? [Any])?.isEmpty == true, "\(clean.stdout.prefix(600))")
      #expect((cleanReport["warehouse"] as? String)?.contains("duckdb") == true)

      let taken = try await driftwatch(["snapshot", "--state", project.state], project)
      #expect(taken.status == 0, "\(taken.stderr)")
      #expect(taken.stdout.contains("3 tables, 18 columns profiled, 3000 keys sampled from 3 tables"))

      try await Self.run(sql: Acme.postgresMigration, in: project)

      // The seed's incident, proven from the data: table rename, column renames, the split, the remap.
      let broken = try await driftwatch(["check", "--format", "json", "--state", project.state], project)
      #expect(broken.status == 1, "\(broken.stderr)")
      try AcmeEvidence.expectProven(try CLI.json(broken.stdout))

      // The fix, written, and a real dbt build of the fixed project on DuckDB.
      let decisions = try await Self.decisions(for: project)
      let fix = try await driftwatch(
        ["fix", "--state", project.state, "--decisions", decisions, "--write"], project)
      #expect(fix.status == 0, "\(fix.stderr)\n\(fix.stdout)")
      #expect(fix.stdout.contains("wrote 3 files"), "\(fix.stdout)")
      let build = try await CLI.run(
        executable: URL(fileURLWithPath: project.dbt),
        [
          "build", "--project-dir", project.directory, "--profiles-dir", project.directory, "--no-use-colors",
        ],
        environment: project.environment, directory: project.directory)
      #expect(build.status == 0, "dbt build after the fix:\n\(build.stdout.suffix(3000))")
      #expect(build.stdout.contains("ERROR=0"), "\(build.stdout.suffix(1500))")
    }
  }

  /// Answers the drafted questions the way the backend's migration says they should be answered.
  static func decisions(for project: Project) async throws -> String {
    let draft = try await CLI.run(
      [
        "fix", "--project", project.directory, "--profiles-dir", project.directory, "--state", project.state,
        "--format", "json",
      ],
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
      case "value_mapping": lines.append("    mapping: {premium: gold, standard: silver, basic: bronze}")
      case "split_template": lines.append("    template: \"{street}, {city}, {state_code} {postal_code}\"")
      default: lines.append("    accept: true")
      }
    }
    let path = project.directory + "/../decisions.yml"
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// watch on a warehouse without event triggers: polling through the bridge (--interval) opens the incident
  /// and alerts once.
  @Test func watchPollsThroughTheBridge() async throws {
    try await Self.withAcme { project in
      let receiver = try await AlertReceiver.start()
      let watch = try WatchProcess(
        [
          "--project", project.directory, "--profiles-dir", project.directory, "--state", project.state,
          "--webhook-url-env", "HOOK", "--interval", "1s",
        ], environment: project.environment.merging(["HOOK": receiver.url]) { $1 },
        logPath: project.directory + "/../watch.log")
      #expect(await watch.waitForLog("watching", timeout: .seconds(600)), "\(watch.log)")
      #expect(watch.log.contains("polling"), "\(watch.log)")
      try await Self.run(sql: Acme.postgresMigration, in: project)
      let received = await receiver.wait(forCount: 1, timeout: .seconds(600))
      try #require(received.count == 1, "\(watch.log)")
      let body = try CLI.json(received[0].body)
      #expect(body["event"] as? String == "driftwatch.incident.opened")
      #expect((body["blast_radius"] as? [String: Any])?["dashboards"] as? Int == 15)
      // The advice reaches the warehouse the way watch did: through the profile, not a --warehouse URL.
      #expect(
        body["fix_command"] as? String
          == "driftwatch fix --project \(project.directory) --profiles-dir \(project.directory)",
        "\(body["fix_command"] ?? "")")
      watch.signal(SIGINT)
      #expect(await watch.waitForExit(timeout: .seconds(600)) == 0)
      await receiver.stop()
    }
  }

  @Test func bridgeErrorsAreOneLineAndExitTwo() async throws {
    guard let (dbt, _) = Self.tools else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let directory = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: directory)
    try Self.profiles.replacingOccurrences(
      of: "path: acme.duckdb", with: "path: /nonexistent/dir/acme.duckdb"
    )
    .write(toFile: directory + "/profiles.yml", atomically: true, encoding: .utf8)
    let result = try await CLI.run(
      ["check", "--project", directory, "--profiles-dir", directory], environment: ["DRIFTWATCH_DBT": dbt])
    #expect(result.status == 2)
    #expect(result.stderr.contains("dbt run-operation driftwatch_introspect failed"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")

    let missing = try await CLI.run(
      ["check", "--project", directory, "--profiles-dir", directory],
      environment: ["DRIFTWATCH_DBT": "", "PATH": "/nonexistent"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no dbt was found"), "\(missing.stderr)")
  }
}
