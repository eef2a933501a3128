import Dispatch
import DriftwatchCore
import Testing

/// A small shop project, built in code:
///
///     raw.orders ──▶ stg_orders ──▶ int_orders_joined ──▶ fct_orders ──▶ weekly_dashboard (exposure)
///     raw.customers ─▶ stg_customers ─┘        └─▶ dim_customers ──┘      └─▶ adhoc (analysis)
///     country_codes (seed) ───────────────────────▶ dim_customers
///     stg_orders ──▶ other_pkg.pkg_model          raw.unused (read by nothing)   unrelated (reads nothing)
///
/// Tests: unique on stg_orders, not_null on raw.orders, relationships fct_orders → dim_customers (two parents),
/// a singular test on fct_orders. dim_customers also names a model that does not exist.
enum LineageFixture {
  static func source(_ table: String, tags: [String] = []) -> SourceTable {
    SourceTable(
      uniqueID: "source.shop.raw.\(table)", packageName: "shop", sourceName: "raw", name: table,
      schema: "raw",
      filePath: "models/staging/_sources.yml", tags: tags)
  }

  static func model(
    _ name: String, _ path: String, _ deps: [String], tags: [String] = [], package: String = "shop"
  ) -> GraphNode {
    GraphNode(
      uniqueID: "model.\(package).\(name)", resourceType: .model, name: name, packageName: package,
      dependsOn: deps, filePath: path, tags: tags)
  }

  static let shop = ProjectGraph(
    projectName: "shop",
    sources: [source("orders", tags: ["raw"]), source("customers", tags: ["raw", "pii"]), source("unused")],
    nodes: [
      model("stg_orders", "models/staging/stg_orders.sql", ["source.shop.raw.orders"], tags: ["staging"]),
      model(
        "stg_customers", "models/staging/stg_customers.sql", ["source.shop.raw.customers"], tags: ["staging"]),
      model(
        "int_orders_joined", "models/intermediate/int_orders_joined.sql",
        ["model.shop.stg_orders", "model.shop.stg_customers", "model.shop.stg_orders"]),
      model(
        "fct_orders", "models/marts/core/fct_orders.sql", ["model.shop.int_orders_joined"], tags: ["nightly"]),
      model(
        "dim_customers", "models/marts/core/dim_customers.sql",
        ["model.shop.stg_customers", "seed.shop.country_codes", "model.shop.deleted_model"]),
      model("unrelated", "models/misc/unrelated.sql", []),
      model("pkg_model", "models/pkg_model.sql", ["model.shop.stg_orders"], package: "other_pkg"),
      GraphNode(
        uniqueID: "seed.shop.country_codes", resourceType: .seed, name: "country_codes", packageName: "shop",
        filePath: "seeds/country_codes.csv"),
      GraphNode(
        uniqueID: "test.shop.unique_stg_orders_order_id.1a", resourceType: .test,
        name: "unique_stg_orders_order_id", packageName: "shop", dependsOn: ["model.shop.stg_orders"],
        filePath: "models/staging/_models.yml",
        test: TestInfo(testName: "unique", columnName: "order_id", attachedNode: "model.shop.stg_orders")),
      GraphNode(
        uniqueID: "test.shop.source_not_null_raw_orders_id.2b", resourceType: .test,
        name: "source_not_null_raw_orders_id", packageName: "shop", dependsOn: ["source.shop.raw.orders"],
        filePath: "models/staging/_sources.yml",
        test: TestInfo(testName: "not_null", columnName: "id", attachedNode: "source.shop.raw.orders")),
      GraphNode(
        uniqueID: "test.shop.relationships_fct_orders_customer_id.3c", resourceType: .test,
        name: "relationships_fct_orders_customer_id", packageName: "shop",
        dependsOn: ["model.shop.dim_customers", "model.shop.fct_orders"],
        filePath: "models/marts/core/_core.yml",
        test: TestInfo(
          testName: "relationships", columnName: "customer_id", attachedNode: "model.shop.fct_orders")),
      GraphNode(
        uniqueID: "test.shop.assert_positive_totals", resourceType: .test, name: "assert_positive_totals",
        packageName: "shop", dependsOn: ["model.shop.fct_orders"],
        filePath: "tests/assert_positive_totals.sql",
        test: TestInfo(testName: "singular")),
      GraphNode(
        uniqueID: "exposure.shop.weekly_dashboard", resourceType: .exposure, name: "weekly_dashboard",
        packageName: "shop", dependsOn: ["model.shop.fct_orders", "model.shop.dim_customers"],
        filePath: "models/marts/exposures.yml", exposureType: "dashboard", label: "Weekly KPIs"),
      GraphNode(
        uniqueID: "analysis.shop.adhoc", resourceType: .analysis, name: "adhoc", packageName: "shop",
        dependsOn: ["model.shop.fct_orders"], filePath: "analyses/adhoc.sql"),
      GraphNode(
        uniqueID: "snapshot.shop.orders_snapshot", resourceType: .snapshot, name: "orders_snapshot",
        packageName: "shop", dependsOn: ["source.shop.raw.orders"], filePath: "snapshots/history/orders.sql"),
    ])

  static let graph = LineageGraph(project: shop)

  /// a → b, a → c, b → d, c → d, d → e
  static let diamond = LineageGraph(
    project: ProjectGraph(
      projectName: "d", sources: [],
      nodes: [
        model("a", "models/a.sql", []), model("b", "models/b.sql", ["model.shop.a"]),
        model("c", "models/c.sql", ["model.shop.a"]),
        model("d", "models/d.sql", ["model.shop.b", "model.shop.c"]),
        model("e", "models/e.sql", ["model.shop.d"]),
      ]))

  /// `model.shop.m0 → m1 → … → m(count-1)`
  static func chain(_ count: Int) -> LineageGraph {
    var nodes: [GraphNode] = []
    nodes.reserveCapacity(count)
    for position in 0..<count {
      nodes.append(
        GraphNode(
          uniqueID: "model.shop.m\(position)", resourceType: .model, name: "m\(position)",
          packageName: "shop",
          dependsOn: position == 0 ? [] : ["model.shop.m\(position - 1)"]))
    }
    return LineageGraph(project: ProjectGraph(projectName: "shop", sources: [], nodes: nodes))
  }
}

@Suite struct LineageGraphTests {
  let graph = LineageFixture.graph

  @Test func adjacencyIsDeduplicatedAndSorted() {
    #expect(graph.count == 18)
    #expect(
      graph.parents(of: "model.shop.int_orders_joined") == [
        "model.shop.stg_customers", "model.shop.stg_orders",
      ])
    #expect(
      graph.children(of: "model.shop.stg_orders") == [
        "model.other_pkg.pkg_model", "model.shop.int_orders_joined",
        "test.shop.unique_stg_orders_order_id.1a",
      ])
    #expect(graph.parents(of: "source.shop.raw.orders").isEmpty)
    #expect(graph.children(of: "nope").isEmpty)
    #expect(graph.resourceType(of: "seed.shop.country_codes") == .seed)
    #expect(graph.resourceType(of: "nope") == nil)
  }

  @Test func danglingReferencesStayOutOfTheGraph() {
    #expect(
      graph.danglingReferences == [
        DanglingReference(nodeID: "model.shop.dim_customers", missingID: "model.shop.deleted_model")
      ])
    #expect(!graph.contains("model.shop.deleted_model"))
    #expect(
      graph.parents(of: "model.shop.dim_customers") == [
        "model.shop.stg_customers", "seed.shop.country_codes",
      ])
  }

  @Test func descendantsAndAncestors() {
    #expect(
      graph.descendants(of: "model.shop.int_orders_joined") == [
        "model.shop.fct_orders", "test.shop.relationships_fct_orders_customer_id.3c",
        "test.shop.assert_positive_totals", "exposure.shop.weekly_dashboard", "analysis.shop.adhoc",
      ])
    #expect(
      graph.ancestors(of: "model.shop.int_orders_joined") == [
        "model.shop.stg_orders", "model.shop.stg_customers", "source.shop.raw.orders",
        "source.shop.raw.customers",
      ])
    #expect(graph.ancestors(of: "model.shop.fct_orders", depth: 1) == ["model.shop.int_orders_joined"])
    #expect(
      graph.ancestors(of: "model.shop.fct_orders", depth: 2) == [
        "model.shop.int_orders_joined", "model.shop.stg_orders", "model.shop.stg_customers",
      ])
    #expect(graph.descendants(of: "model.shop.fct_orders", depth: 0).isEmpty)
    #expect(graph.descendants(of: "source.shop.raw.unused").isEmpty)
    #expect(graph.descendants(of: "not.in.graph").isEmpty)
  }

  @Test func startIdsCountOnlyWhenReachableFromAnotherStart() {
    let found = graph.descendants(of: ["model.shop.stg_orders", "model.shop.int_orders_joined"], depth: 1)
    #expect(found.contains("model.shop.int_orders_joined"))
    #expect(!found.contains("model.shop.stg_orders"))
    #expect(found.contains("model.shop.fct_orders"))
  }

  @Test func diamondsAreVisitedOnce() {
    let diamond = LineageFixture.diamond
    #expect(
      diamond.descendants(of: "model.shop.a") == [
        "model.shop.b", "model.shop.c", "model.shop.d", "model.shop.e",
      ])
    #expect(
      diamond.descendants(of: "model.shop.a", depth: 2) == ["model.shop.b", "model.shop.c", "model.shop.d"])
    #expect(
      diamond.ancestors(of: "model.shop.e") == [
        "model.shop.a", "model.shop.b", "model.shop.c", "model.shop.d",
      ])
    #expect(diamond.parents(of: "model.shop.d") == ["model.shop.b", "model.shop.c"])
    #expect(
      diamond.impact(from: ["model.shop.b"]).models == ["model.shop.b", "model.shop.d", "model.shop.e"])
  }

  @Test func aHundredThousandNodeChainDoesNotOverflowTheStack() throws {
    let count = 100_000
    let chain = LineageFixture.chain(count)
    #expect(chain.count == count)
    let down = chain.descendants(of: "model.shop.m0")
    #expect(down.count == count - 1)
    #expect(down.contains("model.shop.m\(count - 1)"))
    let up = chain.ancestors(of: "model.shop.m\(count - 1)")
    #expect(up.count == count - 1)
    #expect(
      chain.ancestors(of: "model.shop.m500", depth: 3) == [
        "model.shop.m499", "model.shop.m498", "model.shop.m497",
      ])
    #expect(chain.impact(from: ["model.shop.m99990"]).models.count == 10)
    let selector = try NodeSelector.parse("m0+")
    #expect(chain.select(selector).count == count)
    #expect(try chain.select(NodeSelector.parse("@m50000")).count == count)
  }

  @Test func lookingUpDependenciesInParallelBuildsTheSameGraph() {
    // 10,000 models (enough for several chunks), with repeated parents, self-references, long dependency
    // lists and names that exist nowhere.
    let count = 10_000
    let nodes = (0..<count).map { index in
      var deps = (1...3).map { "model.shop.m\((index * 7 + $0 * 13) % count)" }
      deps += [deps[0], "model.shop.m\(index)", "model.shop.missing\(index % 5)"]
      if index % 1_000 == 0 { deps += (0..<40).map { "model.shop.m\(($0 * 31) % count)" } }
      return LineageFixture.model("m\(index)", "models/m\(index).sql", deps)
    }
    let project = ProjectGraph(projectName: "shop", sources: [], nodes: nodes)
    let serial = LineageGraph(project: project)
    // Chunks run backwards: the order they finish in must not matter.
    let parallel = LineageGraph(project: project) { chunks, body in
      for number in stride(from: chunks - 1, through: 0, by: -1) { body(number) }
    }
    // And on real threads, several times: every chunk writes its own result slot.
    for _ in 0..<5 {
      let threaded = LineageGraph(project: project) { chunks, body in
        DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
      }
      #expect(threaded.danglingReferences == serial.danglingReferences)
      #expect(threaded.children(of: "model.shop.m13") == serial.children(of: "model.shop.m13"))
      #expect(threaded.descendants(of: "model.shop.m2") == serial.descendants(of: "model.shop.m2"))
    }
    #expect(parallel.danglingReferences == serial.danglingReferences)
    #expect(serial.danglingReferences.count == count)
    for index in stride(from: 0, to: count, by: 97) {
      let id = "model.shop.m\(index)"
      #expect(parallel.parents(of: id) == serial.parents(of: id))
      #expect(parallel.children(of: id) == serial.children(of: id))
      #expect(!serial.parents(of: id).contains(id))
    }
    #expect(Set(serial.parents(of: "model.shop.m0")).count == serial.parents(of: "model.shop.m0").count)
    #expect(parallel.descendants(of: "model.shop.m1") == serial.descendants(of: "model.shop.m1"))
  }

  @Test func cyclesDoNotHang() {
    let cyclic = LineageGraph(
      project: ProjectGraph(
        projectName: "c", sources: [],
        nodes: [
          LineageFixture.model("x", "models/x.sql", ["model.shop.y", "model.shop.x"]),
          LineageFixture.model("y", "models/y.sql", ["model.shop.x"]),
        ]))
    #expect(cyclic.descendants(of: "model.shop.x") == ["model.shop.x", "model.shop.y"])
    #expect(cyclic.parents(of: "model.shop.x") == ["model.shop.y"])
  }
}

@Suite struct LineageImpactTests {
  let graph = LineageFixture.graph

  @Test func impactOfASourceLeavesOutTheSourceAndSortsByKind() {
    let impact = graph.impact(from: ["source.shop.raw.customers"])
    #expect(
      impact.models == [
        "model.shop.dim_customers", "model.shop.fct_orders", "model.shop.int_orders_joined",
        "model.shop.stg_customers",
      ])
    #expect(
      impact.tests == [
        "test.shop.assert_positive_totals", "test.shop.relationships_fct_orders_customer_id.3c",
      ])
    #expect(impact.exposures == ["exposure.shop.weekly_dashboard"])
    #expect(impact.others == ["analysis.shop.adhoc"])
    #expect(!impact.all.contains("source.shop.raw.customers"))
  }

  @Test func impactOfModelsIncludesThemAndTheirTests() {
    let impact = graph.impact(from: ["model.shop.stg_orders"])
    #expect(impact.models.first == "model.other_pkg.pkg_model")
    #expect(impact.models.contains("model.shop.stg_orders"))
    #expect(impact.tests.contains("test.shop.unique_stg_orders_order_id.1a"))
    #expect(!impact.tests.contains("test.shop.source_not_null_raw_orders_id.2b"))
  }

  @Test func aRelationshipsTestWithOneParentInsideIsImpacted() {
    let impact = graph.impact(from: ["model.shop.dim_customers"])
    #expect(impact.models == ["model.shop.dim_customers"])
    #expect(impact.tests == ["test.shop.relationships_fct_orders_customer_id.3c"])
    #expect(impact.exposures == ["exposure.shop.weekly_dashboard"])
  }

  @Test func impactFromTestsAndUnknownIds() {
    let impact = graph.impact(from: ["test.shop.source_not_null_raw_orders_id.2b", "model.shop.nope"])
    #expect(impact == Impact(tests: ["test.shop.source_not_null_raw_orders_id.2b"]))
    #expect(graph.impact(from: ["source.shop.raw.unused"]).isEmpty)
    #expect(graph.impact(from: []).isEmpty)
  }

  @Test func impactOfASourceReachesSnapshotsAsOthers() {
    let impact = graph.impact(from: ["source.shop.raw.orders"])
    #expect(impact.others == ["analysis.shop.adhoc", "snapshot.shop.orders_snapshot"])
    #expect(impact.tests.contains("test.shop.source_not_null_raw_orders_id.2b"))
  }

  @Test func fqnFollowsDbt() {
    #expect(graph.fqn(of: "model.shop.fct_orders") == ["shop", "marts", "core", "fct_orders"])
    #expect(graph.fqn(of: "model.other_pkg.pkg_model") == ["other_pkg", "pkg_model"])
    #expect(graph.fqn(of: "source.shop.raw.orders") == ["shop", "staging", "raw", "orders"])
    #expect(graph.fqn(of: "analysis.shop.adhoc") == ["shop", "analysis", "adhoc"])
    #expect(
      graph.fqn(of: "snapshot.shop.orders_snapshot") == ["shop", "history", "orders", "orders_snapshot"])
    #expect(
      graph.fqn(of: "test.shop.relationships_fct_orders_customer_id.3c") == [
        "shop", "marts", "core", "relationships_fct_orders_customer_id",
      ])
    #expect(graph.fqn(of: "seed.shop.country_codes") == ["shop", "country_codes"])
    #expect(graph.fqn(of: "nope") == nil)
  }
}
