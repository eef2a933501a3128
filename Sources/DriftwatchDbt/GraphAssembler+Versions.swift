import DriftwatchCore

/// Model versions: which file each `versions:` entry claims, and which version is the latest.
extension GraphAssembler {
  /// Versioned models: each `versions:` entry claims the file `<name>_v<v>` (or `defined_in:`), or, for
  /// the latest version, a file named `<name>` alone; the node becomes `model.<pkg>.<name>.v<v>`.
  mutating func applyVersions(_ properties: PropertiesIndex) throws {
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

  func sameVersion(_ lhs: String, _ rhs: String) -> Bool {
    if lhs == rhs { return true }
    if let left = Double(lhs), let right = Double(rhs) { return left == right }
    return false
  }
}
