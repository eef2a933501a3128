/// Filters and tests beyond the built-in ones; shared by every template compiled with it.
public struct Environment: Sendable {
  public typealias Filter = @Sendable (Value, Arguments) throws -> Value
  public typealias Test = @Sendable (Value, Arguments) throws -> Bool

  public var filters: [String: Filter] = [:]
  public var tests: [String: Test] = [:]
  /// Stack a render may use for nested macro calls before a runaway recursion becomes an error (not a
  /// crash). The default suits threads with 512 KiB stacks (Dispatch's workers); render on such a thread or
  /// a larger one.
  public var maxStackBytes = 320 * 1024

  public init() {}

  /// Compiles `source`; `file` names it in errors.
  public func template(_ source: String, file: String? = nil) throws -> Template {
    try Template(source, file: file, environment: self)
  }
}

/// A compiled template: parse once, render many times (from any thread: it is immutable).
public struct Template: Sendable {
  public let file: String?
  let nodes: [Node]
  let environment: Environment

  public init(_ source: String, file: String? = nil, environment: Environment = Environment()) throws {
    var lexer = Lexer(source: source, file: file)
    let tokens = try lexer.tokenize()
    var parser = Parser(tokens: tokens, file: file)
    self.nodes = try parser.parseTemplate()
    self.file = file
    self.environment = environment
  }

  /// The macros the template defines at its top level (`{% macro %}`, dbt's `{% test %}` and
  /// `{% materialization %}`).
  var topLevelMacros: [MacroDef] {
    var out: [MacroDef] = []
    func collect(_ nodes: [Node]) {
      for node in nodes {
        switch node {
        case .macro(let def): out.append(def)
        default: break
        }
      }
    }
    collect(nodes)
    return out
  }

  public var macroNames: [String] { topLevelMacros.map(\.name) }

  /// Renders with plain context values.
  public func render(_ context: [String: Value] = [:]) throws -> String {
    try render(provider: DictionaryContext(context))
  }

  /// Renders with a caller's context, the macros of `library` visible as dbt resolves them from `scope`.
  public func render(provider: ContextProvider?, library: MacroLibrary? = nil, scope: MacroScope? = nil)
    throws
    -> String
  {
    let renderer = Renderer(
      environment: environment, provider: provider, library: library, macroScope: scope, file: file)
    return try renderer.run(nodes, scope: Scope(parent: nil))
  }
}

/// Which package a render belongs to, for dbt's macro lookup: unqualified names resolve in the node's
/// own package, then the root project, then the internal (`dbt`) macros; other packages only by name
/// (`dbt_utils.star`).
public struct MacroScope: Sendable, Equatable {
  public var rootPackage: String
  public var localPackage: String

  public init(rootPackage: String, localPackage: String) {
    self.rootPackage = rootPackage
    self.localPackage = localPackage
  }
}

/// Public description of one macro in a library.
public struct MacroInfo: Sendable, Equatable {
  public var package: String
  public var name: String
  public var file: String?
  public var line: Int
  public var parameters: [String]
}

/// The macros of a project and its packages, compiled once and shared by every render.
public struct MacroLibrary: Sendable {
  var packages: [String: [String: MacroDef]] = [:]
  /// dbt's internal packages, first wins (`["dbt_postgres", "dbt"]`); their macros form the global namespace.
  public private(set) var internalPackages: [String]
  var globalProject: [String: MacroDef] = [:]

  enum Resolved {
    case macro(MacroDef)
    case package(String, [String: MacroDef])
  }

  public init(internalPackages: [String] = ["dbt"]) {
    self.internalPackages = internalPackages
  }

  /// Compiles a macro file and adds its macros to `package`; returns their names. A macro defined twice in
  /// one package is an error, as in dbt.
  @discardableResult
  public mutating func add(
    source: String, file: String, package: String, environment: Environment = Environment()
  )
    throws -> [String]
  {
    let template = try Template(source, file: file, environment: environment)
    return try add(template, package: package)
  }

  @discardableResult
  public mutating func add(_ template: Template, package: String) throws -> [String] {
    var names: [String] = []
    for def in template.topLevelMacros {
      if let existing = packages[package]?[def.name] {
        throw JinjaError(
          .value,
          "macro '\(def.name)' is defined twice in package '\(package)' "
            + "(\(existing.file ?? "?"):\(existing.line) and \(def.file ?? "?"):\(def.line))",
          file: def.file, line: def.line, construct: "{% macro \(def.name) %}")
      }
      packages[package, default: [:]][def.name] = def
      names.append(def.name)
    }
    if internalPackages.contains(package) { rebuildGlobalProject() }
    return names
  }

  mutating func rebuildGlobalProject() {
    globalProject = [:]
    for pkg in internalPackages.reversed() {
      for (name, def) in packages[pkg] ?? [:] { globalProject[name] = def }
    }
  }

  public var packageNames: [String] { packages.keys.sorted() }

  public func macros(in package: String) -> [MacroInfo] {
    (packages[package] ?? [:]).values.map {
      MacroInfo(package: package, name: $0.name, file: $0.file, line: $0.line, parameters: $0.params.map(\.0))
    }.sorted { $0.name < $1.name }
  }

  public func contains(_ name: String, package: String) -> Bool { packages[package]?[name] != nil }

  func isInternal(_ package: String) -> Bool { internalPackages.contains(package) }

  /// dbt's unqualified macro lookup.
  func lookup(_ name: String, scope: MacroScope?) -> MacroDef? {
    if let scope {
      if !isInternal(scope.localPackage), let def = packages[scope.localPackage]?[name] { return def }
      if !isInternal(scope.rootPackage), let def = packages[scope.rootPackage]?[name] { return def }
    }
    return globalProject[name]
  }

  /// A global name: a macro, or a package namespace (`dbt_utils`, `dbt`).
  func resolveName(_ name: String, scope: MacroScope?) -> Resolved? {
    if let scope {
      if !isInternal(scope.localPackage), let def = packages[scope.localPackage]?[name] { return .macro(def) }
      if !isInternal(scope.rootPackage), let def = packages[scope.rootPackage]?[name] { return .macro(def) }
    }
    if !isInternal(name), let pkg = packages[name] { return .package(name, pkg) }
    if name == "dbt" { return .package("dbt", globalProject) }
    if let def = globalProject[name] { return .macro(def) }
    return nil
  }

  /// The macro `name` of `package` as dbt's `get_from_package`: `dbt` is the global namespace.
  func fromPackage(_ package: String, _ name: String) -> MacroDef? {
    if package == "dbt" { return globalProject[name] }
    return packages[package]?[name]
  }
}
