import DriftwatchJinja
import Foundation
import Testing

/// The fixture project's models rendered with `DbtParseContext` record what real `dbt parse` (dbt-core in
/// the venv scripts/test installs, `DRIFTWATCH_DBT`) writes in manifest.json: refs, sources, tags and whether
/// the model is enabled — for the cases the issue lists (a macro fed a list of tuples, refs and sources in
/// macros, a var holding a ref, `config({"tags": …})`, `config(enabled=is_adapter(…))`, a target branch,
/// dispatch with the root project searched first, `config.get` at parse).
@Suite("DriftwatchJinja vs dbt parse")
struct DbtParityTests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dbt_project")

  struct Recorded: Equatable, CustomStringConvertible {
    var refs: [String]
    var sources: [String]
    var tags: [String]
    var enabled: Bool
    var description: String { "refs \(refs) sources \(sources) tags \(tags) enabled \(enabled)" }
  }

  /// What dbt parse records for every model of the fixture project.
  static func dbtParse(_ dbt: String) throws -> [String: Recorded] {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "jinja-parity-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: fixture, to: work)
    defer { try? FileManager.default.removeItem(at: work) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dbt)
    process.arguments = ["parse", "--project-dir", work.path, "--profiles-dir", work.path, "--target", "dev"]
    process.currentDirectoryURL = work
    var environment = ProcessInfo.processInfo.environment
    environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let log = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      Issue.record("dbt parse failed: \(String(decoding: log, as: UTF8.self).suffix(3000))")
      return [:]
    }
    let data = try Data(contentsOf: work.appendingPathComponent("target/manifest.json"))
    guard let manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let nodes = manifest["nodes"] as? [String: [String: Any]],
      let disabled = manifest["disabled"] as? [String: [[String: Any]]]
    else { return [:] }
    var result: [String: Recorded] = [:]
    func record(_ node: [String: Any], enabled: Bool) {
      guard let name = node["name"] as? String, node["resource_type"] as? String == "model" else { return }
      let refs = (node["refs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
      let sources = (node["sources"] as? [[String]] ?? []).map { $0.joined(separator: ".") }
      let tags = (node["config"] as? [String: Any])?["tags"] as? [String] ?? []
      result[name] = Recorded(refs: refs, sources: sources, tags: tags, enabled: enabled)
    }
    for node in nodes.values { record(node, enabled: true) }
    for versions in disabled.values { for node in versions { record(node, enabled: false) } }
    return result
  }

  /// The same models rendered by DriftwatchJinja.
  static func render() throws -> [String: Recorded] {
    let files = FileManager.default
    var library = MacroLibrary()
    for (package, directory) in [("shop", "macros"), ("money", "dbt_packages/money/macros")] {
      let dir = fixture.appendingPathComponent(directory)
      for name in try files.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".sql") {
        let source = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        try library.add(source: source, file: "\(directory)/\(name)", package: package)
      }
    }
    // The vars of dbt_project.yml and the dev output of profiles.yml.
    let vars = DbtVars(rootVars: ["upstream": .string("{{ ref('stg_c') }}"), "plain": .string("stg_a")])
    let target: [String: Value] = [
      "name": .string("dev"), "type": .string("postgres"), "schema": .string("analytics"),
      "database": .string("warehouse"), "host": .string("127.0.0.1"), "port": .int(5432), "threads": .int(1),
    ]
    var result: [String: Recorded] = [:]
    let models = fixture.appendingPathComponent("models")
    for name in try files.contentsOfDirectory(atPath: models.path).sorted() where name.hasSuffix(".sql") {
      let source = try String(contentsOf: models.appendingPathComponent(name), encoding: .utf8)
      let template = try Template(source, file: "models/\(name)")
      let ctx = DbtParseContext(
        rootProject: "shop", adapterTypes: ["postgres"], target: target, vars: vars, dependencies: ["money"])
      _ = try ctx.render(template, library: library)
      var tags: [String] = []
      if case .list(let l)? = ctx.recorder.configValue("tags") { tags = l.items.map(\.str) }
      let enabled = ctx.recorder.configValue("enabled")?.truthy ?? true
      result[String(name.dropLast(4))] = Recorded(
        refs: ctx.recorder.refs.map(\.name), sources: ctx.recorder.sources.map { "\($0.source).\($0.table)" },
        tags: tags, enabled: enabled)
    }
    return result
  }

  @Test func recordsWhatDbtParseRecords() throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-core and sets it)")
      return
    }
    let expected = try Self.dbtParse(dbt)
    let actual = try Self.render()
    #expect(expected.count == 11)
    #expect(Set(actual.keys) == Set(expected.keys))
    for (model, want) in expected.sorted(by: { $0.key < $1.key }) {
      #expect(actual[model] == want, "\(model)")
    }
  }
}
