import DriftwatchCore

/// Ref and source resolution: the duplicate check, the lookups, dbt's search order, and the SQL nodes' dependencies.
extension GraphAssembler {
  func checkDuplicates() throws {
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

  struct RefEntry {
    var uniqueID: String
    var package: String
    var version: String?
    var isLatest: Bool
    var enabled: Bool
    var resourceType: ResourceType
  }

  struct SourceEntry {
    var uniqueID: String
    var package: String
    var enabled: Bool
  }

  enum Resolution {
    case found(String)
    case disabled(String)
    case missing
  }

  mutating func buildLookups() {
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

  func resolveRef(name: String, package: String?, version: String?, from node: Int) -> Resolution {
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

  func resolveSource(sourceName: String, tableName: String, from node: Int) -> Resolution {
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
  func dependencies(
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

  mutating func resolveCandidates() throws {
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
}
