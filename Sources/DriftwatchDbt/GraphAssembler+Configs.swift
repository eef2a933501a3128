import DriftwatchCore

/// Configs: `enabled` and `tags` from `config()`, the yml entry and dbt_project.yml, with the Jinja in them
/// rendered as dbt renders it.
extension GraphAssembler {
  func projectConfig(
    _ keyPath: KeyPath<DbtProjectFile, ConfigTree>, package: Int, fqn: [String]
  ) -> ConfigTree.Resolved {
    ConfigTree.resolved(
      fqn, own: packages[package].isRoot ? nil : packages[package].project[keyPath: keyPath],
      root: packages[0].project[keyPath: keyPath])
  }

  /// Precedence as in dbt: `config()` in the file, then the YAML entry (a version's config over its
  /// model's), then dbt_project.yml. Tags add up from all of them.
  mutating func resolveConfigs(_ properties: PropertiesIndex) throws {
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

  enum RenderedEnabled {
    case value(Bool)
    /// What marks the node incomplete.
    case unknown(Incompleteness)
  }

  /// A dbt_project.yml `+enabled: "{{ var('x', true) }}"` rendered as dbt renders it when it loads the project:
  /// only `--vars` are known then (not the project's own `vars:`), so a var renders to `--vars` or its
  /// default, and one with neither fails as dbt fails. `.failure`: what marks the node incomplete.
  func projectEnabledValue(_ template: (text: String, line: Int), package: Int) throws(DbtError)
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
  func patchEnabledValue(
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

  func renderedTags(
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

  /// `enabled` of a yml-only node (semantic model, metric, saved query, unit test): its `config: enabled`, else
  /// dbt_project.yml's section for its kind at its fqn; with the project's tags.
  func ymlNodeConfig(
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
}
