import DriftwatchCore
import DriftwatchJinja
import Foundation

/// Renders the SQL nodes the scan could not read exactly with the Jinja engine and dbt's parse-time context
/// (`DbtParseContext`), as `dbt parse` renders them: the refs, sources and config it records replace what the
/// scan read. Only incomplete nodes are rendered; the scan stays the fast path for the rest.
///
/// The macro files of the project and its packages are read and compiled once, into one immutable
/// `MacroLibrary` shared by the renders, which run on every core.
struct IncompleteNodeRendering: Sendable {
  /// One node to render.
  struct Job: Sendable {
    var package: Int
    /// As messages name it (`models/a.sql`).
    var displayPath: String
    var absolutePath: String
    /// The text to render when it is not the whole file (a snapshot block); else the file is read.
    var text: String?
    /// Where the scan found the node incomplete: the line the recorded refs are reported at.
    var line: Int
    /// What the scan left in doubt, kept when rendering fails.
    var effects: [Incompleteness.Effect]
    /// The first construct the scan could not read (`simple_cte(…)`), for messages.
    var construct: String
  }

  /// What rendering recorded, as the scan would have read it.
  struct Rendered: Sendable {
    var refs: [JinjaScan.Ref]
    var sources: [JinjaScan.Source]
    /// `config(enabled=…)`, when a call set it.
    var enabled: Bool?
    var tags: [String]
  }

  enum Outcome: Sendable {
    case rendered(Rendered)
    case incomplete(Incompleteness)
  }

  struct PackageInfo: Sendable {
    var name: String
    /// The package's own `vars:` (for the root project: the root's).
    var vars: PyValue
  }

  private let library: MacroLibrary
  /// A macro file that does not compile: every render fails with it (a macro left out could change which
  /// one a call reaches).
  private let libraryProblem: JinjaError?
  private let packages: [PackageInfo]
  private let dependencies: Set<String>
  private let dispatch: [String: [String]]
  /// `nil`: no target is known, and a node that reads `target` or `adapter` stays incomplete.
  private let target: [String: String]?
  private let environment: [String: String]
  /// `--vars`, over every project's `vars:`.
  private let cliVars: PyValue

  /// Reads and compiles the macro files of `packages` (the `.macro` tasks of `files`) once.
  init(packages: [PackageContext], files: [LoadedFile], options: DbtReadOptions, cliVars: [PyPair] = []) {
    self.init(
      packages: packages, macroTasks: files.map(\.task).filter { $0.kind == .macro }, options: options,
      cliVars: cliVars)
  }

  /// Reads and compiles the macro files `macroTasks` of `packages` once.
  init(packages: [PackageContext], macroTasks: [FileTask], options: DbtReadOptions, cliVars: [PyPair] = []) {
    let names = packages.map(\.name)
    let compiled = FileReading.parallelMap(macroTasks) { task -> Result<Template, JinjaError> in
      switch FileReading.contents(of: task.absolutePath) {
      case .success(let text):
        do {
          return .success(try Template(text, file: task.displayPath))
        } catch let error as JinjaError {
          return .failure(error)
        } catch {
          return .failure(JinjaError(.syntax, "\(error)", file: task.displayPath))
        }
      case .failure(let problem):
        return .failure(
          JinjaError(.value, "cannot read the macro file (\(problem.reason))", file: task.displayPath))
      }
    }
    var library = MacroLibrary()
    var problem: JinjaError?
    for (task, result) in zip(macroTasks, compiled) where problem == nil {
      do {
        try library.add(result.get(), package: names[task.package])
      } catch let error as JinjaError {
        problem = error
      } catch {
        problem = JinjaError(.value, "\(error)", file: task.displayPath)
      }
    }
    self.library = library
    libraryProblem = problem
    self.packages = packages.map { PackageInfo(name: $0.name, vars: $0.project.varsNode?.python ?? .none) }
    dependencies = Set(packages.dropFirst().map(\.name))
    dispatch = packages.first?.project.dispatch ?? [:]
    target = options.target["name"] == nil ? nil : options.target
    environment = options.environment
    self.cliVars = .dict(cliVars)
  }

  /// Renders every job on every core.
  func render(_ jobs: [Job]) -> [Outcome] {
    FileReading.parallelMap(jobs) { job in render(job) }
  }

  func render(_ job: Job) -> Outcome {
    func failed(_ construct: String, detail: String, file: String? = nil, line: Int? = nil) -> Outcome {
      .incomplete(
        Incompleteness(
          kind: .renderFailed, effects: job.effects, file: file ?? job.displayPath, line: line ?? job.line,
          construct: construct, detail: detail))
    }
    func failed(_ error: JinjaError) -> Outcome {
      failed(
        error.construct ?? error.kind.rawValue, detail: "\(error.kind.rawValue): \(error.detail)",
        file: error.file,
        line: error.line)
    }
    if let libraryProblem { return failed(libraryProblem) }
    let text: String
    if let given = job.text {
      text = given
    } else {
      switch FileReading.contents(of: job.absolutePath) {
      case .success(let contents): text = contents
      case .failure(let problem):
        return failed("file", detail: "cannot read it again to render it (\(problem.reason))")
      }
    }
    let context = parseContext(package: job.package)
    let watch = TargetWatch(context)
    do {
      let template = try Template(text, file: job.displayPath)
      _ = try template.render(provider: watch, library: library, scope: context.macroScope)
    } catch let error as JinjaError {
      return failed(error)
    } catch {
      return failed("render", detail: "\(error)")
    }
    if watch.readTarget && target == nil {
      return failed(
        "target",
        detail: "\(job.construct) reads target or adapter, and no dbt target is known: give driftwatch the "
          + "project's profiles.yml")
    }
    let recorder = context.recorder
    if let call = recorder.undefinedCalls.first(where: { !Self.isDbtMacro($0.name) }) {
      return failed(
        "\(call.name)(…)", detail: "a macro found in neither the project, its packages nor dbt",
        file: call.file,
        line: call.line)
    }
    var enabled: Bool?
    switch recorder.configValue("enabled") {
    case nil: break
    case .bool(let value)?: enabled = value
    case let other?:
      return failed("config(enabled=…)", detail: "enabled renders to \(other.str), not true or false")
    }
    var tags: [String] = []
    switch recorder.configValue("tags") {
    case nil: break
    case .list(let list)?: tags = list.items.map(\.str)
    case .tuple(let items)?: tags = items.map(\.str)
    case let other?: tags = [other.str]
    }
    return .rendered(
      Rendered(
        refs: recorder.refs.map {
          JinjaScan.Ref(package: $0.package, name: $0.name, version: $0.version, line: job.line)
        },
        sources: recorder.sources.map {
          JinjaScan.Source(sourceName: $0.source, tableName: $0.table, line: job.line)
        },
        enabled: enabled, tags: tags))
  }

  /// dbt's parse-time context for a node of package `package` (an index into the packages).
  func parseContext(package: Int) -> DbtParseContext {
    let adapterType = target?["type"] ?? "postgres"
    return DbtParseContext(
      rootProject: packages[0].name, package: packages[package].name,
      adapterTypes: adapterType == "redshift" ? ["redshift", "postgres"] : [adapterType],
      target: (target ?? [:]).mapValues(Self.targetValue),
      vars: DbtVars(
        rootVars: Self.dictionary(packages[0].vars),
        packageVars: package == 0 ? [:] : Self.dictionary(packages[package].vars),
        cliVars: Self.dictionary(cliVars)),
      environment: environment, dispatchSearchOrder: dispatch, dependencies: dependencies,
      quoteCharacter: adapterType == "bigquery" ? "`" : "\"")
  }

  /// The compiled macro library, or the macro file that does not compile.
  var macros: Result<MacroLibrary, JinjaError> {
    if let libraryProblem { return .failure(libraryProblem) }
    return .success(library)
  }

  /// The index of the package named `name`.
  func packageIndex(named name: String) -> Int? { packages.firstIndex { $0.name == name } }

  /// An undefined call dbt's global project answers (`current_timestamp()`, `dbt.date_trunc(…)`): none of its
  /// macros records a ref, source or config for the caller.
  static func isDbtMacro(_ name: String) -> Bool {
    let bare = name.hasPrefix("dbt.") ? String(name.dropFirst(4)) : name
    return DbtBuiltins.macros.contains(bare) || DbtBuiltins.functions.contains(bare)
  }

  private static func targetValue(_ text: String) -> Value {
    if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
      let number = Int(text)
    {
      return .int(number)
    }
    return .string(text)
  }

  private static func dictionary(_ value: PyValue) -> [String: Value] {
    guard case .dict(let pairs) = value else { return [:] }
    var result: [String: Value] = [:]
    for pair in pairs { result[pair.key.pythonStr] = jinjaValue(pair.value) }
    return result
  }

  /// A YAML value as dbt's Jinja sees it.
  static func jinjaValue(_ value: PyValue) -> Value {
    switch value {
    case .str(let text): return .string(text)
    case .int(let digits): return Int(digits).map(Value.int) ?? .string(digits)
    case .float(let number): return .double(number)
    case .bool(let flag): return .bool(flag)
    case .none: return .none
    case .list(let items): return .list(items.map(jinjaValue))
    case .dict(let pairs): return .dict(pairs.map { ($0.key.pythonStr, jinjaValue($0.value)) })
    }
  }
}

/// Passes the context's names through, noting whether the render read `target` or `adapter` (what a node's
/// answer then depends on: the target's name, type or dispatch's adapter).
private final class TargetWatch: ContextProvider {
  let inner: DbtParseContext
  var readTarget = false

  init(_ inner: DbtParseContext) { self.inner = inner }

  func value(named name: String, renderer: Renderer) -> Value? {
    if name == "target" || name == "adapter" { readTarget = true }
    return inner.value(named: name, renderer: renderer)
  }

  func undefinedCall(_ name: String, file: String?, line: Int) {
    inner.undefinedCall(name, file: file, line: line)
  }
}
