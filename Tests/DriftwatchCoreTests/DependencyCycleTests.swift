import DriftwatchCore
import Testing

@Suite struct DependencyCycleTests {
  static func graph(_ edges: [String: [String]]) -> ProjectGraph {
    ProjectGraph(
      projectName: "p", sources: [],
      nodes: edges.map { name, parents in
        GraphNode(
          uniqueID: "model.p.\(name)", resourceType: .model, name: name, packageName: "p",
          dependsOn: parents.map { $0.hasPrefix("source.") ? $0 : "model.p.\($0)" })
      })
  }

  @Test func acyclicGraphsHaveNone() {
    #expect(Self.graph([:]).dependencyCycle() == nil)
    #expect(
      Self.graph(["a": [], "b": ["a"], "c": ["a", "b"], "d": ["source.p.s.t", "missing"]]).dependencyCycle()
        == nil)
  }

  @Test func cyclesAreFoundInDataFlowOrder() {
    // a reads c, b reads a, c reads b: a → b → c → a.
    #expect(
      Self.graph(["a": ["c"], "b": ["a"], "c": ["b"], "d": ["a"], "e": []]).dependencyCycle()
        == ["model.p.a", "model.p.b", "model.p.c"])
    #expect(Self.graph(["s": ["s"]]).dependencyCycle() == ["model.p.s"])
    // The same cycle every time, whatever the dictionary's order.
    let twoCycles = Self.graph(["x": ["y"], "y": ["x"], "b": ["c"], "c": ["b"]])
    for _ in 0..<5 { #expect(twoCycles.dependencyCycle() == ["model.p.b", "model.p.c"]) }
  }

  @Test func longChainsNeedNoRecursion() {
    var edges: [String: [String]] = ["m0": []]
    for index in 1..<100_000 { edges["m\(index)"] = ["m\(index - 1)"] }
    #expect(Self.graph(edges).dependencyCycle() == nil)
    edges["m0"] = ["m99999"]
    #expect(Self.graph(edges).dependencyCycle()?.count == 100_000)
  }
}
