import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// The file reader against dbt itself: `Fixtures/jaffle_drift/target/manifest.json` was written by
/// `dbt parse` (dbt-core 1.11.16, dbt-postgres 1.11.0; see `Fixtures/regenerate-manifest.sh`).
@Suite struct ManifestParityTests {
  let fromFiles: ProjectGraph
  let fromManifest: ProjectGraph

  init() throws {
    fromFiles = try DbtProjectReader.read(
      projectDirectory: Fixtures.jaffleDrift,
      options: DbtReadOptions(environment: [:], defaultDatabase: "warehouse"))
    fromManifest = try ManifestReader.read(path: Fixtures.path("jaffle_drift/target/manifest.json"))
  }

  @Test func sameProjectName() {
    #expect(fromFiles.projectName == "jaffle_drift")
    #expect(fromManifest.projectName == "jaffle_drift")
  }

  @Test func sameUniqueIDs() {
    let fileIDs = Set(fromFiles.nodes.keys)
    let manifestIDs = Set(fromManifest.nodes.keys)
    #expect(fileIDs.subtracting(manifestIDs).sorted() == [])
    #expect(manifestIDs.subtracting(fileIDs).sorted() == [])
    #expect(Set(fromFiles.sources.keys) == Set(fromManifest.sources.keys))
    #expect(fileIDs.count == 44)
  }

  @Test func sameEdges() {
    for (id, node) in fromManifest.nodes {
      let mine = fromFiles.nodes[id]
      #expect(Set(mine?.dependsOn ?? []) == Set(node.dependsOn), "depends_on of \(id)")
      #expect(mine?.dependsOn.count == node.dependsOn.count, "no duplicate edges in \(id)")
    }
  }

  @Test func sameNodeDetails() {
    for (id, node) in fromManifest.nodes {
      guard let mine = fromFiles.nodes[id] else { continue }
      #expect(mine.resourceType == node.resourceType, "\(id)")
      #expect(mine.name == node.name, "\(id)")
      #expect(mine.packageName == node.packageName, "\(id)")
      #expect(mine.filePath == node.filePath, "\(id)")
      #expect(mine.tags == node.tags, "tags of \(id)")
      #expect(mine.rawCode == node.rawCode, "raw code of \(id)")
      #expect(mine.test == node.test, "test info of \(id)")
      #expect(mine.exposureType == node.exposureType, "\(id)")
      #expect(mine.label == node.label, "\(id)")
    }
  }

  @Test func sameSources() {
    for (id, source) in fromManifest.sources {
      #expect(fromFiles.sources[id] == source, "\(id)")
    }
    let customers = fromManifest.sources["source.jaffle_drift.acme.raw_customers"]
    #expect(customers?.identifier == "users")
    #expect(customers?.schema == "raw")
    #expect(customers?.database == "warehouse")
    #expect(
      customers?.columns.map(\.name) == ["user_id", "customer_segment", "address", "country", "Created At"])
    #expect(customers?.columns.first?.dataType == "integer")
  }

  @Test func genericTestIDsCarryDbtHashes() {
    let expected = [
      "test.jaffle_drift.not_null_stg_customers_customer_id.e2cfb1f9aa",
      "test.jaffle_drift.accepted_values_stg_customers_customer_segment__premium__standard__basic.b1024d92ca",
      "test.jaffle_drift.source_unique_acme_raw_customers_user_id.2b69230e93",
      "test.jaffle_drift.source_relationships_acme_raw_orders_user_id__user_id__source_acme_raw_customers_.39ab9f112b",
      "test.jaffle_drift.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_v_1_.45ec090bc7",
      "test.jaffle_drift.accepted_values_stg_orders_status_code__False__1__2__3__4__5__6__7__8__9__10__11__12.3401b6eac3",
      "test.jaffle_drift.helpers_has_rows_stg_orders_.a285683107",
      "test.jaffle_drift.raw_customers_created_at_present.041dbd33f3",
      "test.jaffle_drift.source_accepted_values_acme_raw_customers_country__True__US__FR__yes__False__True.7ea4f8e969",
      "test.jaffle_drift.unique_dim_customers_v2_customer_id.f52bb79f08",
    ]
    for id in expected {
      #expect(fromFiles.nodes[id] != nil, "\(id) from files")
      #expect(fromManifest.nodes[id] != nil, "\(id) in dbt's manifest")
    }
  }

  @Test func disabledNodesAndTheirTestsAreLeftOut() {
    for graph in [fromFiles, fromManifest] {
      #expect(graph.nodes["model.jaffle_drift.disabled_model"] == nil)
      #expect(graph.nodes["model.jaffle_drift.old_customers"] == nil)
      #expect(graph.nodes["test.jaffle_drift.assert_disabled_ref"] == nil)
      #expect(graph.nodes["test.jaffle_drift.helpers_has_rows_disabled_model_.6c7f38b0a1"] == nil)
    }
  }
}
