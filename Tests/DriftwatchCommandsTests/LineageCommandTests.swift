import Foundation
import Testing

@Suite("lineage command")
struct LineageCommandTests {
  @Test func sourceDescendantsAsJSON() throws {
    let result = try CLI.run([
      "lineage", "--project", CLI.acme, "source:acme.raw_customers+", "--format", "json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try CLI.json(result.stdout)
    let nodes = try #require(json["nodes"] as? [[String: Any]])
    let byType = Dictionary(grouping: nodes, by: { $0["resource_type"] as? String ?? "" })
    #expect(Set((byType["model"] ?? []).compactMap { $0["unique_id"] as? String }) == Acme.radiusModels)
    #expect(byType["test"]?.count == 23)
    #expect(byType["exposure"]?.count == 15)
    #expect(byType["source"]?.compactMap { $0["unique_id"] as? String } == ["source.acme.acme.raw_customers"])
  }

  @Test func graphFormats() throws {
    let mermaid = try CLI.run(["lineage", "--project", CLI.acme, "+fct_orders", "--format", "mermaid"])
    #expect(mermaid.status == 0)
    #expect(mermaid.stdout.hasPrefix("flowchart LR"))
    #expect(mermaid.stdout.contains("stg_customers"))
    let dot = try CLI.run(["lineage", "--project", CLI.acme, "+fct_orders", "--format", "dot"])
    #expect(dot.status == 0)
    #expect(dot.stdout.contains("digraph"))
    #expect(dot.stdout.contains("->"))
    let text = try CLI.run([
      "lineage", "--project", CLI.acme, "stg_payments+", "--exclude", "tag:nothing_has_this",
    ])
    #expect(text.status == 0)
    #expect(text.stdout.contains("fct_daily_payments"))
  }

  @Test func unionOfSeveralSelectors() throws {
    let result = try CLI.run(
      ["lineage", "--project", CLI.acme, "stg_orders", "stg_payments", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let ids = (try CLI.json(result.stdout)["nodes"] as? [[String: Any]] ?? []).compactMap {
      $0["unique_id"] as? String
    }
    #expect(ids.contains("model.acme.stg_orders"))
    #expect(ids.contains("model.acme.stg_payments"))
  }
}
