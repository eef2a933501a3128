import DriftwatchCore
import DriftwatchReports
import Testing

@Suite struct LineageRendererTests {
  static func nodes() -> [GraphNode] {
    [
      GraphNode(
        uniqueID: "model.shop.stg_orders", resourceType: .model, name: "stg_orders", packageName: "shop",
        dependsOn: ["source.shop.raw.orders"]),
      GraphNode(
        uniqueID: "model.shop.fct_orders", resourceType: .model, name: "fct_orders", packageName: "shop",
        dependsOn: ["model.shop.stg_orders", "model.shop.outside", "model.shop.stg_orders"]),
      GraphNode(uniqueID: "model.shop.outside", resourceType: .model, name: "outside", packageName: "shop"),
      GraphNode(
        uniqueID: "test.shop.unique_stg_orders_id.abc", resourceType: .test, name: "unique_stg_orders_id",
        packageName: "shop", dependsOn: ["model.shop.stg_orders"]),
      GraphNode(
        uniqueID: "exposure.shop.kpis", resourceType: .exposure, name: "kpis", packageName: "shop",
        dependsOn: ["model.shop.fct_orders"], exposureType: "dashboard", label: "Weekly \"KPIs\" <v2> #1"),
    ]
  }

  static let source = SourceTable(
    uniqueID: "source.shop.raw.orders", packageName: "shop", sourceName: "raw", name: "orders", schema: "raw")

  let graph = LineageGraph(
    project: ProjectGraph(projectName: "shop", sources: [Self.source], nodes: Self.nodes()))

  var selection: Selection {
    get throws { try graph.evaluate(NodeSelector.parse("source:raw.orders+")) }
  }

  @Test func text() throws {
    let expected = """
      source:raw.orders+: 5 nodes (1 source, 2 models, 1 test, 1 exposure)

      sources (1)
        raw.orders  source.shop.raw.orders

      models (2)
        fct_orders  model.shop.fct_orders
        stg_orders  model.shop.stg_orders

      tests (1)
        unique_stg_orders_id  test.shop.unique_stg_orders_id.abc

      exposures (1)
        Weekly "KPIs" <v2> #1  exposure.shop.kpis

      """
    #expect(try LineageRenderer.render(selection, graph: graph, format: .text) == expected)
  }

  @Test func json() throws {
    let expected = """
      {
        "schema_version": 1,
        "selector": "source:raw.orders+",
        "exact": true,
        "incomplete": [],
        "nodes": [
          {
            "unique_id": "exposure.shop.kpis",
            "resource_type": "exposure",
            "name": "kpis",
            "depends_on": [
              "model.shop.fct_orders"
            ]
          },
          {
            "unique_id": "model.shop.fct_orders",
            "resource_type": "model",
            "name": "fct_orders",
            "depends_on": [
              "model.shop.outside",
              "model.shop.stg_orders"
            ]
          },
          {
            "unique_id": "model.shop.stg_orders",
            "resource_type": "model",
            "name": "stg_orders",
            "depends_on": [
              "source.shop.raw.orders"
            ]
          },
          {
            "unique_id": "source.shop.raw.orders",
            "resource_type": "source",
            "name": "orders",
            "depends_on": []
          },
          {
            "unique_id": "test.shop.unique_stg_orders_id.abc",
            "resource_type": "test",
            "name": "unique_stg_orders_id",
            "depends_on": [
              "model.shop.stg_orders"
            ]
          }
        ]
      }

      """
    #expect(try LineageRenderer.render(selection, graph: graph, format: .json) == expected)
  }

  @Test func mermaid() throws {
    let expected = """
      flowchart LR
        n0>"Weekly #quot;KPIs#quot; #lt;v2#gt; #35;1"]:::exposure
        n1["fct_orders"]:::model
        n2["stg_orders"]:::model
        n3[("raw.orders")]:::source
        n4(["unique_stg_orders_id"]):::test
        n1 --> n0
        n2 --> n1
        n2 --> n4
        n3 --> n2
        classDef source fill:#e8f5e9,stroke:#2e7d32,color:#000
        classDef model fill:#e3f2fd,stroke:#1565c0,color:#000
        classDef test fill:#fffde7,stroke:#f9a825,color:#000
        classDef exposure fill:#fce4ec,stroke:#ad1457,color:#000

      """
    #expect(try LineageRenderer.render(selection, graph: graph, format: .mermaid) == expected)
  }

  @Test func dot() throws {
    let expected = """
      digraph lineage {
        rankdir=LR;
        node [shape=box, style="rounded,filled", fontname="Helvetica"];
        "exposure.shop.kpis" [label="Weekly \\"KPIs\\" <v2> #1", fillcolor="#fce4ec", color="#ad1457", shape=component];
        "model.shop.fct_orders" [label="fct_orders", fillcolor="#e3f2fd", color="#1565c0"];
        "model.shop.stg_orders" [label="stg_orders", fillcolor="#e3f2fd", color="#1565c0"];
        "source.shop.raw.orders" [label="raw.orders", fillcolor="#e8f5e9", color="#2e7d32", shape=cylinder];
        "test.shop.unique_stg_orders_id.abc" [label="unique_stg_orders_id", fillcolor="#fffde7", color="#f9a825", shape=ellipse];
        "model.shop.fct_orders" -> "exposure.shop.kpis";
        "model.shop.stg_orders" -> "model.shop.fct_orders";
        "model.shop.stg_orders" -> "test.shop.unique_stg_orders_id.abc";
        "source.shop.raw.orders" -> "model.shop.stg_orders";
      }

      """
    #expect(try LineageRenderer.render(selection, graph: graph, format: .dot) == expected)
  }

  @Test func emptySelectionsAndMissingSelectors() {
    let empty = Selection(ids: [])
    #expect(LineageRenderer.render(empty, graph: graph, format: .text) == "0 nodes\n")
    #expect(
      LineageRenderer.render(empty, graph: graph, format: .json)
        == "{\n  \"schema_version\": 1,\n  \"selector\": null,\n  \"exact\": true,\n  \"incomplete\": [],\n"
        + "  \"nodes\": []\n}\n")
    #expect(LineageRenderer.render(empty, graph: graph, format: .mermaid) == "flowchart LR\n")
    #expect(
      LineageRenderer.render(empty, graph: graph, format: .dot)
        == "digraph lineage {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n}\n"
    )
    // ids the graph does not hold are left out rather than invented
    let stray = Selection(selector: "x", ids: ["model.shop.nope", "model.shop.outside"])
    #expect(
      LineageRenderer.render(stray, graph: graph, format: .text)
        == "x: 1 node (1 model)\n\nmodels (1)\n  outside  model.shop.outside\n")
  }

  @Test func hostileLabelsStayInsideTheirQuotes() {
    let node = GraphNode(
      uniqueID: "exposure.shop.\"x\"", resourceType: .exposure, name: "x", packageName: "shop",
      label: "a\"b\\c\nd`e")
    let graph = LineageGraph(project: ProjectGraph(projectName: "shop", sources: [], nodes: [node]))
    let selection = Selection(ids: [node.uniqueID])
    #expect(
      LineageRenderer.render(selection, graph: graph, format: .mermaid)
        == "flowchart LR\n  n0>\"a#quot;b\\c d#96;e\"]:::exposure\n  classDef exposure fill:#fce4ec,stroke:#ad1457,color:#000\n"
    )
    let dot = LineageRenderer.render(selection, graph: graph, format: .dot)
    #expect(dot.contains("  \"exposure.shop.\\\"x\\\"\" [label=\"a\\\"b\\\\c\\nd`e\", "))
  }

  @Test func outputDoesNotDependOnInputOrder() throws {
    let reversed = LineageGraph(
      project: ProjectGraph(projectName: "shop", sources: [Self.source], nodes: Self.nodes().reversed()))
    let selector = try NodeSelector.parse("source:raw.orders+")
    for format in LineageFormat.allCases {
      #expect(
        LineageRenderer.render(reversed.evaluate(selector), graph: reversed, format: format)
          == LineageRenderer.render(graph.evaluate(selector), graph: graph, format: format))
    }
  }

  @Test func renderingAnImpact() {
    let impact = graph.impact(from: ["source.shop.raw.orders"])
    let selection = Selection(selector: "impact of raw.orders", ids: Set(impact.all))
    #expect(
      LineageRenderer.render(selection, graph: graph, format: .text).hasPrefix(
        "impact of raw.orders: 4 nodes (2 models, 1 test, 1 exposure)\n"))
  }

  @Test func answersThatAreNotExactSaySoInEveryFormat() throws {
    let selection = Selection(selector: "x", ids: ["model.shop.fct_orders"])
    let incomplete = [
      IncompleteNode(
        uniqueID: "model.shop.fct_orders",
        reasons: [
          Incompleteness(
            kind: .macroCall, effects: [.missingEdges], file: "models/fct_orders.sql", line: 2,
            construct: "simple_cte")
        ])
    ]
    let text = LineageRenderer.render(selection, graph: graph, format: .text, incomplete: incomplete)
    #expect(text.contains("not exact: 1 node this answer depends on"))
    #expect(text.contains("model.shop.fct_orders  [incomplete]"))
    #expect(text.contains("models/fct_orders.sql:2: calls macro simple_cte"))
    let json = LineageRenderer.render(selection, graph: graph, format: .json, incomplete: incomplete)
    #expect(
      json.contains(
        "\"exact\": false,\n  \"incomplete\": [\n    {\n      \"unique_id\": \"model.shop.fct_orders\""))
    #expect(json.contains("\"kind\": \"macro_call\""))
    let mermaid = LineageRenderer.render(selection, graph: graph, format: .mermaid, incomplete: incomplete)
    #expect(mermaid.hasPrefix("%% not exact: 1 node"))
    let dot = LineageRenderer.render(selection, graph: graph, format: .dot, incomplete: incomplete)
    #expect(dot.hasPrefix("// not exact: 1 node"))
  }
}
