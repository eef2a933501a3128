import DriftwatchCore
import DriftwatchJinja

/// `dbt ls --output …`: what dbt prints for each selected node, one line each, sorted by unique id.
public enum DbtListOutput: String, CaseIterable, Sendable {
  /// A selector for the node: its fqn joined by `.` (models, seeds, snapshots, tests, analyses), or
  /// `source:pkg.source.table`, `exposure:pkg.name`, `metric:pkg.name`, `semantic_model:pkg.name`,
  /// `saved_query:pkg.name`, `unit_test:pkg.name` (with `_v<version>` for a versioned model's).
  case selector
  /// dbt's `search_name`: the name (`source.table` for a source, `name.v<version>` for a model version).
  case name
  /// `original_file_path`.
  case path
  /// One JSON object per node, with the keys dbt prints that driftwatch knows: `name`, `resource_type`,
  /// `package_name`, `original_file_path`, `unique_id`, `source_name` (sources), `tags`, `depends_on.nodes`.
  case json

  /// The lines `dbt ls --output self` prints for `ids` of `project` (dbt sorts them by unique id).
  public func lines(_ ids: some Sequence<String>, project: ProjectGraph) -> [String] {
    ids.sorted().compactMap { id in
      if let source = project.sources[id] { return line(source) }
      if let node = project.nodes[id] { return line(node) }
      return nil
    }
  }

  private func line(_ source: SourceTable) -> String {
    switch self {
    case .selector: return "source:\(source.packageName).\(source.sourceName).\(source.name)"
    case .name: return "\(source.sourceName).\(source.name)"
    case .path: return source.filePath ?? ""
    case .json:
      return Self.object([
        ("name", Self.string(source.name)), ("resource_type", Self.string("source")),
        ("package_name", Self.string(source.packageName)),
        ("original_file_path", Self.string(source.filePath ?? "")),
        ("unique_id", Self.string(source.uniqueID)),
        ("source_name", Self.string(source.sourceName)), ("tags", Self.list(source.tags)),
      ])
    }
  }

  /// `v2` for `model.pkg.name.v2`.
  private static func version(_ node: GraphNode) -> String? {
    guard node.resourceType == .model else { return nil }
    let parts = node.uniqueID.split(separator: ".")
    return parts.count == 4 ? String(parts[3]) : nil
  }

  private func line(_ node: GraphNode) -> String {
    switch self {
    case .selector:
      switch node.resourceType {
      case .exposure, .metric, .semanticModel, .savedQuery:
        return "\(node.resourceType.rawValue):\(node.packageName).\(node.name)"
      case .unitTest:
        // The unit test's versioned name is the last part of its id.
        let versioned = node.uniqueID.split(separator: ".").last.map(String.init) ?? node.name
        return "unit_test:\(node.packageName).\(versioned)"
      default:
        return (node.fqn ?? [node.packageName, node.name]).joined(separator: ".")
      }
    case .name:
      return Self.version(node).map { "\(node.name).\($0)" } ?? node.name
    case .path: return node.filePath ?? ""
    case .json:
      var members: [(String, String)] = [
        ("name", Self.string(node.name)), ("resource_type", Self.string(node.resourceType.rawValue)),
        ("package_name", Self.string(node.packageName)),
        ("original_file_path", Self.string(node.filePath ?? "")), ("unique_id", Self.string(node.uniqueID)),
      ]
      if node.resourceType != .semanticModel && node.resourceType != .unitTest {
        members.append(("tags", Self.list(node.tags)))
      }
      members.append(("depends_on", Self.object([("nodes", Self.list(node.dependsOn))])))
      return Self.object(members)
    }
  }

  // Python's json.dumps: `", "` and `": "` separators, non-ASCII escaped.
  private static func object(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }

  private static func list(_ items: [String]) -> String {
    "[" + items.map(string).joined(separator: ", ") + "]"
  }

  /// Python's `json.dumps` of a string (what `dbt ls` prints): the Jinja engine's writer, the one implementation.
  private static func string(_ text: String) -> String {
    JSON.quoted(text)
  }
}
