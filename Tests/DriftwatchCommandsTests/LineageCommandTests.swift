import Foundation
import Testing

@Suite("lineage command")
struct LineageCommandTests {
  @Test func sourceDescendantsAsJSON() async throws {
    let result = try await CLI.run([
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

  @Test func graphFormats() async throws {
    let mermaid = try await CLI.run(["lineage", "--project", CLI.acme, "+fct_orders", "--format", "mermaid"])
    #expect(mermaid.status == 0)
    #expect(mermaid.stdout.hasPrefix("flowchart LR"))
    #expect(mermaid.stdout.contains("stg_customers"))
    let dot = try await CLI.run(["lineage", "--project", CLI.acme, "+fct_orders", "--format", "dot"])
    #expect(dot.status == 0)
    #expect(dot.stdout.contains("digraph"))
    #expect(dot.stdout.contains("->"))
    let text = try await CLI.run([
      "lineage", "--project", CLI.acme, "stg_payments+", "--exclude", "tag:nothing_has_this",
    ])
    #expect(text.status == 0)
    #expect(text.stdout.contains("fct_daily_payments"))
  }

  @Test func unionOfSeveralSelectors() async throws {
    let result = try await CLI.run(
      ["lineage", "--project", CLI.acme, "stg_orders", "stg_payments", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let ids = (try CLI.json(result.stdout)["nodes"] as? [[String: Any]] ?? []).compactMap {
      $0["unique_id"] as? String
    }
    #expect(ids.contains("model.acme.stg_orders"))
    #expect(ids.contains("model.acme.stg_payments"))
  }
}

@Suite("lineage: answers that are not exact")
struct LineageIncompleteTests {
  static let project = CLI.repository.appendingPathComponent(
    "Tests/DriftwatchCommandsTests/Fixtures/incomplete_shop"
  ).path

  @Test func exitsTwoWithOneLineNamingTheNodeAndTheManifest() async throws {
    let result = try await CLI.run(["lineage", "--project", Self.project, "stg_orders+"])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    let errors = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("driftwatch: warning:") }
    #expect(errors.count == 1, "\(result.stderr)")
    let line = String(errors.first ?? "")
    #expect(line.hasPrefix("driftwatch: the answer depends on 1 node driftwatch could not read exactly"))
    #expect(line.contains("model.incomplete_shop.fct_orders"))
    #expect(line.contains("models/fct_orders.sql:1"))
    #expect(line.contains("simple_cte"))
    #expect(line.contains("--manifest target/manifest.json"))
    // The warning names the file and the construct.
    #expect(
      result.stderr.contains("driftwatch: warning: models/fct_orders.sql:1: model.incomplete_shop.fct_orders")
    )
  }

  @Test func allowIncompleteAnswersWithMarkers() async throws {
    let json = try await CLI.run([
      "lineage", "--project", Self.project, "stg_orders+", "--allow-incomplete", "--format", "json",
    ])
    #expect(json.status == 0, "\(json.stderr)")
    let object = try CLI.json(json.stdout)
    #expect(object["exact"] as? Bool == false)
    let incomplete = try #require(object["incomplete"] as? [[String: Any]])
    #expect(incomplete.compactMap { $0["unique_id"] as? String } == ["model.incomplete_shop.fct_orders"])
    let reason = try #require((incomplete.first?["reasons"] as? [[String: Any]])?.first)
    // Rendering it needs the target, and the project has no profiles.yml.
    #expect(reason["kind"] as? String == "render_failed")
    #expect(reason["file"] as? String == "models/fct_orders.sql")
    #expect(reason["line"] as? Int == 1)
    let text = try await CLI.run(["lineage", "--project", Self.project, "stg_orders+", "--allow-incomplete"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("not exact: 1 node"))
  }

  @Test func anAnswerThatDoesNotDependOnTheIncompleteNodeIsExact() async throws {
    // Walking up from stg_orders never passes through fct_orders.
    let result = try await CLI.run(["lineage", "--project", Self.project, "+stg_orders", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try CLI.json(result.stdout)["exact"] as? Bool == true)
    // The warning is still printed once.
    #expect(result.stderr.contains("warning: models/fct_orders.sql:1"))
  }

  @Test func aTagSelectorDependsOnConfigsThatCouldNotBeRead() async throws {
    // finance_kpis sets its tags with config({"tags": [...]}): `tag:finance` matches nothing the scan read,
    // but the answer "nothing" is not exact.
    let result = try await CLI.run(["lineage", "--project", Self.project, "tag:finance"])
    #expect(result.status == 2)
    let errors = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("driftwatch: warning:") }
    #expect(errors.count == 1, "\(result.stderr)")
    #expect(errors.first?.contains("model.incomplete_shop.finance_kpis") == true)
    #expect(errors.first?.contains("--allow-incomplete") == true)
    let allowed = try await CLI.run([
      "lineage", "--project", Self.project, "tag:finance", "--allow-incomplete",
    ])
    #expect(allowed.status == 2)
    #expect(
      allowed.stderr.contains("matches no node in project incomplete_shop (1 node(s) driftwatch could not"))
  }

  @Test func aManifestIsExact() async throws {
    let result = try await CLI.run([
      "lineage", "--manifest", ManifestRouteTests.manifest, "source:acme.raw_customers+", "--format", "json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.isEmpty)
    #expect(try CLI.json(result.stdout)["exact"] as? Bool == true)
  }

  @Test func acmeIsExactAndQuiet() async throws {
    let result = try await CLI.run([
      "lineage", "--project", CLI.acme, "source:acme.raw_customers+", "--format", "json",
    ])
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty)
    let object = try CLI.json(result.stdout)
    #expect(object["exact"] as? Bool == true)
    #expect((object["incomplete"] as? [Any])?.isEmpty == true)
  }
}
