import DriftwatchCore
import DriftwatchJinja

/// Compiles readers as `dbt compile` would, from the project's files, against the live schema driftwatch has
/// already read: `execute` is true, `ref`/`source` give the relations they compile to, and
/// `adapter.get_columns_in_relation` (with everything built on it: `dbt_utils.star`, a package's
/// fill-the-missing-columns macro) is answered from the live schema — a source's columns as the warehouse has
/// them, a pass-through model's (`select * from …`) as its parents'. What needs a real query (`run_query`)
/// gives an empty result and marks the node approximate; a node that cannot be rendered is `unrendered`
/// (it then counts as reading every column of its parents).
///
/// The macro files are read and compiled once per `compile` call, only when some node needs compiling.
struct ProjectReaderCompiler: ReaderCompiler {
  let packages: [PackageContext]
  let macroTasks: [FileTask]
  let options: DbtReadOptions
  /// `--vars`, over every project's `vars:`.
  var cliVars: [PyPair] = []

  func compile(_ nodes: [String], project: ProjectGraph, live: LiveSchema) -> [String: CompiledReader] {
    guard !nodes.isEmpty else { return [:] }
    let rendering = IncompleteNodeRendering(
      packages: packages, macroTasks: macroTasks, options: options, cliVars: cliVars)
    let session = CompileSession(
      rendering: rendering, project: project, live: live,
      target: options.target, defaultDatabase: options.defaultDatabase)
    var compiled: [String: CompiledReader] = [:]
    for id in nodes { compiled[id] = session.compiled(id) }
    return compiled
  }
}

/// One `compile` call's renders, memoized (a model's columns may need its parent compiled first).
final class CompileSession: DbtCompileCatalog {
  let rendering: IncompleteNodeRendering
  let project: ProjectGraph
  let live: LiveSchema
  let target: [String: String]
  let defaultDatabase: String?
  private var done: [String: CompiledReader] = [:]
  private var inProgress: Set<String> = []
  private var liveTables: [String: LiveTable] = [:]
  private var nodesByName: [String: [GraphNode]] = [:]
  private var sourcesByName: [String: SourceTable] = [:]
  /// A model's columns, once inferred, with why they are approximate (nil: exact).
  private var modelColumns: [String: (columns: [DbtColumnInfo], approximate: String?)] = [:]

  init(
    rendering: IncompleteNodeRendering, project: ProjectGraph, live: LiveSchema, target: [String: String],
    defaultDatabase: String?
  ) {
    self.rendering = rendering
    self.project = project
    self.live = live
    self.target = target
    self.defaultDatabase = defaultDatabase
    for table in live.tables {
      liveTables[Self.key(table.schema.schema, table.name)] =
        liveTables[Self.key(table.schema.schema, table.name)]
        ?? table
    }
    for node in project.nodes.values
    where [.model, .seed, .snapshot].contains(node.resourceType) {
      nodesByName[node.name.lowercased(), default: []].append(node)
    }
    for source in project.sources.values {
      sourcesByName[source.sourceName + "\u{1}" + source.name] = source
    }
  }

  static func key(_ schema: String, _ name: String) -> String {
    schema.lowercased() + "\u{1}" + name.lowercased()
  }

  /// The node rendered with the compile-time context.
  func compiled(_ id: String) -> CompiledReader {
    if let known = done[id] { return known }
    guard let node = project.nodes[id] else {
      return CompiledReader(sql: nil, status: .unrendered, reason: "\(id) is not in the project")
    }
    let place = node.filePath ?? id
    guard !inProgress.contains(id) else {
      return CompiledReader(
        sql: nil, status: .unrendered, reason: "\(place): its columns depend on itself through introspection")
    }
    inProgress.insert(id)
    defer { inProgress.remove(id) }
    let result = render(node, place: place)
    done[id] = result
    return result
  }

  private func render(_ node: GraphNode, place: String) -> CompiledReader {
    func unrendered(_ why: String) -> CompiledReader {
      CompiledReader(sql: nil, status: .unrendered, reason: why, againstLiveSchema: true)
    }
    guard node.resourceType == .model, let text = node.rawCode else {
      return unrendered("\(place): only models' SQL is compiled")
    }
    guard let package = rendering.packageIndex(named: node.packageName) else {
      return unrendered("\(place): package \(node.packageName) is not installed")
    }
    let library: MacroLibrary
    switch rendering.macros {
    case .success(let macros): library = macros
    case .failure(let error): return unrendered(Self.describe(error, place: place))
    }
    let context = DbtCompileContext(parse: rendering.parseContext(package: package), catalog: self)
    let sql: String
    do {
      let template = try Template(text, file: place)
      sql = try template.render(provider: context, library: library, scope: context.macroScope)
    } catch let error as JinjaError {
      return unrendered(Self.describe(error, place: place))
    } catch {
      return unrendered("\(place): \(error)")
    }
    if let call = context.parse.recorder.undefinedCalls.first(where: {
      !IncompleteNodeRendering.isDbtMacro($0.name)
    }) {
      return unrendered(
        "\(call.file ?? place):\(call.line): \(call.name)(…) is a macro found in neither the project, its "
          + "packages nor dbt")
    }
    if !context.approximations.isEmpty {
      return CompiledReader(
        sql: sql, status: .approximate, reason: "\(place): " + context.approximations.joined(separator: "; "),
        againstLiveSchema: true)
    }
    return CompiledReader(sql: sql, status: .compiled, againstLiveSchema: true)
  }

  static func describe(_ error: JinjaError, place: String) -> String {
    let location = (error.file ?? place) + (error.line.map { ":\($0)" } ?? "")
    let construct = error.construct.map { " \($0)" } ?? ""
    return "\(location)\(construct): \(error.detail)"
  }

  // MARK: DbtCompileCatalog

  func source(_ sourceName: String, _ table: String) -> DbtRelation? {
    guard let source = sourcesByName[sourceName + "\u{1}" + table] else { return nil }
    return DbtRelation(
      database: source.database, schema: source.schema, identifier: source.identifier,
      nodeID: source.uniqueID)
  }

  func ref(_ ref: DbtRef) -> DbtRelation? {
    let candidates = (nodesByName[ref.name.lowercased()] ?? []).filter {
      ref.package == nil || $0.packageName == ref.package
    }
    guard let node = candidates.first(where: { $0.packageName == project.projectName }) ?? candidates.first
    else {
      return nil
    }
    return DbtRelation(
      database: target["dbname"] ?? target["database"] ?? defaultDatabase, schema: target["schema"],
      identifier: node.name, nodeID: node.uniqueID)
  }

  func relation(database: String?, schema: String?, identifier: String) -> DbtRelation? {
    guard let schema, let table = liveTables[Self.key(schema, identifier)] else { return nil }
    let source = project.sources.values.first {
      $0.schema.lowercased() == table.schema.schema.lowercased()
        && $0.identifier.lowercased() == table.name.lowercased()
    }
    return DbtRelation(
      database: database ?? table.schema.database, schema: table.schema.schema, identifier: table.name,
      nodeID: source?.uniqueID)
  }

  func columns(in relation: DbtRelation, approximate: inout String?) throws -> [DbtColumnInfo] {
    if let id = relation.nodeID, project.nodes[id] != nil {
      let inferred = try columns(ofModel: id)
      if let why = inferred.approximate { approximate = why }
      return inferred.columns
    }
    guard let schema = relation.schema, let identifier = relation.identifier,
      let table = liveTables[Self.key(schema, identifier)]
    else {
      throw JinjaError(
        .raised,
        "the columns of \(relation.rendered) are not known: it is not in the schemas driftwatch read")
    }
    return table.columns.map { DbtColumnInfo(name: $0.name, dataType: $0.dataType) }
  }

  /// A model's columns: those of what it selects `*` from (a pass-through model is exact; one that reads
  /// every column of several parents is approximated by their columns in order). Others are not known.
  private func columns(ofModel id: String) throws -> (columns: [DbtColumnInfo], approximate: String?) {
    if let known = modelColumns[id] { return known }
    let compiled = compiled(id)
    guard let sql = compiled.sql, compiled.status != .unrendered else {
      throw JinjaError(
        .raised, "the columns of \(id) are not known: \(compiled.reason ?? "it was not compiled")")
    }
    guard ColumnUsage(sql: sql).readsEverything, let node = project.nodes[id] else {
      throw JinjaError(
        .raised,
        "the columns of \(id) are not known: it selects named columns (driftwatch reads no model's output)")
    }
    var result: [DbtColumnInfo] = []
    var seen = Set<String>()
    var approximate =
      Self.isPassThrough(sql) && node.dependsOn.count == 1
      ? nil : "the columns of \(id) inferred from its parents"
    if compiled.status == .approximate { approximate = compiled.reason }
    for parent in node.dependsOn {
      let parentColumns: [DbtColumnInfo]
      if let source = project.sources[parent] {
        guard let table = liveTables[Self.key(source.schema, source.identifier)] else {
          throw JinjaError(.raised, "\(source.schema).\(source.identifier) is not in the warehouse")
        }
        parentColumns = table.columns.map { DbtColumnInfo(name: $0.name, dataType: $0.dataType) }
      } else if project.nodes[parent]?.resourceType == .model {
        let inferred = try columns(ofModel: parent)
        if let why = inferred.approximate { approximate = why }
        parentColumns = inferred.columns
      } else {
        throw JinjaError(.raised, "the columns of \(parent) are not known")
      }
      for column in parentColumns where seen.insert(column.name.lowercased()).inserted {
        result.append(column)
      }
    }
    modelColumns[id] = (result, approximate)
    return (result, approximate)
  }

  /// `select * from <one relation>`, and nothing else.
  static func isPassThrough(_ sql: String) -> Bool {
    let words = sql.lowercased().split { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == ";" }
    return words.count == 4 && words[0] == "select" && words[1] == "*" && words[2] == "from"
  }
}
