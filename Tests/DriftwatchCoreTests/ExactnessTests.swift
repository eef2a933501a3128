import DriftwatchCore
import Testing

/// Which answers depend on an incomplete node (docs/architecture.md, "Exact answers").
@Suite struct ExactnessTests {
  /// raw.orders → stg_orders → fct_orders → report; `orphan` reads nothing the graph knows of.
  private func project(incomplete: [String: [Incompleteness]]) -> ProjectGraph {
    var graph = ProjectGraph(
      projectName: "shop",
      sources: [
        SourceTable(
          uniqueID: "source.shop.raw.orders", packageName: "shop", sourceName: "raw", name: "orders",
          schema: "raw")
      ],
      nodes: [
        GraphNode(
          uniqueID: "model.shop.stg_orders", resourceType: .model, name: "stg_orders", packageName: "shop",
          dependsOn: ["source.shop.raw.orders"], tags: ["staging"]),
        GraphNode(
          uniqueID: "model.shop.fct_orders", resourceType: .model, name: "fct_orders", packageName: "shop",
          dependsOn: ["model.shop.stg_orders"]),
        GraphNode(
          uniqueID: "model.shop.orphan", resourceType: .model, name: "orphan", packageName: "shop"),
        GraphNode(
          uniqueID: "analysis.shop.adhoc", resourceType: .analysis, name: "adhoc", packageName: "shop"),
      ])
    graph.incomplete = incomplete
    return graph
  }

  private func reason(_ kind: Incompleteness.Kind, _ effects: [Incompleteness.Effect]) -> Incompleteness {
    Incompleteness(kind: kind, effects: effects, file: "models/x.sql", line: 3, construct: "simple_cte")
  }

  private func lineage(_ selector: String, _ graph: ProjectGraph) throws -> [String] {
    let parsed = try NodeSelector.parse(selector)
    let selection = LineageGraph(project: graph).evaluate(parsed)
    return Exactness.lineage(parsed, selected: selection.ids, project: graph)
  }

  @Test func anExactGraphMakesEveryAnswerExact() throws {
    let graph = project(incomplete: [:])
    #expect(try lineage("source:raw.orders+", graph).isEmpty)
    #expect(Exactness.check(hasChanges: true, blastRadius: ["model.shop.stg_orders"], project: graph).isEmpty)
  }

  @Test func aDownstreamWalkDependsOnNodesThatMayHaveUnknownParents() throws {
    let graph = project(incomplete: ["model.shop.orphan": [reason(.macroCall, [.missingEdges])]])
    // orphan may read stg_orders through its macro: `stg_orders+` may be missing it.
    #expect(try lineage("stg_orders+", graph) == ["model.shop.orphan"])
    // Walking up from fct_orders never passes through orphan.
    #expect(try lineage("+fct_orders", graph).isEmpty)
    // A plain name does not walk.
    #expect(try lineage("fct_orders", graph).isEmpty)
    // A node in the result counts whatever the walk.
    #expect(try lineage("orphan", graph) == ["model.shop.orphan"])
  }

  @Test func anUpstreamWalkDependsOnIncompleteNodesItReaches() throws {
    let graph = project(incomplete: ["model.shop.stg_orders": [reason(.dynamicCall, [.missingEdges])]])
    #expect(try lineage("+fct_orders", graph) == ["model.shop.stg_orders"])
    // Walking down from orphan, stg_orders (not in the result) may have an unknown edge from it.
    #expect(try lineage("orphan+", graph) == ["model.shop.stg_orders"])
    #expect(try lineage("+orphan", graph).isEmpty)
  }

  @Test func extraEdgesOutsideTheResultDoNotCount() throws {
    let graph = project(incomplete: ["model.shop.orphan": [reason(.conditionalCall, [.extraEdges])]])
    #expect(try lineage("stg_orders+", graph).isEmpty)
  }

  @Test func tagSelectorsDependOnEveryNodeWhoseConfigIsInDoubt() throws {
    let graph = project(incomplete: ["model.shop.orphan": [reason(.dynamicConfig, [.config])]])
    #expect(try lineage("tag:staging", graph) == ["model.shop.orphan"])
    #expect(try lineage("stg_orders+", graph).isEmpty)
    // In an exclusion too: the node might be taken out.
    let parsed = try NodeSelector.parse(select: "fct_orders", exclude: "tag:staging")
    let selection = LineageGraph(project: graph).evaluate(parsed)
    #expect(Exactness.lineage(parsed, selected: selection.ids, project: graph) == ["model.shop.orphan"])
  }

  @Test func unlistedTypesAndSourceLocationsDoNotChangeLineage() throws {
    let graph = project(incomplete: [
      "analysis.shop.adhoc": [reason(.macroCall, [.missingEdges])],
      "source.shop.raw.orders": [reason(.unrenderedField, [.location])],
    ])
    #expect(try lineage("stg_orders+", graph).isEmpty)
    #expect(try lineage("source:raw.orders+", graph).isEmpty)
  }

  @Test func noDriftDependsOnlyOnWhereTheSourcesAre() {
    let edges = project(incomplete: ["model.shop.orphan": [reason(.macroCall, [.missingEdges])]])
    #expect(Exactness.check(hasChanges: false, blastRadius: [], project: edges).isEmpty)
    let location = project(incomplete: ["source.shop.raw.orders": [reason(.unrenderedField, [.location])]])
    #expect(
      Exactness.check(hasChanges: false, blastRadius: [], project: location) == ["source.shop.raw.orders"])
  }

  @Test func driftDependsOnEveryPossibleReaderAndOnTheBlastRadius() {
    let graph = project(incomplete: [
      "model.shop.orphan": [reason(.macroCall, [.missingEdges])],
      "model.shop.fct_orders": [reason(.dynamicConfig, [.config])],
      "model.shop.stg_orders": [reason(.conditionalCall, [.extraEdges])],
    ])
    // orphan might read the changed source; stg_orders is in the radius; fct_orders (config only) is not.
    #expect(
      Exactness.check(hasChanges: true, blastRadius: ["model.shop.stg_orders"], project: graph) == [
        "model.shop.orphan", "model.shop.stg_orders",
      ])
    #expect(
      Exactness.check(
        hasChanges: true, blastRadius: ["model.shop.stg_orders", "model.shop.fct_orders"], project: graph)
        == ["model.shop.fct_orders", "model.shop.orphan", "model.shop.stg_orders"])
  }

  @Test func analysesAreNeverInABlastRadius() {
    let graph = project(incomplete: ["analysis.shop.adhoc": [reason(.macroCall, [.missingEdges])]])
    #expect(Exactness.check(hasChanges: true, blastRadius: [], project: graph).isEmpty)
  }

  @Test func theReportRecordsWhatItDependsOn() {
    let graph = project(incomplete: ["model.shop.orphan": [reason(.macroCall, [.missingEdges])]])
    var report = DriftReport(
      project: "shop", warehouse: "memory", schemas: ["raw"], sourcesChecked: 1, changes: [],
      blastRadius: BlastRadius(),
      nodes: [:])
    report.markIncompleteness(from: graph)
    #expect(report.exact)
    report.changes = [
      DriftChange(
        kind: .tableMissing, source: "raw.orders", sourceID: "source.shop.raw.orders", relation: nil,
        from: nil,
        to: nil, confidence: 1, breaking: true, evidence: [])
    ]
    report.markIncompleteness(from: graph)
    #expect(!report.exact)
    #expect(report.incomplete?.map(\.uniqueID) == ["model.shop.orphan"])
    #expect(report.incomplete?.first?.reasons.first?.kind == .macroCall)
  }

  @Test func theErrorIsOneLineNamingTheCountTheFirstNodeAndTheManifest() {
    let graph = project(incomplete: [
      "model.shop.orphan": [reason(.macroCall, [.missingEdges])],
      "model.shop.fct_orders": [reason(.dynamicCall, [.missingEdges])],
    ])
    let error = IncompleteAnswerError(
      dependsOn: ["model.shop.fct_orders", "model.shop.orphan"], project: graph)
    #expect(!error.message.contains("\n"))
    #expect(error.message.hasPrefix("the answer depends on 2 nodes driftwatch could not read exactly"))
    #expect(error.message.contains("first: model.shop.fct_orders, models/x.sql:3"))
    #expect(error.message.contains("--allow-incomplete"))
    #expect(error.message.contains("--manifest target/manifest.json"))
  }

  @Test func theSummaryGroupsNodesThatShareAConstruct() {
    var graph = project(incomplete: [
      "model.shop.orphan": [reason(.macroCall, [.missingEdges])],
      "model.shop.fct_orders": [reason(.macroCall, [.missingEdges])],
      "model.shop.stg_orders": [reason(.dynamicCall, [.missingEdges])],
    ])
    graph.warnings = [ProjectWarning(file: "models/s.yml", line: 4, message: "duplicate key `name`")]
    let lines = IncompletenessSummary.lines(graph)
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("2 nodes are incomplete: calls macro simple_cte"))
    #expect(lines[0].hasSuffix("first: models/x.sql:3 (model.shop.fct_orders)"))
    #expect(
      lines[1].hasPrefix("models/x.sql:3: model.shop.stg_orders is incomplete: simple_cte has arguments"))
    #expect(lines[2] == "models/s.yml:4: duplicate key `name`")
  }
}
