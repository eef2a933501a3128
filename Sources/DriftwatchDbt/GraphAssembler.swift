import DriftwatchCore
import Foundation

/// Turns the parsed files of a project and its packages into a `ProjectGraph`, the way dbt's parser does:
/// versions, enabled/disabled resolution, ref and source resolution, generic tests.
///
/// `assemble` runs the steps in order; each lives in its own file, as an extension:
/// - `GraphAssembler+Candidates`: the nodes of SQL, Python and CSV files and YAML snapshots, as scanned;
/// - `GraphAssembler+Incompleteness`: what the scan could not read, and the rendering that settles it;
/// - `GraphAssembler+Versions`, `GraphAssembler+Configs`: model versions, `enabled` and `tags`;
/// - `GraphAssembler+Resolution`: the duplicate check, the ref/source lookups, the SQL nodes' dependencies;
/// - `GraphAssembler+Sources`: source tables;
/// - `GraphAssembler+TestPreparation`, `GraphAssembler+TestBuilder`: generic tests named and hashed from the
///   yml alone (in the background); `GraphAssembler+GenericTests`: their dependencies and duplicates;
/// - `GraphAssembler+Exposures`, `GraphAssembler+SemanticLayer`, `GraphAssembler+UnitTests`: yml-only nodes.
/// The state below is shared by those files (internal to the module, not private to this file).
struct GraphAssembler {
  let packages: [PackageContext]
  let options: DbtReadOptions

  var candidates: [Candidate] = []
  var candidateByStem: [String: Int] = [:]
  var refable: [String: [RefEntry]] = [:]
  var sourceEntries: [String: [SourceEntry]] = [:]
  var sources: [SourceTable] = []
  var nodes: [GraphNode] = []
  /// The generic tests, in the batches their dependencies were resolved in (moved into the graph as they are).
  var testBatches: [[GraphNode]] = []
  /// What each generic test's definition adds, by package index and test name (see `MacroIndex.testBody`).
  var testBodies: [Int: [String: MacroIndex.TestBodyVerdict]] = [:]
  /// Intermediate values the graph no longer needs, left for whoever frees the assembler.
  private var retired: [any Sendable] = []
  /// What the scan could not evaluate, by unique id, and the warnings that mark no node.
  var incomplete: [String: [Incompleteness]] = [:]
  private var warnings: [ProjectWarning] = []
  var macros = MacroIndex(packages: [], files: [])
  /// `--vars`.
  let cliVars: [PyPair]
  /// Renders the Jinja in yml values and dbt_project.yml configs as dbt does.
  let yamlValues: YAMLValueRendering

  /// Per package: a var in its scope (the root's or its own) holds Jinja calling `ref`/`source`.
  let jinjaVarsInScope: [Bool]

  init(packages: [PackageContext], options: DbtReadOptions, cliVars: [PyPair] = []) {
    self.packages = packages
    self.options = options
    self.cliVars = cliVars
    yamlValues = YAMLValueRendering(packages: packages, cliVars: cliVars, options: options)
    let root = Self.holdsCalls(packages.first?.project.varsNode?.python ?? .none)
    jinjaVarsInScope = packages.map { root || Self.holdsCalls($0.project.varsNode?.python ?? .none) }
  }

  var rootName: String { packages[0].name }

  // MARK: - Entry

  mutating func assemble(_ files: [LoadedFile]) throws -> ProjectGraph {
    for file in files {
      if case .failed(let error) = file.content { throw error }
    }
    let properties = try PropertiesIndex(files: files, packages: packages)
    StepTrace.mark("read: properties index")
    // Naming and hashing the generic tests needs only the yml and dbt_project.yml: it starts now on the other
    // cores, while this thread builds the models, configs and lookups that resolving the tests needs.
    let testWork = Self.testWork(properties)
    let context = TestContext(packages)
    let preparing = SharedWork(testWork) { work in Self.prepareTests(work, context: context) }
    preparing.startInBackground()
    candidates.reserveCapacity(files.count)
    macros = MacroIndex(packages: packages, files: files)
    warnings = packages.flatMap(\.project.warnings) + files.flatMap(\.warnings)

    for file in files {
      guard case .sql(let text, let scan) = file.content else {
        if file.task.kind == .seed { addSeed(file.task) }
        continue
      }
      switch file.task.kind {
      case .model, .pythonModel: addModel(file.task, text: text, scan: scan)
      case .snapshot: addSQLSnapshots(file.task, text: text, scan: scan)
      case .analysis: addSimple(file.task, type: .analysis, text: text, scan: scan, fqnPrefix: ["analysis"])
      case .singularTest: addSimple(file.task, type: .test, text: text, scan: scan, fqnPrefix: [])
      default: break
      }
    }
    StepTrace.mark("read: sql nodes scanned")
    renderIncomplete(files)
    StepTrace.mark("read: incomplete nodes rendered")
    try addYAMLSnapshots(properties)
    StepTrace.mark("read: models, snapshots")
    try applyVersions(properties)
    try resolveConfigs(properties)
    StepTrace.mark("read: configs")
    resolveUnknownEnabledDuplicates()
    try checkDuplicates()
    buildLookups()
    StepTrace.mark("read: lookups")
    try buildSources(properties)
    StepTrace.mark("read: sources")
    try resolveCandidates()
    StepTrace.mark("read: refs")
    let prepared = preparing.finish()
    StepTrace.mark("read: generic tests named")
    try buildGenericTests(prepared)
    // Freed with the assembler (later, or never for a command line), not on this thread now.
    retired.append((testWork, prepared, preparing))
    StepTrace.mark("read: generic tests checked")
    try buildExposures(properties)
    StepTrace.mark("read: exposures")
    try buildSemanticLayer(properties)
    try buildUnitTests(properties)
    StepTrace.mark("read: semantic models, metrics, saved queries, unit tests")
    // Moved, not copied, into the graph: the assembler is done with them. Tests follow the other nodes.
    let finishedSources = sources
    let finishedNodes = [nodes] + testBatches
    sources = []
    nodes = []
    testBatches = []
    var graph = ProjectGraph(
      projectName: rootName, sources: consume finishedSources, nodeBatches: consume finishedNodes)
    graph.incomplete = incomplete
    graph.warnings = warnings
    StepTrace.mark("read: graph")
    return graph
  }
}
