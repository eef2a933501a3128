import DriftwatchCore
import Foundation

/// Turns the parsed files of a project and its packages into a `ProjectGraph`, the way dbt's parser does:
/// versions, enabled/disabled resolution, ref and source resolution, generic tests.
struct GraphAssembler {
  let packages: [PackageContext]
  let options: DbtReadOptions

  private var candidates: [Candidate] = []
  private var candidateByStem: [String: Int] = [:]
  private var refable: [String: [RefEntry]] = [:]
  private var sourceEntries: [String: [SourceEntry]] = [:]
  private var sources: [SourceTable] = []
  private var nodes: [GraphNode] = []
  /// The generic tests, in the batches their dependencies were resolved in (moved into the graph as they are).
  private var testBatches: [[GraphNode]] = []
  /// What each generic test's definition adds, by package index and test name (see `MacroIndex.testBody`).
  private var testBodies: [Int: [String: MacroIndex.TestBodyVerdict]] = [:]
  /// Intermediate values the graph no longer needs, left for whoever frees the assembler.
  private var retired: [any Sendable] = []
  /// What the scan could not evaluate, by unique id, and the warnings that mark no node.
  private var incomplete: [String: [Incompleteness]] = [:]
  private var warnings: [ProjectWarning] = []
  private var macros = MacroIndex(packages: [], files: [])
  /// `--vars`.
  let cliVars: [PyPair]
  /// Renders the Jinja in yml values and dbt_project.yml configs as dbt does.
  let yamlValues: YAMLValueRendering

  /// Per package: a var in its scope (the root's or its own) holds Jinja calling `ref`/`source`.
  private let jinjaVarsInScope: [Bool]

  init(packages: [PackageContext], options: DbtReadOptions, cliVars: [PyPair] = []) {
    self.packages = packages
    self.options = options
    self.cliVars = cliVars
    yamlValues = YAMLValueRendering(packages: packages, cliVars: cliVars, options: options)
    let root = Self.holdsCalls(packages.first?.project.varsNode?.python ?? .none)
    jinjaVarsInScope = packages.map { root || Self.holdsCalls($0.project.varsNode?.python ?? .none) }
  }

  private var rootName: String { packages[0].name }

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

  // MARK: - Candidates from SQL, Python and CSV files

  private struct Candidate {
    var resourceType: ResourceType
    var package: Int
    var name: String
    var uniqueID: String
    /// A model version's label (`2`, `1.5`), as dbt prints it.
    var version: String?
    var isLatestVersion = false
    var task: FileTask
    var rawCode: String?
    var refs: [JinjaScan.Ref]
    var sourceCalls: [JinjaScan.Source]
    var inlineEnabled: Bool?
    var inlineTags: [String]
    var fqn: [String]
    var patchName: String
    var enabled = true
    var tags: [String] = []
    /// What the scan could not evaluate in it.
    var incomplete: [Incompleteness] = []
    /// A `config(enabled=…)` the scan cannot read, with no literal one after it.
    var inlineEnabledUnknown = false
  }

  private mutating func append(_ candidate: Candidate) {
    if candidate.resourceType == .model {
      candidateByStem["\(candidate.package)/\(candidate.name)"] = candidates.count
    }
    candidates.append(candidate)
  }

  /// Python's `str.strip()`, as dbt applies it to file contents.
  private func strip(_ text: String) -> String {
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
      let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
    else { return "" }
    // Nothing to strip: share the text rather than copy it.
    if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
    return String(scalars[first...last])
  }

  private mutating func addModel(_ task: FileTask, text: String, scan: JinjaScan) {
    let package = packages[task.package]
    var candidate = Candidate(
      resourceType: .model, package: task.package, name: task.stem,
      uniqueID: "model.\(package.name).\(task.stem)", task: task,
      rawCode: options.includeSQL ? strip(text) : nil, refs: scan.refs,
      sourceCalls: scan.sources, inlineEnabled: scan.enabled, inlineTags: scan.tags,
      fqn: [package.name] + task.folders + [task.stem], patchName: task.stem)
    noteIncompleteness(&candidate, scan: scan, configs: scan.configs)
    noteJinjaVars(&candidate, text: text)
    if task.kind == .pythonModel {
      candidate.incomplete.append(
        Incompleteness(
          kind: .pythonModel, effects: [.missingEdges, .extraEdges, .config], file: task.displayPath,
          line: nil,
          construct: "python model"))
    }
    append(candidate)
  }

  /// What rendering can settle: how a node reaches ref/source/config, not a Python model or a yml field.
  private static let renderable: Set<Incompleteness.Kind> = [
    .macroCall, .unknownCall, .dynamicCall, .conditionalCall, .dynamicConfig,
  ]

  /// Renders the SQL nodes the scan left incomplete for a reason rendering can settle (see
  /// `IncompleteNodeRendering`): what dbt records at parse replaces what the scan read, or the node stays
  /// incomplete with the engine's error. Nothing is read or compiled when no node needs it.
  private mutating func renderIncomplete(_ files: [LoadedFile]) {
    guard options.renderIncomplete else { return }
    let indices = candidates.indices.filter { index in
      let reasons = candidates[index].incomplete
      return !reasons.isEmpty && reasons.allSatisfy { Self.renderable.contains($0.kind) }
    }
    guard !indices.isEmpty else { return }
    let rendering = IncompleteNodeRendering(
      packages: packages, files: files, options: options, cliVars: cliVars)
    let jobs = indices.map { index in
      let candidate = candidates[index]
      return IncompleteNodeRendering.Job(
        package: candidate.package, displayPath: candidate.task.displayPath,
        absolutePath: candidate.task.absolutePath,
        text: candidate.resourceType == .snapshot ? candidate.rawCode : nil,
        line: candidate.incomplete.compactMap(\.line).min() ?? 1,
        effects: candidate.incomplete.flatMap(\.effects),
        construct: candidate.incomplete.first?.construct ?? "")
    }
    for (index, outcome) in zip(indices, rendering.render(jobs)) {
      switch outcome {
      case .rendered(let rendered):
        candidates[index].refs = rendered.refs
        candidates[index].sourceCalls = rendered.sources
        candidates[index].inlineEnabled = rendered.enabled
        candidates[index].inlineTags = rendered.tags
        candidates[index].inlineEnabledUnknown = false
        candidates[index].incomplete = []
      case .incomplete(let reason):
        candidates[index].incomplete = [reason]
      }
    }
  }

  /// The scan's unknowns in `candidate` (within `offsets`, for one block of a file).
  private mutating func noteIncompleteness(
    _ candidate: inout Candidate, scan: JinjaScan, configs: [JinjaScan.Config], offsets: Range<Int>? = nil
  ) {
    candidate.incomplete = ScanIncompleteness.of(
      scan, file: candidate.task.displayPath, package: candidate.task.package, macros: &macros,
      offsets: offsets)
    // `enabled` is unknown when a config() sets it unreadably and no literal one comes after.
    if let last = configs.lastIndex(where: { $0.enabled != nil || $0.unreadable.contains("enabled") }) {
      candidate.inlineEnabledUnknown = configs[last].enabled == nil
    }
  }

  /// A var whose value is Jinja calling `ref`/`source` (a connector's `issue: "{{ source('github', 'issue') }}"`)
  /// adds an edge to every node that reads it, which the scan does not see (`var` is harmless to it): a node
  /// that calls `var(` in a package where such a var is in scope is rendered (`dynamic_call`), as dbt does.
  private func noteJinjaVars(_ candidate: inout Candidate, text: String) {
    guard jinjaVarsInScope[candidate.task.package], text.contains("var("),
      !candidate.incomplete.contains(where: { $0.kind == .dynamicCall })
    else { return }
    candidate.incomplete.append(
      Incompleteness(
        kind: .dynamicCall, effects: [.missingEdges], file: candidate.task.displayPath, line: nil,
        construct: "var(…)", detail: "a var of the project holds Jinja that calls ref() or source()"))
  }

  /// Whether a vars value holds a string of Jinja calling `ref(` or `source(`.
  static func holdsCalls(_ value: PyValue) -> Bool {
    switch value {
    case .str(let text):
      return (text.contains("{{") || text.contains("{%"))
        && (text.contains("ref(") || text.contains("source("))
    case .list(let items): return items.contains(where: holdsCalls)
    case .dict(let pairs): return pairs.contains { holdsCalls($0.value) }
    default: return false
    }
  }

  private mutating func addSeed(_ task: FileTask) {
    let package = packages[task.package]
    append(
      Candidate(
        resourceType: .seed, package: task.package, name: task.stem,
        uniqueID: "seed.\(package.name).\(task.stem)",
        task: task, rawCode: nil, refs: [], sourceCalls: [], inlineEnabled: nil, inlineTags: [],
        fqn: [package.name] + task.folders + [task.stem], patchName: task.stem))
  }

  private mutating func addSimple(
    _ task: FileTask, type: ResourceType, text: String, scan: JinjaScan, fqnPrefix: [String]
  ) {
    let package = packages[task.package]
    var candidate = Candidate(
      resourceType: type, package: task.package, name: task.stem,
      uniqueID: "\(type.rawValue).\(package.name).\(task.stem)", task: task,
      rawCode: options.includeSQL ? strip(text) : nil,
      refs: scan.refs, sourceCalls: scan.sources, inlineEnabled: scan.enabled, inlineTags: scan.tags,
      fqn: [package.name] + fqnPrefix + task.folders + [task.stem], patchName: task.stem)
    noteIncompleteness(&candidate, scan: scan, configs: scan.configs)
    append(candidate)
  }

  private mutating func addSQLSnapshots(_ task: FileTask, text: String, scan: JinjaScan) {
    let package = packages[task.package]
    let utf8 = Array(text.utf8)
    for block in scan.blocks where block.kind == "snapshot" {
      let end = block.contentEnd ?? utf8.count
      let inside = { (offset: Int) in offset >= block.contentStart && offset < end }
      let configs = scan.configs.filter { inside($0.offset) }
      let start = min(block.contentStart, end)
      var candidate = Candidate(
        resourceType: .snapshot, package: task.package, name: block.name,
        uniqueID: "snapshot.\(package.name).\(block.name)", task: task,
        rawCode: String(decoding: utf8[start..<end], as: UTF8.self),
        refs: scan.refs.filter { inside($0.offset) },
        sourceCalls: scan.sources.filter { inside($0.offset) },
        inlineEnabled: configs.compactMap(\.enabled).last, inlineTags: configs.flatMap(\.tags),
        fqn: [package.name] + task.folders + [task.stem, block.name], patchName: block.name)
      noteIncompleteness(&candidate, scan: scan, configs: configs, offsets: start..<end)
      append(candidate)
    }
  }

  /// dbt ≥ 1.9 snapshots declared in YAML with `relation: ref(…)` or `source(…)`.
  private mutating func addYAMLSnapshots(_ properties: PropertiesIndex) throws {
    for entry in properties.snapshots {
      guard let relation = entry.node["relation"]?.string else { continue }
      let package = packages[entry.file.package]
      if candidates.contains(where: {
        $0.resourceType == .snapshot && $0.package == entry.file.package && $0.name == entry.name
      }) {
        continue
      }
      let scan: JinjaScan
      do {
        scan = try JinjaScanner.scanExpression(relation)
      } catch {
        throw DbtError(
          "snapshot \(entry.name): `relation:` \(error.message)", file: entry.file.displayPath,
          line: entry.node.mark.line)
      }
      append(
        Candidate(
          resourceType: .snapshot, package: entry.file.package, name: entry.name,
          uniqueID: "snapshot.\(package.name).\(entry.name)", task: entry.file,
          rawCode: "select * from {{ \(relation) }}",
          refs: scan.refs.map { Self.relocate($0, to: entry.node) },
          sourceCalls: scan.sources.map { Self.relocate($0, to: entry.node) }, inlineEnabled: nil,
          inlineTags: [],
          fqn: [package.name] + entry.file.folders + [entry.name], patchName: entry.name))
    }
  }

  private static func relocate(_ ref: JinjaScan.Ref, to node: YAMLNode) -> JinjaScan.Ref {
    var moved = ref
    moved.line = node.mark.line
    return moved
  }

  private static func relocate(_ source: JinjaScan.Source, to node: YAMLNode) -> JinjaScan.Source {
    var moved = source
    moved.line = node.mark.line
    return moved
  }

  // MARK: - Versions

  /// Versioned models: each `versions:` entry claims the file `<name>_v<v>` (or `defined_in:`), or, for
  /// the latest version, a file named `<name>` alone; the node becomes `model.<pkg>.<name>.v<v>`.
  private mutating func applyVersions(_ properties: PropertiesIndex) throws {
    for entry in properties.models {
      guard let versions = entry.node["versions"]?.items, !versions.isEmpty else { continue }
      let labels = versions.map { $0["v"]?.python.pythonStr ?? "" }
      if let index = labels.firstIndex(of: "") {
        throw DbtError(
          "model \(entry.name): every entry of `versions:` needs `v:`", file: entry.file.displayPath,
          line: versions[index].mark.line)
      }
      let latest = try latestVersion(entry, labels: labels)
      let package = packages[entry.file.package]
      for (version, label) in zip(versions, labels) {
        let definedIn = version["defined_in"]?.string ?? "\(entry.name)_v\(label)"
        var index = candidateByStem["\(entry.file.package)/\(definedIn)"]
        if index == nil && sameVersion(label, latest) {
          index = candidateByStem["\(entry.file.package)/\(entry.name)"]
        }
        guard let index, candidates[index].version == nil else { continue }
        candidates[index].name = entry.name
        candidates[index].version = label
        candidates[index].isLatestVersion = sameVersion(label, latest)
        candidates[index].uniqueID = "model.\(package.name).\(entry.name).v\(label)"
        candidates[index].patchName = entry.name
        candidates[index].fqn = [package.name] + candidates[index].task.folders + [entry.name, "v\(label)"]
      }
    }
  }

  private func latestVersion(_ entry: PropertiesIndex.Entry, labels: [String]) throws -> String {
    if let declared = entry.node["latest_version"], !declared.isNull {
      let label = declared.python.pythonStr
      guard labels.contains(where: { sameVersion($0, label) }) else {
        throw DbtError(
          "model \(entry.name): latest_version \(label) is not one of its versions (\(labels.joined(separator: ", "))); "
            + "fix latest_version",
          file: entry.file.displayPath, line: declared.mark.line)
      }
      return label
    }
    // dbt's max(): numerically when both are numbers, else as strings.
    return labels.dropFirst().reduce(labels[0]) { best, label in
      if let lhs = Double(best), let rhs = Double(label) { return rhs > lhs ? label : best }
      return label > best ? label : best
    }
  }

  private func sameVersion(_ lhs: String, _ rhs: String) -> Bool {
    if lhs == rhs { return true }
    if let left = Double(lhs), let right = Double(rhs) { return left == right }
    return false
  }

  // MARK: - Configs

  private func projectConfig(
    _ keyPath: KeyPath<DbtProjectFile, ConfigTree>, package: Int, fqn: [String]
  ) -> ConfigTree.Resolved {
    ConfigTree.resolved(
      fqn, own: packages[package].isRoot ? nil : packages[package].project[keyPath: keyPath],
      root: packages[0].project[keyPath: keyPath])
  }

  /// Precedence as in dbt: `config()` in the file, then the YAML entry (a version's config over its
  /// model's), then dbt_project.yml. Tags add up from all of them.
  private mutating func resolveConfigs(_ properties: PropertiesIndex) throws {
    for index in candidates.indices {
      let candidate = candidates[index]
      let keyPath: KeyPath<DbtProjectFile, ConfigTree>
      var patch: PropertiesIndex.Entry?
      switch candidate.resourceType {
      case .model:
        keyPath = \.models
        patch = properties.model(candidate.patchName, package: candidate.package)
      case .seed:
        keyPath = \.seeds
        patch = properties.seed(candidate.patchName, package: candidate.package)
      case .snapshot:
        keyPath = \.snapshots
        patch = properties.snapshot(candidate.patchName, package: candidate.package)
      case .analysis:
        keyPath = \.analyses
        patch = properties.analysis(candidate.patchName, package: candidate.package)
      default:
        keyPath = \.tests
      }
      let project = projectConfig(keyPath, package: candidate.package, fqn: candidate.fqn)
      var patchEnabled: Bool?
      var tags = project.tags
      // Collected here and added once: an inout to `candidates[index]` across a call on `self` would copy the
      // whole array on every candidate (quadratic).
      var unknowns: [Incompleteness] = []
      // dbt ≥ 1.10 reads a model's (seed's, snapshot's, analysis's) `enabled` and `tags` from `config:` only:
      // top-level keys of the entry are ignored.
      if let patch {
        patchEnabled = try patchEnabledValue(
          patch.node, package: candidate.package, file: patch.file, into: &unknowns)
        tags += try configTags(of: patch.node, package: candidate.package, file: patch.file, into: &unknowns)
        if let label = candidate.version,
          let version = patch.node["versions"]?.items?.first(where: {
            sameVersion($0["v"]?.python.pythonStr ?? "", label)
          })
        {
          patchEnabled =
            try patchEnabledValue(version, package: candidate.package, file: patch.file, into: &unknowns)
            ?? patchEnabled
          tags += try configTags(of: version, package: candidate.package, file: patch.file, into: &unknowns)
        }
      }
      if !unknowns.isEmpty { candidates[index].incomplete += unknowns }
      var projectEnabled = project.enabled
      if let template = project.enabledTemplate, candidate.inlineEnabled == nil, patchEnabled == nil {
        switch try projectEnabledValue(template, package: candidate.package) {
        case .value(let value): projectEnabled = value
        case .unknown(let unknown):
          candidates[index].incomplete.append(unknown)
        }
      }
      candidates[index].enabled = candidate.inlineEnabled ?? patchEnabled ?? projectEnabled ?? true
      candidates[index].tags = Self.normalizedTags(tags + candidate.inlineTags)
    }
  }

  private enum RenderedEnabled {
    case value(Bool)
    /// What marks the node incomplete.
    case unknown(Incompleteness)
  }

  /// A dbt_project.yml `+enabled: "{{ var('x', true) }}"` rendered as dbt renders it when it loads the project:
  /// only `--vars` are known then (not the project's own `vars:`), so a var renders to `--vars` or its
  /// default, and one with neither fails as dbt fails. `.failure`: what marks the node incomplete.
  private func projectEnabledValue(_ template: (text: String, line: Int), package: Int) throws(DbtError)
    -> RenderedEnabled
  {
    let file = packages[0].display("dbt_project.yml")
    switch try yamlValues.renderBool(
      template.text, scope: .projectFile, file: file, line: template.line, key: "+enabled")
    {
    case .success(let value): return .value(value)
    case .failure(let unknown):
      return .unknown(
        Incompleteness(
          kind: .projectConfig, effects: [.config], file: file, line: template.line,
          construct: "+enabled: \(template.text)", detail: unknown.detail))
    }
  }

  /// A yml entry's `config: enabled:`: a literal, or Jinja rendered as dbt renders property files (the package's
  /// vars, `--vars`, the target); Jinja that cannot be evaluated leaves it `nil` and the node incomplete.
  private func patchEnabledValue(
    _ entry: YAMLNode, package: Int, file: FileTask, into incomplete: inout [Incompleteness]
  ) throws(DbtError) -> Bool? {
    if let literal = Self.enabled(of: entry) { return literal }
    guard let node = entry["config"]?["enabled"], let text = node.string,
      YAMLValueRendering.needsRendering(text)
    else { return nil }
    switch try yamlValues.renderBool(
      text, scope: .properties(package: package), file: file.displayPath, line: node.mark.line, key: "enabled"
    )
    {
    case .success(let value): return value
    case .failure(let unknown):
      incomplete.append(
        Incompleteness(
          kind: .dynamicConfig, effects: [.config], file: file.displayPath, line: node.mark.line,
          construct: "enabled: \(text)", detail: unknown.detail))
      return nil
    }
  }

  /// `config: tags:` of a yml entry (a string or a list), each Jinja string rendered as dbt renders it; one that
  /// cannot be evaluated is left out and marks the node incomplete.
  private func configTags(
    of entry: YAMLNode, package: Int, file: FileTask, into incomplete: inout [Incompleteness]
  ) throws(DbtError) -> [String] {
    try renderedTags(entry["config"]?["tags"], package: package, file: file, into: &incomplete)
  }

  private func renderedTags(
    _ node: YAMLNode?, package: Int, file: FileTask, into incomplete: inout [Incompleteness]
  ) throws(DbtError) -> [String] {
    guard let node else { return [] }
    var tags: [String] = []
    for item in node.items ?? [node] {
      guard let text = item.string else { continue }
      guard YAMLValueRendering.needsRendering(text) else {
        tags.append(text)
        continue
      }
      switch try yamlValues.render(
        text, scope: .properties(package: package), file: file.displayPath, line: item.mark.line, key: "tags")
      {
      case .rendered(let tag): tags.append(tag)
      case .unknown(let construct, let detail):
        incomplete.append(
          Incompleteness(
            kind: .dynamicConfig, effects: [.config], file: file.displayPath, line: item.mark.line,
            construct: construct, detail: detail))
      }
    }
    return tags
  }

  /// `config: enabled:` as a literal. A top-level `enabled:` is no property in dbt ≥ 1.10 (ignored on models and
  /// source tables).
  static func enabled(of entry: YAMLNode) -> Bool? {
    entry["config"]?["enabled"]?.bool
  }

  /// The tags of a source, source table or exposure: its `tags:` and `config: tags:`.
  static func tags(of entry: YAMLNode) -> [String] {
    (entry["tags"]?.stringList ?? []) + (entry["config"]?["tags"]?.stringList ?? [])
  }

  static func normalizedTags(_ tags: [String]) -> [String] {
    if tags.count < 2 { return tags }
    return Array(Set(tags)).sorted()
  }

  /// Whether a candidate's `enabled` rests on a config the scan cannot read (it is then counted as enabled).
  private func enabledUnknown(_ candidate: Candidate) -> Bool {
    candidate.inlineEnabled == nil
      && (candidate.inlineEnabledUnknown || candidate.incomplete.contains { $0.kind == .projectConfig })
  }

  /// Two enabled nodes with one name, one of them enabled only as far as the scan can tell: dbt would enable
  /// one (`config(enabled=is_adapter('bigquery'))`). The first whose `enabled` is known (else the first) is
  /// kept, marked incomplete; the others are left out.
  private mutating func resolveUnknownEnabledDuplicates() {
    var firstByKey: [String: Int] = [:]
    for index in candidates.indices where candidates[index].enabled {
      let candidate = candidates[index]
      guard [.model, .seed, .snapshot].contains(candidate.resourceType) else { continue }
      let key = "\(candidate.package)/\(candidate.name)/\(candidate.version ?? "")"
      guard let other = firstByKey[key] else {
        firstByKey[key] = index
        continue
      }
      let otherUnknown = enabledUnknown(candidates[other])
      guard otherUnknown || enabledUnknown(candidate) else { continue }
      var (kept, dropped) = (other, index)
      if otherUnknown && !enabledUnknown(candidate) {
        (kept, dropped) = (index, other)
        firstByKey[key] = index
      }
      candidates[dropped].enabled = false
      candidates[kept].incomplete.append(
        Incompleteness(
          kind: .ambiguousEnabled, effects: [.missingEdges, .extraEdges, .config],
          file: candidates[kept].task.displayPath, line: nil, construct: candidates[kept].name,
          detail: "also in \(candidates[dropped].task.displayPath)"))
    }
  }

  private func checkDuplicates() throws {
    var seen: [String: Int] = [:]
    seen.reserveCapacity(candidates.count)
    // A model, a seed and a snapshot may not share a name in one package: ref() could not tell them apart.
    var refNames: [String: Int] = [:]
    refNames.reserveCapacity(candidates.count)
    for (index, candidate) in candidates.enumerated() where candidate.enabled {
      if let other = seen.updateValue(index, forKey: candidate.uniqueID) {
        throw DbtError(
          "\(candidates[other].task.displayPath) and \(candidate.task.displayPath) both define "
            + "\(candidate.uniqueID); rename one of them or disable one")
      }
      guard [.model, .seed, .snapshot].contains(candidate.resourceType) else { continue }
      let key = "\(candidate.package)/\(candidate.name)/\(candidate.version ?? "")"
      if let otherIndex = refNames.updateValue(index, forKey: key) {
        let other = candidates[otherIndex]
        throw DbtError(
          "\(other.task.displayPath) and \(candidate.task.displayPath) both define a \(other.resourceType.rawValue) "
            + "or \(candidate.resourceType.rawValue) named \(candidate.name); rename one of them")
      }
    }
  }

  // MARK: - Lookups

  private struct RefEntry {
    var uniqueID: String
    var package: String
    var version: String?
    var isLatest: Bool
    var enabled: Bool
    var resourceType: ResourceType
  }

  private struct SourceEntry {
    var uniqueID: String
    var package: String
    var enabled: Bool
  }

  private enum Resolution {
    case found(String)
    case disabled(String)
    case missing
  }

  private mutating func buildLookups() {
    for candidate in candidates where [.model, .seed, .snapshot].contains(candidate.resourceType) {
      refable[candidate.name, default: []].append(
        RefEntry(
          uniqueID: candidate.uniqueID, package: packages[candidate.package].name, version: candidate.version,
          isLatest: candidate.isLatestVersion, enabled: candidate.enabled,
          resourceType: candidate.resourceType))
    }
  }

  /// dbt's search order: the named package; else the root project, then the node's own package, then any.
  private func searchOrder(package: String?, from node: Int) -> [String?] {
    if let package { return [package] }
    let own = packages[node].name
    return own == rootName ? [rootName, nil] : [rootName, own, nil]
  }

  private func resolveRef(name: String, package: String?, version: String?, from node: Int) -> Resolution {
    let entries = refable[name] ?? []
    let order = searchOrder(package: package, from: node)
    func matches(_ entry: RefEntry) -> Bool {
      if let version { return entry.version.map { sameVersion($0, version) } ?? false }
      return entry.version == nil || entry.isLatest
    }
    for enabled in [true, false] {
      for candidatePackage in order {
        if let entry = entries.first(where: {
          $0.enabled == enabled && (candidatePackage == nil || $0.package == candidatePackage) && matches($0)
        }) {
          return enabled ? .found(entry.uniqueID) : .disabled(entry.uniqueID)
        }
      }
    }
    return .missing
  }

  private func resolveSource(sourceName: String, tableName: String, from node: Int) -> Resolution {
    let entries = sourceEntries["\(sourceName)\u{0}\(tableName)"] ?? []
    for enabled in [true, false] {
      for candidatePackage in searchOrder(package: nil, from: node) {
        if let entry = entries.first(where: {
          $0.enabled == enabled && (candidatePackage == nil || $0.package == candidatePackage)
        }) {
          return enabled ? .found(entry.uniqueID) : .disabled(entry.uniqueID)
        }
      }
    }
    return .missing
  }

  private static func describe(_ ref: JinjaScan.Ref) -> String {
    var arguments = [ref.package, ref.name].compactMap { $0 }.map { "'\($0)'" }
    if let version = ref.version { arguments.append("v=\(version)") }
    return "ref(\(arguments.joined(separator: ", ")))"
  }

  /// The unique ids `refs` and `sources` point to, or `nil` when one is disabled and `dropIfDisabled`
  /// (tests that depend on a disabled node are disabled with it, as in dbt).
  private func dependencies(
    refs: [JinjaScan.Ref], sourceCalls: [JinjaScan.Source], from node: Int, file: String, what: String,
    dropIfDisabled: Bool
  ) throws(DbtError) -> [String]? {
    if refs.isEmpty && sourceCalls.isEmpty { return [] }
    var ids: [String] = []
    var seen: Set<String> = []
    func add(_ id: String) { if seen.insert(id).inserted { ids.append(id) } }
    for ref in refs {
      switch resolveRef(name: ref.name, package: ref.package, version: ref.version, from: node) {
      case .found(let id): add(id)
      case .disabled(let id):
        if dropIfDisabled { return nil }
        throw DbtError(
          "\(what): `\(Self.describe(ref))` points to \(id), which is disabled; enable it or remove the ref",
          file: file, line: ref.line)
      case .missing:
        throw DbtError(
          "\(what): `\(Self.describe(ref))` names no model, seed or snapshot\(missingHint(ref)); fix the name, "
            + "or add the model\(packages.count > 1 || ref.package != nil ? " (run `dbt deps` if it comes from a package)" : "")",
          file: file, line: ref.line)
      }
    }
    for call in sourceCalls {
      switch resolveSource(sourceName: call.sourceName, tableName: call.tableName, from: node) {
      case .found(let id): add(id)
      case .disabled(let id):
        if dropIfDisabled { return nil }
        throw DbtError(
          "\(what): `source('\(call.sourceName)', '\(call.tableName)')` points to \(id), which is disabled; "
            + "enable it or remove the source() call",
          file: file, line: call.line)
      case .missing:
        let known = sources.filter { $0.sourceName == call.sourceName }.map(\.name).sorted()
        let hint =
          known.isEmpty
          ? "no source named '\(call.sourceName)' is declared"
          : "source '\(call.sourceName)' declares \(known.joined(separator: ", "))"
        throw DbtError(
          "\(what): `source('\(call.sourceName)', '\(call.tableName)')` is not declared (\(hint)); declare the "
            + "table under `sources:` in a .yml file, or fix the name",
          file: file, line: call.line)
      }
    }
    return ids
  }

  private func missingHint(_ ref: JinjaScan.Ref) -> String {
    guard let entries = refable[ref.name], !entries.isEmpty else { return "" }
    if let version = ref.version {
      let versions = entries.compactMap(\.version)
      if !versions.isEmpty {
        return " with version \(version) (it has \(versions.sorted().joined(separator: ", ")))"
      }
      return " with version \(version) (it is not versioned)"
    }
    if let package = ref.package {
      return
        " in package \(package) (there is one in \(Set(entries.map(\.package)).sorted().joined(separator: ", ")))"
    }
    return ""
  }

  // MARK: - Resolving SQL nodes

  private mutating func resolveCandidates() throws {
    for candidate in candidates where candidate.enabled {
      let isTest = candidate.resourceType == .test
      let what = "\(candidate.resourceType.rawValue) \(candidate.name)"
      guard
        let dependsOn = try dependencies(
          refs: candidate.refs, sourceCalls: candidate.sourceCalls, from: candidate.package,
          file: candidate.task.displayPath, what: what, dropIfDisabled: isTest)
      else { continue }
      if !candidate.incomplete.isEmpty { incomplete[candidate.uniqueID] = candidate.incomplete }
      nodes.append(
        GraphNode(
          uniqueID: candidate.uniqueID, resourceType: candidate.resourceType, name: candidate.name,
          packageName: packages[candidate.package].name, dependsOn: dependsOn,
          filePath: candidate.task.originalPath, tags: candidate.tags, rawCode: candidate.rawCode,
          test: isTest ? TestInfo(testName: "singular") : nil, fqn: candidate.fqn))
    }
  }

  // MARK: - Sources

  /// A source's field rendered as dbt renders it (`"{% if target.type != 'spark' %}{{ var('db', target.database)
  /// }}{% endif %}"` included), or, when it holds Jinja that cannot be evaluated exactly, `nil` with what that
  /// leaves unknown added to `unknowns`. What dbt fails on (a missing env var or var) is an error.
  private func renderSourceField(
    _ node: YAMLNode?, package: Int, file: FileTask, field: String, unknowns: inout [Incompleteness]
  ) throws -> String? {
    guard let node, let raw = node.string else { return nil }
    switch try yamlValues.render(
      raw, scope: .properties(package: package), file: file.displayPath, line: node.mark.line, key: field)
    {
    case .rendered(let value): return value
    case .unknown(_, let detail):
      unknowns.append(
        Incompleteness(
          kind: .unrenderedField, effects: [.location], file: file.displayPath, line: node.mark.line,
          construct: "\(field):", detail: detail))
      return nil
    }
  }

  /// A source's or table's `config: enabled:` (rendered), else `nil`; Jinja that cannot be evaluated leaves it
  /// `nil` and adds to `unknowns`.
  private func sourceEnabled(
    _ entry: YAMLNode, package: Int, file: FileTask, unknowns: inout [Incompleteness]
  ) throws -> Bool? {
    try patchEnabledValue(entry, package: package, file: file, into: &unknowns)
  }

  private mutating func buildSources(_ properties: PropertiesIndex) throws {
    var seen: Set<String> = []
    for entry in properties.sources {
      let package = packages[entry.file.package]
      let source = entry.node
      var unknowns: [Incompleteness] = []
      let database = try renderSourceField(
        source["database"], package: entry.file.package, file: entry.file, field: "database",
        unknowns: &unknowns)
      let schema = try renderSourceField(
        source["schema"], package: entry.file.package, file: entry.file, field: "schema", unknowns: &unknowns)
      let sourceEnabled = try sourceEnabled(
        source, package: entry.file.package, file: entry.file, unknowns: &unknowns)
      let sourceTags =
        try renderedTags(source["tags"], package: entry.file.package, file: entry.file, into: &unknowns)
        + renderedTags(
          source["config"]?["tags"], package: entry.file.package, file: entry.file, into: &unknowns)
      for table in source["tables"]?.items ?? [] {
        guard let tableName = table["name"]?.string else {
          throw DbtError(
            "source \(entry.name): a table has no `name:`; name it", file: entry.file.displayPath,
            line: table.mark.line, column: table.mark.column)
        }
        let uniqueID = "source.\(package.name).\(entry.name).\(tableName)"
        guard seen.insert(uniqueID).inserted else {
          throw DbtError(
            "source \(entry.name) declares table \(tableName) twice; keep one", file: entry.file.displayPath,
            line: table.mark.line)
        }
        let fqn = [package.name] + entry.file.folders + [entry.name, tableName]
        let project = projectConfig(\.sources, package: entry.file.package, fqn: fqn)
        var tableUnknowns = unknowns
        var enabled =
          try self.sourceEnabled(
            table, package: entry.file.package, file: entry.file, unknowns: &tableUnknowns)
          ?? sourceEnabled
        if enabled == nil, let template = project.enabledTemplate {
          switch try projectEnabledValue(template, package: entry.file.package) {
          case .value(let value): enabled = value
          case .unknown(let unknown): tableUnknowns.append(unknown)
          }
        }
        let isEnabled = enabled ?? project.enabled ?? true
        sourceEntries["\(entry.name)\u{0}\(tableName)", default: []].append(
          SourceEntry(uniqueID: uniqueID, package: package.name, enabled: isEnabled))
        guard isEnabled else { continue }
        let columns = (table["columns"]?.items ?? []).compactMap { column -> DeclaredColumn? in
          guard let name = column["name"]?.string else { return nil }
          return DeclaredColumn(name: name, dataType: column["data_type"]?.string)
        }
        let identifier = try renderSourceField(
          table["identifier"], package: entry.file.package, file: entry.file, field: "identifier",
          unknowns: &tableUnknowns)
        let tableTags =
          try renderedTags(table["tags"], package: entry.file.package, file: entry.file, into: &tableUnknowns)
          + renderedTags(
            table["config"]?["tags"], package: entry.file.package, file: entry.file, into: &tableUnknowns)
        if !tableUnknowns.isEmpty { incomplete[uniqueID] = tableUnknowns }
        sources.append(
          SourceTable(
            uniqueID: uniqueID, packageName: package.name, sourceName: entry.name, name: tableName,
            database: database ?? options.defaultDatabase, schema: schema ?? entry.name,
            identifier: identifier ?? tableName, columns: columns, filePath: entry.file.originalPath,
            tags: Self.normalizedTags(project.tags + sourceTags + tableTags)))
      }
    }
  }

  // MARK: - Generic tests

  private struct TestTarget {
    enum Kind {
      case model
      case node
      case source
    }

    var kind: Kind
    var name: String
    var tableName: String?
    var version: String?
    /// Tags every test on this target inherits (a source's and its table's).
    var inheritedTags: [String] = []
  }

  private struct ColumnSpec {
    /// As dbt passes it to the test: quoted when `quote: true`.
    var name: String
    var plainName: String
    var tags: [String]
  }

  private static func columnSpec(_ column: YAMLNode) -> ColumnSpec? {
    guard let name = column["name"]?.string else { return nil }
    let quoted = column["quote"]?.bool == true ? "\"\(name)\"" : name
    let tags = (column["tags"]?.stringList ?? []) + (column["config"]?["tags"]?.stringList ?? [])
    return ColumnSpec(name: quoted, plainName: name, tags: tags)
  }

  private static func testEntries(_ node: YAMLNode) -> [YAMLNode] {
    (node["data_tests"] ?? node["tests"])?.items ?? []
  }

  /// The generic tests declared on one target: its columns' tests and its own.
  private struct TestWork: Sendable {
    var target: TestTarget
    var columns: [YAMLNode]
    var tests: [YAMLNode]
    var entry: PropertiesIndex.Entry
  }

  private static func testWork(_ properties: PropertiesIndex) -> [TestWork] {
    var work: [TestWork] = []
    for entry in properties.models {
      if let versions = entry.node["versions"]?.items, !versions.isEmpty {
        let baseColumns = entry.node["columns"]?.items ?? []
        for version in versions {
          let label = version["v"]?.python.pythonStr ?? ""
          var columns: [YAMLNode] = []
          var include: Set<String>?
          var exclude: Set<String> = []
          var own: [YAMLNode] = []
          for column in version["columns"]?.items ?? [] {
            if column["include"] != nil || column["exclude"] != nil {
              let includeNode = column["include"]
              if let all = includeNode?.string, all == "*" || all == "all" {
                include = nil
              } else if let list = includeNode?.items {
                include = Set(list.compactMap(\.string))
              }
              exclude = Set(column["exclude"]?.stringList ?? [])
            } else {
              own.append(column)
            }
          }
          for column in baseColumns {
            guard let name = column["name"]?.string else { continue }
            if (include?.contains(name) ?? true) && !exclude.contains(name) { columns.append(column) }
          }
          columns += own
          let versionTests = version["data_tests"] ?? version["tests"]
          let tests = versionTests != nil ? (versionTests?.items ?? []) : Self.testEntries(entry.node)
          let target = TestTarget(kind: .model, name: entry.name, version: label)
          work.append(TestWork(target: target, columns: columns, tests: tests, entry: entry))
        }
      } else {
        let target = TestTarget(kind: .model, name: entry.name)
        work.append(
          TestWork(
            target: target, columns: entry.node["columns"]?.items ?? [], tests: Self.testEntries(entry.node),
            entry: entry))
      }
    }
    for entry in properties.seeds + properties.snapshots {
      let target = TestTarget(kind: .node, name: entry.name)
      work.append(
        TestWork(
          target: target, columns: entry.node["columns"]?.items ?? [], tests: Self.testEntries(entry.node),
          entry: entry))
    }
    for entry in properties.sources {
      for table in entry.node["tables"]?.items ?? [] {
        guard let tableName = table["name"]?.string else { continue }
        let inherited = Self.tags(of: entry.node) + Self.tags(of: table)
        let target = TestTarget(
          kind: .source, name: entry.name, tableName: tableName, inheritedTags: inherited)
        work.append(
          TestWork(
            target: target, columns: table["columns"]?.items ?? [], tests: Self.testEntries(table),
            entry: entry))
      }
    }
    return work
  }

  /// A generic test named, hashed and configured from the yml alone; what it depends on is resolved after
  /// the models and sources are known.
  private struct PreparedTest: Sendable {
    var uniqueID: String
    var name: String
    var tags: [String]
    var refs: [JinjaScan.Ref]
    var sourceCalls: [JinjaScan.Source]
    /// `namespace.name` of the test (`dbt_utils.expression_is_true`).
    var testName: String
    var columnName: String?
    var acceptedValues: [String]?
    var line: Int
    var column: Int
    var fqn: [String] = []
    /// `config: enabled` holding Jinja (`"{{ var('run_slow_tests', false) }}"`): rendered once the assembler's
    /// yml context is at hand (`resolveTests`), not decided here.
    var enabledText: String?
  }

  private enum PreparedOutcome: Sendable {
    case test(PreparedTest)
    /// Disabled by its config or dbt_project.yml.
    case disabled
    /// Kept, not thrown: it counts only if its target exists and is enabled, and after the errors of the
    /// tests declared before it.
    case failed(DbtError)
  }

  private struct PreparedWork: Sendable {
    var work: TestWork
    var hasTests: Bool
    var tests: [PreparedOutcome]
  }

  /// One target's generic tests, with where each was declared (for the duplicate check's message).
  private struct BuiltTests: Sendable {
    var nodes: [GraphNode] = []
    var places: [(file: String, line: Int, column: Int)] = []
    /// Each node's `uniqueID.hashValue`, taken on the resolving thread: the duplicate check compares these,
    /// and the ids themselves only when two hashes match.
    var hashes: [Int] = []
    /// Tests whose definitions reach ref/source in ways the scan cannot read.
    var incomplete: [(String, Incompleteness)] = []
  }

  /// What naming a test needs of the packages, taken out once (a package's settings are large to copy).
  private struct TestContext: Sendable {
    var names: [String]
    /// dbt's `require_generic_test_arguments_property` as it applies to each package's tests.
    var requireArgumentsProperty: [Bool]
    var isRoot: [Bool]
    var testConfigs: [ConfigTree]

    init(_ packages: [PackageContext]) {
      names = packages.map(\.name)
      isRoot = packages.map(\.isRoot)
      requireArgumentsProperty = packages.map { package in
        package.isRoot
          ? package.project.requireGenericTestArgumentsProperty
          : packages[0].project.requireGenericTestArgumentsProperty
      }
      testConfigs = packages.map(\.project.tests)
    }

    /// `+enabled`/`+tags` of dbt_project.yml for a test at `fqn` (the package's own, then the root's).
    func config(package: Int, fqn: [String]) -> ConfigTree.Resolved {
      ConfigTree.resolved(fqn, own: isRoot[package] ? nil : testConfigs[package], root: testConfigs[0])
    }
  }

  private static func prepareTests(_ work: TestWork, context: TestContext) -> PreparedWork {
    let hasTests = !work.tests.isEmpty || work.columns.contains { !testEntries($0).isEmpty }
    var outcomes: [PreparedOutcome] = []
    guard hasTests else { return PreparedWork(work: work, hasTests: false, tests: []) }
    func add(_ test: YAMLNode, _ column: ColumnSpec?) {
      do {
        let prepared = try prepareTest(
          test, target: work.target, column: column, entry: work.entry, context: context)
        outcomes.append(prepared.map(PreparedOutcome.test) ?? .disabled)
      } catch {
        outcomes.append(.failed(error))
      }
    }
    for column in work.columns {
      let entries = testEntries(column)
      guard !entries.isEmpty, let spec = columnSpec(column) else { continue }
      for test in entries { add(test, spec) }
    }
    for test in work.tests { add(test, nil) }
    return PreparedWork(work: work, hasTests: true, tests: outcomes)
  }

  private mutating func buildGenericTests(_ prepared: [PreparedWork]) throws {
    // The definitions' own refs and sources, once per test name and package (thousands of tests share few).
    for item in prepared where item.hasTests {
      let package = item.work.entry.file.package
      for case .test(let test) in item.tests where testBodies[package]?[test.testName] == nil {
        testBodies[package, default: [:]][test.testName] = macros.testBody(test.testName, package: package)
      }
    }
    // Resolving what each test depends on reads the lookups only: spread across cores. Results come back in
    // declaration order, so the first error and the duplicate check are deterministic.
    let assembler = self
    let results = FileReading.parallelMap(prepared) { item in
      Result { () throws(DbtError) -> BuiltTests in try assembler.resolveTests(item) }
    }
    StepTrace.mark("read: generic tests resolved")
    // No two tests may share an id. Their hashes are sorted, and ids compared only where hashes match; the
    // error names the first repeat in declaration order, as a front-to-back check would.
    var keyed: [(hash: Int, batch: Int32, index: Int32)] = []
    keyed.reserveCapacity(prepared.count * 4)
    var built: [BuiltTests] = []
    built.reserveCapacity(results.count)
    // A test that cannot be resolved ends the reading there; repeats before it are reported first, as a
    // front-to-back check would.
    var failure: DbtError?
    for result in results {
      if case .failure(let error) = result {
        failure = error
        break
      }
      guard case .success(let tests) = result, !tests.nodes.isEmpty else { continue }
      for (id, reason) in tests.incomplete { incomplete[id, default: []].append(reason) }
      for (index, hash) in tests.hashes.enumerated() {
        keyed.append((hash, Int32(built.count), Int32(index)))
      }
      built.append(tests)
    }
    keyed.sort { ($0.hash, $0.batch, $0.index) < ($1.hash, $1.batch, $1.index) }
    var firstRepeat: (batch: Int32, index: Int32)?
    var start = 0
    while start < keyed.count {
      var end = start + 1
      while end < keyed.count, keyed[end].hash == keyed[start].hash { end += 1 }
      // Same hash: a repeat is a later entry whose id equals an earlier one's.
      if end - start > 1 {
        for later in (start + 1)..<end {
          let id = built[Int(keyed[later].batch)].nodes[Int(keyed[later].index)].uniqueID
          let isRepeat = (start..<later).contains { earlier in
            built[Int(keyed[earlier].batch)].nodes[Int(keyed[earlier].index)].uniqueID == id
          }
          let position = (keyed[later].batch, keyed[later].index)
          if isRepeat, firstRepeat.map({ position < $0 }) ?? true { firstRepeat = position }
        }
      }
      start = end
    }
    if let firstRepeat {
      let tests = built[Int(firstRepeat.batch)]
      let place = tests.places[Int(firstRepeat.index)]
      throw DbtError(
        "two data tests are both named \(tests.nodes[Int(firstRepeat.index)].name) (same test, same target, same "
          + "arguments); remove one or give one a `name:`",
        file: place.file, line: place.line, column: place.column)
    }
    if let failure { throw failure }
    testBatches = built.map(\.nodes)
  }

  private func resolveTests(_ item: PreparedWork) throws(DbtError) -> BuiltTests {
    guard item.hasTests else { return BuiltTests() }
    let (target, entry) = (item.work.target, item.work.entry)
    // What the tests are attached to.
    let attached: Resolution
    switch target.kind {
    case .source:
      attached = resolveSource(
        sourceName: target.name, tableName: target.tableName ?? "", from: entry.file.package)
    case .model, .node:
      attached = resolveRef(
        name: target.name, package: nil, version: target.version, from: entry.file.package)
    }
    let attachedID: String
    switch attached {
    case .found(let id): attachedID = id
    case .disabled: return BuiltTests()
    case .missing:
      let kind = target.kind == .source ? "source table" : "model, seed or snapshot"
      let name = target.kind == .source ? "\(target.name).\(target.tableName ?? "")" : target.name
      throw DbtError(
        "tests are declared on \(name)\(target.version.map { " version \($0)" } ?? ""), but there is no "
          + "enabled \(kind) of that name; fix the name in the yml or add the \(kind)",
        file: entry.file.displayPath, line: entry.node.mark.line, column: entry.node.mark.column)
    }
    let file = entry.file
    let packageName = packages[file.package].name
    var built = BuiltTests()
    for outcome in item.tests {
      let test: PreparedTest
      switch outcome {
      case .failed(let error): throw error
      case .disabled: continue
      case .test(let prepared): test = prepared
      }
      // A Jinja `enabled`, rendered as dbt renders yml; one driftwatch cannot evaluate keeps the test, marked.
      var enabledUnknown: Incompleteness?
      if let text = test.enabledText {
        switch try yamlValues.renderBool(
          text, scope: .properties(package: file.package), file: file.displayPath, line: test.line,
          key: "enabled")
        {
        case .success(false): continue
        case .success(true): break
        case .failure(let unknown):
          enabledUnknown = Incompleteness(
            kind: .dynamicConfig, effects: [.config], file: file.displayPath, line: test.line,
            construct: "enabled: \(text)", detail: unknown.detail)
        }
      }
      // Dependencies: the attached node, and every ref()/source() in the arguments.
      guard
        var dependsOn = try dependencies(
          refs: test.refs, sourceCalls: test.sourceCalls, from: file.package, file: file.displayPath,
          what: "test \(test.name)", dropIfDisabled: true)
      else { continue }
      // dbt renders the test's definition too: its own refs and sources are parents as well.
      switch testBodies[file.package]?[test.testName] ?? .none {
      case .none: break
      case .calls(let refs, let sources):
        guard
          let body = try dependencies(
            refs: refs, sourceCalls: sources, from: file.package, file: file.displayPath,
            what: "test \(test.name)", dropIfDisabled: true)
        else { continue }
        for id in body where !dependsOn.contains(id) { dependsOn.append(id) }
      case .incomplete(let reason): built.incomplete.append((test.uniqueID, reason))
      }
      dependsOn.removeAll { $0 == attachedID }
      dependsOn.append(attachedID)
      let node = GraphNode(
        uniqueID: test.uniqueID, resourceType: .test, name: test.name, packageName: packageName,
        dependsOn: dependsOn, filePath: file.originalPath, tags: test.tags,
        test: TestInfo(
          testName: test.testName, columnName: test.columnName, attachedNode: attachedID,
          acceptedValues: test.acceptedValues), fqn: test.fqn)
      if let enabledUnknown { built.incomplete.append((test.uniqueID, enabledUnknown)) }
      built.hashes.append(node.uniqueID.hashValue)
      built.nodes.append(node)
      built.places.append((file.displayPath, test.line, test.column))
    }
    return built
  }

  /// dbt's `TestBuilder`: argument extraction, configs popped, names synthesised, hash computed.
  private static let configArguments = [
    "severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "fail_calc", "store_failures",
    "store_failures_as", "meta", "database", "schema", "alias",
  ]
  private static let configArgumentSet = Set(configArguments)

  private static func prepareTest(
    _ test: YAMLNode, target: TestTarget, column: ColumnSpec?, entry: PropertiesIndex.Entry,
    context: TestContext
  ) throws(DbtError) -> PreparedTest? {
    let file = entry.file
    let packageName = context.names[file.package]
    func fail(_ problem: String) -> DbtError {
      DbtError(problem, file: file.displayPath, line: test.mark.line, column: test.mark.column)
    }
    // 1. The test's name and arguments, in any of dbt's shapes.
    var testName: String
    var arguments: [PyPair]
    switch test {
    case .scalar:
      guard let name = test.string else { throw fail("a data test entry is empty; name the test") }
      testName = name
      arguments = []
    case .mapping(let pairs, _):
      if let explicit = test["test_name"]?.string {
        testName = explicit
        arguments = pairs.filter { $0.key != "test_name" }.map {
          PyPair(key: .str($0.key), value: $0.value.python)
        }
      } else {
        guard pairs.count == 1, let only = pairs.first else {
          throw fail(
            "a data test must be a name or a mapping with one key (the test's name), or use `test_name:`; "
              + "found keys \(pairs.map(\.key).joined(separator: ", "))")
        }
        testName = only.key
        switch only.value.python {
        case .dict(let inner): arguments = inner
        case .none: arguments = []
        default:
          throw fail("the arguments of test \(only.key) must be a mapping; indent them under the test's name")
        }
      }
    case .sequence:
      throw fail("a data test must be a name or a mapping, not a list")
    }
    if let spec = column { arguments.set("column_name", .str(spec.name)) }
    if context.requireArgumentsProperty[file.package] {
      if case .dict(let nested)? = arguments.remove("arguments") {
        for pair in nested { arguments.set(pair.key.pythonStr, pair.value) }
      }
    }
    if arguments.value("model") != nil {
      throw fail("test \(testName) has an argument named `model`; dbt sets `model` itself, remove it")
    }
    // 2. Namespace and name.
    guard let parsed = Self.parseTestName(testName) else {
      throw fail("`\(testName)` is not a valid test name; use `name` or `package.name`")
    }
    let modelString: String
    switch target.kind {
    case .source:
      modelString = "{{ get_where_subquery(source('\(target.name)', '\(target.tableName ?? "")')) }}"
    case .model where target.version != nil:
      modelString = "{{ get_where_subquery(ref('\(target.name)', version='\(target.version ?? "")')) }}"
    default: modelString = "{{ get_where_subquery(ref('\(target.name)')) }}"
    }
    arguments.set("model", .str(modelString))
    // 3. Configs leave the arguments.
    var nestedConfig: [PyPair] = []
    if case .dict(let pairs)? = arguments.value("config") { nestedConfig = pairs }
    var config: [PyPair] = []
    let hasConfig = arguments.contains { pair in
      guard case .str(let key) = pair.key else { return false }
      return key == "config" || Self.configArgumentSet.contains(key)
    }
    for key in Self.configArguments where hasConfig {
      var value = arguments.remove(key)
      if value.map(Self.isFalsy) ?? true, arguments.value("config") != nil,
        let nested = nestedConfig.remove(key)
      {
        value = nested
      }
      if let value, value != .none { config.set(key, value) }
    }
    if arguments.value("config") != nil {
      _ = arguments.remove("config")
      for pair in nestedConfig where pair.value != .none { config.set(pair.key.pythonStr, pair.value) }
    }
    _ = arguments.remove("description")
    let customName = arguments.remove("name").map(\.pythonStr)
    // 4. Names and id.
    var testType = target.kind == .source ? "source_\(parsed.name)" : parsed.name
    if let namespace = parsed.namespace { testType = "\(namespace)_\(testType)" }
    let targetName: String
    switch target.kind {
    case .source: targetName = "\(target.name)_\(target.tableName ?? "")"
    case .model where target.version != nil: targetName = "\(target.name)_v\(target.version ?? "")"
    default: targetName = target.name
    }
    let fullName =
      customName
      ?? GenericTestNaming.synthesizeNames(testType: testType, targetName: targetName, arguments: arguments)
      .full
    let hash = GenericTestNaming.hash(
      name: fullName, namespace: parsed.namespace, testName: parsed.name, kwargs: arguments)
    let uniqueID = "test.\(packageName).\(fullName).\(hash)"
    // 5. Enabled and tags.
    let fqn = [packageName] + file.folders + [fullName]
    let project = context.config(package: file.package, fqn: fqn)
    var enabledText: String?
    if case .str(let text)? = config.value("enabled"), YAMLValueRendering.needsRendering(text) {
      enabledText = text
    } else {
      let configEnabled = config.value("enabled").flatMap(Self.bool)
      guard configEnabled ?? project.enabled ?? true else { return nil }
    }
    var tags = target.inheritedTags + (column?.tags ?? []) + project.tags
    switch config.value("tags") {
    case .str(let tag)?: tags.append(tag)
    case .list(let items)?: tags += items.compactMap(\.stringValue)
    default: break
    }
    // 6. What the arguments ref() or source() (resolved later, with the attached node).
    var refs: [JinjaScan.Ref] = []
    var sourceCalls: [JinjaScan.Source] = []
    let builtin = parsed.namespace == nil && (parsed.name == "unique" || parsed.name == "not_null")
    if !builtin {
      for pair in arguments where pair.key.pythonStr != "column_name" && pair.key.pythonStr != "model" {
        for text in Self.strings(in: pair.value) {
          let scan: JinjaScan
          do {
            scan =
              Self.looksLikeFunction(text)
              ? try JinjaScanner.scanExpression(text) : try JinjaScanner.scan(text)
          } catch {
            throw fail("test \(fullName): argument `\(pair.key.pythonStr)`: \(error.message)")
          }
          refs += scan.refs.map { Self.relocate($0, to: test) }
          sourceCalls += scan.sources.map { Self.relocate($0, to: test) }
        }
      }
    }
    // 7. What the test checks.
    var columnName = column?.plainName
    if columnName == nil, let named = arguments.value("column_name")?.stringValue {
      columnName = Self.unquote(named)
    }
    var accepted: [String]?
    if parsed.name == "accepted_values", case .list(let values)? = arguments.value("values") {
      accepted = values.map(\.pythonStr)
    }
    let qualified = parsed.namespace.map { "\($0).\(parsed.name)" } ?? parsed.name
    return PreparedTest(
      uniqueID: uniqueID, name: fullName, tags: Self.normalizedTags(tags), refs: refs,
      sourceCalls: sourceCalls,
      testName: qualified, columnName: columnName, acceptedValues: accepted, line: test.mark.line,
      column: test.mark.column, fqn: fqn, enabledText: enabledText)
  }

  /// `((namespace)\.)?(name)` with identifiers `[a-zA-Z_][0-9a-zA-Z_]*`, matched at the start as dbt does.
  static func parseTestName(_ text: String) -> (namespace: String?, name: String)? {
    // Most names are one plain identifier (`unique`, `not_null`): answer those without building strings.
    if let first = text.utf8.first, Self.isIdentifierStart(first),
      text.utf8.allSatisfy({
        Self.isIdentifierStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
      })
    {
      return (nil, text)
    }
    func identifier(_ text: Substring) -> Substring? {
      guard let first = text.unicodeScalars.first, first.isASCIILetterOrUnderscore else { return nil }
      var body = String.UnicodeScalarView()
      for scalar in text.unicodeScalars {
        guard scalar.isASCIILetterOrUnderscore || ("0"..."9").contains(scalar) else { break }
        body.append(scalar)
      }
      return Substring(String(body))
    }
    let whole = Substring(text)
    guard let first = identifier(whole) else { return nil }
    let rest = whole.dropFirst(first.count)
    if rest.hasPrefix("."), let second = identifier(rest.dropFirst()) {
      return (String(first), String(second))
    }
    return (nil, String(first))
  }

  private static func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || byte == UInt8(ascii: "_")
  }

  static func unquote(_ name: String) -> String {
    // Only a name that starts and ends with a quote character can change.
    guard let first = name.utf8.first,
      first == UInt8(ascii: "\"") || first == UInt8(ascii: "`") || first == UInt8(ascii: "'")
    else { return name }
    for quote in ["\"", "`", "'"] where name.count >= 2 && name.hasPrefix(quote) && name.hasSuffix(quote) {
      return String(name.dropFirst().dropLast())
    }
    return name
  }

  private static func isFalsy(_ value: PyValue) -> Bool {
    switch value {
    case .none: return true
    case .bool(let flag): return !flag
    case .str(let text): return text.isEmpty
    case .int(let digits): return digits == "0"
    case .float(let number): return number == 0
    case .list(let items): return items.isEmpty
    case .dict(let pairs): return pairs.isEmpty
    }
  }

  private static func bool(_ value: PyValue) -> Bool? {
    switch value {
    case .bool(let flag): return flag
    case .str(let text):
      switch text.lowercased() {
      case "true": return true
      case "false": return false
      default: return nil
      }
    default: return nil
    }
  }

  /// Every string inside a value (lists and dicts included).
  private static func strings(in value: PyValue) -> [String] {
    switch value {
    case .str(let text): return [text]
    case .list(let items): return items.flatMap(strings)
    case .dict(let pairs): return pairs.flatMap { strings(in: $0.value) }
    default: return []
    }
  }

  /// dbt wraps arguments like `ref('x')` in `{{ }}` before rendering them:
  /// `^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$` (no newlines inside).
  static func looksLikeFunction(_ text: String) -> Bool {
    // Most arguments (column names, values) hold no call at all.
    guard text.utf8.contains(UInt8(ascii: "(")), !text.utf8.contains(UInt8(ascii: "\n")) else { return false }
    // Python's str.strip() of spaces and tabs (Foundation's `.whitespaces`: tab and Unicode space separators).
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
      scalar == " " || scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
    }
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return false }
    let trimmed = Substring(scalars[first...last])
    for name in ["env_var", "ref", "var", "source", "doc"] where trimmed.hasPrefix(name) {
      let rest = trimmed.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
      if rest.hasPrefix("("), rest.hasSuffix(")"), rest.count > 2 { return true }
    }
    return false
  }

  // MARK: - Exposures

  private mutating func buildExposures(_ properties: PropertiesIndex) throws {
    for entry in properties.exposures {
      let package = packages[entry.file.package]
      let fqn = [package.name] + entry.file.folders + [entry.name]
      let project = projectConfig(\.exposures, package: entry.file.package, fqn: fqn)
      var unknowns: [Incompleteness] = []
      var enabled = try patchEnabledValue(
        entry.node, package: entry.file.package, file: entry.file, into: &unknowns)
      if enabled == nil, let template = project.enabledTemplate {
        switch try projectEnabledValue(template, package: entry.file.package) {
        case .value(let value): enabled = value
        case .unknown(let unknown): unknowns.append(unknown)
        }
      }
      guard enabled ?? project.enabled ?? true else { continue }
      if !unknowns.isEmpty { incomplete["exposure.\(package.name).\(entry.name)"] = unknowns }
      var refs: [JinjaScan.Ref] = []
      var sourceCalls: [JinjaScan.Source] = []
      for dependency in entry.node["depends_on"]?.items ?? [] {
        guard let text = dependency.string else { continue }
        do {
          let scan = try JinjaScanner.scanExpression(text)
          refs += scan.refs.map { Self.relocate($0, to: dependency) }
          sourceCalls += scan.sources.map { Self.relocate($0, to: dependency) }
        } catch {
          throw DbtError(
            "exposure \(entry.name): \(error.message)", file: entry.file.displayPath,
            line: dependency.mark.line)
        }
      }
      let dependsOn =
        try dependencies(
          refs: refs, sourceCalls: sourceCalls, from: entry.file.package, file: entry.file.displayPath,
          what: "exposure \(entry.name)", dropIfDisabled: false) ?? []
      nodes.append(
        GraphNode(
          uniqueID: "exposure.\(package.name).\(entry.name)", resourceType: .exposure, name: entry.name,
          packageName: package.name, dependsOn: dependsOn, filePath: entry.file.originalPath,
          tags: Self.normalizedTags(Self.tags(of: entry.node) + project.tags),
          exposureType: entry.node["type"]?.string, label: entry.node["label"]?.string))
    }
  }

  /// `enabled` of a yml-only node (semantic model, metric, saved query, unit test): its `config: enabled`, else
  /// dbt_project.yml's section for its kind at its fqn; with the project's tags.
  private func ymlNodeConfig(
    _ entry: PropertiesIndex.Entry, section: KeyPath<DbtProjectFile, ConfigTree>,
    into unknowns: inout [Incompleteness]
  ) throws -> (enabled: Bool, tags: [String]) {
    let fqn = [packages[entry.file.package].name] + entry.file.folders + [entry.name]
    let project = projectConfig(section, package: entry.file.package, fqn: fqn)
    var enabled = try patchEnabledValue(
      entry.node, package: entry.file.package, file: entry.file, into: &unknowns)
    if enabled == nil, let template = project.enabledTemplate {
      switch try projectEnabledValue(template, package: entry.file.package) {
      case .value(let value): enabled = value
      case .unknown(let unknown): unknowns.append(unknown)
      }
    }
    return (enabled ?? project.enabled ?? true, project.tags)
  }

  // MARK: - Semantic models, metrics, saved queries, unit tests

  /// dbt's semantic layer nodes, with the dependencies dbt gives them: a semantic model depends on the model its
  /// `model: ref(…)` names; a simple or cumulative metric on the semantic model holding its measure (a
  /// conversion metric: its base and conversion measures'); a derived or ratio metric on its input metrics; a
  /// saved query on its metrics. Disabled ones (`config: enabled`) are left out.
  private mutating func buildSemanticLayer(_ properties: PropertiesIndex) throws {
    var measureOwners: [String: String] = [:]
    for entry in properties.semanticModels {
      let package = packages[entry.file.package]
      let id = "semantic_model.\(package.name).\(entry.name)"
      var unknowns: [Incompleteness] = []
      let config = try ymlNodeConfig(entry, section: \.semanticModels, into: &unknowns)
      guard config.enabled else { continue }
      var refs: [JinjaScan.Ref] = []
      if let model = entry.node["model"], let text = model.string {
        do {
          refs = try JinjaScanner.scanExpression(text).refs.map { Self.relocate($0, to: model) }
        } catch {
          throw DbtError(
            "semantic model \(entry.name): `model:` \(error.message)", file: entry.file.displayPath,
            line: model.mark.line)
        }
      }
      let dependsOn =
        try dependencies(
          refs: refs, sourceCalls: [], from: entry.file.package, file: entry.file.displayPath,
          what: "semantic model \(entry.name)", dropIfDisabled: false) ?? []
      for measure in entry.node["measures"]?.items ?? [] {
        if let name = measure["name"]?.string, measureOwners[name] == nil { measureOwners[name] = id }
      }
      if !unknowns.isEmpty { incomplete[id] = unknowns }
      nodes.append(
        GraphNode(
          uniqueID: id, resourceType: .semanticModel, name: entry.name, packageName: package.name,
          dependsOn: dependsOn, filePath: entry.file.originalPath,
          tags: Self.normalizedTags(config.tags + (entry.node["config"]?["tags"]?.stringList ?? [])),
          label: entry.node["label"]?.string))
    }
    // Metrics: every enabled one is known before any is resolved (a derived metric may name a later one).
    var metricIDs: [String: String] = [:]
    var enabledMetrics: [(entry: PropertiesIndex.Entry, unknowns: [Incompleteness], tags: [String])] = []
    for entry in properties.metrics {
      var unknowns: [Incompleteness] = []
      let config = try ymlNodeConfig(entry, section: \.metrics, into: &unknowns)
      guard config.enabled else { continue }
      if metricIDs[entry.name] == nil {
        metricIDs[entry.name] = "metric.\(packages[entry.file.package].name).\(entry.name)"
      }
      enabledMetrics.append((entry, unknowns, config.tags))
    }
    func name(_ node: YAMLNode?) -> String? { node?.string ?? node?["name"]?.string }
    for (entry, unknowns, projectTags) in enabledMetrics {
      let package = packages[entry.file.package]
      let params = entry.node["type_params"]
      func fail(_ problem: String) -> DbtError {
        DbtError("metric \(entry.name): \(problem)", file: entry.file.displayPath, line: entry.node.mark.line)
      }
      var dependsOn: [String] = []
      switch entry.node["type"]?.string?.lowercased() {
      case "simple", "cumulative", "conversion":
        let conversion = params?["conversion_type_params"]
        let measures =
          entry.node["type"]?.string?.lowercased() == "conversion"
          ? [name(conversion?["base_measure"]), name(conversion?["conversion_measure"])]
          : [name(params?["measure"])]
        for measure in measures {
          guard let measure else {
            throw fail("`type_params` names no measure; give the measure it aggregates")
          }
          guard let owner = measureOwners[measure] else {
            throw fail(
              "no enabled semantic model has a measure named \(measure); fix the name or enable the semantic "
                + "model")
          }
          if !dependsOn.contains(owner) { dependsOn.append(owner) }
        }
      case "derived", "ratio":
        let inputs =
          entry.node["type"]?.string?.lowercased() == "ratio"
          ? [name(params?["numerator"]), name(params?["denominator"])]
          : (params?["metrics"]?.items ?? []).map { name($0) }
        for input in inputs {
          guard let input, let id = metricIDs[input] else {
            throw fail(
              "an input metric (\(inputs.map { $0 ?? "?" }.joined(separator: ", "))) is not an enabled metric; "
                + "fix the name")
          }
          if !dependsOn.contains(id) { dependsOn.append(id) }
        }
      default:
        throw fail("`type:` must be simple, cumulative, conversion, derived or ratio")
      }
      let id = "metric.\(package.name).\(entry.name)"
      if !unknowns.isEmpty { incomplete[id] = unknowns }
      nodes.append(
        GraphNode(
          uniqueID: id, resourceType: .metric, name: entry.name, packageName: package.name,
          dependsOn: dependsOn, filePath: entry.file.originalPath,
          tags: Self.normalizedTags(projectTags + Self.tags(of: entry.node)),
          label: entry.node["label"]?.string))
    }
    for entry in properties.savedQueries {
      let package = packages[entry.file.package]
      var unknowns: [Incompleteness] = []
      let config = try ymlNodeConfig(entry, section: \.savedQueries, into: &unknowns)
      guard config.enabled else { continue }
      var dependsOn: [String] = []
      for metric in entry.node["query_params"]?["metrics"]?.items ?? [] {
        guard let text = metric.string else { continue }
        let bare = text.split(separator: ".").last.map(String.init) ?? text
        guard let id = metricIDs[bare] else {
          throw DbtError(
            "saved query \(entry.name): metric \(text) is not an enabled metric; fix the name",
            file: entry.file.displayPath, line: metric.mark.line)
        }
        if !dependsOn.contains(id) { dependsOn.append(id) }
      }
      let id = "saved_query.\(package.name).\(entry.name)"
      if !unknowns.isEmpty { incomplete[id] = unknowns }
      // `tags:` may be one string.
      let tags =
        (entry.node["tags"].map { $0.string.map { [$0] } ?? $0.stringList } ?? [])
        + (entry.node["config"]?["tags"]?.stringList ?? [])
      nodes.append(
        GraphNode(
          uniqueID: id, resourceType: .savedQuery, name: entry.name, packageName: package.name,
          dependsOn: dependsOn, filePath: entry.file.originalPath, tags: Self.normalizedTags(tags),
          label: entry.node["label"]?.string))
    }
  }

  /// Unit tests: `unit_test.<package>.<model>.<name>`, depending on the model they test (dbt adds no other node
  /// at parse); left out with a disabled model, as in dbt. A versioned model gets one per version.
  private mutating func buildUnitTests(_ properties: PropertiesIndex) throws {
    for entry in properties.unitTests {
      let package = packages[entry.file.package]
      guard let model = entry.node["model"]?.string else {
        throw DbtError(
          "unit test \(entry.name) has no `model:`; name the model it tests", file: entry.file.displayPath,
          line: entry.node.mark.line)
      }
      var unknowns: [Incompleteness] = []
      let config = try ymlNodeConfig(entry, section: \.unitTests, into: &unknowns)
      guard config.enabled else { continue }
      // A versioned model: one unit test per version (`_v<version>`), or the versions `versions: include/exclude`
      // keeps, as dbt makes them.
      let versions = (refable[model] ?? []).compactMap(\.version)
      var targets: [(suffix: String, version: String?)] = [("", nil)]
      if !versions.isEmpty {
        let include = entry.node["versions"]?["include"]?.items?.map(\.python.pythonStr)
        let exclude = entry.node["versions"]?["exclude"]?.items?.map(\.python.pythonStr) ?? []
        targets = Set(versions).sorted().filter { version in
          (include?.contains { sameVersion($0, version) } ?? true)
            && !exclude.contains { sameVersion($0, version) }
        }.map { ("_v\($0)", $0) }
      }
      let tags =
        config.tags + (entry.node["config"]?["tags"].map { $0.string.map { [$0] } ?? $0.stringList } ?? [])
      for target in targets {
        let modelID: String
        switch resolveRef(name: model, package: nil, version: target.version, from: entry.file.package) {
        case .found(let id): modelID = id
        case .disabled: continue
        case .missing:
          throw DbtError(
            "unit test \(entry.name): model \(model) is not in the project; fix `model:`",
            file: entry.file.displayPath, line: entry.node.mark.line)
        }
        let id = "unit_test.\(package.name).\(model).\(entry.name)\(target.suffix)"
        if !unknowns.isEmpty { incomplete[id] = unknowns }
        nodes.append(
          GraphNode(
            uniqueID: id, resourceType: .unitTest, name: entry.name, packageName: package.name,
            dependsOn: [modelID], filePath: entry.file.originalPath, tags: Self.normalizedTags(tags)))
      }
    }
  }
}

extension Unicode.Scalar {
  fileprivate var isASCIILetterOrUnderscore: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_"
  }
}

extension [PyPair] {
  fileprivate func value(_ key: String) -> PyValue? {
    last(where: { $0.key == .str(key) })?.value
  }

  fileprivate mutating func set(_ key: String, _ value: PyValue) {
    set(PyValue.str(key), value)
  }

  fileprivate mutating func set(_ key: PyValue, _ value: PyValue) {
    if let index = firstIndex(where: { $0.key == key }) {
      self[index].value = value
    } else {
      append(PyPair(key: key, value: value))
    }
  }

  fileprivate mutating func remove(_ key: String) -> PyValue? {
    guard let index = firstIndex(where: { $0.key == .str(key) }) else { return nil }
    return self.remove(at: index).value
  }
}
