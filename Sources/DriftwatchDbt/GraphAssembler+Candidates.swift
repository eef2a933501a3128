import DriftwatchCore

/// The candidate nodes of the SQL, Python and CSV files (models, seeds, analyses, singular tests, SQL snapshots)
/// and of the YAML snapshots, as the scan reads them.
extension GraphAssembler {
  struct Candidate {
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

  mutating func addModel(_ task: FileTask, text: String, scan: JinjaScan) {
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

  mutating func addSeed(_ task: FileTask) {
    let package = packages[task.package]
    append(
      Candidate(
        resourceType: .seed, package: task.package, name: task.stem,
        uniqueID: "seed.\(package.name).\(task.stem)",
        task: task, rawCode: nil, refs: [], sourceCalls: [], inlineEnabled: nil, inlineTags: [],
        fqn: [package.name] + task.folders + [task.stem], patchName: task.stem))
  }

  mutating func addSimple(
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

  mutating func addSQLSnapshots(_ task: FileTask, text: String, scan: JinjaScan) {
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
  mutating func addYAMLSnapshots(_ properties: PropertiesIndex) throws {
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

  static func relocate(_ ref: JinjaScan.Ref, to node: YAMLNode) -> JinjaScan.Ref {
    var moved = ref
    moved.line = node.mark.line
    return moved
  }

  static func relocate(_ source: JinjaScan.Source, to node: YAMLNode) -> JinjaScan.Source {
    var moved = source
    moved.line = node.mark.line
    return moved
  }
}
