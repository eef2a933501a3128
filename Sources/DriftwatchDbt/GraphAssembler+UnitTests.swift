import DriftwatchCore

/// Unit tests.
extension GraphAssembler {
  /// Unit tests: `unit_test.<package>.<model>.<name>`, depending on the model they test (dbt adds no other node
  /// at parse); left out with a disabled model, as in dbt. A versioned model gets one per version.
  mutating func buildUnitTests(_ properties: PropertiesIndex) throws {
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
