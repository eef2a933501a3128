import DriftwatchCore
import DriftwatchJinja

/// Renders the Jinja in a yml value as dbt does before it reads the value: property files with
/// `SchemaYamlRenderer` (source `database`/`schema`/`identifier`, `config: enabled`/`tags`, …; the context has
/// `var` with the package's and the root project's vars and `--vars`, `env_var`, `target`, `modules` and
/// the other base functions, but no macros, `ref`, `source` or `config`), and dbt_project.yml with
/// `DbtProjectYamlRenderer` (`+enabled: "{{ var('x', false) }}"`: only `--vars` are known then).
///
/// The little renderer (`TemplateRenderer`: `env_var`, `var`, `target.*`, literals, `~`) answers most values;
/// the rest (`{% if target.type != 'spark' %}…`, filters, expressions) goes to the Jinja engine.
/// A value that cannot be evaluated exactly (a construct the engine lacks, a call of something the context does
/// not have, `target` while no target is known) is `.unknown`, for the caller to mark incomplete; what dbt
/// itself fails on (a missing env var or var, `raise_compiler_error`, a syntax error) is a `DbtError`.
struct YAMLValueRendering: Sendable {
  enum Outcome: Equatable {
    case rendered(String)
    /// `construct` names what could not be evaluated, `detail` why.
    case unknown(construct: String, detail: String)
  }

  /// Where the value comes from: a property file of a package, or dbt_project.yml (rendered when dbt loads the
  /// project, when only `--vars` are known).
  enum Scope {
    case properties(package: Int)
    case projectFile
  }

  private let rootName: String
  private let packageNames: [String]
  /// Each package's own `vars:` (the root project's at 0) and `--vars`, as read (Jinja values are made per
  /// render: they are not Sendable).
  private let packageVars: [PyValue]
  private let cliVars: PyValue
  /// The little renderer's vars per package (strings), `--vars` included.
  private let textVars: [[String: String]]
  private let cliTextVars: [String: String]
  /// `nil`: no target is known.
  private let target: [String: String]?
  private let environment: [String: String]

  init(packages: [PackageContext], cliVars: [PyPair], options: DbtReadOptions) {
    rootName = packages.first?.name ?? ""
    packageNames = packages.map(\.name)
    packageVars = packages.map { $0.project.varsNode?.python ?? .none }
    var cliText: [String: String] = [:]
    for pair in cliVars { cliText[pair.key.pythonStr] = pair.value.pythonStr }
    self.cliVars = .dict(cliVars)
    cliTextVars = cliText
    let root = packages.first?.project
    textVars = packages.enumerated().map { index, package in
      let own = package.project
      var vars = own.globalVars
      if index != 0 { vars.merge(own.scopedVars[own.name] ?? [:]) { _, new in new } }
      vars.merge(root?.globalVars ?? [:]) { _, new in new }
      vars.merge(root?.scopedVars[own.name] ?? [:]) { _, new in new }
      vars.merge(cliText) { _, new in new }
      return vars
    }
    target = options.target["name"] == nil && options.target["type"] == nil ? nil : options.target
    environment = options.environment
  }

  /// Whether dbt would render `text` (it holds a Jinja delimiter).
  static func needsRendering(_ text: String) -> Bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
  }

  /// `text` rendered; `file`/`line` name the value in errors.
  func render(_ text: String, scope: Scope, file: String, line: Int, key: String) throws(DbtError) -> Outcome
  {
    guard Self.needsRendering(text) else { return .rendered(text) }
    let context: TemplateContext
    switch scope {
    case .properties(let package):
      context = TemplateContext(environment: environment, vars: textVars[package], target: target ?? [:])
    case .projectFile:
      context = TemplateContext(environment: environment, vars: cliTextVars, target: target ?? [:])
    }
    do {
      return .rendered(try TemplateRenderer.render(text, context: context))
    } catch {
      if error.missingVariable != nil || error.missingVar != nil {
        throw DbtError("`\(key)`: \(error.problem)", file: file, line: line)
      }
    }
    return try renderWithEngine(text, scope: scope, file: file, line: line, key: key)
  }

  /// A rendered `enabled`: `true`/`false` (Python's `True`/`False` too), else `.unknown`.
  func renderBool(_ text: String, scope: Scope, file: String, line: Int, key: String) throws(DbtError)
    -> Result<Bool, UnknownValue>
  {
    switch try render(text, scope: scope, file: file, line: line, key: key) {
    case .unknown(let construct, let detail):
      return .failure(UnknownValue(construct: construct, detail: detail))
    case .rendered(let rendered):
      switch rendered.trimmingCharacters(in: .whitespaces).lowercased() {
      case "true": return .success(true)
      case "false": return .success(false)
      default:
        return .failure(
          UnknownValue(construct: "\(key): \(text)", detail: "renders to '\(rendered)', not true or false"))
      }
    }
  }

  struct UnknownValue: Error, Equatable {
    var construct: String
    var detail: String
  }

  private func renderWithEngine(_ text: String, scope: Scope, file: String, line: Int, key: String)
    throws(DbtError) -> Outcome
  {
    let package: Int?
    if case .properties(let index) = scope { package = index } else { package = nil }
    let packageName = package.map { packageNames[$0] } ?? rootName
    var vars = DbtVars(cliVars: Self.dictionary(cliVars))
    if let package {
      vars.rootVars = Self.dictionary(packageVars[0])
      if package != 0 { vars.packageVars = Self.dictionary(packageVars[package]) }
    }
    let adapterType = target?["type"] ?? "postgres"
    let inner = DbtParseContext(
      rootProject: rootName, package: packageName, adapterTypes: [adapterType],
      target: (target ?? [:]).mapValues(Self.targetValue), vars: vars, environment: environment)
    let context = YAMLContext(inner, vars: vars)
    let construct = "\(key): \(text)"
    do {
      let template = try Template(text, file: file)
      let rendered = try template.render(provider: context, library: MacroLibrary(), scope: inner.macroScope)
      if context.readTarget && target == nil {
        return .unknown(
          construct: construct,
          detail: "reads target, and no dbt target is known: give driftwatch the project's profiles.yml")
      }
      if let call = context.undefinedCalls.first {
        return .unknown(
          construct: construct, detail: "calls \(call)(), which dbt's yml context does not have")
      }
      return .rendered(rendered)
    } catch let error as JinjaError {
      switch error.kind {
      case .unsupported, .undefined:
        return .unknown(construct: construct, detail: "\(error.kind.rawValue): \(error.detail)")
      default:
        throw DbtError(
          "`\(key)`: \(error.detail); fix the Jinja (dbt fails on it too)", file: file, line: line)
      }
    } catch {
      return .unknown(construct: construct, detail: "\(error)")
    }
  }

  private static func targetValue(_ text: String) -> Value {
    if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
      let number = Int(text)
    {
      return .int(number)
    }
    return .string(text)
  }

  static func dictionary(_ value: PyValue) -> [String: Value] {
    guard case .dict(let pairs) = value else { return [:] }
    var result: [String: Value] = [:]
    for pair in pairs { result[pair.key.pythonStr] = IncompleteNodeRendering.jinjaValue(pair.value) }
    return result
  }
}

/// dbt's yml context (`SchemaYamlContext`, `TargetContext`): the base functions, `var` as dbt's
/// `ConfiguredVar` (values are not rendered again, a missing var without a default fails), `target`; no macros,
/// `ref`, `source`, `config` or `adapter`.
private final class YAMLContext: ContextProvider {
  static let passed: Set<String> = [
    "env_var", "target", "modules", "return", "fromjson", "tojson", "fromyaml", "toyaml", "set", "set_strict",
    "zip", "zip_strict", "log", "print", "run_started_at", "invocation_id", "exceptions", "flags",
    "local_md5",
    "diff_of_two_dicts", "project_name", "dbt_version", "try_or_compiler_error", "doc",
  ]
  let inner: DbtParseContext
  let vars: DbtVars
  var readTarget = false
  var undefinedCalls: [String] = []

  init(_ inner: DbtParseContext, vars: DbtVars) {
    self.inner = inner
    self.vars = vars
  }

  func value(named name: String, renderer: Renderer) -> Value? {
    if name == "var" {
      return .object(ConfiguredVar(vars: vars, package: inner.package, root: inner.rootProject))
    }
    guard Self.passed.contains(name) else { return nil }
    if name == "target" { readTarget = true }
    return inner.value(named: name, renderer: renderer)
  }

  func undefinedCall(_ name: String, file: String?, line: Int) {
    undefinedCalls.append(name)
  }
}

/// dbt's `ConfiguredVar`: `--vars`, then the root project's vars, then the package's; a default; else dbt fails.
private final class ConfiguredVar: CallableObject {
  let vars: DbtVars
  let package: String
  let root: String

  init(vars: DbtVars, package: String, root: String) {
    self.vars = vars
    self.package = package
    self.root = root
  }

  var typeName: String { "Var" }

  func call(_ arguments: Arguments) throws -> Value {
    guard case .string(let name)? = arguments.value(0, "var_name") else {
      throw JinjaError(.type, "var() needs the variable name as a string")
    }
    if let value = vars.lookup(name, package: package, rootProject: root) { return value }
    if let fallback = arguments.value(1, "default") { return fallback }
    throw JinjaError(
      .raised,
      "required var '\(name)' not found in `vars:` or --vars; add it to `vars:`, pass it with --vars, or give a "
        + "default")
  }

  func attribute(_ name: String) -> Value? {
    guard name == "has_var" else { return nil }
    return .function(
      Function("has_var") { [vars, package, root] args in
        .bool(vars.lookup(args.positional.first?.str ?? "", package: package, rootProject: root) != nil)
      })
  }
}

/// dbt's `--vars`: a YAML mapping (JSON is YAML too), as `dbt --vars '{key: value}'` takes it.
enum CLIVars {
  static func parse(_ text: String?) throws(DbtError) -> [PyPair] {
    guard let text else { return [] }
    let node: YAMLNode?
    do {
      node = try YAMLLoader.load(text, path: "--vars")
    } catch let error as DbtError {
      throw DbtError(
        "--vars is not valid YAML (\(error.message)); pass a mapping such as '{\"key\": \"value\"}'")
    } catch {
      throw DbtError("--vars is not valid YAML; pass a mapping such as '{\"key\": \"value\"}'")
    }
    guard let node else { return [] }
    guard case .dict(let pairs) = node.python else {
      throw DbtError(
        "--vars must be a YAML mapping, as dbt's --vars, not a single value; pass e.g. '{\"key\": \"value\"}'"
      )
    }
    return pairs
  }
}
