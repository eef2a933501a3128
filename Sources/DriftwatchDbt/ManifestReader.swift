import DriftwatchCore
import Foundation

/// Reads dbt's `target/manifest.json` (schema v12, written by dbt 1.8 to 1.11; other versions are read
/// for the same fields when present) into the same `ProjectGraph` `DbtProjectReader` builds from files.
///
/// Only the fields driftwatch uses are decoded. Nodes of kinds driftwatch does not model (operations,
/// hooks, functions) are skipped; so are disabled nodes, semantic models, metrics and unit tests. dbt keeps
/// a test whose parent is disabled among the nodes, with `config.enabled: false` and the parent cut from
/// its `depends_on`; such tests never run, and are skipped here as `DbtProjectReader` skips them.
/// Generic tests on sources carry no `attached_node` in dbt's manifest; the source is recovered from the
/// test's `model` argument, so `TestInfo.attachedNode` is set for them as `DbtProjectReader` sets it.
/// Declared column order is kept (JSON objects are read in file order).
/// How `ManifestReader` reads a manifest.
public struct ManifestReadOptions: Sendable {
  /// Keep each node's SQL (`raw_code`): `check` reads it to see which columns a model uses; lineage does not,
  /// and skipping it saves decoding most of a large manifest's bytes.
  public var includeSQL: Bool
  /// Free the parsed manifest once the graph is built (on another core). A command line that exits right
  /// after its answer sets this to `false`: the process's exit returns that memory at no cost.
  public var freeParsedManifest: Bool

  public init(includeSQL: Bool = true, freeParsedManifest: Bool = true) {
    self.includeSQL = includeSQL
    self.freeParsedManifest = freeParsedManifest
  }
}

public enum ManifestReader {
  public static func read(path: String) throws -> ProjectGraph {
    try read(path: path, options: ManifestReadOptions())
  }

  public static func read(path: String, options: ManifestReadOptions) throws -> ProjectGraph {
    // Mapped, not copied: a large project's manifest is hundreds of megabytes.
    guard
      let data = (try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped))
        ?? FileManager.default.contents(atPath: path)
    else {
      let problem = FileReading.openProblem(path)
      guard problem.isMissing else {
        throw DbtError(
          "cannot read the manifest (\(problem.reason)); make it readable by the user running driftwatch",
          file: path)
      }
      throw DbtError(
        "no manifest at \(path); run `dbt parse` in the project to write target/manifest.json, or pass its path"
      )
    }
    return try read(data: data, path: path, options: options)
  }

  /// `path` is only used in messages.
  public static func read(
    data: Data, path: String = "manifest.json", options: ManifestReadOptions = ManifestReadOptions()
  ) throws -> ProjectGraph {
    let manifest: SlimManifest
    do {
      manifest = try data.withUnsafeBytes { raw throws(JSONCursor.Failure) in
        var cursor = JSONCursor(bytes: raw.bindMemory(to: UInt8.self))
        return try SlimManifest.read(&cursor, includeSQL: options.includeSQL)
      }
    } catch let error as JSONCursor.Failure {
      throw DbtError("not a dbt manifest (\(error.description)); regenerate it with `dbt parse`", file: path)
    }
    StepTrace.mark("manifest: rest parsed")

    var sources: [SourceTable] = []
    for (id, source) in manifest.sources ?? [:] {
      let columns = source.columns ?? []
      sources.append(
        SourceTable(
          uniqueID: id, packageName: source.packageName, sourceName: source.sourceName, name: source.name,
          database: source.database, schema: source.schema ?? source.sourceName,
          identifier: source.identifier ?? source.name,
          columns: columns.map { key, column in
            DeclaredColumn(name: column.name ?? key, dataType: column.dataType)
          },
          filePath: source.originalFilePath, tags: GraphAssembler.normalizedTags(source.tags ?? [])))
    }
    StepTrace.mark("manifest: sources")
    // The nodes became graph nodes while they were read; generic tests on sources wait for the sources.
    var batches = manifest.nodes
    if batches.contains(where: { !$0.sourceTests.isEmpty }) {
      let sourcesByName = Dictionary(
        sources.map { ("\($0.packageName)\u{0}\($0.sourceName)\u{0}\($0.name)", $0.uniqueID) },
        uniquingKeysWith: { first, _ in first })
      for batch in batches.indices {
        for (position, call) in batches[batch].sourceTests {
          let node = batches[batch].nodes[position]
          batches[batch].nodes[position].test?.attachedNode = attachedSource(
            call, package: node.packageName, dependsOn: node.dependsOn, sources: sourcesByName)
        }
      }
    }
    let projectName = manifest.projectName ?? batches.compactMap(\.modelPackage).min() ?? ""
    var nodes = batches.map(\.nodes)
    var exposures: [GraphNode] = []
    for (id, exposure) in manifest.exposures ?? [:] {
      exposures.append(
        GraphNode(
          uniqueID: id, resourceType: .exposure, name: exposure.name, packageName: exposure.packageName,
          dependsOn: exposure.dependsOn?.nodes ?? [], filePath: exposure.originalFilePath,
          tags: GraphAssembler.normalizedTags(exposure.tags ?? []), exposureType: exposure.type,
          label: exposure.label))
    }
    nodes.append(exposures)
    // The batches go, so that the node arrays are held once and move into the graph.
    batches = []
    StepTrace.mark("manifest: nodes")
    let graph = ProjectGraph(projectName: projectName, sources: consume sources, nodeBatches: consume nodes)
    StepTrace.mark("manifest: graph")
    if let cycle = graph.dependencyCycle() { throw DbtError.cycle(cycle, file: path) }
    // Freeing a large manifest's parsed values takes a while: another core does it, or the process's exit.
    Leftovers.release((consume manifest, data), free: options.freeParsedManifest)
    return graph
  }

  private static let keptTypes: Set<ResourceType> = [
    .model, .seed, .snapshot, .test, .analysis, .semanticModel, .metric, .savedQuery, .unitTest,
  ]

  /// One manifest node as the graph holds it, added to `batch`; nothing for kinds driftwatch does not model
  /// and disabled nodes.
  fileprivate static func add(_ id: String, _ node: SlimManifest.Node, to batch: inout NodeBatch) {
    // For a manifest without `metadata.project_name`: every model counts, disabled ones too.
    if node.resourceType == "model" {
      batch.modelPackage = min(batch.modelPackage ?? node.packageName, node.packageName)
    }
    guard let type = ResourceType(rawValue: node.resourceType), keptTypes.contains(type) else { return }
    // dbt leaves tests whose parents are disabled among the nodes, disabled and cut from their parents.
    guard node.config?.enabled ?? true else { return }
    var test: TestInfo?
    var sourceCall: JinjaScan.Source?
    var rawCode = node.rawCode.flatMap { $0.isEmpty ? nil : $0 }
    var compiled = node.compiledCode.flatMap {
      $0.isEmpty ? nil : CompiledReader(sql: $0, status: .compiled)
    }
    if type == .test {
      compiled = nil
      if let metadata = node.testMetadata {
        rawCode = nil
        let name = metadata.name ?? ""
        let qualified = metadata.namespace.map { "\($0).\(name)" } ?? name
        let column = node.columnName ?? metadata.kwargs?.columnName
        if node.attachedNode == nil, let model = metadata.kwargs?.model {
          sourceCall = (try? JinjaScanner.scan(model))?.sources.first
        }
        test = TestInfo(
          testName: qualified, columnName: column.map(GraphAssembler.unquote),
          attachedNode: node.attachedNode,
          acceptedValues: name == "accepted_values" ? metadata.kwargs?.values?.map(\.pythonStr) : nil)
      } else {
        test = TestInfo(testName: "singular")
      }
    } else if type == .seed {
      rawCode = nil
      compiled = nil
    }
    if let sourceCall { batch.sourceTests.append((batch.nodes.count, sourceCall)) }
    batch.nodes.append(
      GraphNode(
        uniqueID: id, resourceType: type, name: node.name, packageName: node.packageName,
        dependsOn: node.dependsOn?.nodes ?? [], filePath: node.originalFilePath,
        tags: GraphAssembler.normalizedTags(node.tags ?? []), rawCode: rawCode, test: test, fqn: node.fqn))
    batch.nodes[batch.nodes.count - 1].compiled = compiled
  }

  /// A source test's `model` argument is `{{ get_where_subquery(source('s', 't')) }}`.
  private static func attachedSource(
    _ call: JinjaScan.Source, package: String, dependsOn: [String], sources: [String: String]
  ) -> String? {
    let key = "\(package)\u{0}\(call.sourceName)\u{0}\(call.tableName)"
    if let id = sources[key] { return id }
    let suffix = ".\(call.sourceName).\(call.tableName)"
    return dependsOn.first { $0.hasPrefix("source.") && $0.hasSuffix(suffix) }
  }

  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let components = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return components.isEmpty ? "top level" : components.joined(separator: ".")
    }
    switch error {
    case .dataCorrupted(let context): return "invalid json near \(path(context))"
    case .keyNotFound(let key, let context): return "missing `\(key.stringValue)` at \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "unexpected value at \(path(context))"
    @unknown default: return "unreadable json"
    }
  }
}

// MARK: - Slim manifest

/// Graph nodes read from one stretch of the manifest's `nodes`, with the generic tests on sources whose
/// `attachedNode` waits for the sources (read after the nodes).
struct NodeBatch: Sendable {
  var nodes: [GraphNode] = []
  /// Position in `nodes` and the test's `source()` call.
  var sourceTests: [(Int, JinjaScan.Source)] = []
  /// The first, in sort order, of the packages of the models read (disabled ones too).
  var modelPackage: String?
}

/// The fields of manifest.json driftwatch uses, read in one pass with `JSONCursor` (everything else is
/// skipped unread). Required fields (`nodes`, each node's `resource_type`, `name`, `package_name`, …) fail
/// the read when missing; fields driftwatch can do without are read leniently: a surprising shape in one of
/// them must not make a whole manifest unreadable.
private struct SlimManifest {
  struct Kwargs: Sendable {
    var columnName: String?
    var values: [JSONScalar]?
    var model: String?
  }

  struct TestMetadata: Sendable {
    var name: String?
    var namespace: String?
    var kwargs: Kwargs?
  }

  struct Config: Sendable {
    var enabled: Bool?
  }

  struct DependsOn: Sendable {
    var nodes: [String]?
  }

  struct Node: Sendable {
    var config: Config?
    var resourceType: String
    var name: String
    var packageName: String
    var dependsOn: DependsOn?
    var originalFilePath: String?
    var tags: [String]?
    var rawCode: String?
    var compiledCode: String?
    var testMetadata: TestMetadata?
    var attachedNode: String?
    var columnName: String?
    var fqn: [String]?
  }

  struct Column {
    var name: String?
    var dataType: String?
  }

  struct Source {
    var name: String
    var sourceName: String
    var packageName: String
    var database: String?
    var schema: String?
    var identifier: String?
    /// In file order (dbt writes them in declaration order).
    var columns: [(String, Column)]?
    var originalFilePath: String?
    var tags: [String]?
  }

  struct Exposure {
    var name: String
    var packageName: String
    var type: String?
    var label: String?
    var dependsOn: DependsOn?
    var originalFilePath: String?
    var tags: [String]?
  }

  var projectName: String?
  /// The nodes as graph nodes, in file order.
  var nodes: [NodeBatch]
  var sources: [String: Source]?
  var exposures: [String: Exposure]?

  typealias Failure = JSONCursor.Failure

  static func read(_ cursor: inout JSONCursor, includeSQL: Bool) throws(Failure) -> SlimManifest {
    var projectName: String?
    var nodes: [NodeBatch]?
    var sources: [String: Source]?
    var exposures: [String: Exposure]?
    var semanticBatches: [NodeBatch] = []
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      switch key {
      case "metadata":
        if cursor.readNull() { return }
        try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
          if key == "project_name" {
            projectName = try cursor.readOptionalString()
          } else {
            try cursor.skipValue()
          }
        }
      case "nodes":
        // Read on every core at once, each thread from a guessed member start, checked in order after.
        nodes = try ParallelMembers.read(&cursor, batch: NodeBatch.init) {
          (cursor, id, batch) throws(Failure) in
          ManifestReader.add(id.string, try readNode(&cursor, includeSQL: includeSQL), to: &batch)
        }
        StepTrace.mark("manifest: nodes parsed")
      case "sources":
        if cursor.readNull() { return }
        // Read on every core, like the nodes (source ids have the same shape).
        let batches = try ParallelMembers.read(&cursor, batch: { [(String, Source)]() }) {
          (cursor, id, batch) throws(Failure) in
          batch.append((id.string, try readSource(&cursor)))
        }
        var read: [String: Source] = [:]
        read.reserveCapacity(batches.reduce(0) { $0 + $1.count })
        for batch in batches {
          for (id, source) in batch { read[id] = source }
        }
        sources = read
        StepTrace.mark("manifest: sources parsed")
      case "semantic_models", "metrics", "saved_queries", "unit_tests":
        // dbt's semantic layer and unit tests: the node fields, in their own sections.
        if cursor.readNull() { return }
        var batch = NodeBatch()
        try cursor.forEachMember { (cursor: inout JSONCursor, id: JSONCursor.Key) throws(Failure) in
          ManifestReader.add(id.string, try readNode(&cursor, includeSQL: false), to: &batch)
        }
        semanticBatches.append(batch)
      case "exposures":
        if cursor.readNull() { return }
        var read: [String: Exposure] = [:]
        try cursor.forEachMember { (cursor: inout JSONCursor, id: JSONCursor.Key) throws(Failure) in
          read[id.string] = try readExposure(&cursor)
        }
        exposures = read
      default:
        try cursor.skipValue()
      }
    }
    guard let nodes else { throw .missing(key: "nodes", path: "top level") }
    return SlimManifest(
      projectName: projectName, nodes: nodes + semanticBatches, sources: sources, exposures: exposures)
  }

  private static func required(_ value: String?, _ key: String, _ cursor: JSONCursor) throws(Failure)
    -> String
  {
    guard let value else { throw .missing(key: key, path: cursor.pathText) }
    return value
  }

  private static func readNode(_ cursor: inout JSONCursor, includeSQL: Bool) throws(Failure) -> Node {
    var config: Config?
    var resourceType: String?
    var name: String?
    var packageName: String?
    var dependsOn: DependsOn?
    var originalFilePath: String?
    var tags: [String]?
    var rawCode: String?
    var rawSQL: String?
    var compiledCode: String?
    var testMetadata: TestMetadata?
    var attachedNode: String?
    var columnName: String?
    var fqn: [String]?
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      switch key {
      case "config": config = try readConfig(&cursor)
      case "fqn": fqn = try cursor.readLenientStringList()
      case "resource_type": resourceType = try cursor.readString()
      case "name": name = try cursor.readString()
      case "package_name": packageName = try cursor.readString()
      case "depends_on": dependsOn = try readLenientDependsOn(&cursor)
      case "original_file_path": originalFilePath = try cursor.readLenientString()
      case "tags": tags = try cursor.readLenientStringList()
      case "raw_code" where includeSQL: rawCode = try cursor.readLenientString()
      case "raw_sql" where includeSQL: rawSQL = try cursor.readLenientString()
      // What `dbt compile`/`run`/`build` rendered (absent after `dbt parse`): the SQL the node runs.
      case "compiled_code" where includeSQL, "compiled_sql" where includeSQL:
        compiledCode = try cursor.readLenientString()
      case "test_metadata": testMetadata = testMetadataFrom(try cursor.readValue())
      case "attached_node": attachedNode = try cursor.readLenientString()
      case "column_name": columnName = try cursor.readLenientString()
      default: try cursor.skipValue()
      }
    }
    return Node(
      config: config, resourceType: try required(resourceType, "resource_type", cursor),
      name: try required(name, "name", cursor),
      packageName: try required(packageName, "package_name", cursor),
      dependsOn: dependsOn, originalFilePath: originalFilePath, tags: tags, rawCode: rawCode ?? rawSQL,
      compiledCode: compiledCode, testMetadata: testMetadata, attachedNode: attachedNode,
      columnName: columnName, fqn: fqn)
  }

  /// `config.enabled`; a config of another shape counts as none.
  private static func readConfig(_ cursor: inout JSONCursor) throws(Failure) -> Config? {
    guard cursor.peek() == UInt8(ascii: "{") else {
      try cursor.skipValue()
      return nil
    }
    var config: Config? = Config()
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      guard key == "enabled" else { return try cursor.skipValue() }
      if cursor.readNull() { return }
      if let enabled = try cursor.readLenientBool() { config?.enabled = enabled } else { config = nil }
    }
    return config
  }

  private static func readLenientDependsOn(_ cursor: inout JSONCursor) throws(Failure) -> DependsOn? {
    guard cursor.peek() == UInt8(ascii: "{") else {
      try cursor.skipValue()
      return nil
    }
    var dependsOn: DependsOn? = DependsOn()
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      guard key == "nodes" else { return try cursor.skipValue() }
      if cursor.readNull() { return }
      if let nodes = try cursor.readLenientStringList() { dependsOn?.nodes = nodes } else { dependsOn = nil }
    }
    return dependsOn
  }

  private static func testMetadataFrom(_ value: JSONCursor.Value) -> TestMetadata? {
    guard case .object(let members) = value else { return nil }
    var metadata = TestMetadata()
    for (key, value) in members {
      switch (key, value) {
      case ("name", .string(let text)): metadata.name = text
      case ("name", .null): metadata.name = nil
      case ("namespace", .string(let text)): metadata.namespace = text
      case ("namespace", .null): metadata.namespace = nil
      case ("kwargs", .object(let arguments)):
        var kwargs = Kwargs()
        for (argument, value) in arguments {
          switch (argument, value) {
          case ("column_name", .string(let text)): kwargs.columnName = text
          case ("model", .string(let text)): kwargs.model = text
          case ("values", .array(let items)): kwargs.values = items.map(JSONScalar.init)
          default: break
          }
        }
        metadata.kwargs = kwargs
      case ("kwargs", .null): metadata.kwargs = nil
      case ("name", _), ("namespace", _), ("kwargs", _): return nil
      default: break
      }
    }
    return metadata
  }

  private static func readSource(_ cursor: inout JSONCursor) throws(Failure) -> Source {
    var name: String?
    var sourceName: String?
    var packageName: String?
    var source = Source(name: "", sourceName: "", packageName: "")
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      switch key {
      case "name": name = try cursor.readString()
      case "source_name": sourceName = try cursor.readString()
      case "package_name": packageName = try cursor.readString()
      case "database": source.database = try cursor.readOptionalString()
      case "schema": source.schema = try cursor.readOptionalString()
      case "identifier": source.identifier = try cursor.readOptionalString()
      case "original_file_path": source.originalFilePath = try cursor.readOptionalString()
      case "tags": source.tags = try readOptionalStringList(&cursor)
      case "columns":
        if cursor.readNull() { return }
        var columns: [(String, Column)] = []
        var positions: [String: Int] = [:]
        try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
          var column = Column()
          try cursor.forEachMember { (cursor: inout JSONCursor, field: JSONCursor.Key) throws(Failure) in
            switch field {
            case "name": column.name = try cursor.readOptionalString()
            case "data_type": column.dataType = try cursor.readOptionalString()
            default: try cursor.skipValue()
            }
          }
          let name = key.string
          if let position = positions[name] {
            columns[position].1 = column
          } else {
            positions[name] = columns.count
            columns.append((name, column))
          }
        }
        source.columns = columns
      default: try cursor.skipValue()
      }
    }
    source.name = try required(name, "name", cursor)
    source.sourceName = try required(sourceName, "source_name", cursor)
    source.packageName = try required(packageName, "package_name", cursor)
    return source
  }

  private static func readOptionalStringList(_ cursor: inout JSONCursor) throws(Failure) -> [String]? {
    if cursor.readNull() { return nil }
    var items: [String] = []
    try cursor.forEachItem { (cursor: inout JSONCursor) throws(Failure) in
      items.append(try cursor.readString())
    }
    return items
  }

  private static func readExposure(_ cursor: inout JSONCursor) throws(Failure) -> Exposure {
    var name: String?
    var packageName: String?
    var exposure = Exposure(name: "", packageName: "")
    try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
      switch key {
      case "name": name = try cursor.readString()
      case "package_name": packageName = try cursor.readString()
      case "type": exposure.type = try cursor.readOptionalString()
      case "label": exposure.label = try cursor.readOptionalString()
      case "original_file_path": exposure.originalFilePath = try cursor.readOptionalString()
      case "tags": exposure.tags = try readOptionalStringList(&cursor)
      case "depends_on":
        if cursor.readNull() { return }
        var dependsOn = DependsOn()
        try cursor.forEachMember { (cursor: inout JSONCursor, key: JSONCursor.Key) throws(Failure) in
          if key == "nodes" {
            dependsOn.nodes = try readOptionalStringList(&cursor)
          } else {
            try cursor.skipValue()
          }
        }
        exposure.dependsOn = dependsOn
      default: try cursor.skipValue()
      }
    }
    exposure.name = try required(name, "name", cursor)
    exposure.packageName = try required(packageName, "package_name", cursor)
    return exposure
  }
}

/// A JSON scalar as Python's `str()` prints it (accepted values can be strings, numbers, booleans, null).
private enum JSONScalar: Sendable {
  case string(String)
  case int(Int)
  case double(Double)
  case bool(Bool)
  case null
  case other

  init(_ value: JSONCursor.Value) {
    switch value {
    case .string(let text): self = .string(text)
    case .bool(let flag): self = .bool(flag)
    case .null: self = .null
    case .number(let text):
      if let integer = Int(text) {
        self = .int(integer)
      } else if let double = Double(text) {
        self = .double(double)
      } else {
        self = .other
      }
    case .array, .object: self = .other
    }
  }

  var pythonStr: String {
    switch self {
    case .string(let value): return value
    case .int(let value): return String(value)
    case .double(let value): return PyValue.float(value).pythonStr
    case .bool(let value): return value ? "True" : "False"
    case .null: return "None"
    case .other: return ""
    }
  }
}
