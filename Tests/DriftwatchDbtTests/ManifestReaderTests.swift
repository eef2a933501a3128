import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

@Suite struct ManifestReaderTests {
  @Test func toleratesOlderManifestsAndSkipsWhatItDoesNotModel() throws {
    let project = try TemporaryProject([
      "manifest.json": """
      {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json"},
       "nodes": {
         "model.p.a": {"resource_type": "model", "name": "a", "package_name": "p",
                       "depends_on": {"nodes": ["source.p.app.users"]}, "raw_sql": "select 1",
                       "original_file_path": "models/a.sql", "tags": ["b", "a", "b"]},
         "operation.p.p-on-run-start-0": {"resource_type": "operation", "name": "p-on-run-start-0",
                       "package_name": "p"},
         "test.p.accepted_values_a_x__1__True.abc": {"resource_type": "test", "name": "accepted_values_a_x__1__True",
                       "package_name": "p", "depends_on": {"nodes": ["model.p.a"]},
                       "test_metadata": {"name": "accepted_values", "namespace": null,
                         "kwargs": {"column_name": "x", "values": [1, true, null, 2.5, "s"], "model": "{{ get_where_subquery(ref('a')) }}"}},
                       "attached_node": "model.p.a", "column_name": "x"}
       },
       "sources": {
         "source.p.app.users": {"name": "users", "source_name": "app", "package_name": "p",
                       "schema": "app", "database": null, "identifier": "users",
                       "columns": {"b": {"name": "b"}, "a": {"name": "a", "data_type": "int"}}}
       }}
      """
    ])
    defer { project.remove() }
    let graph = try ManifestReader.read(path: project.path("manifest.json"))
    #expect(graph.projectName == "p")
    #expect(Set(graph.nodes.keys) == ["model.p.a", "test.p.accepted_values_a_x__1__True.abc"])
    #expect(graph.nodes["model.p.a"]?.rawCode == "select 1")
    #expect(graph.nodes["model.p.a"]?.tags == ["a", "b"])
    let test = graph.nodes["test.p.accepted_values_a_x__1__True.abc"]?.test
    #expect(test?.acceptedValues == ["1", "True", "None", "2.5", "s"])
    #expect(test?.attachedNode == "model.p.a")
    // Declared column order survives JSON decoding.
    #expect(graph.sources["source.p.app.users"]?.columns.map(\.name) == ["b", "a"])
    #expect(graph.sources["source.p.app.users"]?.columns.last?.dataType == "int")
  }

  @Test func withoutAProjectNameTheFirstPackageOfAnyModelNamesTheProject() throws {
    let project = try TemporaryProject([
      "manifest.json": """
      {"metadata": {},
       "nodes": {
         "model.p.a": {"resource_type": "model", "name": "a", "package_name": "p"},
         "model.b.off": {"resource_type": "model", "name": "off", "package_name": "b",
                         "config": {"enabled": false}},
         "seed.a.s": {"resource_type": "seed", "name": "s", "package_name": "a"}
       }}
      """
    ])
    defer { project.remove() }
    let graph = try ManifestReader.read(path: project.path("manifest.json"))
    #expect(graph.projectName == "b")
    #expect(Set(graph.nodes.keys) == ["model.p.a", "seed.a.s"])
  }

  @Test func sourceTestsGetTheirSourceAsAttachedNode() throws {
    let graph = try ManifestReader.read(path: Fixtures.path("jaffle_drift/target/manifest.json"))
    let test = graph.nodes["test.jaffle_drift.source_unique_acme_raw_customers_user_id.2b69230e93"]
    #expect(test?.test?.attachedNode == "source.jaffle_drift.acme.raw_customers")
    #expect(test?.test?.columnName == "user_id")
    let quoted = graph.nodes["test.jaffle_drift.raw_customers_created_at_present.041dbd33f3"]
    #expect(quoted?.test?.columnName == "Created At")
  }

  @Test func missingAndBrokenManifests() throws {
    do {
      _ = try ManifestReader.read(path: "/nonexistent/target/manifest.json")
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.hasPrefix("no manifest at /nonexistent/target/manifest.json; run `dbt parse`"))
    }
    let project = try TemporaryProject(["manifest.json": "{\"metadata\": {}, \"sources\": {}}"])
    defer { project.remove() }
    do {
      _ = try ManifestReader.read(path: project.path("manifest.json"))
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("not a dbt manifest (missing `nodes` at top level)"))
    }
  }

  /// Nodes are read on other threads while the scan goes on: a bad node far into a large `nodes` object, or
  /// bytes that end in the middle of it, still give the one error of the first problem in file order.
  @Test func brokenNodesInALargeManifest() throws {
    func node(_ index: Int, name: Bool = true) -> String {
      let named = name ? "\"name\": \"m\(index)\", " : ""
      return "\"model.p.m\(index)\": {\"resource_type\": \"model\", \(named)\"package_name\": \"p\", "
        + "\"raw_code\": \"select 1 -- \\\"quoted\\\"\\n\", \"depends_on\": {\"nodes\": []}}"
    }
    let nodes = (0..<1_000).map { node($0, name: $0 != 700 && $0 != 900) }.joined(separator: ", ")
    let complete = "{\"metadata\": {\"project_name\": \"p\"}, \"nodes\": {\(nodes)}, \"sources\": {}}"
    let project = try TemporaryProject([
      "unnamed.json": complete,
      "truncated.json": String(complete.prefix(complete.count / 2)),
      "good.json": "{\"nodes\": {"
        + (0..<1_000).map { node($0) }.joined(separator: ", ") + "}, \"sources\": {}}",
    ])
    defer { project.remove() }
    #expect(try ManifestReader.read(path: project.path("good.json")).nodes.count == 1_000)
    #expect(
      try ManifestReader.read(path: project.path("good.json")).nodes["model.p.m999"]?.rawCode
        == "select 1 -- \"quoted\"\n")
    do {
      _ = try ManifestReader.read(path: project.path("unnamed.json"))
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("not a dbt manifest (missing `name` at nodes.model.p.m700)"), "\(error)")
    }
    do {
      _ = try ManifestReader.read(path: project.path("truncated.json"))
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("not a dbt manifest (invalid json near nodes"), "\(error)")
    }
  }
}
