import DriftwatchCore

/// Exposures: their `depends_on` refs and sources.
extension GraphAssembler {
  mutating func buildExposures(_ properties: PropertiesIndex) throws {
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
}
