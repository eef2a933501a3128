import Foundation
import Testing

/// Every bad input gets one clear line on stderr and exit 2: never a crash, a stack trace or a secret.
@Suite("bad input")
struct BadInputTests {
  @discardableResult
  func expectUsageError(
    _ arguments: [String], mentions words: [String], environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
  ) async throws -> CLI.Result {
    let result = try await CLI.run(arguments, environment: environment)
    #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count <= 3, "more than a short message: \(result.stderr)", sourceLocation: sourceLocation)
    for word in words {
      #expect(
        result.stderr.contains(word), "stderr lacks '\(word)': \(result.stderr)",
        sourceLocation: sourceLocation)
    }
    #expect(!result.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    return result
  }

  @Test func missingProject() async throws {
    try await expectUsageError(
      ["check", "--project", "/nonexistent/project", "--warehouse", "sqlite:/tmp/x.db"],
      mentions: ["/nonexistent/project"])
  }

  @Test func projectWithoutDbtProjectYml() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try await expectUsageError(
      ["check", "--project", scratch.path, "--warehouse", "sqlite:x.db"], mentions: ["dbt_project.yml"])
  }

  @Test func brokenYamlNamesFileAndLine() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try FileManager.default.createDirectory(atPath: scratch.file("models"), withIntermediateDirectories: true)
    try "name: broken\nversion: '1.0'\nprofile: broken\n".write(
      toFile: scratch.file("dbt_project.yml"), atomically: true, encoding: .utf8)
    try "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: a\n     - name: b\n".write(
      toFile: scratch.file("models/src.yml"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["check", "--project", scratch.path, "--warehouse", "sqlite:x.db"], mentions: ["src.yml", "6"])
  }

  /// A manifest large enough to be read on every core (over 1 MB): cut off, or with a node lacking `name`
  /// deep inside, it gives one line and exit 2, naming the first problem.
  @Test func brokenLargeManifest() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    func node(_ index: Int, named: Bool = true) -> String {
      "\"model.p.m\(index)\": {\"resource_type\": \"model\", " + (named ? "\"name\": \"m\(index)\", " : "")
        + "\"package_name\": \"p\", \"raw_code\": \"select '}, \\\"model.p.x.y\\\": {' as t -- "
        + String(repeating: "x", count: 400) + "\", \"depends_on\": {\"nodes\": []}}"
    }
    let nodes = (0..<4_000).map { node($0, named: $0 != 3_100) }.joined(separator: ", ")
    let manifest = "{\"metadata\": {\"project_name\": \"p\"}, \"nodes\": {\(nodes)}, \"sources\": {}}"
    #expect(manifest.utf8.count > 1 << 20)
    try manifest.write(toFile: scratch.file("unnamed.json"), atomically: true, encoding: .utf8)
    try String(manifest.prefix(manifest.count * 3 / 5)).write(
      toFile: scratch.file("cut.json"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["lineage", "--manifest", scratch.file("unnamed.json"), "m1+"],
      mentions: ["unnamed.json", "not a dbt manifest", "missing `name` at nodes.model.p.m3100"])
    try await expectUsageError(
      ["lineage", "--manifest", scratch.file("cut.json"), "m1+"],
      mentions: ["cut.json", "not a dbt manifest", "invalid json"])
  }

  /// yml the fast reader leaves to libyaml (a tab, an empty value before a deeper line) still gets libyaml's
  /// one-line message with the file and line.
  @Test func brokenYamlOutsideTheFastReader() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try FileManager.default.createDirectory(atPath: scratch.file("models"), withIntermediateDirectories: true)
    try "name: broken\nversion: '1.0'\nprofile: broken\n".write(
      toFile: scratch.file("dbt_project.yml"), atomically: true, encoding: .utf8)
    try "version: 2\nsources:\n  - name: raw\n    tables:\n\t- name: a\n".write(
      toFile: scratch.file("models/src.yml"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["lineage", "--project", scratch.path, "source:raw.a"], mentions: ["src.yml", "5"])
  }

  @Test func missingSQLiteFileIsNotCreated() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.file("nope.db")
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)"], mentions: ["nope.db"])
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  @Test func notASQLiteFile() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try String(repeating: "not a database\n", count: 100).write(
      toFile: scratch.file("bad.db"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--warehouse", "sqlite:\(scratch.file("bad.db"))"],
      mentions: ["bad.db"])
  }

  @Test func unsupportedURL() async throws {
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--warehouse", "mysql://root:hunter2@db/acme"],
      mentions: ["unsupported"])
  }

  @Test func refusedConnectionNamesTheServerButNotThePassword() async throws {
    let result = try await expectUsageError(
      ["check", "--project", CLI.acme, "--warehouse", "postgres://app:s3cret-pw@127.0.0.1:1/acme"],
      mentions: ["127.0.0.1", "1"])
    #expect(!result.stderr.contains("s3cret-pw"))
  }

  @Test func noWarehouseAnywhere() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--profiles-dir", scratch.path], mentions: ["profiles.yml"])
  }

  @Test func missingEnvironmentVariableInProfile() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try """
    acme:
      target: dev
      outputs:
        dev:
          type: postgres
          host: 127.0.0.1
          port: 5432
          user: app
          password: "{{ env_var('DRIFTWATCH_TEST_SURELY_UNSET') }}"
          dbname: acme
          schema: analytics
    """.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--profiles-dir", scratch.path],
      mentions: ["DRIFTWATCH_TEST_SURELY_UNSET"])
  }

  @Test func catalogAndWarehouseTogether() async throws {
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--catalog", "a.json", "--warehouse", "sqlite:x.db"],
      mentions: ["either"])
  }

  @Test func brokenCatalog() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try "{ not json".write(toFile: scratch.file("catalog.json"), atomically: true, encoding: .utf8)
    try await expectUsageError(
      ["check", "--project", CLI.acme, "--catalog", scratch.file("catalog.json")], mentions: ["catalog.json"])
  }

  @Test func unknownOptionAndFormat() async throws {
    try await expectUsageError(["check", "--bogus"], mentions: ["--bogus"])
    try await expectUsageError(["check", "--project", CLI.acme, "--format", "xml"], mentions: ["xml"])
    try await expectUsageError(["frobnicate"], mentions: ["frobnicate"])
  }

  @Test func unknownSelector() async throws {
    try await expectUsageError(
      ["lineage", "--project", CLI.acme, "no_such_model+"], mentions: ["no_such_model"])
    try await expectUsageError(["lineage", "--project", CLI.acme, "bogus:thing"], mentions: ["bogus"])
  }

  @Test func helpAndVersionExitZero() async throws {
    let help = try await CLI.run(["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("check"))
    let version = try await CLI.run(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.contains("0.1.0"))
  }
}
