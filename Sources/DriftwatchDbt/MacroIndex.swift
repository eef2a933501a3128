import DriftwatchCore

/// The macros of a project and its packages, read from their macro files by `JinjaScanner`: for each, whether
/// its body, with the macros it calls (transitively, dispatched ones included), calls `ref`, `source` or
/// `config`. A model that calls only builtins and macros that call none of them is read exactly by scanning;
/// one that calls anything else is incomplete (see `Incompleteness`).
struct MacroIndex {
  struct Macro {
    var package: Int
    var name: String
    /// `macros/simple_cte.sql:3`
    var place: String
    /// Its body calls `ref` or `source` itself (literal or not).
    var callsRef: Bool
    var callsConfig: Bool
    var calls: [JinjaScan.Call]
    /// Names bound in its file (variables, parameters, the file's macros).
    var bound: [String]
  }

  /// What calling a macro may do, its callees included.
  struct Reach: Equatable {
    var callsRef = false
    var callsConfig = false
    /// The first call met that names nothing the index or dbt knows.
    var unknown: String?
    /// Where the first `ref`/`source`/`config` (or the unknown call) is: `macros/a.sql:3 calls ref()`.
    var witness: String?

    var isHarmless: Bool { !callsRef && !callsConfig && unknown == nil }

    mutating func merge(_ other: Reach) {
      if witness == nil, !other.isHarmless { witness = other.witness }
      callsRef = callsRef || other.callsRef
      callsConfig = callsConfig || other.callsConfig
      if unknown == nil { unknown = other.unknown }
    }
  }

  enum Verdict {
    case harmless
    case macro(Reach)
    case unknown
  }

  /// How deep a chain of macro calls is followed; beyond, the call counts as unknown.
  static let depthLimit = 24

  private(set) var macros: [Macro] = []
  /// Package index → macro name → index in `macros`.
  private var byPackage: [[String: Int]]
  private let packageIndex: [String: Int]
  /// Per macro: its reach once known.
  private var memo: [Int: Reach] = [:]
  private var visiting: Set<Int> = []
  /// Verdicts of calls whose root name the calling file does not bind, by package and name: the same few
  /// macros are called from thousands of models.
  private var verdicts: [[String: Verdict]]

  /// A generic test definition's own literal `ref`/`source` calls (`{% test x %}` in `tests/generic/` or a
  /// macro file): dbt renders it for every test of that name, so they are the test node's parents too.
  struct TestBody {
    var refs: [JinjaScan.Ref]
    var sources: [JinjaScan.Source]
    /// A non-literal or conditional `ref`/`source` in the body itself.
    var dynamic: Bool
    var place: String
  }

  /// Package index → `test_x` → its body's literal calls.
  private var testBodies: [[String: TestBody]]

  init(packages: [PackageContext], files: [LoadedFile]) {
    byPackage = Array(repeating: [:], count: packages.count)
    testBodies = Array(repeating: [:], count: packages.count)
    verdicts = Array(repeating: [:], count: packages.count)
    var names: [String: Int] = [:]
    for package in packages where names[package.name] == nil { names[package.name] = package.index }
    packageIndex = names
    for file in files where file.task.kind == .macro {
      guard case .sql(_, let scan) = file.content else { continue }
      // A call to a sibling macro of the same file is a macro call to follow, not a bound name: its body is
      // the sibling's, not the caller's (a model calling `master()`, which calls `by_contract()` beside it,
      // which calls `source()`).
      let fileMacros = Set(scan.blocks.filter { $0.kind == "macro" }.map(\.name))
      let bound = scan.boundNames.filter { !fileMacros.contains($0) }
      // `{% test x %}` defines the macro `test_x`, which dbt renders for every generic test named x.
      for block in scan.blocks where block.kind == "macro" || block.kind == "test" {
        let name = block.kind == "test" ? "test_" + block.name : block.name
        let end = block.contentEnd ?? Int.max
        let inside = { (offset: Int) in offset >= block.contentStart && offset < end }
        let refLine =
          (scan.refs.filter { inside($0.offset) }.map(\.line)
          + scan.sources.filter { inside($0.offset) }.map(\.line)
          + scan.dynamicCalls.filter { inside($0.offset) }.map(\.line)).min()
        let configLine = scan.configs.filter { inside($0.offset) }.map(\.line).min()
        let line = refLine ?? configLine ?? block.line
        if block.kind == "test" {
          let refs = scan.refs.filter { inside($0.offset) }
          let sources = scan.sources.filter { inside($0.offset) }
          let dynamic =
            scan.dynamicCalls.contains { inside($0.offset) }
            || scan.conditionalCalls.contains { inside($0.offset) }
          testBodies[file.task.package][name] = TestBody(
            refs: refs, sources: sources, dynamic: dynamic, place: "\(file.task.displayPath):\(block.line)")
        }
        let macro = Macro(
          package: file.task.package, name: name, place: "\(file.task.displayPath):\(line)",
          callsRef: refLine != nil, callsConfig: configLine != nil,
          calls: scan.calls.filter { inside($0.offset) }, bound: bound)
        // Of two macros with one name in one package, dbt keeps one; either may call ref: keep both reachable
        // by remembering the one that does.
        if let existing = byPackage[file.task.package][name],
          macros[existing].callsRef || macros[existing].callsConfig
        {
          continue
        }
        byPackage[file.task.package][name] = macros.count
        macros.append(macro)
      }
    }
  }

  /// What dbt's rendering of the generic test `testName` (`unique`, `my_test`, `dbt_utils.expression_is_true`)
  /// declared in `package` adds to the test node: its definition's literal refs and sources, or — when its
  /// body's refs are not literal, or a macro it calls reaches `ref`/`source`, or the definition cannot be
  /// found among the project's macros while other tests' can — what leaves the node incomplete.
  enum TestBodyVerdict: Sendable {
    case none
    case calls(refs: [JinjaScan.Ref], sources: [JinjaScan.Source])
    case incomplete(Incompleteness)
  }

  mutating func testBody(_ testName: String, package: Int) -> TestBodyVerdict {
    let parts = testName.split(separator: ".", maxSplits: 1).map(String.init)
    let macroName = "test_" + (parts.last ?? testName)
    var candidates: [Int] = []
    if parts.count == 2 {
      guard let target = packageIndex[parts[0]] else { return .none }
      candidates = [target]
    } else {
      candidates = [package, 0] + Array(byPackage.indices)
    }
    guard let owner = candidates.first(where: { byPackage[$0][macroName] != nil }),
      let index = byPackage[owner][macroName]
    else { return .none }
    let body = testBodies[owner][macroName]
    let macro = macros[index]
    // What the macros it calls may do (its own literal calls are `body`).
    var callees = Reach()
    for call in macro.calls {
      switch verdict(call, package: macro.package, bound: macro.bound, depth: 1) {
      case .harmless: break
      case .macro(let inner): callees.merge(inner)
      case .unknown: if callees.unknown == nil { callees.unknown = call.name }
      }
    }
    if body?.dynamic == true || callees.callsRef || callees.unknown != nil {
      let file = macro.place.prefix { $0 != ":" }
      let line = Int(macro.place.split(separator: ":").last ?? "")
      let detail =
        body?.dynamic == true
        ? "its definition calls ref() or source() with arguments that are not literals"
        : callees.unknown.map { "its definition calls \($0), which driftwatch cannot find" }
          ?? callees.witness ?? "a macro it calls calls ref() or source()"
      return .incomplete(
        Incompleteness(
          kind: .macroCall, effects: [.missingEdges], file: String(file), line: line,
          construct: "\(macroName)(…)", detail: detail))
    }
    guard let body, !(body.refs.isEmpty && body.sources.isEmpty) else { return .none }
    return .calls(refs: body.refs, sources: body.sources)
  }

  /// What calling `call` from a node or macro of `package`, in a file binding `bound`, may do.
  mutating func verdict(_ call: JinjaScan.Call, package: Int, bound: [String], depth: Int = 0) -> Verdict {
    let root = call.name.utf8.firstIndex(of: UInt8(ascii: ".")).map { String(call.name[..<$0]) } ?? call.name
    if bound.contains(root) { return .harmless }
    // Dispatch depends on its arguments, not on its name alone.
    guard depth == 0, call.dispatchName == nil else {
      return uncachedVerdict(call, package: package, depth: depth)
    }
    if let known = verdicts[package][call.name] { return known }
    let verdict = uncachedVerdict(call, package: package, depth: depth)
    verdicts[package][call.name] = verdict
    return verdict
  }

  /// `verdict` for a call whose root name the file does not bind.
  private mutating func uncachedVerdict(_ call: JinjaScan.Call, package: Int, depth: Int) -> Verdict {
    let parts = call.name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard let root = parts.first else { return .unknown }
    if parts.count == 1 {
      if DbtBuiltins.functions.contains(root) { return .harmless }
      for candidate in [package, 0] {
        if let index = byPackage[candidate][root] { return .macro(reach(index, depth: depth)) }
      }
      return DbtBuiltins.macros.contains(root) ? .harmless : .unknown
    }
    let member = parts[1]
    if root == "adapter" && member == "dispatch" { return dispatch(call, depth: depth) }
    if root == "builtins" { return .unknown }
    if DbtBuiltins.objects.contains(root) { return .harmless }
    if root == "dbt" { return DbtBuiltins.macros.contains(member) ? .harmless : .unknown }
    if let target = packageIndex[root] {
      if let index = byPackage[target][member] { return .macro(reach(index, depth: depth)) }
      return .unknown
    }
    // A method of something the file never binds (a bound one was answered before).
    return .unknown
  }

  /// `adapter.dispatch('name', 'namespace')`: every `<prefix>__name` macro of any package (the project's
  /// `dispatch:` search order can reach any of them), or dbt's own `default__name`.
  private mutating func dispatch(_ call: JinjaScan.Call, depth: Int) -> Verdict {
    guard let name = call.dispatchName else { return .unknown }
    let suffix = "__" + name
    var reach = Reach()
    var found = false
    for package in byPackage.indices {
      for (macroName, index) in byPackage[package] where macroName.hasSuffix(suffix) {
        found = true
        reach.merge(self.reach(index, depth: depth))
      }
    }
    if found { return .macro(reach) }
    return DbtBuiltins.macros.contains("default" + suffix) ? .harmless : .unknown
  }

  private mutating func reach(_ index: Int, depth: Int) -> Reach {
    if let known = memo[index] { return known }
    // A cycle adds nothing the macros on it do not already do.
    if visiting.contains(index) { return Reach() }
    let macro = macros[index]
    var reach = Reach()
    if macro.callsRef || macro.callsConfig {
      reach.callsRef = macro.callsRef
      reach.callsConfig = macro.callsConfig
      reach.witness = "\(macro.place) calls \(macro.callsRef ? "ref() or source()" : "config()")"
    }
    guard depth < Self.depthLimit else {
      reach.unknown = macro.name
      reach.witness = reach.witness ?? "macro calls nest deeper than \(Self.depthLimit) at \(macro.place)"
      return reach
    }
    visiting.insert(index)
    for call in macro.calls {
      switch verdict(call, package: macro.package, bound: macro.bound, depth: depth + 1) {
      case .harmless: break
      case .macro(let inner): reach.merge(inner)
      case .unknown:
        if reach.unknown == nil {
          reach.unknown = call.name
          if reach.witness == nil {
            reach.witness =
              "\(macro.place.prefix { $0 != ":" }):\(call.line) calls \(call.name), which driftwatch cannot find"
          }
        }
      }
    }
    visiting.remove(index)
    memo[index] = reach
    return reach
  }
}

/// What the scan of one SQL node leaves unknown: the `Incompleteness` of its calls, conditions and configs.
enum ScanIncompleteness {
  /// `offsets` limits the scan to one block of the file (a snapshot among several), `nil` for all of it.
  static func of(
    _ scan: JinjaScan, file: String, package: Int, macros: inout MacroIndex, offsets: Range<Int>? = nil
  ) -> [Incompleteness] {
    // Most files hold nothing to report: answer those without building anything.
    if scan.calls.isEmpty && scan.dynamicCalls.isEmpty && scan.conditionalCalls.isEmpty
      && scan.configs.allSatisfy({ $0.unreadable.isEmpty })
    {
      return []
    }
    func inside(_ offset: Int) -> Bool { offsets?.contains(offset) ?? true }
    var found: [Incompleteness] = []
    var seen: Set<String> = []
    func add(_ item: Incompleteness) {
      if seen.insert("\(item.kind.rawValue)\u{0}\(item.construct)").inserted { found.append(item) }
    }
    for call in scan.dynamicCalls where inside(call.offset) {
      add(
        Incompleteness(
          kind: .dynamicCall, effects: [.missingEdges], file: file, line: call.line,
          construct: "\(call.function)(…)"))
    }
    for call in scan.conditionalCalls where inside(call.offset) {
      add(
        Incompleteness(
          kind: .conditionalCall, effects: call.function == "config" ? [.config] : [.extraEdges], file: file,
          line: call.line, construct: "\(call.function)(…)"))
    }
    for config in scan.configs where inside(config.offset) && !config.unreadable.isEmpty {
      add(
        Incompleteness(
          kind: .dynamicConfig, effects: [.config], file: file, line: config.line,
          construct: "config(…) \(config.unreadable.joined(separator: ", "))"))
    }
    for call in scan.calls where inside(call.offset) {
      switch macros.verdict(call, package: package, bound: scan.boundNames) {
      case .harmless:
        continue
      case .macro(let reach):
        guard !reach.isHarmless else { continue }
        var effects: [Incompleteness.Effect] = []
        if reach.callsRef || reach.unknown != nil { effects.append(.missingEdges) }
        if reach.callsConfig || reach.unknown != nil { effects.append(.config) }
        add(
          Incompleteness(
            kind: .macroCall, effects: effects, file: file, line: call.line, construct: call.name,
            detail: reach.witness))
      case .unknown:
        add(
          Incompleteness(
            kind: .unknownCall, effects: [.missingEdges, .config], file: file, line: call.line,
            construct: call.name + "(…)"))
      }
    }
    return found
  }
}
