/// The lineage of a dbt project: who reads whom, as integer-indexed adjacency over sources and nodes.
///
/// Built once per project in O(nodes + edges); every walk is iterative (a 100,000-model chain is fine) and
/// linear in what it visits. Unique ids a node lists in `dependsOn` that the project does not define are kept
/// out of the graph and reported in `danglingReferences`.
public struct LineageGraph: Sendable {
  /// The project the graph was built from.
  public let project: ProjectGraph
  /// What `dependsOn` names but the project does not define, sorted.
  public let danglingReferences: [DanglingReference]

  /// Unique id of each vertex; sources first, then the other nodes.
  let ids: [String]
  let index: [String: Int]
  let types: [ResourceType]
  /// Where each vertex lives in `project`, so walks and selectors reach it without hashing its id.
  let slots: [Slot]
  /// Compressed adjacency: the parents of vertex `v` are `parentList[parentStart[v]..<parentStart[v + 1]]`.
  let parentStart: [Int]
  let parentList: [Int32]
  let childStart: [Int]
  let childList: [Int32]

  enum Slot: Sendable {
    case source(Dictionary<String, SourceTable>.Index)
    case node(Dictionary<String, GraphNode>.Index)
  }

  /// Runs `body(0..<count)` in any order, possibly at once on several threads (the caller's
  /// `DispatchQueue.concurrentPerform`, say): Core itself starts no threads.
  public typealias ParallelFor = (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void

  /// With `parallel`, the dependencies of large projects are looked up on several threads; the graph is the
  /// same either way.
  public init(project: ProjectGraph, parallel: ParallelFor? = nil) {
    self.project = project
    let capacity = project.sources.count + project.nodes.count
    var ids: [String] = []
    ids.reserveCapacity(capacity)
    var types: [ResourceType] = []
    types.reserveCapacity(capacity)
    var slots: [Slot] = []
    slots.reserveCapacity(capacity)
    var index: [String: Int] = [:]
    index.reserveCapacity(capacity)
    for position in project.sources.indices {
      let id = project.sources[position].key
      index[id] = ids.count
      ids.append(id)
      types.append(.source)
      slots.append(.source(position))
    }
    var nodeSlots: [(vertex: Int, position: Dictionary<String, GraphNode>.Index)] = []
    nodeSlots.reserveCapacity(project.nodes.count)
    for position in project.nodes.indices {
      let id = project.nodes[position].key
      // One hash per node: insert, and put a source back in the (never seen) case of a node with its id.
      if let source = index.updateValue(ids.count, forKey: id) {
        index[id] = source
        continue
      }
      ids.append(id)
      types.append(project.nodes.values[position].resourceType)
      slots.append(.node(position))
      nodeSlots.append((ids.count - 1, position))
    }

    // Edges parent -> child, in the order of the children and of their dependencies, each at most once.
    let edges = Self.edges(
      nodeSlots, nodes: project.nodes.values, index: index, ids: ids,
      parallel: nodeSlots.count >= 4_096 ? parallel : nil)
    let count = ids.count
    (parentStart, parentList) = Self.compress(count: count, from: edges.children, to: edges.parents)
    (childStart, childList) = Self.compress(count: count, from: edges.parents, to: edges.children)
    self.ids = ids
    self.index = index
    self.types = types
    self.slots = slots
    self.danglingReferences = Array(Set(edges.dangling)).sorted()
  }

  private struct Edges: Sendable {
    var parents: [Int32] = []
    var children: [Int32] = []
    var dangling: [DanglingReference] = []
  }

  /// Each child's dependencies looked up in `index`, in chunks of children (on several threads with
  /// `parallel`), joined in order.
  private static func edges(
    _ children: [(vertex: Int, position: Dictionary<String, GraphNode>.Index)],
    nodes: Dictionary<String, GraphNode>.Values, index: [String: Int], ids: [String], parallel: ParallelFor?
  ) -> Edges {
    @Sendable func resolve(_ range: Range<Int>) -> Edges {
      var out = Edges()
      out.parents.reserveCapacity(range.count * 2)
      out.children.reserveCapacity(range.count * 2)
      var seen: Set<Int> = []
      for (child, position) in children[range] {
        // Only the node's dependency list, not a copy of the whole node.
        let dependsOn = nodes[position].dependsOn
        let first = out.parents.count
        let long = dependsOn.count > 16
        if long { seen.removeAll(keepingCapacity: true) }
        for dependency in dependsOn {
          guard let parent = index[dependency] else {
            out.dangling.append(DanglingReference(nodeID: ids[child], missingID: dependency))
            continue
          }
          if parent == child { continue }
          // A parent named twice counts once: a short list is searched, a long one hashed.
          if long {
            if !seen.insert(parent).inserted { continue }
          } else if out.parents[first...].contains(Int32(parent)) {
            continue
          }
          out.parents.append(Int32(parent))
          out.children.append(Int32(child))
        }
      }
      return out
    }
    guard let parallel else { return resolve(0..<children.count) }
    let chunk = 2_048
    let chunks = (children.count + chunk - 1) / chunk
    let results = ChunkResults<Edges>(count: chunks)
    parallel(chunks) { number in
      let start = number * chunk
      results.set(number, resolve(start..<min(start + chunk, children.count)))
    }
    var joined = Edges()
    for part in results.values {
      joined.parents += part.parents
      joined.children += part.children
      joined.dangling += part.dangling
    }
    return joined
  }

  /// Counting sort of edges by their `from` end: offsets plus a flat list of `to` ends.
  private static func compress(count: Int, from: [Int32], to: [Int32]) -> ([Int], [Int32]) {
    var start = [Int](repeating: 0, count: count + 1)
    for vertex in from { start[Int(vertex) + 1] += 1 }
    for position in 0..<count { start[position + 1] += start[position] }
    var fill = start
    var list = [Int32](repeating: 0, count: from.count)
    for edge in 0..<from.count {
      let vertex = Int(from[edge])
      list[fill[vertex]] = to[edge]
      fill[vertex] += 1
    }
    return (start, list)
  }

  // MARK: Looking things up

  /// How many sources and nodes the graph holds.
  public var count: Int { ids.count }

  public func contains(_ id: String) -> Bool { index[id] != nil }

  public func resourceType(of id: String) -> ResourceType? { index[id].map { types[$0] } }

  /// The direct parents of `id` that the project defines, sorted.
  public func parents(of id: String) -> [String] {
    guard let vertex = index[id] else { return [] }
    return parentList[parentStart[vertex]..<parentStart[vertex + 1]].map { ids[Int($0)] }.sorted()
  }

  /// The direct children of `id`, sorted.
  public func children(of id: String) -> [String] {
    guard let vertex = index[id] else { return [] }
    return childList[childStart[vertex]..<childStart[vertex + 1]].map { ids[Int($0)] }.sorted()
  }

  // MARK: Walks

  /// Everything reachable downstream of `id` within `depth` hops (`nil`: no limit). Excludes `id` itself.
  public func descendants(of id: String, depth: Int? = nil) -> Set<String> {
    descendants(of: [id], depth: depth)
  }

  /// Everything reachable downstream of `ids` within `depth` hops (`nil`: no limit). A start id is included
  /// only when it is downstream of another start id (as dbt's `select_children` does).
  public func descendants(of ids: Set<String>, depth: Int? = nil) -> Set<String> {
    names(walk(from: vertices(ids), depth: depth, downstream: true))
  }

  /// Everything upstream of `id` within `depth` hops (`nil`: no limit). Excludes `id` itself.
  public func ancestors(of id: String, depth: Int? = nil) -> Set<String> {
    ancestors(of: [id], depth: depth)
  }

  /// Everything upstream of `ids` within `depth` hops (`nil`: no limit). A start id is included only when it
  /// is upstream of another start id.
  public func ancestors(of ids: Set<String>, depth: Int? = nil) -> Set<String> {
    names(walk(from: vertices(ids), depth: depth, downstream: false))
  }

  func vertices(_ ids: Set<String>) -> [Int] { ids.compactMap { index[$0] } }

  func names(_ vertices: some Sequence<Int>) -> Set<String> { Set(vertices.map { ids[$0] }) }

  /// Breadth-first, layer by layer, iterative. Returns the vertices found at 1...depth hops from `start`.
  func walk(from start: [Int], depth: Int?, downstream: Bool) -> [Int] {
    if let depth, depth <= 0 { return [] }
    let offsets = downstream ? childStart : parentStart
    let list = downstream ? childList : parentList
    var found = [Bool](repeating: false, count: ids.count)
    var result: [Int] = []
    var frontier = start
    var layer = 0
    while !frontier.isEmpty {
      if let depth, layer >= depth { break }
      var next: [Int] = []
      for vertex in frontier {
        for position in offsets[vertex]..<offsets[vertex + 1] {
          let neighbour = Int(list[position])
          if !found[neighbour] {
            found[neighbour] = true
            next.append(neighbour)
          }
        }
      }
      result.append(contentsOf: next)
      frontier = next
      layer += 1
    }
    return result
  }

  // MARK: Blast radius

  /// What breaks downstream of `startIDs`: every node downstream of them, the tests on any of those (or on a
  /// start id), and the exposures that read them. Start ids that are nodes count themselves; sources do not.
  /// Ids the graph does not hold are ignored.
  public func impact(from startIDs: Set<String>) -> Impact {
    // Every child of a start id or of a descendant is itself a descendant, so the walk already holds the
    // eagerly selected tests and the exposures.
    let start = vertices(startIDs)
    var hit = walk(from: start, depth: nil, downstream: true)
    var ownStart = Set(start.filter { types[$0] != .source })
    if !ownStart.isEmpty {
      for vertex in hit where ownStart.contains(vertex) { ownStart.remove(vertex) }
      hit.append(contentsOf: ownStart)
    }
    var impact = Impact()
    for vertex in hit {
      let id = ids[vertex]
      switch types[vertex] {
      case .source: continue
      case .model: impact.models.append(id)
      case .test, .unitTest: impact.tests.append(id)
      case .exposure: impact.exposures.append(id)
      default: impact.others.append(id)
      }
    }
    impact.models.sort()
    impact.tests.sort()
    impact.exposures.sort()
    impact.others.sort()
    return impact
  }
}

/// A `dependsOn` entry naming a unique id the project does not define (a disabled or deleted model, a
/// source from a package that is not installed, …).
public struct DanglingReference: Sendable, Hashable, Codable, Comparable {
  /// The node whose `dependsOn` names the missing id.
  public var nodeID: String
  public var missingID: String

  public init(nodeID: String, missingID: String) {
    self.nodeID = nodeID
    self.missingID = missingID
  }

  public static func < (lhs: DanglingReference, rhs: DanglingReference) -> Bool {
    (lhs.nodeID, lhs.missingID) < (rhs.nodeID, rhs.missingID)
  }
}

/// The blast radius of a change: dbt unique ids, sorted and unique, by kind.
public struct Impact: Sendable, Hashable, Codable {
  public var models: [String]
  /// Data tests and unit tests.
  public var tests: [String]
  public var exposures: [String]
  /// Seeds, snapshots, analyses, metrics, semantic models, saved queries.
  public var others: [String]

  public init(models: [String] = [], tests: [String] = [], exposures: [String] = [], others: [String] = []) {
    self.models = models
    self.tests = tests
    self.exposures = exposures
    self.others = others
  }

  public var isEmpty: Bool { models.isEmpty && tests.isEmpty && exposures.isEmpty && others.isEmpty }

  /// Every id, sorted.
  public var all: [String] { (models + tests + exposures + others).sorted() }
}

/// One result per chunk, each written once by the iteration that owns it and read after all have finished
/// (`ParallelFor` returns when every iteration is done). The slots live in memory allocated once, so that
/// iterations on several threads write their own slot without touching shared state (an `Array` property
/// would be moved out and back by each write).
private final class ChunkResults<Value: Sendable>: @unchecked Sendable {
  private let storage: UnsafeMutableBufferPointer<Value?>

  init(count: Int) {
    storage = .allocate(capacity: count)
    storage.initialize(repeating: nil)
  }

  deinit {
    storage.deinitialize()
    storage.deallocate()
  }

  func set(_ position: Int, _ value: Value) {
    storage[position] = value
  }

  var values: [Value] { storage.compactMap { $0 } }
}
