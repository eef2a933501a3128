import DriftwatchCore

/// What the scan could not read exactly: marking candidates incomplete, rendering the ones rendering can settle,
/// and nodes of one name whose `enabled` is unknown.
extension GraphAssembler {
  /// What rendering can settle: how a node reaches ref/source/config, not a Python model or a yml field.
  private static let renderable: Set<Incompleteness.Kind> = [
    .macroCall, .unknownCall, .dynamicCall, .conditionalCall, .dynamicConfig,
  ]

  /// Renders the SQL nodes the scan left incomplete for a reason rendering can settle (see
  /// `IncompleteNodeRendering`): what dbt records at parse replaces what the scan read, or the node stays
  /// incomplete with the engine's error. Nothing is read or compiled when no node needs it.
  mutating func renderIncomplete(_ files: [LoadedFile]) {
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
  mutating func noteIncompleteness(
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
  func noteJinjaVars(_ candidate: inout Candidate, text: String) {
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

  /// Whether a candidate's `enabled` rests on a config the scan cannot read (it is then counted as enabled).
  private func enabledUnknown(_ candidate: Candidate) -> Bool {
    candidate.inlineEnabled == nil
      && (candidate.inlineEnabledUnknown || candidate.incomplete.contains { $0.kind == .projectConfig })
  }

  /// Two enabled nodes with one name, one of them enabled only as far as the scan can tell: dbt would enable
  /// one (`config(enabled=is_adapter('bigquery'))`). The first whose `enabled` is known (else the first) is
  /// kept, marked incomplete; the others are left out.
  mutating func resolveUnknownEnabledDuplicates() {
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
}
