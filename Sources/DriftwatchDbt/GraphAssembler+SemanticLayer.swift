import DriftwatchCore

/// Semantic models, metrics and saved queries.
extension GraphAssembler {
  /// dbt's semantic layer nodes, with the dependencies dbt gives them: a semantic model depends on the model its
  /// `model: ref(…)` names; a simple or cumulative metric on the semantic model holding its measure (a
  /// conversion metric: its base and conversion measures'); a derived or ratio metric on its input metrics; a
  /// saved query on its metrics. Disabled ones (`config: enabled`) are left out.
  mutating func buildSemanticLayer(_ properties: PropertiesIndex) throws {
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
}
