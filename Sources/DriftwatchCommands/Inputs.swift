import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchPostgres
import DriftwatchSQLite
import Foundation

/// Where the dbt project comes from: its files, or a manifest dbt wrote.
struct ProjectOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The dbt project directory.", valueName: "DIR"))
  var project: String = "."

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Read the graph from dbt's manifest.json instead of the project files (e.g. target/manifest.json).",
      valueName: "FILE"))
  var manifest: String?

  @Flag(
    name: .long,
    help: ArgumentHelp(
      "Answer even when the answer depends on nodes driftwatch could not read exactly (they are marked "
        + "incomplete in the report); without it such a command exits 2. --manifest is always exact."))
  var allowIncomplete = false

  /// The project graph. With a dbt profile, sources without a database get the target's, and yml may use
  /// `{{ target.* }}` as dbt allows. `includeSQL: false` leaves the models' SQL out of a manifest's graph
  /// (lineage needs none of it).
  func load(profile: ResolvedProfile? = nil, includeSQL: Bool = true, readsTarget: Bool = false) throws
    -> ProjectGraph
  {
    let project = try read(profile: profile, includeSQL: includeSQL, readsTarget: readsTarget)
    ProjectWarnings.printOnce(project)
    return project
  }

  /// Exits 2 (throws `IncompleteAnswerError`) when `dependsOn` is not empty, unless --allow-incomplete.
  func requireExact(_ dependsOn: [String], project: ProjectGraph) throws {
    guard !dependsOn.isEmpty, !allowIncomplete else { return }
    throw IncompleteAnswerError(dependsOn: dependsOn, project: project)
  }

  /// `readsTarget` without a profile: the target of the profile dbt would use, when profiles.yml can be found
  /// and read (no connection is made; nodes whose Jinja reads `target` need it). Without one, those nodes stay
  /// incomplete.
  private func read(profile: ResolvedProfile?, includeSQL: Bool, readsTarget: Bool) throws -> ProjectGraph {
    if let manifest {
      return try ManifestReader.read(
        path: manifest, options: ManifestReadOptions(includeSQL: includeSQL, freeParsedManifest: false))
    }
    // The process ends after the command: the parsed files are left for its exit to free.
    guard let profile else {
      let environment = ProcessInfo.processInfo.environment
      let target =
        readsTarget
        ? (try? ProfilesReader.targetAttributes(
          profilesDirectory: nil, projectDirectory: project, profileName: nil, target: nil,
          environment: environment)) ?? [:] : [:]
      return try DbtProjectReader.read(
        projectDirectory: project,
        options: DbtReadOptions(
          environment: environment, target: target, freeParsedFiles: false, includeSQL: includeSQL))
    }
    return try DbtProjectReader.read(
      projectDirectory: project,
      options: DbtReadOptions(
        defaultDatabase: profile.database, target: profile.targetAttributes, freeParsedFiles: false,
        includeSQL: includeSQL))
  }
}

/// The reader's warnings, on standard error, once per process (watch reads the project again for every check).
enum ProjectWarnings {
  private static let printed = Locked(false)

  static func printOnce(_ project: ProjectGraph) {
    let lines = IncompletenessSummary.lines(project)
    guard !lines.isEmpty else { return }
    let first = printed.withLock { printed in
      defer { printed = true }
      return !printed
    }
    guard first else { return }
    var text = ""
    for line in lines.prefix(20) { text += "driftwatch: warning: \(sanitized(line))\n" }
    if lines.count > 20 { text += "driftwatch: warning: … and \(lines.count - 20) more\n" }
    text +=
      "driftwatch: warning: the nodes named above are marked incomplete; "
      + "--manifest target/manifest.json (after `dbt parse`) is exact\n"
    Terminal.standardError(text)
  }

  /// File names and constructs come from the project's files: no control character reaches the terminal.
  static func sanitized(_ text: String) -> String {
    String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
  }
}

/// Where the warehouse is: a URL, a dbt profile target, or an offline catalog.json.
struct WarehouseOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The warehouse: sqlite:PATH or postgres://USER@HOST:PORT/DB (password from the URL or PGPASSWORD).",
      valueName: "URL"))
  var warehouse: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Read the connection from dbt's profiles.yml in DIR (default: dbt's search order).", valueName: "DIR"))
  var profilesDir: String?

  @Option(
    name: .long,
    help: ArgumentHelp("The profiles.yml target to use (default: the profile's own).", valueName: "NAME"))
  var target: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Offline: read the live schema from dbt's catalog.json (works for any warehouse dbt supports).",
      valueName: "FILE"))
  var catalog: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Give up on a read that waits longer than this for a lock (PostgreSQL lock_timeout, SQLite busy timeout; e.g. 10s, 500ms; 0 = wait forever; default 10s).",
      valueName: "DURATION"))
  var lockTimeout: DurationArgument?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "PostgreSQL: cancel a read running longer than this (0 = no limit; default 1min, 5min for snapshot; the catalog query at most 1min).",
      valueName: "DURATION"))
  var statementTimeout: DurationArgument?

  /// The command's default read timeouts with the flags given.
  func timeouts(defaults: ReadTimeouts) -> ReadTimeouts {
    defaults.overriding(lock: lockTimeout?.duration, statement: statementTimeout?.duration)
  }

  /// The warehouse to introspect, chosen in this order: --catalog, --warehouse, then dbt's profiles.yml
  /// (whose resolved target is returned too, for reading the project as dbt would with it). Reads wait for
  /// locks and run as long as `timeouts(defaults:)` allows.
  func introspector(projectDirectory: String, timeouts defaults: ReadTimeouts = .check) throws -> (
    any WarehouseIntrospector, ResolvedProfile?
  ) {
    let timeouts = timeouts(defaults: defaults)
    let environment = ProcessInfo.processInfo.environment
    if let catalog {
      if warehouse != nil { throw InputError("pass either --catalog or --warehouse, not both") }
      return (try CatalogReader.read(path: catalog), nil)
    }
    if let warehouse {
      if profilesDir != nil || target != nil {
        throw InputError("pass either --warehouse or --profiles-dir/--target, not both")
      }
      return (
        Self.introspector(
          for: try WarehouseLocator.parse(warehouse, environment: environment), timeouts: timeouts),
        nil
      )
    }
    let profile = try ProfilesReader.locator(
      profilesDirectory: profilesDir, projectDirectory: projectDirectory, profileName: nil, target: target,
      environment: environment)
    Secrets.register(profile.locator)
    return (Self.introspector(for: profile.locator, timeouts: timeouts), profile)
  }

  static func introspector(for locator: WarehouseLocator, timeouts: ReadTimeouts = .check)
    -> any WarehouseIntrospector
  {
    switch locator {
    case .sqlite(let path):
      return SQLiteWarehouse(path: path, lockTimeout: timeouts.lock)
    case .postgres(let postgres):
      var warehouse = PostgresWarehouse(locator: postgres)
      warehouse.timeouts = timeouts
      return warehouse
    }
  }
}

/// One check, timed: read the project, introspect the warehouse, diff.
struct CheckRun {
  var project: ProjectGraph
  var live: LiveSchema
  var report: DriftReport

  /// `snapshot` finds the baseline for the project, if any: its evidence is applied when the warehouse can
  /// be sampled.
  static func run(
    project load: () throws -> ProjectGraph, warehouse: any WarehouseIntrospector,
    snapshot: (ProjectGraph) async throws -> Snapshot? = { _ in nil }
  ) async throws -> CheckRun {
    let clock = ContinuousClock()
    let started = clock.now
    let project = try load()
    let read = clock.now
    let live = try await warehouse.introspect(schemas: project.sourceSchemas)
    let introspected = clock.now
    let engine = DriftEngine(project: project)
    // A baseline snapshot is part of the contract (every column it recorded, with its type) …
    let baseline = try await snapshot(project)
    // Declared accepted_values are checked against the live values, profiled in the warehouse.
    var changes = try await engine.changes(
      live: live, baseline: baseline?.schema, profiler: warehouse as? any WarehouseProfiler)
    // … and its evidence: join its keyed samples to the live tables and compare its profiles.
    if let sampler = warehouse as? any WarehouseSampler, let baseline {
      changes = try await engine.applyingEvidence(
        to: changes, live: live, snapshot: baseline, sampler: sampler,
        profiler: warehouse as? any WarehouseProfiler)
    }
    var report = engine.report(changes: changes, warehouse: warehouse.displayName)
    report.markIncompleteness(from: project)
    let diffed = clock.now
    report.timings = DriftReport.Timings(
      readProjectMs: milliseconds(read - started), introspectMs: milliseconds(introspected - read),
      diffMs: milliseconds(diffed - introspected))
    return CheckRun(project: project, live: live, report: report)
  }

  static func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }
}

/// Large values a command is done with but that the process would spend a noticeable time freeing (a
/// 20,000-model graph is hundreds of thousands of strings): kept until the process exits, which returns
/// the memory at once. Only for the command line; library callers free their values as usual.
enum KeptUntilExit {
  private static let storage = Storage()

  static func keep(_ value: some Sendable) {
    storage.append(value)
  }

  private final class Storage: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [any Sendable] = []

    func append(_ value: any Sendable) {
      lock.lock()
      values.append(value)
      lock.unlock()
    }
  }
}

/// A duration flag (`--interval`, `--lock-timeout`, `--statement-timeout`), read by Core's one parser,
/// `DurationText`: `30s`, `500ms`, `2min`, `1h`; a bare number is seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, Hashable {
  var duration: Duration

  init(_ duration: Duration) { self.duration = duration }

  init?(argument: String) {
    guard let duration = DurationText.parse(argument) else { return nil }
    self.duration = duration
  }

  var milliseconds: Int64 { DurationText.milliseconds(duration) }

  var defaultValueDescription: String { DurationText.format(duration) }
}
