import Dispatch
import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// Fixture projects written here, one per real-world pattern, read by `DbtProjectReader` and selected by
/// `LineageGraph`, compared node for node (unique ids and `depends_on.nodes`) with real `dbt ls`
/// (`DRIFTWATCH_DBT`, dbt-postgres; parsing needs no server) for several selectors, targets and `--vars`.
/// Every answer must be exact (nothing marked incomplete).
@Suite("fixture projects vs dbt ls")
struct DbtLsFixtureTests {
  /// unique id → the ids it depends on.
  typealias Listing = [String: Set<String>]

  struct Run {
    var target: String?
    var vars: String?
    var selectors: [String]
  }

  /// `connector_union`: a package that unions one source over several connections through a macro calling
  /// `source()` in a loop over a var (root-scoped package vars, `--vars`), `adapter.dispatch` to the package's
  /// postgres-specific macro, Jinja statements in source `database:`/`schema:`/`identifier:`, a source enabled by
  /// `config: enabled: "{{ var(…) }}"`, seeds disabled by `+enabled: "{{ var('load_source_data', false) }}"`, a
  /// model enabled by `config: enabled: "{{ target.name == 'prod' }}"`, a ref under `{% if var(…) %}`,
  /// `config: tags: ["{{ var('team') }}"]`, a top-level `tags:` that dbt 1.11 ignores, a duplicate yml key.
  @Test func connectorUnion() async throws {
    try await compare(
      "connector_union",
      runs: [
        Run(
          target: nil, vars: nil,
          selectors: [
            "source:shop_eu+", "source:app+", "tag:shop", "tag:core", "tag:second", "tag:app",
            "resource_type:seed", "package:connector", "+extra", "",
          ]),
        Run(
          target: "prod",
          vars: "{load_source_data: true, connector_connections: [shop_us], connector_apac_enabled: true}",
          selectors: ["source:shop_us+", "tag:shop", "resource_type:seed+", "source:shop_apac", "+prod_only"]),
      ])
  }

  /// `semantic_shop` (shaped like dbt-labs' jaffle-shop): semantic models on a model and on a versioned model's
  /// version, simple, cumulative, ratio and derived metrics, saved queries (one with a one-string `tags:`),
  /// unit tests (one per version of a versioned model, one disabled by `config: enabled` on the target), seeds
  /// under `+enabled: "{{ var('load_source_data', false) }}"`.
  @Test func semanticShop() async throws {
    try await compare(
      "semantic_shop",
      runs: [
        Run(
          target: nil, vars: nil,
          selectors: [
            "source:*+", "resource_type:metric", "resource_type:unit_test", "test_type:unit", "orders+",
            "tag:finance", "+saved_query:customer_metrics", "semantic_model:customers+", "",
          ]),
        Run(
          target: "prod", vars: "{\"load_source_data\": true}",
          selectors: ["source:ecom.raw_orders+", "resource_type:unit_test", "resource_type:seed"]),
      ])
  }

  /// `DbtListOutput` (lineage's `--output`) prints what `dbt ls --output selector|name|path|json` prints, line
  /// for line (json: the keys driftwatch prints, with dbt's values).
  @Test func listOutputsMatchDbtLs() async throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record(
        "DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-core and dbt-postgres and sets it)")
      return
    }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dbt-ls-output-\(UUID().uuidString)")
    try FileManager.default.copyItem(atPath: Fixtures.path("semantic_shop"), toPath: work.path)
    defer { try? FileManager.default.removeItem(at: work) }
    let selector = "source:*+ customers tag:finance"
    let target = try ProfilesReader.targetAttributes(
      profilesDirectory: work.path, projectDirectory: work.path, profileName: nil, target: nil,
      environment: [:])
    let graph = try DbtProjectReader.read(
      projectDirectory: work.path, options: DbtReadOptions(environment: [:], target: target))
    let ids = LineageGraph(project: graph).select(try NodeSelector.parse(select: selector, exclude: nil))
    for output in DbtListOutput.allCases {
      let arguments =
        ["ls", "-q", "--no-write-json", "--project-dir", work.path, "--profiles-dir", work.path, "--output"]
        + [output.rawValue, "--select"] + selector.split(separator: " ").map(String.init)
      let (status, printed) = try await Self.run(dbt, arguments, directory: work.path)
      #expect(status == 0, "\(printed.suffix(2000))")
      let expected = printed.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
      let actual = output.lines(ids, project: graph)
      #expect(expected.count > 10)
      guard output == .json else {
        #expect(actual == expected, "--output \(output.rawValue)")
        continue
      }
      #expect(actual.count == expected.count)
      for (mine, theirs) in zip(actual, expected) {
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(mine.utf8)) as? [String: Any])
        let dbts = try #require(try JSONSerialization.jsonObject(with: Data(theirs.utf8)) as? [String: Any])
        for (key, value) in ours {
          if key == "depends_on" {
            let nodes = (value as? [String: Any])?["nodes"] as? [String]
            let dbtNodes = (dbts["depends_on"] as? [String: Any])?["nodes"] as? [String] ?? []
            #expect(nodes.map(Set.init) == Set(dbtNodes), "\(mine)")
          } else {
            #expect("\(value)" == "\(dbts[key] ?? "missing")", "\(key) of \(mine)")
          }
        }
      }
    }
  }

  // MARK: - Helpers

  private func compare(_ fixture: String, runs: [Run]) async throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record(
        "DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-core and dbt-postgres and sets it)")
      return
    }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dbt-ls-\(fixture)-\(UUID().uuidString)")
    try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: work.path)
    defer { try? FileManager.default.removeItem(at: work) }
    var compared = 0
    var nodes = 0
    for run in runs {
      // dbt's own manifest for this target and these vars: read by ManifestReader, it must list the same.
      var parse = ["parse", "--project-dir", work.path, "--profiles-dir", work.path]
      if let target = run.target { parse += ["--target", target] }
      if let vars = run.vars { parse += ["--vars", vars] }
      let (status, log) = try await Self.run(dbt, parse, directory: work.path)
      guard status == 0 else {
        Issue.record("dbt parse exited \(status): \(log.suffix(3000))")
        return
      }
      let manifest = try ManifestReader.read(path: work.path + "/target/manifest.json")
      let manifestLineage = LineageGraph(project: manifest)
      for selector in run.selectors {
        let expected = try await Self.dbtLs(
          dbt, project: work.path, selector: selector, target: run.target, vars: run.vars)
        let actual = try Self.driftwatch(
          project: work.path, selector: selector, target: run.target, vars: run.vars)
        let differences =
          "\(fixture) \(selector) (target \(run.target ?? "default"), vars \(run.vars ?? "none")): only dbt "
          + "\(expected.filter { actual[$0.key] != $0.value }.keys.sorted()), only driftwatch "
          + "\(actual.filter { expected[$0.key] != $0.value }.keys.sorted())"
        #expect(actual == expected, "\(differences)")
        #expect(!expected.isEmpty, "\(selector) selects nothing in dbt: the comparison would prove nothing")
        let fromManifest = Self.listing(
          manifestLineage,
          selector: try Self.parse(selector))
        #expect(fromManifest == expected, "\(fixture) \(selector) from dbt's manifest.json")
        compared += 1
        nodes += expected.count
      }
    }
    #expect(compared == runs.map(\.selectors.count).reduce(0, +))
    #expect(nodes > 0)
  }

  /// What driftwatch lists for `selector`: the project read as `lineage` reads it (the profile's target, or
  /// `target`), nothing left incomplete.
  static func driftwatch(project: String, selector: String, target: String?, vars: String?) throws -> Listing
  {
    let attributes = try ProfilesReader.targetAttributes(
      profilesDirectory: project, projectDirectory: project, profileName: nil, target: target,
      environment: [:])
    var options = DbtReadOptions(environment: [:], target: attributes)
    options.vars = vars
    let graph = try DbtProjectReader.read(projectDirectory: project, options: options)
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    return listing(
      LineageGraph(project: graph),
      selector: try Self.parse(selector))
  }

  /// A run's selector as `lineage` reads it: none (empty) is dbt ls's default selection.
  static func parse(_ selector: String) throws -> NodeSelector {
    try NodeSelector.parse(select: selector.isEmpty ? NodeSelector.everything : selector, exclude: nil)
  }

  static func listing(_ lineage: LineageGraph, selector: NodeSelector) -> Listing {
    var listing: Listing = [:]
    for node in lineage.listing(lineage.evaluate(selector)) { listing[node.id] = Set(node.dependsOn) }
    return listing
  }

  /// `dbt ls --select selector --output json`, run on a Dispatch thread (not the cooperative pool).
  static func dbtLs(_ dbt: String, project: String, selector: String, target: String?, vars: String?)
    async throws -> Listing
  {
    // An empty selector: no --select at all (dbt's default selection).
    var arguments =
      ["ls", "-q", "--no-write-json", "--project-dir", project, "--profiles-dir", project]
      + (selector.isEmpty ? [] : ["--select", selector])
      + ["--output", "json", "--output-keys", "unique_id", "depends_on"]
    if let target { arguments += ["--target", target] }
    if let vars { arguments += ["--vars", vars] }
    let (status, output) = try await run(dbt, arguments, directory: project)
    guard status == 0 else {
      throw DbtLsFailure(description: "dbt ls --select \(selector) exited \(status): \(output.suffix(3000))")
    }
    var listing: Listing = [:]
    for line in output.split(separator: "\n") where line.hasPrefix("{") {
      guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let id = object["unique_id"] as? String
      else { continue }
      let nodes = (object["depends_on"] as? [String: Any])?["nodes"] as? [String] ?? []
      listing[id] = Set(nodes)
    }
    return listing
  }

  struct DbtLsFailure: Error, CustomStringConvertible {
    var description: String
  }

  static func run(_ executable: String, _ arguments: [String], directory: String) async throws
    -> (Int32, String)
  {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        environment.removeValue(forKey: "DBT_TARGET")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
          try process.run()
        } catch {
          continuation.resume(throwing: error)
          return
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
      }
    }
  }
}
