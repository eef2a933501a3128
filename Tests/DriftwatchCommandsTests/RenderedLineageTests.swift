import Foundation
import Testing

/// `driftwatch lineage` on a project whose refs, sources and configs are reachable only by rendering its Jinja
/// (Tests/DriftwatchDbtTests/Fixtures/render_shop: refs through a macro fed a list of tuples and through a var
/// list, refs and sources inside project and package macros, `ref(var('x'))`, `config({"tags": …})`,
/// `config(enabled=is_adapter('bigquery'))` on a duplicate model, `{% if target.name == 'prod' %}`, dispatch to
/// a package macro with the root project searched first, a singular test through a macro) against real
/// `dbt ls` (`DRIFTWATCH_DBT`): the same nodes and the same edges, exact (exit 0, `exact: true`), for the
/// profile's default target and for `DBT_TARGET=prod`.
@Suite("lineage of rendered nodes vs dbt ls")
struct RenderedLineageTests {
  static let fixture = CLI.repository.appendingPathComponent("Tests/DriftwatchDbtTests/Fixtures/render_shop")

  /// unique id → the ids it depends on.
  typealias Listing = [String: Set<String>]

  static func dbtLs(_ dbt: String, project: String, selector: String, environment: [String: String])
    async throws
    -> Listing
  {
    let result = try await CLI.run(
      executable: URL(fileURLWithPath: dbt),
      [
        "ls", "-q", "--no-write-json", "--project-dir", project, "--profiles-dir", project, "--select",
        selector,
        "--output", "json", "--output-keys", "unique_id", "depends_on",
      ], environment: environment.merging(["DBT_SEND_ANONYMOUS_USAGE_STATS": "false"]) { _, new in new },
      directory: project)
    guard result.status == 0 else {
      throw CLIError("dbt ls --select \(selector) exited \(result.status): \(result.stdout.suffix(2000))")
    }
    var listing: Listing = [:]
    for line in result.stdout.split(separator: "\n") where line.hasPrefix("{") {
      let object = try CLI.json(String(line))
      guard let id = object["unique_id"] as? String else { continue }
      let nodes = (object["depends_on"] as? [String: Any])?["nodes"] as? [String] ?? []
      listing[id] = Set(nodes)
    }
    return listing
  }

  static func lineage(project: String, selector: String, environment: [String: String]) async throws
    -> Listing
  {
    let result = try await CLI.run(
      ["lineage", "--project", project, selector, "--format", "json"], environment: environment)
    #expect(result.status == 0, "lineage \(selector): \(result.stderr)")
    // Nothing was left incomplete, so nothing is warned about.
    #expect(!result.stderr.contains("incomplete"), "lineage \(selector): \(result.stderr)")
    let object = try CLI.json(result.stdout)
    #expect(object["exact"] as? Bool == true, "lineage \(selector)")
    var listing: Listing = [:]
    for node in object["nodes"] as? [[String: Any]] ?? [] {
      guard let id = node["unique_id"] as? String else { continue }
      listing[id] = Set(node["depends_on"] as? [String] ?? [])
    }
    return listing
  }

  @Test func renderedNodesAreExactAndMatchDbtLs() async throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-core and sets it)")
      return
    }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let project = scratch.path + "/render_shop"
    try FileManager.default.copyItem(atPath: Self.fixture.path, toPath: project)
    let runs: [(target: String?, selectors: [String])] = [
      (nil, ["+m_final", "stg_a+", "tag:nightly", "tag:pg", "source:raw+", "m_var+"]),
      ("prod", ["+m_final", "tag:nightly", "stg_b+"]),
    ]
    var nonEmpty = 0
    for run in runs {
      let environment = run.target.map { ["DBT_TARGET": $0] } ?? [:]
      for selector in run.selectors {
        let expected = try await Self.dbtLs(
          dbt, project: project, selector: selector, environment: environment)
        let actual = try await Self.lineage(project: project, selector: selector, environment: environment)
        #expect(actual == expected, "\(selector) (target \(run.target ?? "dev"))")
        if !expected.isEmpty { nonEmpty += 1 }
      }
    }
    // Every selector selects something: the comparison is not between two empty answers.
    #expect(nonEmpty == runs.map(\.selectors.count).reduce(0, +))
  }
}
