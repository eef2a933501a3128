/// The declared side: a dbt project as a graph of unique ids, with what driftwatch needs of each node.

public enum ResourceType: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case source
  case model
  case seed
  case snapshot
  case test
  case exposure
  case analysis
  case metric
  case semanticModel = "semantic_model"
  case savedQuery = "saved_query"
  case unitTest = "unit_test"

  private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
  public static func < (lhs: ResourceType, rhs: ResourceType) -> Bool { lhs.order < rhs.order }
}

/// A column as a source yml declares it.
public struct DeclaredColumn: Sendable, Hashable, Codable {
  public var name: String
  public var dataType: String?

  public init(name: String, dataType: String? = nil) {
    self.name = name
    self.dataType = dataType
  }
}

/// A source table (`source('acme', 'raw_customers')`), resolved to where it lives.
public struct SourceTable: Sendable, Hashable, Codable {
  /// `source.<package>.<source_name>.<table_name>`
  public var uniqueID: String
  public var packageName: String
  public var sourceName: String
  public var name: String
  public var database: String?
  public var schema: String
  /// The relation name in the warehouse (`identifier:` or the table name).
  public var identifier: String
  /// Declared columns, in declaration order. Empty when the yml declares none.
  public var columns: [DeclaredColumn]
  /// The file that declares it, relative to the project root (e.g. `models/staging/src_acme.yml`).
  public var filePath: String?
  /// The source's and the table's tags together, as dbt's manifest lists them (for `tag:` selection).
  public var tags: [String]
  /// The `identifier:` as the yml writes it, when it is Jinja (`{{ var('team_identifier', 'team') }}`): what a
  /// fix repoints, also for a source declared in an installed package, whose yml it never edits.
  public var identifierExpression: String?

  public init(
    uniqueID: String, packageName: String, sourceName: String, name: String, database: String? = nil,
    schema: String, identifier: String? = nil, columns: [DeclaredColumn] = [], filePath: String? = nil,
    tags: [String] = [], identifierExpression: String? = nil
  ) {
    self.identifierExpression = identifierExpression
    self.uniqueID = uniqueID
    self.packageName = packageName
    self.sourceName = sourceName
    self.name = name
    self.database = database
    self.schema = schema
    self.identifier = identifier ?? name
    self.columns = columns
    self.filePath = filePath
    self.tags = tags
  }

  /// `acme.raw_customers`
  public var displayName: String { "\(sourceName).\(name)" }
  public var schemaRef: SchemaRef { SchemaRef(database: database, schema: schema) }
}

/// What a data test checks, when driftwatch can tell.
public struct TestInfo: Sendable, Hashable, Codable {
  /// `unique`, `not_null`, `accepted_values`, `relationships`, another generic test's name, or `singular`.
  public var testName: String
  /// The column a generic test is attached to, if any.
  public var columnName: String?
  /// The node a generic test is attached to (unique id), if any.
  public var attachedNode: String?
  /// `accepted_values` values, as strings.
  public var acceptedValues: [String]?

  public init(
    testName: String, columnName: String? = nil, attachedNode: String? = nil, acceptedValues: [String]? = nil
  ) {
    self.testName = testName
    self.columnName = columnName
    self.attachedNode = attachedNode
    self.acceptedValues = acceptedValues
  }
}

/// Any node of the graph other than a source: model, seed, snapshot, test, exposure, …
public struct GraphNode: Sendable, Hashable, Codable {
  public var uniqueID: String
  public var resourceType: ResourceType
  public var name: String
  public var packageName: String
  /// Unique ids of the nodes and sources this node reads (dbt's `depends_on.nodes`).
  public var dependsOn: [String]
  /// Path relative to the project root, when known.
  public var filePath: String?
  public var tags: [String]
  /// Model/test SQL as written (Jinja unrendered), when known. Used to tell which columns a model reads.
  public var rawCode: String?
  /// The SQL dbt runs for it, when known (the manifest's `compiled_code`, or a render against the live
  /// schema): what `check` reads to tell which columns it uses, before `rawCode`.
  public var compiled: CompiledReader?
  public var test: TestInfo?
  /// Exposure type (`dashboard`, `notebook`, …) and label.
  public var exposureType: String?
  public var label: String?
  /// dbt's fully qualified name (`[package, folder…, name]`), when known: what `dbt ls` prints as a node's
  /// selector.
  public var fqn: [String]?

  public init(
    uniqueID: String, resourceType: ResourceType, name: String, packageName: String, dependsOn: [String] = [],
    filePath: String? = nil, tags: [String] = [], rawCode: String? = nil, test: TestInfo? = nil,
    exposureType: String? = nil, label: String? = nil, fqn: [String]? = nil
  ) {
    self.fqn = fqn
    self.uniqueID = uniqueID
    self.resourceType = resourceType
    self.name = name
    self.packageName = packageName
    self.dependsOn = dependsOn
    self.filePath = filePath
    self.tags = tags
    self.rawCode = rawCode
    self.test = test
    self.exposureType = exposureType
    self.label = label
  }
}

/// A whole dbt project: sources and every other node, keyed by unique id.
public struct ProjectGraph: Sendable, Codable {
  public var projectName: String
  public var sources: [String: SourceTable]
  public var nodes: [String: GraphNode]
  /// Why nodes and sources are incomplete, by unique id: what the reader could not evaluate in them (see
  /// `Incompleteness`). Empty for an exact graph (a manifest's, or a project with nothing to render).
  public var incomplete: [String: [Incompleteness]] = [:]
  /// What the reader warns about that leaves no node incomplete (a duplicate yml key: the last one wins).
  public var warnings: [ProjectWarning] = []
  /// Renders readers' SQL against a live schema (the project reader's; none for a manifest's graph).
  public var readerCompiler: ReaderCompilerBox?

  /// Pass the arrays with `consume` where they are not needed after: their elements are then moved into the
  /// graph instead of copied (a 70,000-node project's strings are not retained and released once more).
  public init(projectName: String, sources: consuming [SourceTable], nodes: consuming [GraphNode]) {
    self.init(projectName: projectName, sources: sources, nodeBatches: [nodes])
  }

  /// The nodes in batches (as several threads read them), in order: the same graph as one list of all of
  /// them. Batches passed with `consume` are moved in.
  public init(projectName: String, sources: consuming [SourceTable], nodeBatches: consuming [[GraphNode]]) {
    self.projectName = projectName
    self.sources = Self.byID([consume sources]) { $0.uniqueID }
    self.nodes = Self.byID(consume nodeBatches) { $0.uniqueID }
  }

  /// Keyed by id; of equal ids the first is kept.
  @inline(__always)
  private static func byID<Value>(
    _ batches: consuming [[Value]], id: (borrowing Value) -> String
  ) -> [String: Value] {
    var batches = consume batches
    var result: [String: Value] = [:]
    result.reserveCapacity(batches.reduce(0) { $0 + $1.count })
    // From the last to the first, each moved out of its array: an earlier value overwrites a later one with
    // the same id, so the first wins.
    while var values = batches.popLast() {
      while let value = values.popLast() {
        let key = id(value)
        result[key] = consume value
      }
    }
    return result
  }

  /// The schemas the sources live in: what a warehouse must introspect, and nothing more.
  public var sourceSchemas: [SchemaRef] {
    Array(Set(sources.values.map(\.schemaRef))).sorted()
  }
}

extension ProjectGraph {
  /// A cycle among the nodes' dependencies, as dbt finds it before it runs anything: the ids along the cycle in
  /// the direction data flows (each one feeds the next, and the last feeds the first), starting at the
  /// smallest id that a walk in id order meets on a cycle; `nil` when the graph is acyclic. Iterative (a chain
  /// of 100,000 models is fine): O(nodes + edges).
  public func dependencyCycle() -> [String]? {
    // Looked for in the dictionary's order first (no sorting of a large project's ids), then, only when there
    // is one, again in id order, so that the same cycle is reported every time.
    // Only nodes other nodes can depend on can be on a cycle: not tests, exposures, analyses (most of a large
    // project's nodes are its tests).
    var candidates: [Dictionary<String, GraphNode>.Index] = []
    for position in nodes.indices where Self.canBeDependedOn(nodes[position].value.resourceType) {
      candidates.append(position)
    }
    guard cycle(candidates, sortedChildren: false) != nil else { return nil }
    candidates.sort { nodes[$0].key < nodes[$1].key }
    return cycle(candidates, sortedChildren: true)
  }

  private static func canBeDependedOn(_ type: ResourceType) -> Bool {
    switch type {
    case .model, .seed, .snapshot, .metric, .semanticModel: true
    case .source, .test, .exposure, .analysis, .savedQuery, .unitTest: false
    }
  }

  private func cycle(_ vertices: [Dictionary<String, GraphNode>.Index], sortedChildren: Bool) -> [String]? {
    // Vertices: the candidate nodes; edges: parent → child for each dependency on another candidate.
    var position: [String: Int] = [:]
    position.reserveCapacity(vertices.count)
    for (index, vertex) in vertices.enumerated() { position[nodes[vertex].key] = index }
    var children = [[Int]](repeating: [], count: vertices.count)
    for (index, vertex) in vertices.enumerated() {
      // A parent named twice gives a child twice: harmless to the walk.
      for parent in nodes[vertex].value.dependsOn {
        if let from = position[parent] { children[from].append(index) }
      }
    }
    if sortedChildren { for index in children.indices { children[index].sort() } }
    // 0: not seen, 1: on the current path, 2: done.
    var state = [UInt8](repeating: 0, count: vertices.count)
    for start in vertices.indices where state[start] == 0 {
      // The path from `start`, each vertex with the index of the next child to visit.
      var path: [(vertex: Int, next: Int)] = [(start, 0)]
      state[start] = 1
      while let (vertex, next) = path.last {
        guard next < children[vertex].count else {
          state[vertex] = 2
          path.removeLast()
          continue
        }
        path[path.count - 1].next += 1
        let child = children[vertex][next]
        switch state[child] {
        case 0:
          state[child] = 1
          path.append((child, 0))
        case 1:
          guard let from = path.firstIndex(where: { $0.vertex == child }) else { continue }
          return path[from...].map { nodes[vertices[$0.vertex]].key }
        default:
          continue
        }
      }
    }
    return nil
  }
}
