import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchDbtBridge
import DriftwatchPostgres
import DriftwatchSQLite
import DriftwatchState
import Foundation

/// Where the dbt project comes from: its files, or a manifest dbt wrote.
struct ProjectOptions: ParsableArguments {
  @Option(
    name: .customLong("project"),
    help: ArgumentHelp(
      "The dbt project directory (default: with --manifest, the project holding it; else .).",
      valueName: "DIR"))
  var projectDirectory: String?

  /// The project's root (see `projectRoot()`); the working directory when a manifest's project is not found.
  var project: String { (try? projectRoot()) ?? "." }

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

  @Option(
    name: .long,
    help: ArgumentHelp(
      "dbt's --vars: a YAML or JSON mapping over the project's vars, in its SQL, yml and dbt_project.yml "
        + "(e.g. '{\"load_source_data\": true}').", valueName: "YAML"))
  var vars: String?

  /// The project graph. With a dbt profile, sources without a database get the target's, and yml may use
  /// `{{ target.* }}` as dbt allows. `includeSQL: false` leaves the models' SQL out of a manifest's graph
  /// (lineage needs none of it).
  func load(profile: ProfileTarget? = nil, includeSQL: Bool = true, readsTarget: Bool = false) throws
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
  private func read(profile: ProfileTarget?, includeSQL: Bool, readsTarget: Bool) throws -> ProjectGraph {
    if let manifest {
      if vars != nil {
        throw InputError(
          "--vars applies to the project files; a manifest is already rendered (pass --vars to dbt parse instead)"
        )
      }
      return try ManifestReader.read(
        path: manifest,
        options: ManifestReadOptions(includeSQL: includeSQL, freeParsedManifest: Terminal.carriesProtocol))
    }
    // The process ends after the command: the parsed files are left for its exit to free (not so in a
    // server, `driftwatch mcp`, which answers many).
    let freeParsedFiles = Terminal.carriesProtocol
    guard let profile else {
      let environment = ProcessInfo.processInfo.environment
      let target =
        readsTarget
        ? (try? ProfilesReader.targetAttributes(
          profilesDirectory: nil, projectDirectory: project, profileName: nil, target: nil,
          environment: environment)) ?? [:] : [:]
      var options = DbtReadOptions(
        environment: environment, target: target, freeParsedFiles: freeParsedFiles, includeSQL: includeSQL)
      options.vars = vars
      return try DbtProjectReader.read(projectDirectory: project, options: options)
    }
    var options = DbtReadOptions(
      defaultDatabase: profile.database, target: profile.attributes, freeParsedFiles: freeParsedFiles,
      includeSQL: includeSQL)
    options.vars = vars
    return try DbtProjectReader.read(projectDirectory: project, options: options)
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

  @Flag(
    name: .long,
    help: ArgumentHelp(
      "Read the profile's target through dbt (dbt run-operation of driftwatch's macros) even when driftwatch "
        + "has a driver for it; targets of other adapters (duckdb, snowflake, bigquery, databricks, …) always are."
    ))
  var viaDbt = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The dbt executable for targets read through dbt (default: $DRIFTWATCH_DBT, else dbt on PATH).",
      valueName: "PATH"))
  var dbt: String?

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

  /// The warehouse backend, chosen in this order: --catalog, --warehouse, then dbt's profiles.yml (whose
  /// target is returned too, for reading the project as dbt would with it): a target driftwatch has a
  /// driver for (postgres, redshift, sqlite) is read natively, any other adapter — or any target with
  /// --via-dbt — through the user's dbt (`DbtBridge`). Reads wait for locks and run as long as
  /// `timeouts(defaults:)` allows.
  func backend(projectDirectory: String, timeouts defaults: ReadTimeouts = .check) throws -> (
    any WarehouseBackend, ProfileTarget?
  ) {
    let timeouts = timeouts(defaults: defaults)
    let environment = ProcessInfo.processInfo.environment
    if let catalog {
      if warehouse != nil { throw InputError("pass either --catalog or --warehouse, not both") }
      if viaDbt { throw InputError("--via-dbt reads the live warehouse; leave out --catalog") }
      return (InMemoryBackend(warehouse: try CatalogReader.read(path: catalog)), nil)
    }
    if let warehouse {
      if profilesDir != nil || target != nil {
        throw InputError("pass either --warehouse or --profiles-dir/--target, not both")
      }
      if viaDbt || dbt != nil {
        throw InputError(
          "--via-dbt and --dbt read the connection from dbt's profiles.yml: leave out --warehouse")
      }
      return (
        Backends.backend(
          for: try WarehouseLocator.parse(warehouse, environment: environment), timeouts: timeouts),
        nil
      )
    }
    let attributes = try ProfilesReader.targetAttributes(
      profilesDirectory: profilesDir, projectDirectory: projectDirectory, profileName: nil, target: target,
      environment: environment)
    // Secrets written literally in the profile are in no argument or environment variable: registered here,
    // before a driver or dbt can echo one in an error.
    for secret in try ProfilesReader.targetSecrets(
      profilesDirectory: profilesDir, projectDirectory: projectDirectory, profileName: nil, target: target,
      environment: environment)
    {
      Secrets.register(secret)
    }
    let adapter = attributes["type"] ?? ""
    if !viaDbt && Backends.nativeProfileTypes.contains(adapter) {
      let profile = try ProfilesReader.locator(
        profilesDirectory: profilesDir, projectDirectory: projectDirectory, profileName: nil, target: target,
        environment: environment)
      Secrets.register(profile.locator)
      return (Backends.backend(for: profile.locator, timeouts: timeouts), ProfileTarget(profile))
    }
    let bridge = try Backends.dbtBridge(
      attributes: attributes, dbt: dbt, profilesDirectory: profilesDir, projectDirectory: projectDirectory,
      environment: environment, timeouts: timeouts)
    return (bridge, ProfileTarget(database: attributes["database"], attributes: attributes))
  }

  /// The command an alert tells the on-call to run for the drafted fix, reaching the warehouse the way this
  /// run did: `--warehouse` with the password-free URL, or the dbt profile (`--profiles-dir`, `--target`,
  /// `--via-dbt`, `--dbt`) — a warehouse read through the bridge has no URL to give.
  func fixCommand(projectDirectory: String, backend: any WarehouseBackend) -> String {
    var words = ["driftwatch", "fix", "--project", projectDirectory]
    if warehouse != nil {
      words += ["--warehouse", backend.displayName]
    } else {
      if let profilesDir { words += ["--profiles-dir", profilesDir] }
      if let target { words += ["--target", target] }
      if viaDbt { words.append("--via-dbt") }
      if let dbt { words += ["--dbt", dbt] }
    }
    return words.map(Self.shellWord).joined(separator: " ")
  }

  /// A word as a POSIX shell reads it back: as is when plain, else single-quoted.
  static func shellWord(_ word: String) -> String {
    let plain =
      !word.isEmpty
      && word.unicodeScalars.allSatisfy { scalar in
        scalar.isASCII
          && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
            || "-_./:@%+=,".unicodeScalars.contains(scalar))
      }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// `backend(projectDirectory:timeouts:)`, under the name the watch engine calls.
  func introspector(projectDirectory: String, timeouts defaults: ReadTimeouts = .check) throws -> (
    any WarehouseBackend, ProfileTarget?
  ) {
    try backend(projectDirectory: projectDirectory, timeouts: defaults)
  }
}

/// The profile target a project is read with: sources without a database get its database, and yml may use
/// `{{ target.* }}` as dbt allows.
struct ProfileTarget: Sendable, Hashable {
  var database: String?
  var attributes: [String: String]

  init(database: String?, attributes: [String: String]) {
    self.database = database
    self.attributes = attributes
  }

  init(_ profile: ResolvedProfile) {
    self.init(database: profile.database, attributes: profile.targetAttributes)
  }
}

/// The one place a kind of warehouse (or state store) is chosen: every command asks the value it gets from
/// here and never switches on the kind itself. Adding a warehouse is a case here (and its module).
enum Backends {
  /// Profile types read with driftwatch's own drivers; any other adapter goes through dbt.
  static let nativeProfileTypes: Set<String> = ["postgres", "redshift", "sqlite"]

  static func backend(for locator: WarehouseLocator, timeouts: ReadTimeouts = .check) -> any WarehouseBackend
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

  static func stateStore(for locator: WarehouseLocator) -> any StateStore {
    switch locator {
    case .sqlite(let path): return SQLiteStateStore(path: path)
    case .postgres(let locator): return PostgresStateStore(locator: locator)
    }
  }

  static func incidentStore(for locator: WarehouseLocator) -> any IncidentStore {
    switch locator {
    case .sqlite(let path): return SQLiteIncidentStore(path: path)
    case .postgres(let locator): return PostgresIncidentStore(locator: locator)
    }
  }

  /// The profile's target through the user's dbt: dbt from --dbt, DRIFTWATCH_DBT or PATH; the profiles
  /// directory as dbt would find it. What dbt writes to standard error reaches messages only redacted.
  static func dbtBridge(
    attributes: [String: String], dbt: String?, profilesDirectory: String?, projectDirectory: String,
    environment: [String: String], timeouts: ReadTimeouts = .check
  ) throws -> DbtBridge {
    let adapter = attributes["type"] ?? ""
    guard let executable = DbtInvocation.findDbt(dbt, environment: environment) else {
      throw DbtBridgeError.dbtNotFound(adapter: adapter.isEmpty ? "dbt" : adapter)
    }
    let profile = attributes["profile_name"] ?? ""
    let target = attributes["name"]
    // dbt runs in the project directory: both paths are made absolute first (a relative --profiles-dir is
    // the user's, from where driftwatch runs).
    let invocation = DbtInvocation(
      dbt: executable, workingDirectory: absolute(projectDirectory),
      profilesDirectory: absolute(
        profilesDirectoryPath(
          explicit: profilesDirectory, projectDirectory: projectDirectory, environment: environment)),
      profile: profile, target: target, environment: environment,
      timeout: bridgeTimeout(timeouts))
    return DbtBridge(
      adapter: adapter, displayName: "dbt:\(profile).\(target ?? "default") (\(adapter))",
      runner: runner(invocation, environment: environment), redact: { Secrets.redact($0) })
  }

  /// dbt started once for the command (`DbtSessionRunner`), unless the executable is not a Python script or
  /// `DRIFTWATCH_DBT_SESSION=0` asks for one `dbt run-operation` process per step.
  static func runner(_ invocation: DbtInvocation, environment: [String: String]) -> any DbtOperationRunner {
    if environment["DRIFTWATCH_DBT_SESSION"] != "0", let session = DbtSessionRunner(invocation: invocation) {
      return session
    }
    return DbtProcessRunner(invocation: invocation)
  }

  /// One dbt run (start-up and every statement of a step) may take ten statement timeouts and two minutes;
  /// no statement limit, no limit (a day).
  static func bridgeTimeout(_ timeouts: ReadTimeouts) -> Duration {
    timeouts.statement == .zero ? .seconds(86_400) : timeouts.statement * 10 + .seconds(120)
  }

  static func absolute(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    guard !expanded.hasPrefix("/") else { return expanded }
    return
      ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded) as NSString)
      .standardizingPath
  }

  /// dbt's search order for profiles.yml: --profiles-dir, DBT_PROFILES_DIR, the project, ~/.dbt.
  static func profilesDirectoryPath(
    explicit: String?, projectDirectory: String, environment: [String: String]
  ) -> String {
    if let explicit { return explicit }
    if let fromEnvironment = environment["DBT_PROFILES_DIR"], !fromEnvironment.isEmpty {
      return fromEnvironment
    }
    let inProject = (projectDirectory as NSString).appendingPathComponent("profiles.yml")
    if FileManager.default.fileExists(atPath: inProject) { return projectDirectory }
    return ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".dbt")
  }
}

/// A warehouse given only as an introspector: what it can do is what it conforms to.
struct IntrospectorBackend: WarehouseBackend {
  var base: any WarehouseIntrospector

  var displayName: String { base.displayName }
  var dialect: SQLDialect { base.dialect }
  var capabilities: WarehouseCapabilities { profiler != nil && sampler != nil ? [.data] : [] }
  var profiler: (any WarehouseProfiler)? { base as? any WarehouseProfiler }
  var sampler: (any WarehouseSampler)? { base as? any WarehouseSampler }

  func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    try await base.introspect(schemas: schemas)
  }

  static func of(_ warehouse: any WarehouseIntrospector) -> any WarehouseBackend {
    (warehouse as? any WarehouseBackend) ?? IntrospectorBackend(base: warehouse)
  }
}

/// One check, timed: read the project, introspect the warehouse, diff.
struct CheckRun {
  var project: ProjectGraph
  var live: LiveSchema
  var report: DriftReport
  /// The baseline snapshot's schema, when the check had one (the types of undeclared columns).
  var baseline: LiveSchema? = nil

  /// `snapshot` finds the baseline for the project, if any: its evidence is applied when the warehouse can
  /// be sampled.
  static func run(
    project load: () throws -> ProjectGraph, warehouse: any WarehouseIntrospector,
    snapshot: (ProjectGraph) async throws -> Snapshot? = { _ in nil }
  ) async throws -> CheckRun {
    let clock = ContinuousClock()
    let started = clock.now
    var project = try load()
    let read = clock.now
    let live = try await warehouse.introspect(schemas: project.sourceSchemas)
    let introspected = clock.now
    let lineage = LineageGraph(project: project)
    if project.readerCompiler?.compiler != nil {
      // The readers of what changed, compiled as dbt would with this warehouse: what they really read.
      let changed = DriftEngine(project: project, lineage: lineage).diff(live: live).compactMap(\.sourceID)
      project = project.compilingReaders(of: Set(changed), live: live, lineage: lineage)
    }
    let engine = DriftEngine(project: project, lineage: lineage)
    let backend = IntrospectorBackend.of(warehouse)
    // A baseline snapshot is part of the contract (every column it recorded, with its type) …
    let baseline = try await snapshot(project)
    // Declared accepted_values are checked against the live values, profiled in the warehouse.
    var changes = try await engine.changes(live: live, snapshot: baseline, profiler: backend.profiler)
    // … and its evidence: join its keyed samples to the live tables and compare its profiles. Every table's
    // rows in one step, then the distribution probes in one step.
    if backend.sampler != nil, let baseline {
      let requests = engine.evidenceRequests(changes: changes, live: live, snapshot: baseline)
      let fetched = requests.isEmpty ? [] : try await backend.rows(for: requests)
      // The distribution fallback's columns, and the read columns whose profiles are compared with the
      // baseline's (drift behind an unchanged schema).
      var probes = engine.distributionProbes(changes: changes, requests: requests)
      for probe in engine.profileDriftProbes(changes: changes, live: live, snapshot: baseline)
      where !probes.contains(probe) {
        probes.append(probe)
      }
      let profiles =
        probes.isEmpty
        ? [] : try await backend.profiler?.profile(columns: probes, topK: SnapshotPlan.topK) ?? []
      changes = engine.applyingEvidence(
        to: changes, requests: requests, fetched: fetched, snapshot: baseline, liveProfiles: profiles)
    }
    var report = engine.report(changes: changes, warehouse: warehouse.displayName)
    report.markIncompleteness(from: project)
    let diffed = clock.now
    report.timings = DriftReport.Timings(
      readProjectMs: milliseconds(read - started), introspectMs: milliseconds(introspected - read),
      diffMs: milliseconds(diffed - introspected))
    return CheckRun(project: project, live: live, report: report, baseline: baseline?.schema)
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
    // A server (driftwatch mcp) answers many commands: it frees as it goes.
    guard !Terminal.carriesProtocol else { return }
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
