/// Names the caller injects into a render, looked up after the template's own variables and macros.
/// `renderer` is the render in progress: a provider's functions use it to find and call macros.
public protocol ContextProvider: AnyObject {
  func value(named name: String, renderer: Renderer) -> Value?
  /// A call of something undefined (`{{ missing_macro() }}`, `{{ dbt_utils.nope() }}`): Jinja (and dbt at
  /// parse) renders it as '', so this is the only trace of a macro the project does not have.
  func undefinedCall(_ name: String, file: String?, line: Int)
}

extension ContextProvider {
  public func undefinedCall(_ name: String, file: String?, line: Int) {}
}

/// A plain dictionary of context values.
public final class DictionaryContext: ContextProvider {
  public var values: [String: Value]
  public init(_ values: [String: Value] = [:]) { self.values = values }
  public func value(named name: String, renderer: Renderer) -> Value? { values[name] }
}

final class Scope {
  var vars: [String: Value] = [:]
  let parent: Scope?
  init(parent: Scope?) { self.parent = parent }

  func lookup(_ name: String) -> Value? {
    var s: Scope? = self
    while let current = s {
      if let v = current.vars[name] { return v }
      s = current.parent
    }
    return nil
  }
}

/// `return(value)` raised out of a macro, as dbt's `MacroReturn`. It is thrown and caught within one render
/// on one thread, so the non-Sendable value never crosses threads.
struct ReturnSignal: Error, @unchecked Sendable {
  let value: Value
}

enum Flow {
  case normal
  case breakLoop
  case continueLoop
}

/// One render in progress: output, scopes, the macro namespace and the caller's context.
public final class Renderer {
  let environment: Environment
  let provider: ContextProvider?
  let library: MacroLibrary?
  let macroScope: MacroScope?
  var currentFile: String?
  var depth = 0
  /// Nested macro calls and string renders allowed (dbt macros nest a few levels deep).
  static let maxDepth = 200
  /// Where the render's stack started; a runaway recursion is an error once it has used the environment's
  /// `maxStackBytes`, well before it exhausts the thread's stack (debug frames are several times larger than
  /// release ones, so a byte budget serves both).
  var stackBase: UInt = 0
  var macroCache: [String: Value] = [:]
  var packageObjects: [String: Value] = [:]
  var subTemplates: [String: Template] = [:]

  init(
    environment: Environment, provider: ContextProvider?, library: MacroLibrary?, macroScope: MacroScope?,
    file: String?
  ) {
    self.environment = environment
    self.provider = provider
    self.library = library
    self.macroScope = macroScope
    self.currentFile = file
  }

  /// The file being rendered (a macro's file while it runs).
  public var file: String? { currentFile }

  /// Compiles and renders `source` with this render's context and macros (dbt renders string `var()`
  /// values this way). Compiled sources are cached for the render.
  public func renderString(_ source: String, file: String? = nil) throws -> String {
    let template: Template
    if let cached = subTemplates[source] {
      template = cached
    } else {
      template = try Template(source, file: file ?? currentFile, environment: environment)
      subTemplates[source] = template
    }
    depth += 1
    defer { depth -= 1 }
    if depth > Renderer.maxDepth || stackUsed() > environment.maxStackBytes {
      throw JinjaError(.value, "maximum recursion depth exceeded rendering a string")
    }
    let saved = currentFile
    currentFile = template.file
    defer { currentFile = saved }
    return try run(template.nodes, scope: Scope(parent: nil))
  }

  /// Calls a callable value (a macro, a context function) with `arguments`.
  public func call(_ callee: Value, _ arguments: Arguments) throws -> Value {
    try call(callee, arguments, name: "value")
  }

  // MARK: macros from the library

  /// The macro `name` of `package` (nil: dbt's unqualified lookup), as a callable value.
  public func macro(named name: String, package: String? = nil) -> Value? {
    guard let library else { return nil }
    let found: MacroDef?
    if let package {
      found = library.fromPackage(package, name)
    } else {
      found = library.lookup(name, scope: macroScope)
    }
    guard let def = found else { return nil }
    return macroValue(def, key: (package ?? "") + "." + name)
  }

  func macroValue(_ def: MacroDef, key: String) -> Value {
    if let cached = macroCache[key] { return cached }
    let value = Value.function(
      Function(def.name) { [weak self] args in
        guard let self else { throw JinjaError(.value, "macro '\(def.name)' called after its render ended") }
        return try self.callMacro(def, definingScope: nil, args)
      })
    macroCache[key] = value
    return value
  }

  func packageNamespace(_ package: String, macros: [String: MacroDef]) -> Value {
    if let cached = packageObjects[package] { return cached }
    let value = Value.object(PackageNamespace(package: package, macros: macros, renderer: self))
    packageObjects[package] = value
    return value
  }

  // MARK: name lookup

  func lookup(_ name: String, scope: Scope) -> Value {
    if let v = scope.lookup(name) { return v }
    if let library, let scoped = library.resolveName(name, scope: macroScope) {
      switch scoped {
      case .macro(let def): return macroValue(def, key: "." + name)
      case .package(let pkg, let macros): return packageNamespace(pkg, macros: macros)
      }
    }
    if let provider, let v = provider.value(named: name, renderer: self) { return v }
    if let v = Builtins.global(name, renderer: self) { return v }
    return .undefined(name)
  }

  // MARK: statements

  func run(_ nodes: [Node], scope: Scope) throws -> String {
    if stackBase == 0 { stackBase = stackAddress() }
    var out = ""
    do {
      _ = try exec(nodes, scope: scope, out: &out)
    } catch let signal as ReturnSignal {
      _ = signal
      throw JinjaError(.raised, "return() called outside a macro", file: currentFile)
    }
    return out
  }

  func exec(_ nodes: [Node], scope: Scope, out: inout String) throws -> Flow {
    for node in nodes {
      let flow = try exec(node, scope: scope, out: &out)
      if case .normal = flow { continue }
      return flow
    }
    return .normal
  }

  // Each construct has its own small function: in debug builds a function's frame holds the locals of
  // every branch, and these frames recurse once per nested macro call.
  func exec(_ node: Node, scope: Scope, out: inout String) throws -> Flow {
    switch node {
    case .text(let s):
      out += s
      return .normal
    case .output(let e, let line):
      try execOutput(e, line: line, scope: scope, out: &out)
      return .normal
    case .ifChain(let branches, let otherwise, let line):
      return try execIf(branches, otherwise, line: line, scope: scope, out: &out)
    case .forLoop(let target, let iter, let condition, let body, let otherwise, let line):
      do {
        return try execFor(target, iter, condition, body, otherwise, scope: scope, out: &out)
      } catch let error as JinjaError {
        throw error.located(file: currentFile, line: line, construct: "{% for %}")
      }
    case .set(let target, let e, let line):
      try execSet(target, e, line: line, scope: scope)
      return .normal
    case .setBlock(let target, let filters, let body, let line):
      return try execCapture(target, filters, body, line: line, scope: scope, out: &out)
    case .macro(let def):
      defineMacro(def, scope: scope)
      return .normal
    case .callBlock(let e, let callerDef, let line):
      try execCallBlock(e, callerDef, line: line, scope: scope, out: &out)
      return .normal
    case .filterBlock(let filters, let body, let line):
      return try execCapture(nil, filters, body, line: line, scope: scope, out: &out)
    case .doExpr(let e, let line):
      try execDo(e, line: line, scope: scope)
      return .normal
    case .with(let assignments, let body, let line):
      return try execWith(assignments, body, line: line, scope: scope, out: &out)
    case .breakLoop: return .breakLoop
    case .continueLoop: return .continueLoop
    }
  }

  func execOutput(_ e: Expr, line: Int, scope: Scope, out: inout String) throws {
    do {
      let v = try eval(e, scope)
      switch v {
      case .string(let s): out += s
      case .undefined: break
      default: out += v.str
      }
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{{ … }}")
    }
  }

  func execIf(_ branches: [(Expr, [Node])], _ otherwise: [Node], line: Int, scope: Scope, out: inout String)
    throws -> Flow
  {
    for (test, body) in branches where try condition(test, line: line, scope: scope) {
      return try exec(body, scope: scope, out: &out)
    }
    return try exec(otherwise, scope: scope, out: &out)
  }

  func condition(_ e: Expr, line: Int, scope: Scope) throws -> Bool {
    do { return try eval(e, scope).truthy } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{% if %}")
    }
  }

  func execSet(_ target: Target, _ e: Expr, line: Int, scope: Scope) throws {
    do {
      try assign(target, try eval(e, scope), scope: scope)
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{% set %}")
    }
  }

  /// `{% set x %}…{% endset %}` (target) and `{% filter %}…{% endfilter %}` (no target).
  func execCapture(
    _ target: Target?, _ filters: [FilterCall], _ body: [Node], line: Int, scope: Scope, out: inout String
  ) throws -> Flow {
    var captured = ""
    let flow = try exec(body, scope: scope, out: &captured)
    do {
      var value = Value.string(captured)
      for f in filters { value = try applyFilter(f.name, value, try evalArgs(f.args, scope), line: f.line) }
      if let target { try assign(target, value, scope: scope) } else { out += value.str }
    } catch let error as JinjaError {
      throw error.located(
        file: currentFile, line: line, construct: target == nil ? "{% filter %}" : "{% set %}")
    }
    return flow
  }

  func defineMacro(_ def: MacroDef, scope: Scope) {
    scope.vars[def.name] = .function(
      Function(def.name) { [weak self, weak scope] args in
        guard let self else { throw JinjaError(.value, "macro '\(def.name)' called after its render ended") }
        return try self.callMacro(def, definingScope: scope, args)
      })
  }

  func execCallBlock(_ e: Expr, _ callerDef: MacroDef, line: Int, scope: Scope, out: inout String) throws {
    do {
      guard case .call(let fn, let callArgs, _) = e else { return }
      let callee = try eval(fn, scope)
      if callee.isUndefined { provider?.undefinedCall(describeCallee(fn), file: currentFile, line: line) }
      var args = try evalArgs(callArgs, scope)
      let caller = Value.function(
        Function("caller") { [weak self, weak scope] a in
          guard let self else { throw JinjaError(.value, "caller() called after its render ended") }
          return try self.callMacro(callerDef, definingScope: scope, a)
        })
      args.keywords.append(("caller", caller))
      out += try call(callee, args, name: describeCallee(fn)).str
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{% call %}")
    }
  }

  func execDo(_ e: Expr, line: Int, scope: Scope) throws {
    do { _ = try eval(e, scope) } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{% do %}")
    }
  }

  func execWith(_ assignments: [(Target, Expr)], _ body: [Node], line: Int, scope: Scope, out: inout String)
    throws -> Flow
  {
    let inner = Scope(parent: scope)
    do {
      for (target, e) in assignments { try assign(target, try eval(e, scope), scope: inner) }
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "{% with %}")
    }
    return try exec(body, scope: inner, out: &out)
  }

  func describeCallee(_ e: Expr) -> String {
    switch e {
    case .name(let n): return n
    case .getattr(let base, let n): return describeCallee(base) + "." + n
    case .getitem(let base, .const(.string(let key))): return describeCallee(base) + "['" + key + "']"
    case .call(let base, _, _): return describeCallee(base) + "()"
    default: return "value"
    }
  }

  func execFor(
    _ target: Target, _ iter: Expr, _ condition: Expr?, _ body: [Node], _ otherwise: [Node], scope: Scope,
    out: inout String
  ) throws -> Flow {
    var items = try iterate(try eval(iter, scope))
    if let condition {
      var kept: [Value] = []
      for item in items {
        let filterScope = Scope(parent: scope)
        try assign(target, item, scope: filterScope)
        if try eval(condition, filterScope).truthy { kept.append(item) }
      }
      items = kept
    }
    if items.isEmpty {
      return try exec(otherwise, scope: scope, out: &out)
    }
    // `loop.depth` counts recursive loops only (unsupported), so nested loops are all depth 1.
    // Every iteration has a fresh scope: a `set` in the body lasts until the end of its iteration.
    let loop = LoopObject(items: items, depth: 1)
    for (index, item) in items.enumerated() {
      loop.index0 = index
      let inner = Scope(parent: scope)
      inner.vars["loop"] = .object(loop)
      try assign(target, item, scope: inner)
      let flow = try exec(body, scope: inner, out: &out)
      if case .breakLoop = flow { break }
    }
    return .normal
  }

  func assign(_ target: Target, _ value: Value, scope: Scope) throws {
    switch target {
    case .name(let n):
      scope.vars[n] = value
    case .tuple(let targets):
      let items = try iterate(value)
      if items.count != targets.count {
        throw JinjaError(
          .value,
          items.count > targets.count
            ? "too many values to unpack (expected \(targets.count))"
            : "not enough values to unpack (expected \(targets.count), got \(items.count))")
      }
      for (t, v) in zip(targets, items) { try assign(t, v, scope: scope) }
    case .attr(let ns, let attr):
      guard case .object(let object) = lookup(ns, scope: scope), object is Namespace else {
        throw JinjaError(.type, "cannot assign attribute on non-namespace object '\(ns)'")
      }
      try object.setAttribute(attr, value)
    }
  }

  func iterate(_ value: Value) throws -> [Value] {
    switch value {
    case .list(let l): return l.items
    case .tuple(let t): return t
    case .dict(let d): return d.entries.map(\.key)
    case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
    case .undefined: return []
    case .object(let o):
      if let seq = o as? IterableObject { return seq.iterationItems }
      throw JinjaError(.type, "'\(o.typeName)' object is not iterable")
    default: throw JinjaError(.type, "'\(value.typeName)' object is not iterable")
    }
  }

  // MARK: macros

  func stackUsed() -> Int {
    let now = stackAddress()
    return Int(stackBase > now ? stackBase - now : now - stackBase)
  }

  func callMacro(_ def: MacroDef, definingScope: Scope?, _ args: Arguments) throws -> Value {
    depth += 1
    defer { depth -= 1 }
    if depth > Renderer.maxDepth || stackUsed() > environment.maxStackBytes {
      throw JinjaError(.value, "maximum recursion depth exceeded calling macro '\(def.name)'")
    }
    let scope = try bind(def, definingScope: definingScope, args)
    let savedFile = currentFile
    currentFile = def.file
    defer { currentFile = savedFile }
    var out = ""
    do {
      _ = try exec(def.body, scope: scope, out: &out)
    } catch let signal as ReturnSignal {
      return signal.value
    }
    return .string(out)
  }

  /// The macro's scope with its parameters bound as Jinja binds them.
  func bind(_ def: MacroDef, definingScope: Scope?, _ args: Arguments) throws -> Scope {
    let scope = Scope(parent: definingScope)
    var bound = [Bool](repeating: false, count: def.params.count)
    var varargs: [Value] = []
    for (i, v) in args.positional.enumerated() {
      if i < def.params.count {
        scope.vars[def.params[i].0] = v
        bound[i] = true
      } else if def.usesVarargs {
        varargs.append(v)
      } else {
        throw JinjaError(.type, "macro '\(def.name)' takes not more than \(def.params.count) argument(s)")
      }
    }
    let kwargs = DictRef()
    var caller: Value?
    for (k, v) in args.keywords {
      if let i = def.params.firstIndex(where: { $0.0 == k }) {
        if bound[i] { throw JinjaError(.type, "macro '\(def.name)' got multiple values for argument '\(k)'") }
        scope.vars[k] = v
        bound[i] = true
      } else if k == "caller" && def.usesCaller {
        caller = v
      } else if def.usesKwargs {
        kwargs.set(.string(k), v)
      } else if k == "caller" {
        continue
      } else {
        throw JinjaError(.type, "macro '\(def.name)' takes no keyword argument '\(k)'")
      }
    }
    let savedFile = currentFile
    currentFile = def.file
    defer { currentFile = savedFile }
    for (i, param) in def.params.enumerated() where !bound[i] {
      if let d = param.1 {
        do { scope.vars[param.0] = try eval(d, scope) } catch let error as JinjaError {
          throw error.located(file: def.file, line: def.line, construct: "macro '\(def.name)'")
        }
      } else {
        scope.vars[param.0] = .undefined(param.0)
      }
    }
    if def.usesVarargs { scope.vars["varargs"] = .tuple(varargs) }
    if def.usesKwargs { scope.vars["kwargs"] = .dict(kwargs) }
    if def.usesCaller { scope.vars["caller"] = caller ?? .undefined("caller") }
    return scope
  }

  // MARK: expressions

  func eval(_ e: Expr, _ scope: Scope) throws -> Value {
    switch e {
    case .const(let c): return c.value
    case .name(let n): return lookup(n, scope: scope)
    case .getattr(let base, let name): return try Attributes.get(try eval(base, scope), name, renderer: self)
    case .call(let fn, let callArgs, let line): return try evalCall(fn, callArgs, line: line, scope)
    case .filter(let base, let name, let callArgs, let line):
      return try applyFilter(name, try eval(base, scope), try evalArgs(callArgs, scope), line: line)
    case .test(let base, let name, let callArgs, let negated, let line):
      let result = try applyTest(name, try eval(base, scope), try evalArgs(callArgs, scope), line: line)
      return .bool(negated ? !result : result)
    case .and(let a, let b):
      let left = try eval(a, scope)
      return left.truthy ? try eval(b, scope) : left
    case .or(let a, let b):
      let left = try eval(a, scope)
      return left.truthy ? left : try eval(b, scope)
    case .not(let x): return .bool(!(try eval(x, scope).truthy))
    case .cond(let test, let then, let otherwise):
      if try eval(test, scope).truthy { return try eval(then, scope) }
      guard let otherwise else { return .undefined(nil) }
      return try eval(otherwise, scope)
    default: return try evalOther(e, scope)
    }
  }

  func evalCall(_ fn: Expr, _ callArgs: CallArgs, line: Int, _ scope: Scope) throws -> Value {
    let callee = try eval(fn, scope)
    if callee.isUndefined { provider?.undefinedCall(describeCallee(fn), file: currentFile, line: line) }
    let args = try evalArgs(callArgs, scope)
    do {
      return try call(callee, args, name: describeCallee(fn))
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "call to '\(describeCallee(fn))'")
    }
  }

  func evalOther(_ e: Expr, _ scope: Scope) throws -> Value {
    switch e {
    case .list(let items): return .list(ListRef(try items.map { try eval($0, scope) }))
    case .tuple(let items): return .tuple(try items.map { try eval($0, scope) })
    case .dict(let pairs):
      let d = DictRef()
      for (k, v) in pairs { try d.setChecked(try eval(k, scope), try eval(v, scope)) }
      return .dict(d)
    case .getitem(let base, let key):
      return try Attributes.item(try eval(base, scope), try eval(key, scope), renderer: self)
    case .slice(let base, let start, let stop, let step):
      return try Operators.slice(
        try eval(base, scope), try start.map { try eval($0, scope) }, try stop.map { try eval($0, scope) },
        try step.map { try eval($0, scope) })
    case .neg(let x): return try Operators.negate(try eval(x, scope))
    case .pos(let x):
      let v = try eval(x, scope)
      switch v {
      case .int, .double: return v
      case .bool(let b): return .int(b ? 1 : 0)
      default: throw JinjaError(.type, "bad operand type for unary +: '\(v.typeName)'")
      }
    case .binary(let op, let a, let b):
      return try Operators.binary(op, try eval(a, scope), try eval(b, scope))
    case .compare(let first, let ops):
      var left = try eval(first, scope)
      for (op, e) in ops {
        let right = try eval(e, scope)
        if !(try Operators.compare(op, left, right)) { return .bool(false) }
        left = right
      }
      return .bool(true)
    case .concat(let items):
      var s = ""
      for item in items { s += try eval(item, scope).str }
      return .string(s)
    default: return try eval(e, scope)
    }
  }

  func evalArgs(_ args: CallArgs, _ scope: Scope) throws -> Arguments {
    if args.positional.isEmpty && args.keywords.isEmpty && args.star == nil && args.doubleStar == nil {
      return Arguments()
    }
    var result = Arguments()
    result.positional.reserveCapacity(args.positional.count)
    for e in args.positional { result.positional.append(try eval(e, scope)) }
    for (k, e) in args.keywords { result.keywords.append((k, try eval(e, scope))) }
    if let star = args.star { result.positional += try iterate(try eval(star, scope)) }
    if let doubleStar = args.doubleStar {
      guard case .dict(let d) = try eval(doubleStar, scope) else {
        throw JinjaError(.type, "argument after ** must be a mapping")
      }
      for entry in d.entries { result.keywords.append((entry.key.str, entry.value)) }
    }
    return result
  }

  func call(_ callee: Value, _ args: Arguments, name: String) throws -> Value {
    switch callee {
    case .function(let f): return try f.call(args)
    case .undefined: return callee
    case .object(let o):
      if let callable = o as? CallableObject { return try callable.call(args) }
      throw JinjaError(.type, "'\(o.typeName)' object is not callable")
    default:
      throw JinjaError(.type, "'\(callee.typeName)' object is not callable")
    }
  }

  func applyFilter(_ name: String, _ value: Value, _ args: Arguments, line: Int) throws -> Value {
    do {
      if let custom = environment.filters[name] { return try custom(value, args) }
      return try Filters.apply(name, value, args, renderer: self)
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "filter '\(name)'")
    }
  }

  func applyTest(_ name: String, _ value: Value, _ args: Arguments, line: Int) throws -> Bool {
    do {
      if let custom = environment.tests[name] { return try custom(value, args) }
      return try Tests.apply(name, value, args, renderer: self)
    } catch let error as JinjaError {
      throw error.located(file: currentFile, line: line, construct: "test '\(name)'")
    }
  }
}

/// An injected object that can be called (`config(...)`, `api.Relation.create(...)`).
public protocol CallableObject: JinjaObject {
  func call(_ arguments: Arguments) throws -> Value
}

/// An injected object that can be iterated.
/// An object that Python code sees as a `Mapping` (`obj is mapping`, `obj.get(key, default)`), as dbt's
/// relations are.
public protocol MappingObject: JinjaObject {}

public protocol IterableObject: JinjaObject {
  var iterationItems: [Value] { get }
}

/// `loop` inside `{% for %}`.
final class LoopObject: JinjaObject {
  let items: [Value]
  var index0 = 0
  var depth: Int
  var lastChanged: [Value]?

  init(items: [Value], depth: Int) {
    self.items = items
    self.depth = depth
  }

  var typeName: String { "LoopContext" }
  var rendered: String { "<LoopContext \(index0 + 1)/\(items.count)>" }

  func attribute(_ name: String) -> Value? {
    let n = items.count
    switch name {
    case "index": return .int(index0 + 1)
    case "index0": return .int(index0)
    case "revindex": return .int(n - index0)
    case "revindex0": return .int(n - index0 - 1)
    case "first": return .bool(index0 == 0)
    case "last": return .bool(index0 == n - 1)
    case "length": return .int(n)
    case "depth": return .int(depth)
    case "depth0": return .int(depth - 1)
    case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("previtem")
    case "nextitem": return index0 + 1 < n ? items[index0 + 1] : .undefined("nextitem")
    case "cycle":
      return .function(
        Function("cycle") { [index0] args in
          guard !args.positional.isEmpty else { throw JinjaError(.type, "no items for cycling given") }
          return args.positional[index0 % args.positional.count]
        })
    case "changed":
      return .function(
        Function("changed") { [weak self] args in
          guard let self else { return .bool(false) }
          let changed: Bool
          if let last = self.lastChanged {
            changed =
              last.count != args.positional.count
              || zip(last, args.positional).contains { !Operators.equal($0, $1) }
          } else {
            changed = true
          }
          self.lastChanged = args.positional
          return .bool(changed)
        })
    default: return nil
    }
  }
}

/// A package's macros as an attribute namespace (`dbt_utils.star`).
final class PackageNamespace: JinjaObject {
  let package: String
  let macros: [String: MacroDef]
  weak var renderer: Renderer?

  init(package: String, macros: [String: MacroDef], renderer: Renderer) {
    self.package = package
    self.macros = macros
    self.renderer = renderer
  }

  var typeName: String { "namespace" }
  var rendered: String { "<namespace \(package)>" }
  func attribute(_ name: String) -> Value? {
    guard let def = macros[name], let renderer else { return nil }
    return renderer.macroValue(def, key: package + "." + name)
  }
}

/// The address of a local: how deep the current thread's stack is.
@inline(never)
func stackAddress() -> UInt {
  var marker: UInt8 = 0
  return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
}
