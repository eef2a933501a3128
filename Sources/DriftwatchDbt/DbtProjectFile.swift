import DriftwatchCore
import Foundation

/// What driftwatch reads of a `dbt_project.yml`.
struct DbtProjectFile: Sendable {
  var name: String
  var profile: String?
  var modelPaths: [String]
  var seedPaths: [String]
  var snapshotPaths: [String]
  var analysisPaths: [String]
  var testPaths: [String]
  var macroPaths: [String]
  var packagesInstallPath: String
  /// Top-level scalar `vars:` and package-scoped ones (`vars: {package: {name: value}}`).
  var globalVars: [String: String]
  var scopedVars: [String: [String: String]]
  /// `vars:` as written (lists, numbers and dicts too), for rendering models with the Jinja engine.
  var varsNode: YAMLNode? = nil
  /// `dispatch:` as written: macro namespace → packages to search, for `adapter.dispatch`.
  var dispatch: [String: [String]] = [:]
  /// `flags.require_generic_test_arguments_property` (dbt ≥ 1.10.8 defaults it to true).
  var requireGenericTestArgumentsProperty: Bool
  var models: ConfigTree
  var seeds: ConfigTree
  var snapshots: ConfigTree
  var sources: ConfigTree
  var tests: ConfigTree
  var exposures: ConfigTree
  var analyses: ConfigTree
  var semanticModels = ConfigTree(nil)
  var metrics = ConfigTree(nil)
  var savedQueries = ConfigTree(nil)
  var unitTests = ConfigTree(nil)
  /// What dbt would warn about in the file (a repeated key).
  var warnings: [ProjectWarning] = []

  /// Every path dbt looks in for property (`.yml`) files.
  var allResourcePaths: [String] {
    var seen: Set<String> = []
    return (modelPaths + seedPaths + snapshotPaths + analysisPaths + macroPaths + testPaths).filter {
      seen.insert($0).inserted
    }
  }

  /// `cliVars`: `--vars`, the only vars dbt knows when it renders dbt_project.yml.
  static func load(
    directory: String, displayPath: String, environment: [String: String], cliVars: [String: String] = [:]
  ) throws -> DbtProjectFile {
    let path = (directory as NSString).appendingPathComponent("dbt_project.yml")
    let text: String
    switch FileReading.contents(of: path) {
    case .success(let contents): text = contents
    case .failure(let problem) where problem.isMissing:
      throw DbtError(
        "no dbt_project.yml in \(directory); pass the directory that contains your dbt project's "
          + "dbt_project.yml")
    case .failure(let problem):
      throw DbtError(
        "cannot read dbt_project.yml (\(problem.reason)); make it readable by the user running driftwatch",
        file: displayPath)
    }
    let (loaded, duplicates) = try YAMLLoader.loadAcceptingDuplicates(text, path: displayPath)
    guard let root = loaded, root.pairs != nil else {
      throw DbtError(
        "dbt_project.yml is empty or not a mapping; it needs at least `name:`", file: displayPath)
    }
    let context = TemplateContext(environment: environment, vars: cliVars)
    func render(_ node: YAMLNode?, key: String) throws -> String? {
      guard let node, let raw = node.string else { return nil }
      do {
        return try TemplateRenderer.render(raw, context: context)
      } catch {
        throw DbtError(
          "`\(key)`: \(error.problem)", file: displayPath, line: node.mark.line, column: node.mark.column)
      }
    }
    func paths(_ key: String, legacy: String? = nil, default defaults: [String]) throws -> [String] {
      var node = root[key]
      if node == nil, let legacy { node = root[legacy] }
      guard let node else { return defaults }
      if node.isNull { return defaults }
      guard let items = node.items else {
        if let single = try render(node, key: key) { return [single] }
        return defaults
      }
      return try items.compactMap { try render($0, key: key) }.map { path in
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
      }
    }
    guard let name = try render(root["name"], key: "name"), !name.isEmpty else {
      throw DbtError(
        "dbt_project.yml has no `name:`; add the project's name (dbt needs it too)", file: displayPath,
        line: root.mark.line, column: root.mark.column)
    }
    var globalVars: [String: String] = [:]
    var scopedVars: [String: [String: String]] = [:]
    for pair in root["vars"]?.pairs ?? [] {
      if let scoped = pair.value.pairs {
        var values: [String: String] = [:]
        for inner in scoped { if let value = inner.value.string { values[inner.key] = value } }
        scopedVars[pair.key] = values
      } else if let value = pair.value.string {
        globalVars[pair.key] = value
      }
    }
    return DbtProjectFile(
      name: name,
      profile: try render(root["profile"], key: "profile"),
      modelPaths: try paths("model-paths", legacy: "source-paths", default: ["models"]),
      seedPaths: try paths("seed-paths", legacy: "data-paths", default: ["seeds"]),
      snapshotPaths: try paths("snapshot-paths", default: ["snapshots"]),
      analysisPaths: try paths("analysis-paths", default: ["analyses"]),
      testPaths: try paths("test-paths", default: ["tests"]),
      macroPaths: try paths("macro-paths", default: ["macros"]),
      packagesInstallPath: try render(root["packages-install-path"], key: "packages-install-path")
        ?? render(root["modules-path"], key: "modules-path") ?? "dbt_packages",
      globalVars: globalVars,
      scopedVars: scopedVars,
      varsNode: root["vars"],
      dispatch: Dictionary(
        (root["dispatch"]?.items ?? []).compactMap { entry in
          entry["macro_namespace"]?.string.map { ($0, entry["search_order"]?.stringList ?? []) }
        }, uniquingKeysWith: { _, last in last }),
      requireGenericTestArgumentsProperty: root["flags"]?["require_generic_test_arguments_property"]?.bool
        ?? true,
      models: ConfigTree(root["models"]),
      seeds: ConfigTree(root["seeds"]),
      snapshots: ConfigTree(root["snapshots"]),
      sources: ConfigTree(root["sources"]),
      tests: ConfigTree(root["data_tests"] ?? root["tests"]),
      exposures: ConfigTree(root["exposures"]),
      analyses: ConfigTree(root["analyses"]),
      semanticModels: ConfigTree(root["semantic-models"]),
      metrics: ConfigTree(root["metrics"]),
      savedQueries: ConfigTree(root["saved-queries"]),
      unitTests: ConfigTree(root["unit_tests"]),
      warnings: duplicates.map { ProjectWarning.duplicateKey($0, file: displayPath) }
    )
  }
}

/// A resource section of `dbt_project.yml` (`models:`, `seeds:`, …): configs keyed by fqn path.
/// Keys starting with `+` are configs; so are the bare config names driftwatch uses (`enabled`, `tags`).
/// Other keys are path components: the package, then folders, then a resource's name.
struct ConfigTree: Sendable {
  var root: YAMLNode?

  init(_ root: YAMLNode?) {
    self.root = root
  }

  struct Resolved: Sendable {
    /// The most specific `enabled`, `nil` when nothing sets it.
    var enabled: Bool?
    /// The most specific `enabled` when it is Jinja (`"{{ var('x') }}"`), to be rendered by the caller; `nil`
    /// when a literal is more specific or nothing sets it.
    var enabledTemplate: (text: String, line: Int)?
    /// Tags accumulate from the top down.
    var tags: [String] = []
  }

  /// dbt_project.yml's configs for a resource of a package at `fqn`: the package's own tree (`nil` for the
  /// root project), then the root project's, which wins.
  static func resolved(_ fqn: [String], own: ConfigTree?, root: ConfigTree) -> Resolved {
    var resolved = Resolved()
    own?.resolve(fqn, into: &resolved)
    root.resolve(fqn, into: &resolved)
    return resolved
  }

  /// Walks `fqn` (`[package, folder…, name]`) and collects `enabled` and `tags` along the way.
  func resolve(_ fqn: [String], into resolved: inout Resolved) {
    guard var node = root, node.pairs != nil else { return }
    apply(node, to: &resolved)
    for component in fqn {
      guard !Self.isConfigKey(component), let child = node[component], child.pairs != nil else { return }
      node = child
      apply(node, to: &resolved)
    }
  }

  private static func isConfigKey(_ key: String) -> Bool {
    key.hasPrefix("+") || key == "enabled" || key == "tags"
  }

  private func apply(_ node: YAMLNode, to resolved: inout Resolved) {
    if let node = node["+enabled"] ?? node["enabled"] {
      if let enabled = node.bool {
        resolved.enabled = enabled
        resolved.enabledTemplate = nil
      } else if let text = node.string, text.contains("{") {
        resolved.enabledTemplate = (text, node.mark.line)
      }
    }
    for key in ["+tags", "tags"] {
      if let tags = node[key], tags.pairs == nil { resolved.tags += tags.stringList }
    }
  }
}
