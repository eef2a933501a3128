import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// `DbtListOutput.json` escapes strings as `dbt ls --output json` does (Python's `json.dumps`, `ensure_ascii`):
/// DEL, controls and non-ASCII included.
@Suite struct DbtListOutputTests {
  @Test func jsonEscapesDELControlsAndNonASCIIAsDbtLs() {
    let source = SourceTable(
      uniqueID: "source.shop.raw.caf\u{e9}\u{7f}", packageName: "shop", sourceName: "raw",
      name: "caf\u{e9}\u{7f}", schema: "raw", filePath: "models/sources.yml", tags: ["t\u{1}", "😀"])
    let model = GraphNode(
      uniqueID: "model.shop.m\u{7f}", resourceType: .model, name: "m\u{7f}", packageName: "shop",
      dependsOn: [source.uniqueID], filePath: "models/m\u{e9}.sql")
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [model])
    // As Python 3's json.dumps prints these two dicts (the keys in dbt ls's order).
    #expect(
      DbtListOutput.json.lines([model.uniqueID, source.uniqueID], project: project) == [
        #"{"name": "m\u007f", "resource_type": "model", "package_name": "shop", "original_file_path": "#
          + #""models/m\u00e9.sql", "unique_id": "model.shop.m\u007f", "tags": [], "depends_on": {"nodes": "#
          + #"["source.shop.raw.caf\u00e9\u007f"]}}"#,
        #"{"name": "caf\u00e9\u007f", "resource_type": "source", "package_name": "shop", "#
          + #""original_file_path": "models/sources.yml", "unique_id": "source.shop.raw.caf\u00e9\u007f", "#
          + #""source_name": "raw", "tags": ["t\u0001", "\ud83d\ude00"]}"#,
      ])
  }

  /// The same escaping, byte for byte, as real `dbt ls --output json` prints it for a source whose name holds
  /// é and DEL and whose tags hold a control character and an astral one (dbt adds `config`, which driftwatch
  /// leaves out: its line is dbt's up to that member).
  @Test func jsonLineIsDbtLsLineForDELControlsAndNonASCII() async throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record(
        "DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt-core and dbt-duckdb and sets it)")
      return
    }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dbt-ls-json-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: work.appendingPathComponent("models"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    let files = [
      "dbt_project.yml": "name: shop\nversion: \"1.0\"\nprofile: shop\n",
      "profiles.yml": """
      shop:
        target: dev
        outputs:
          dev:
            type: duckdb
            path: \(work.appendingPathComponent("shop.duckdb").path)

      """,
      "models/sources.yml": #"""
      version: 2
      sources:
        - name: raw
          tables:
            - name: "caf\u00e9\x7f"
              tags: ["t\x01", "\U0001F600"]

      """#,
    ]
    for (name, text) in files {
      try Data(text.utf8).write(to: work.appendingPathComponent(name))
    }
    let graph = try DbtProjectReader.read(
      projectDirectory: work.path, options: DbtReadOptions(environment: [:]))
    let ours = DbtListOutput.json.lines(graph.sources.keys, project: graph)
    let (status, printed) = try await DbtLsFixtureTests.run(
      dbt,
      [
        "ls", "-q", "--no-write-json", "--project-dir", work.path, "--profiles-dir", work.path, "--output",
        "json",
        "--resource-type", "source",
      ], directory: work.path)
    #expect(status == 0, "\(printed.suffix(2000))")
    let theirs = printed.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") }
    #expect(ours.count == 1)
    #expect(theirs.count == 1)
    for (mine, dbts) in zip(ours, theirs) {
      #expect(mine.contains(#"caf\u00e9\u007f"#))
      #expect(dbts.hasPrefix(String(mine.dropLast()) + ", "), "ours: \(mine)\ndbt's: \(dbts)")
    }
  }
}
