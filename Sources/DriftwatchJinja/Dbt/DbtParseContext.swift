/// A `ref()` call as dbt records it at parse time.
public struct DbtRef: Equatable, Sendable, CustomStringConvertible {
  public var package: String?
  public var name: String
  /// `v=` / `version=`, as text (`2`, `'2'` and `2.0` differ in dbt too).
  public var version: String?

  public init(package: String? = nil, name: String, version: String? = nil) {
    self.package = package
    self.name = name
    self.version = version
  }

  public var description: String {
    (package.map { $0 + "." } ?? "") + name + (version.map { " v" + $0 } ?? "")
  }
}

/// A `source()` call.
public struct DbtSourceRef: Equatable, Sendable {
  public var source: String
  public var table: String

  public init(source: String, table: String) {
    self.source = source
    self.table = table
  }
}

/// What a parse-time render did: the calls dbt records on the node, and what it logged.
public final class DbtParseRecorder {
  public internal(set) var refs: [DbtRef] = []
  public internal(set) var sources: [DbtSourceRef] = []
  /// Every `config(...)` call's options, in order (`pre_hook` already renamed `pre-hook`, as dbt does).
  public internal(set) var configCalls: [[(key: String, value: Value)]] = []
  /// `log()`/`print()` messages.
  public internal(set) var logs: [String] = []
  /// `exceptions.warn()` messages.
  public internal(set) var warnings: [String] = []
  /// Names of the environment variables read (`env_var`).
  public internal(set) var envVars: [String] = []
  /// Names of the vars read (`var`).
  public internal(set) var vars: [String] = []
  /// `doc()` references (package, name).
  public internal(set) var docs: [(package: String?, name: String)] = []
  /// Calls of undefined names (a macro the project and its packages do not define): rendered as '' like dbt
  /// does at parse, recorded so the caller can mark the node incomplete.
  public internal(set) var undefinedCalls: [(name: String, file: String?, line: Int)] = []

  public init() {}

  /// The config calls merged as dbt merges them: `tags`, `pre-hook`, `post-hook` accumulate (a string
  /// becomes a one-item list), `meta` and the other dict keys update, everything else is overwritten.
  public var config: DictRef {
    let merged = DictRef()
    for call in configCalls {
      for (key, value) in call {
        switch key {
        case "tags", "pre-hook", "post-hook":
          var items: [Value] = []
          if case .list(let old)? = merged.get(key) { items = old.items }
          switch value {
          case .list(let l): items += l.items
          case .tuple(let t): items += t
          default: items.append(value)
          }
          merged.set(.string(key), .list(ListRef(items)))
        default:
          if case .dict(let new) = value, case .dict(let old)? = merged.get(key) {
            let combined = old.copy()
            for entry in new.entries { combined.set(entry.key, entry.value) }
            merged.set(.string(key), .dict(combined))
          } else {
            merged.set(.string(key), value)
          }
        }
      }
    }
    return merged
  }

  /// The merged `config` value of `key`, if any call set it.
  public func configValue(_ key: String) -> Value? { config.get(key) }
}

/// `var()` scopes as dbt merges them for a node (lowest to highest precedence): the node's package's own
/// `vars:` (global, then under its package name), the root project's `vars:` (global, then under the node's
/// package name), then `--vars`.
public struct DbtVars {
  public var rootVars: [String: Value]
  public var packageVars: [String: Value]
  public var cliVars: [String: Value]

  public init(
    rootVars: [String: Value] = [:], packageVars: [String: Value] = [:], cliVars: [String: Value] = [:]
  ) {
    self.rootVars = rootVars
    self.packageVars = packageVars
    self.cliVars = cliVars
  }

  /// The value of `name` for a node of `package` in a project whose root is `rootProject`.
  public func lookup(_ name: String, package: String, rootProject: String) -> Value? {
    if let v = cliVars[name] { return v }
    if case .dict(let scoped)? = rootVars[package], let v = scoped.get(name) { return v }
    if let v = rootVars[name] { return v }
    if package != rootProject {
      if case .dict(let scoped)? = packageVars[package], let v = scoped.get(name) { return v }
      if let v = packageVars[name] { return v }
    }
    return nil
  }
}

/// dbt's context as dbt renders at parse time (`execute` false): `ref`, `source`, `config`, `var`,
/// `env_var`, `target`, `this`, `adapter` (`dispatch` with dbt's search order, `quote`), `is_incremental`,
/// `run_query`/`statement`/`load_result`, `return`, `exceptions`, `log`/`print`, `modules`, JSON/YAML,
/// `zip`, `local_md5`, `api.Relation`, `builtins`. One per node render: the recorder collects its calls.
public final class DbtParseContext: ContextProvider {
  public var rootProject: String
  /// The package of the node being rendered.
  public var package: String
  /// dbt's adapter type names, most specific first (`["redshift", "postgres"]`); dispatch then tries `default`.
  public var adapterTypes: [String]
  /// `target` (profiles.yml output with `name`, `type`, `schema`, …).
  public var target: [String: Value]
  public var vars: DbtVars
  public var environment: [String: String]
  /// The root project's `dispatch:` config: macro namespace → search order of packages.
  public var dispatchSearchOrder: [String: [String]]
  /// Installed package names (`packages.yml`): a dispatch namespace that is one is searched in the root
  /// project, then in it.
  public var dependencies: Set<String>
  /// `this` (and what `ref`/`source` return at parse, as in dbt).
  public var this: DbtRelation
  /// `model` (the node as a dict), when the caller has it.
  public var model: Value
  /// Quote character of the adapter (`"` for PostgreSQL, `` ` `` for BigQuery).
  public var quoteCharacter: String
  /// The time `run_started_at` and `modules.datetime.datetime.now()` report, in seconds since 1970 UTC.
  public var now: Int64
  /// `fromyaml` / `toyaml`; without them both are `.unsupported` errors.
  public var yamlLoader: ((String) throws -> Value)?
  public var yamlDumper: ((Value) throws -> String)?
  public let recorder = DbtParseRecorder()
  var cache: [String: Value] = [:]

  public init(
    rootProject: String, package: String? = nil, adapterTypes: [String] = ["postgres"],
    target: [String: Value] = [:], vars: DbtVars = DbtVars(), environment: [String: String] = [:],
    dispatchSearchOrder: [String: [String]] = [:], dependencies: Set<String> = [], this: DbtRelation? = nil,
    model: Value = .undefined("model"), quoteCharacter: String = "\"", now: Int64 = 0
  ) {
    self.rootProject = rootProject
    self.package = package ?? rootProject
    self.adapterTypes = adapterTypes
    self.target = target
    self.vars = vars
    self.environment = environment
    self.dispatchSearchOrder = dispatchSearchOrder
    self.dependencies = dependencies
    self.this =
      this
      ?? DbtRelation(
        database: target["database"]?.stringValue ?? target["dbname"]?.stringValue,
        schema: target["schema"]?.stringValue, identifier: nil, quoteCharacter: quoteCharacter,
        className: DbtRelation.className(adapterType: adapterTypes.first))
    self.model = model
    self.quoteCharacter = quoteCharacter
    self.now = now
  }

  /// dbt's macro lookup scope for this node.
  public var macroScope: MacroScope { MacroScope(rootPackage: rootProject, localPackage: package) }

  /// Renders `template` at parse time with this context and `library`'s macros.
  public func render(_ template: Template, library: MacroLibrary) throws -> String {
    try template.render(provider: self, library: library, scope: macroScope)
  }

  public func undefinedCall(_ name: String, file: String?, line: Int) {
    recorder.undefinedCalls.append((name, file, line))
  }

  public func value(named name: String, renderer: Renderer) -> Value? {
    if let cached = cache[name] { return cached }
    guard let v = make(name, renderer: renderer) else { return nil }
    cache[name] = v
    return v
  }

  func fn(_ name: String, _ body: @escaping (Arguments) throws -> Value) -> Value {
    .function(Function(name, body))
  }

  /// `flags` as dbt shows it to templates while running the command `which` (`parse`, `compile`).
  static func flags(which: String) -> Value {
    .object(
      AttributeObject(
        typeName: "Flags",
        attributes: [
          "FULL_REFRESH": .bool(false), "STORE_FAILURES": .bool(false), "WHICH": .string(which),
          "EMPTY": .bool(false),
        ]))
  }

  /// `builtins`: dbt's own `ref`, `source` and `config`, which a project's overrides call.
  static func builtins(ref: Value?, source: Value?, config: Value?) -> Value {
    .object(
      AttributeObject(
        typeName: "builtins",
        attributes: ["ref": ref ?? .none, "source": source ?? .none, "config": config ?? .none]))
  }

  // swiftlint:disable:next cyclomatic_complexity
  func make(_ name: String, renderer: Renderer) -> Value? {
    switch name {
    case "ref": return fn("ref") { [weak self] args in try self?.ref(args) ?? .none }
    case "source": return fn("source") { [weak self] args in try self?.source(args) ?? .none }
    case "config": return .object(DbtConfigObject(recorder: recorder))
    case "var": return .object(DbtVarObject(context: self, renderer: renderer))
    case "env_var":
      return fn("env_var") { [weak self] args in
        guard let self else { return .none }
        guard case .string(let key)? = args.value(0, "var") else {
          throw JinjaError(.type, "env_var() needs the variable name as a string")
        }
        if key.hasPrefix("DBT_ENV_SECRET") {
          throw JinjaError(
            .raised, "secret env vars are allowed only in profiles.yml or packages.yml: '\(key)'")
        }
        self.recorder.envVars.append(key)
        if let v = self.environment[key] { return .string(v) }
        if let d = args.value(1, "default"), !d.isNone { return d }
        throw JinjaError(.raised, "env var required but not provided: '\(key)'")
      }
    case "target": return .dict(target.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    case "this": return .object(this)
    // dbt's `schema`/`database` context members are the target's.
    case "schema": return target["schema"] ?? .undefined("schema")
    case "database": return target["database"] ?? target["dbname"] ?? .undefined("database")
    case "model": return model
    case "execute": return .bool(false)
    case "project_name": return .string(rootProject)
    case "dbt_version": return .string("1.11.0")
    case "invocation_id": return .string("00000000-0000-0000-0000-000000000000")
    case "run_started_at": return .object(DbtModules.DateTime(epochSeconds: now))
    case "flags": return Self.flags(which: "parse")
    case "graph": return .dict(DictRef())
    case "selected_resources": return .list([])
    case "is_incremental": return fn("is_incremental") { _ in .bool(false) }
    case "should_full_refresh": return fn("should_full_refresh") { _ in .bool(false) }
    case "run_query":
      // dbt's run_query is `load_result(...).table`; at parse load_result is None, so its `.table` is undefined.
      return fn("run_query") { _ in .undefined("table") }
    case "statement", "noop_statement": return fn(name) { _ in .string("") }
    case "load_result", "load_relation", "load_cached_relation": return fn(name) { _ in .none }
    case "store_result", "store_raw_result": return fn(name) { _ in .string("") }
    case "return":
      return fn("return") { args in throw ReturnSignal(value: args.positional.first ?? .none) }
    case "exceptions": return .object(DbtExceptions(recorder: recorder))
    case "log", "print":
      return fn(name) { [weak self] args in
        self?.recorder.logs.append(args.value(0, "msg")?.str ?? "")
        return .string("")
      }
    case "modules": return DbtModules.modules(now: now)
    case "tojson":
      return fn("tojson") { args in
        let sortKeys = args.value(2, "sort_keys")?.truthy ?? false
        return .string(try JSON.dump(args.value(0, "value") ?? .none, sortKeys: sortKeys))
      }
    case "fromjson":
      return fn("fromjson") { args in
        guard case .string(let s)? = args.value(0, "string") else { return args.value(1, "default") ?? .none }
        do { return try JSON.parse(s) } catch { return args.value(1, "default") ?? .none }
      }
    case "fromyaml":
      return fn("fromyaml") { [weak self] args in
        guard let loader = self?.yamlLoader else {
          throw JinjaError(.unsupported, "fromyaml is not supported without a yaml loader")
        }
        guard case .string(let s)? = args.value(0, "value") else { return args.value(1, "default") ?? .none }
        do { return try loader(s) } catch { return args.value(1, "default") ?? .none }
      }
    case "toyaml":
      return fn("toyaml") { [weak self] args in
        guard let dumper = self?.yamlDumper else {
          throw JinjaError(.unsupported, "toyaml is not supported without a yaml dumper")
        }
        return .string(try dumper(args.value(0, "value") ?? .none))
      }
    case "zip", "zip_strict":
      return fn(name) { args in
        let lists = try args.positional.map { try Attributes.iterateSimple($0) }
        if name == "zip_strict", Set(lists.map(\.count)).count > 1 {
          throw JinjaError(.value, "zip_strict() arguments have different lengths")
        }
        let n = lists.map(\.count).min() ?? 0
        return .list(ListRef((0..<n).map { i in .tuple(lists.map { $0[i] }) }))
      }
    case "set", "set_strict":
      return fn(name) { args in
        var out: [Value] = []
        for item in try Attributes.iterateSimple(args.value(0, "value") ?? .list([])) {
          _ = try DictKey(item)
          if !out.contains(where: { Operators.equal($0, item) }) { out.append(item) }
        }
        return .list(ListRef(out))
      }
    case "local_md5": return fn("local_md5") { args in .string(MD5.hex(args.value(0, "value")?.str ?? "")) }
    case "api":
      return .object(
        AttributeObject(
          typeName: "api",
          attributes: [
            "Relation": .object(
              DbtRelationFactory(
                quoteCharacter: quoteCharacter,
                className: DbtRelation.className(adapterType: adapterTypes.first))),
            "Column": fn("Column") { _ in throw JinjaError(.unsupported, "api.Column is not supported") },
          ]))
    case "adapter": return .object(DbtAdapter(context: self, renderer: renderer))
    case "builtins":
      return Self.builtins(
        ref: make("ref", renderer: renderer), source: make("source", renderer: renderer),
        config: make("config", renderer: renderer))
    case "doc":
      return fn("doc") { [weak self] args in
        let strings = args.positional.map(\.str)
        if strings.count == 2 {
          self?.recorder.docs.append((strings[0], strings[1]))
        } else if let n = strings.first {
          self?.recorder.docs.append((nil, n))
        }
        return .string("")
      }
    case "try_or_compiler_error":
      return fn(name) { [weak renderer] args in
        guard args.positional.count >= 2, let renderer else { return .none }
        do {
          return try renderer.call(
            args.positional[1], Arguments(Array(args.positional.dropFirst(2)), keywords: args.keywords))
        } catch let error as JinjaError where error.kind != .unsupported {
          throw JinjaError(.raised, args.positional[0].str)
        }
      }
    case "diff_of_two_dicts":
      return fn(name) { args in
        guard case .dict(let a)? = args.positional.first,
          case .dict(let b)? = args.positional.dropFirst().first
        else { return .dict(DictRef()) }
        let out = DictRef()
        for entry in a.entries {
          let keyText = entry.key.str.lowercased()
          let inB = b.entries.contains { $0.key.str.lowercased() == keyText }
          if !inB {
            out.set(entry.key, entry.value)
          } else if case .list(let values) = entry.value,
            case .list(let other)? = b.entries.first(where: { $0.key.str.lowercased() == keyText })?.value
          {
            let missing = values.items.filter { v in
              !other.items.contains { $0.str.lowercased() == v.str.lowercased() }
            }
            if !missing.isEmpty { out.set(entry.key, .list(ListRef(missing))) }
          }
        }
        return .dict(out)
      }
    case "context": return nil
    default: return nil
    }
  }

  func ref(_ args: Arguments) throws -> Value {
    let version = args.keyword("v") ?? args.keyword("version")
    let strings = try args.positional.map { v -> String in
      guard case .string(let s) = v else {
        throw JinjaError(.type, "the arguments to ref() must be strings, got \(v.typeName)")
      }
      return s
    }
    let call: DbtRef
    switch strings.count {
    case 1: call = DbtRef(name: strings[0], version: version.map(\.str))
    case 2: call = DbtRef(package: strings[0], name: strings[1], version: version.map(\.str))
    default: throw JinjaError(.type, "ref() takes at most two arguments (\(strings.count) given)")
    }
    recorder.refs.append(call)
    return .object(this)
  }

  func source(_ args: Arguments) throws -> Value {
    guard args.positional.count == 2, case .string(let s) = args.positional[0],
      case .string(let t) = args.positional[1]
    else {
      throw JinjaError(.type, "source() takes exactly two string arguments (source name, table name)")
    }
    recorder.sources.append(DbtSourceRef(source: s, table: t))
    return .object(this)
  }

  /// dbt's `adapter.dispatch` search: packages from the `dispatch:` config or `[root, namespace]` for an
  /// installed namespace (else the global lookup), each with every adapter prefix then `default`.
  func dispatch(_ args: Arguments, renderer: Renderer) throws -> Value {
    guard case .string(let macroName)? = args.value(0, "macro_name") else {
      throw JinjaError(.type, "adapter.dispatch needs a macro name")
    }
    if macroName.contains(".") {
      throw JinjaError(
        .raised,
        "in adapter.dispatch, got a macro name of \"\(macroName)\", but \".\" is not a valid macro name component"
      )
    }
    if let packages = args.value(2, "packages"), !packages.isNone {
      throw JinjaError(.raised, "the 'packages' argument of adapter.dispatch is no longer supported")
    }
    var namespace: String?
    switch args.value(1, "macro_namespace") {
    case .string(let s)?: namespace = s
    case nil, .none?, .undefined?: namespace = nil
    case let other?:
      throw JinjaError(
        .type, "in adapter.dispatch, macro_namespace should be none or a string, got \(other.typeName)")
    }
    var searchPackages: [String?] = [nil]
    if let namespace {
      if let order = dispatchSearchOrder[namespace], !order.isEmpty {
        searchPackages = order
      } else if dependencies.contains(namespace) {
        searchPackages = [rootProject, namespace]
      }
    }
    var attempts: [String] = []
    for pkg in searchPackages {
      for prefix in adapterTypes + ["default"] {
        let searchName = "\(prefix)__\(macroName)"
        attempts.append(pkg.map { "\($0).\(searchName)" } ?? searchName)
        if let macro = renderer.macro(named: searchName, package: pkg) { return macro }
      }
    }
    throw JinjaError(
      .undefined,
      "in dispatch: no macro named '\(macroName)' found within namespace: '\(namespace ?? "None")'; searched for: "
        + attempts.map { "'\($0)'" }.joined(separator: ", "))
  }
}

/// `config`: callable with keywords or one dict, and `config.get`/`require`/`set` as at parse (`get` is '').
final class DbtConfigObject: CallableObject {
  let recorder: DbtParseRecorder
  init(recorder: DbtParseRecorder) { self.recorder = recorder }
  var typeName: String { "Config" }
  var rendered: String { "<Config>" }

  func call(_ arguments: Arguments) throws -> Value {
    var options: [(key: String, value: Value)]
    if arguments.positional.count == 1 && arguments.keywords.isEmpty {
      guard case .dict(let d) = arguments.positional[0] else {
        throw JinjaError(.type, "config() takes keyword arguments or one dict")
      }
      options = d.entries.map { ($0.key.str, $0.value) }
    } else if arguments.positional.isEmpty {
      options = arguments.keywords.map { ($0.0, $0.1) }
    } else {
      throw JinjaError(.type, "config() takes keyword arguments or one dict")
    }
    for old in ["pre_hook", "post_hook"] {
      guard let i = options.firstIndex(where: { $0.key == old }) else { continue }
      let new = old.replacingAll("_", "-")
      if options.contains(where: { $0.key == new }) {
        throw JinjaError(.raised, "config keys '\(old)' and '\(new)' conflict")
      }
      options[i].key = new
    }
    recorder.configCalls.append(options)
    return .string("")
  }

  func attribute(_ name: String) -> Value? {
    switch name {
    case "get", "require", "meta_get", "meta_require": return .function(Function(name) { _ in .string("") })
    case "set":
      return .function(
        Function("set") { [weak self] args in
          guard let self, args.positional.count == 2 else { return .string("") }
          return try self.call(Arguments([Value.dict([(args.positional[0].str, args.positional[1])])]))
        })
    case "persist_relation_docs", "persist_column_docs":
      return .function(Function(name) { _ in .bool(false) })
    default: return nil
    }
  }
}

/// `var`: callable (`var('x', default)`), with `var.has_var('x')`. String values are rendered as Jinja with
/// the node's context, as dbt does (so a var holding `{{ ref('x') }}` records the ref).
final class DbtVarObject: CallableObject {
  weak var context: DbtParseContext?
  weak var renderer: Renderer?
  init(context: DbtParseContext, renderer: Renderer) {
    self.context = context
    self.renderer = renderer
  }
  var typeName: String { "Var" }

  func lookup(_ name: String) -> Value? {
    guard let context else { return nil }
    return context.vars.lookup(name, package: context.package, rootProject: context.rootProject)
  }

  func call(_ arguments: Arguments) throws -> Value {
    guard case .string(let name)? = arguments.value(0, "var_name") else {
      throw JinjaError(.type, "var() needs the variable name as a string")
    }
    context?.recorder.vars.append(name)
    if let raw = lookup(name) {
      if case .string(let s) = raw, s.contains("{{") || s.contains("{%") || s.contains("{#"), let renderer {
        return .string(try renderer.renderString(s, file: "var '\(name)'"))
      }
      return raw
    }
    if let d = arguments.value(1, "default") { return d }
    return .none
  }

  func attribute(_ name: String) -> Value? {
    guard name == "has_var" else { return nil }
    return .function(
      Function("has_var") { [weak self] args in .bool(self?.lookup(args.positional.first?.str ?? "") != nil) }
    )
  }
}

/// `exceptions`: `raise_compiler_error` and friends raise; `warn` records.
final class DbtExceptions: JinjaObject {
  let recorder: DbtParseRecorder
  init(recorder: DbtParseRecorder) { self.recorder = recorder }
  var typeName: String { "exceptions" }

  func attribute(_ name: String) -> Value? {
    switch name {
    case "warn":
      return .function(
        Function(name) { [weak self] args in
          self?.recorder.warnings.append(args.positional.first?.str ?? "")
          return .string("")
        })
    case "raise_compiler_error", "raise_database_error", "raise_dependency_error", "raise_not_implemented",
      "raise_fail_fast_error", "raise_contract_error", "column_type_missing", "raise_cant_create_schema":
      return .function(
        Function(name) { args in
          throw JinjaError(.raised, args.positional.first?.str ?? name)
        })
    default:
      if name.hasPrefix("raise_") || name.hasSuffix("_error") {
        return .function(
          Function(name) { args in throw JinjaError(.raised, args.positional.first?.str ?? name) })
      }
      return nil
    }
  }
}

/// `adapter` at parse: `dispatch`, `quote`, `type()`, and the introspection methods dbt answers without a
/// connection (`get_columns_in_relation` → [], `get_relation` → none).
final class DbtAdapter: JinjaObject {
  weak var context: DbtParseContext?
  weak var renderer: Renderer?
  init(context: DbtParseContext, renderer: Renderer) {
    self.context = context
    self.renderer = renderer
  }
  var typeName: String { "adapter" }

  func attribute(_ name: String) -> Value? {
    if let method = DbtAdapterIntrospection(rawValue: name) {
      // A new value per call: a list is mutable.
      return .function(Function(name) { _ in method.answerAtParse })
    }
    switch name {
    case "dispatch":
      return .function(
        Function("dispatch") { [weak self] args in
          guard let self, let context = self.context, let renderer = self.renderer else { return .none }
          return try context.dispatch(args, renderer: renderer)
        })
    case "quote":
      return .function(
        Function("quote") { [weak self] args in
          let q = self?.context?.quoteCharacter ?? "\""
          return .string(q + (args.positional.first?.str ?? "") + q)
        })
    case "type":
      return .function(Function("type") { [weak self] _ in .string(self?.context?.adapterTypes.first ?? "") })
    case "config":
      return .object(AttributeObject(typeName: "AdapterConfig", attributes: [:]))
    default:
      return .function(
        Function(name) { _ in throw JinjaError(.unsupported, "adapter.\(name) is not supported at parse time")
        })
    }
  }
}

/// The adapter's methods that ask the warehouse: answered without a connection at parse (`DbtAdapter`), from the
/// catalog at compile (`DbtCompileAdapter`, which must answer every one of them).
enum DbtAdapterIntrospection: String, CaseIterable {
  case getColumnsInRelation = "get_columns_in_relation"
  case getColumnsInTable = "get_columns_in_table"
  case getMissingColumns = "get_missing_columns"
  case listRelationsWithoutCaching = "list_relations_without_caching"
  case listSchemas = "list_schemas"
  case getRelation = "get_relation"
  case loadRelation = "load_relation"
  case alreadyExists = "already_exists"
  case checkSchemaExists = "check_schema_exists"

  /// What dbt's parse-time adapter answers: no columns or relations, no relation.
  var answerAtParse: Value {
    switch self {
    case .getColumnsInRelation, .getColumnsInTable, .getMissingColumns, .listRelationsWithoutCaching,
      .listSchemas:
      return .list([])
    case .getRelation, .loadRelation, .alreadyExists, .checkSchemaExists: return .none
    }
  }
}

/// A relation (`this`, what `ref`/`source` return at parse, `api.Relation.create(...)`).
///
/// Like dbt's relations it is a Python `Mapping`: `obj is mapping` holds and `obj.get('metadata')` gives
/// `{'type': 'PostgresRelation'}` (packages test relations that way, e.g. dbt_utils' `_is_relation`).
public final class DbtRelation: JinjaObject, EquatableObject, MappingObject {
  public var database: String?
  public var schema: String?
  public var identifier: String?
  public var type: String?
  public var quoteCharacter: String
  /// The adapter's relation class name (`PostgresRelation`), what `metadata.type` tells.
  public var className: String
  /// At compile time: the unique id of the source or node it stands for, when it is one.
  public var nodeID: String?

  public init(
    database: String?, schema: String?, identifier: String?, type: String? = nil,
    quoteCharacter: String = "\"", className: String = "BaseRelation", nodeID: String? = nil
  ) {
    self.database = database
    self.schema = schema
    self.identifier = identifier
    self.type = type
    self.quoteCharacter = quoteCharacter
    self.className = className
    self.nodeID = nodeID
  }

  /// dbt's relation class for an adapter type (`postgres` → `PostgresRelation`).
  public static func className(adapterType: String?) -> String {
    let known = [
      "postgres": "PostgresRelation", "redshift": "RedshiftRelation", "snowflake": "SnowflakeRelation",
      "bigquery": "BigQueryRelation", "duckdb": "DuckDBRelation", "spark": "SparkRelation",
      "databricks": "DatabricksRelation", "trino": "TrinoRelation",
    ]
    guard let adapterType, let name = known[adapterType.lowercased()] else { return "BaseRelation" }
    return name
  }

  public var typeName: String { "Relation" }

  /// dbt's include policy: the parts `render()` prints (`include(database=false)`, `without_identifier()`).
  public var includes: (database: Bool, schema: Bool, identifier: Bool) = (true, true, true)

  public var rendered: String {
    [
      includes.database ? database : nil, includes.schema ? schema : nil,
      includes.identifier ? identifier : nil,
    ].compactMap { $0 }.filter { !$0.isEmpty }
      .map { quoteCharacter + $0 + quoteCharacter }.joined(separator: ".")
  }

  func copy() -> DbtRelation {
    let relation = DbtRelation(
      database: database, schema: schema, identifier: identifier, type: type, quoteCharacter: quoteCharacter,
      className: className, nodeID: nodeID)
    relation.includes = includes
    return relation
  }

  /// `replace_path(database=, schema=, identifier=)` and `incorporate(path={...}, type=)`: a copy with those
  /// parts replaced (None clears one, as in dbt).
  func replacing(_ parts: [(String, Value)], type newType: Value?) -> DbtRelation {
    let relation = copy()
    for (key, value) in parts {
      let text: String? = value.isNone || value.isUndefined ? nil : value.str
      switch key {
      case "database": relation.database = text
      case "schema": relation.schema = text
      case "identifier": relation.identifier = text
      default: break
      }
    }
    if let newType, !newType.isUndefined { relation.type = newType.isNone ? nil : newType.str }
    return relation
  }

  public func isEqual(to other: Value) -> Bool {
    if case .object(let o as DbtRelation) = other { return o.rendered == rendered }
    return false
  }

  func text(_ s: String?) -> Value { s.map(Value.string) ?? .none }

  public func attribute(_ name: String) -> Value? {
    switch name {
    case "database": return text(database)
    case "schema": return text(schema)
    case "identifier", "name", "table": return text(identifier)
    case "type": return text(type)
    case "is_table": return .bool(type == "table")
    case "is_view": return .bool(type == "view")
    case "is_cte": return .bool(type == "cte")
    case "render": return .function(Function("render") { [rendered] _ in .string(rendered) })
    case "metadata":
      let metadata = DictRef()
      metadata.set(.string("type"), .string(className))
      return .dict(metadata)
    case "get":
      return .function(
        // Strong captures: a relation made in an expression (`api.Relation.create(...).get(...)`) is held by
        // nothing else.
        Function("get") { [self] args in
          guard case .string(let key)? = args.value(0, "key") else { return .none }
          return self.attribute(key) ?? args.value(1, "default") ?? .none
        })
    case "replace_path":
      return .function(
        Function(name) { [self] args in .object(self.replacing(args.keywords, type: nil)) })
    case "incorporate":
      return .function(
        Function(name) { [self] args in
          var parts: [(String, Value)] = []
          if case .dict(let path)? = args.keyword("path") {
            for entry in path.entries {
              if case .string(let key) = entry.key { parts.append((key, entry.value)) }
            }
          }
          return .object(self.replacing(parts, type: args.keyword("type")))
        })
    case "include":
      return .function(
        Function(name) { [self] args in
          let relation = self.copy()
          if let v = args.keyword("database") { relation.includes.database = v.truthy }
          if let v = args.keyword("schema") { relation.includes.schema = v.truthy }
          if let v = args.keyword("identifier") { relation.includes.identifier = v.truthy }
          return .object(relation)
        })
    case "without_identifier":
      return .function(
        Function(name) { [self] _ in
          let relation = self.copy()
          relation.includes.identifier = false
          return .object(relation)
        })
    case "quote", "without_quote":
      return .function(Function(name) { [self] _ in .object(self.copy()) })
    default: return nil
    }
  }
}

/// `api.Relation`: `create(database=, schema=, identifier=, type=)`.
final class DbtRelationFactory: JinjaObject {
  let quoteCharacter: String
  let className: String
  init(quoteCharacter: String, className: String) {
    self.quoteCharacter = quoteCharacter
    self.className = className
  }
  var typeName: String { "RelationFactory" }
  func attribute(_ name: String) -> Value? {
    guard name == "create" else { return nil }
    return .function(
      Function("create") { [quoteCharacter, className] args in
        func text(_ key: String) -> String? {
          guard let v = args.keyword(key), !v.isNone, !v.isUndefined else { return nil }
          return v.str
        }
        return .object(
          DbtRelation(
            database: text("database"), schema: text("schema"), identifier: text("identifier"),
            type: text("type"),
            quoteCharacter: quoteCharacter, className: className))
      })
  }
}
