import ArgumentParser
import DriftwatchCore
import DriftwatchReports
import DriftwatchState
import Foundation

/// Where snapshots are kept: `--state`, else `.driftwatch/state.db` beside the project.
struct StateOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The state store: sqlite:PATH or postgres://USER@HOST:PORT/DB (default: DIR/.driftwatch/state.db).",
      valueName: "URL"))
  var state: String?

  /// The latest snapshot of `project`, or nil. A store that cannot be read is reported on stderr and the
  /// check goes on without evidence rather than failing.
  static func latest(in store: (any StateStore)?, project: String) async -> Snapshot? {
    guard let store else { return nil }
    do {
      return try await store.latest(project: project)
    } catch {
      let message = (error as? any UserFacingError)?.message ?? String(describing: error).lowercased()
      Terminal.standardError("driftwatch: warning: no snapshot evidence: \(message)\n")
      return nil
    }
  }

  func store(projectDirectory: String) throws -> any StateStore {
    guard let state else {
      return SQLiteStateStore(path: SQLiteStateStore.defaultPath(projectDirectory: projectDirectory))
    }
    do {
      return Backends.stateStore(
        for: try WarehouseLocator.parse(state, environment: ProcessInfo.processInfo.environment))
    } catch let error as WarehouseError {
      throw InputError(
        "invalid --state: \(error.message.replacingOccurrences(of: "warehouse", with: "state"))")
    }
  }
}

struct SnapshotCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "snapshot",
    abstract: "Record the sources' schema, column profiles and keyed samples as a baseline for later checks.",
    discussion: """
      Profiles are computed in the warehouse with SQL; each source table with a key (a unique test or a
      primary/unique key) is sampled by a deterministic hash of the key. `check` then uses the latest
      snapshot to prove renames, splits and value remaps from the data.

      Examples:
        driftwatch snapshot --project . --warehouse sqlite:warehouse.db
        driftwatch snapshot --project . --warehouse postgres://analyst@db:5432/acme --state postgres://dw@state/driftwatch
        driftwatch snapshot --project . --warehouse sqlite:warehouse.db --no-sample-values
      """)

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var warehouseOptions: WarehouseOptions
  @OptionGroup var stateOptions: StateOptions

  // Unconditional: `-1` is a value (and refused by `validate`), not an unknown option.
  @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Keys sampled per table.", valueName: "N"))
  var sampleSize: Int = SnapshotPlan.defaultSampleSize

  @Flag(name: .long, help: "Keep hashes of sampled values only (equality evidence, no templates).")
  var noSampleValues = false

  @Option(name: .long, help: "Output format: text or json (the snapshot as history --format json lists it).")
  var format: HistoryCommand.HistoryFormat = .text

  // Unconditional: `-1` is a value (and refused by `validate`), not an unknown option.
  @Option(
    name: .long, parsing: .unconditional,
    help: ArgumentHelp(
      "Tables profiled and sampled at once, each on its own read-only connection (default: 4).",
      valueName: "N"))
  var jobs: Int = SnapshotCommand.defaultJobs

  /// Four connections: most of the speed-up of a warehouse with a few cores, little load on a small one.
  static let defaultJobs = 4

  func validate() throws {
    if sampleSize < 0 || sampleSize > 100_000 {
      throw ValidationError("--sample-size must be between 0 and 100000")
    }
    if jobs < 1 || jobs > 64 {
      throw ValidationError("--jobs must be between 1 and 64")
    }
    if warehouseOptions.catalog != nil {
      throw ValidationError("snapshot reads the data itself: pass --warehouse (or a profile), not --catalog")
    }
  }

  func run() async throws { try await output().emit() }

  /// Where progress goes besides a terminal's standard error (done, total, what): `driftwatch mcp` sends it
  /// to the client as the call's progress notifications.
  @TaskLocal static var progressSink: (@Sendable (Int, Int, String) -> Void)?

  /// Takes and saves the snapshot; says what it recorded in `format`. `driftwatch mcp`'s `snapshot`.
  func output() async throws -> CommandOutput {
    let clock = ContinuousClock()
    let started = clock.now
    let (backend, profile) = try warehouseOptions.backend(
      projectDirectory: projectOptions.project, timeouts: .snapshot)
    let store = try stateOptions.store(projectDirectory: projectOptions.project)
    let showProgress = isatty(STDERR_FILENO) == 1
    let sink = Self.progressSink
    let (snapshot, unsampled, notFound) = try await Self.take(
      backend: backend, project: { try projectOptions.load(profile: profile) },
      sampleSize: sampleSize,
      hashValues: noSampleValues, jobs: jobs,
      progress: { done, total, what in
        if showProgress { Terminal.standardError("\r\u{1B}[K[\(done)/\(total)] \(what)") }
        sink?(done, total, what)
      })
    if showProgress { Terminal.standardError("\r\u{1B}[K") }
    try await store.save(snapshot)
    let seconds = CheckRun.milliseconds(clock.now - started) / 1000
    let meta = snapshot.metadata
    let estimated = Self.estimatedTables(snapshot)
    if format == .json {
      return CommandOutput(
        JSONValue.object([
          ("state", .string(store.displayName)), ("snapshot", HistoryCommand.json(meta)),
          ("seconds", .number(seconds)), ("estimated_tables", .array(estimated.map { .string($0) })),
          ("not_found_tables", .array(notFound.map { .string($0) })),
        ]).rendered())
    }
    return CommandOutput(
      "snapshot \(meta.id) of \(meta.project): \(meta.tables) tables, \(meta.columns) columns profiled, "
        + "\(meta.sampledKeys) keys sampled from \(snapshot.samples.count) tables"
        + "\(noSampleValues ? " (values hashed)" : "") in \(String(format: "%.2f", seconds)) s → \(store.displayName)\n"
        + Self.estimatedLine(estimated) + unsampled
    )
  }

  /// The tables whose profiles were read from a sample of their rows (a large PostgreSQL table: a
  /// `TABLESAMPLE` of about the row budget, counts scaled), by name, sorted.
  static func estimatedTables(_ snapshot: Snapshot) -> [String] {
    let tables = Set(
      snapshot.profiles.filter { $0.estimated == true }.map {
        TableRef(schema: $0.column.schema, name: $0.column.table).description
      })
    return tables.sorted()
  }

  /// What `estimatedTables` means, for the text output (empty when every table was read whole).
  static func estimatedLine(_ tables: [String]) -> String {
    guard !tables.isEmpty else { return "" }
    let names = tables.prefix(10).map(OutputEscape.terminal).joined(separator: ", ")
    let one = tables.count == 1
    return
      "\(tables.count) large table\(one ? " was" : "s were") profiled from a sample of \(one ? "its" : "their") "
      + "rows (counts scaled to the table, null and distinct counts from its statistics; profiles marked estimated): "
      + names + (tables.count > 10 ? ", …" : "") + "\n"
  }

  /// Profiles and samples the project's sources (`snapshot`, and the review page's "take a snapshot"): one
  /// step for every profile, one for every sample (a backend that starts a process per call, the dbt bridge,
  /// starts one per step); the plan then assembles the snapshot from what they read.
  static func take(
    backend: any WarehouseBackend, project load: () throws -> ProjectGraph, sampleSize: Int,
    hashValues: Bool, jobs: Int = SnapshotCommand.defaultJobs,
    progress: @escaping @Sendable (Int, Int, String) -> Void
  ) async throws -> (snapshot: Snapshot, unsampled: String, notFound: [String]) {
    guard backend.capabilities.contains(.data), let profiler = backend.profiler else {
      throw InputError("snapshot needs a live warehouse (sqlite:, postgres:// or a dbt profile)")
    }
    let project = try load()
    let live = try await backend.introspect(schemas: project.sourceSchemas)
    let plan = SnapshotPlan.make(project: project, live: live)
    func metadata() -> SnapshotMetadata {
      let now = Date()
      return SnapshotMetadata(
        id: Snapshot.makeID(
          compactTime: Self.compactTime(now), project: project.projectName, warehouse: backend.displayName,
          nonce: UUID().uuidString),
        takenAt: Self.takenAtTime(now), project: project.projectName, warehouse: backend.displayName,
        driftwatchVersion: Driftwatch.version, sampleSize: sampleSize, valuesHashed: hashValues)
    }
    // A native driver profiles and samples table by table, `jobs` tables at once on their own read-only
    // connections; a backend whose every call costs a start-up (the dbt bridge) reads each stage in one step.
    // Which tables could not be sampled, and why (no unique test or key).
    let unsampled =
      Self.notFoundLines(plan.notFound, project: project)
      + Self.unsampledLines(plan.unsampled, project: project)
    let notFound = plan.notFound.compactMap { project.sources[$0] }.map { "\($0.schema).\($0.identifier)" }
    if !backend.capabilities.contains(.batchedSteps), let sampler = backend.sampler {
      let snapshot = try await plan.run(
        metadata: metadata(), live: live, profiler: profiler, sampler: sampler, sampleSize: sampleSize,
        hashValues: hashValues, jobs: jobs, progress: progress)
      return (snapshot, unsampled, notFound)
    }
    progress(0, 2, "profiling \(plan.columns.count) columns")
    let profiles = try await profiler.profile(columns: plan.columns, topK: SnapshotPlan.topK)
    progress(1, 2, "sampling \(plan.samples.count) tables")
    let samples = try await backend.samples(of: plan.samples, limit: sampleSize)
    let snapshot = try await plan.run(
      metadata: metadata(), live: live, profiler: InMemoryProfiler(profiles: profiles),
      sampler: PrefetchedSampler(targets: plan.samples, rows: samples), sampleSize: sampleSize,
      hashValues: hashValues)
    progress(2, 2, "recorded \(plan.columns.count) columns and \(plan.samples.count) samples")
    return (snapshot, unsampled, notFound)
  }

  /// The samples read in one step, handed to `SnapshotPlan.run` in the order it asks for them.
  struct PrefetchedSampler: WarehouseSampler {
    var byTarget: [SnapshotPlan.SampleTarget: [KeyedRow]?]

    init(targets: [SnapshotPlan.SampleTarget], rows: [[KeyedRow]?]) {
      var byTarget: [SnapshotPlan.SampleTarget: [KeyedRow]?] = [:]
      for (target, rows) in zip(targets, rows) { byTarget[target] = rows }
      self.byTarget = byTarget
    }

    func sample(table: TableRef, key: String, columns: [String], limit: Int) async throws -> [KeyedRow]? {
      let found = byTarget.first { $0.key.table == table && $0.key.key == key && $0.key.columns == columns }
      return found?.value.map { Array($0.prefix(limit)) }
    }

    func rows(table: TableRef, key: String, keys: [String], columns: [String]) async throws -> [String:
      [String?]]?
    { nil }
  }

  /// One line per declared source table the warehouse does not have: nothing of it is in the snapshot.
  static func notFoundLines(_ notFound: [String], project: ProjectGraph) -> String {
    guard !notFound.isEmpty else { return "" }
    var text =
      "\(notFound.count) declared source table\(notFound.count == 1 ? " is" : "s are") not in the warehouse "
      + "and not recorded (`driftwatch check` says what became of \(notFound.count == 1 ? "it" : "them")):\n"
    for id in notFound {
      guard let source = project.sources[id] else { continue }
      text += "  \(OutputEscape.terminal(source.displayName)) "
      text += "(\(OutputEscape.terminal(source.schema)).\(OutputEscape.terminal(source.identifier)))\n"
    }
    return text
  }

  /// One line per source table without a key to sample by: why, and what that costs.
  static func unsampledLines(_ unsampled: [SnapshotPlan.Unsampled], project: ProjectGraph) -> String {
    guard !unsampled.isEmpty else { return "" }
    var text =
      "no keys sampled from \(unsampled.count) source table\(unsampled.count == 1 ? "" : "s") "
      + "(renames and remaps there are inferred from names and profiles, not proven by key; "
      + "add a unique test on a key column to sample it):\n"
    for table in unsampled {
      let name = project.sources[table.sourceID]?.displayName ?? table.sourceID
      text += "  \(OutputEscape.terminal(name)) (\(OutputEscape.terminal(table.table.description))): "
      text += "\(OutputEscape.terminal(table.reason))\n"
    }
    return text
  }

  static func compactTime(_ date: Date) -> String {
    isoTime(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
  }

  /// A snapshot's `taken_at`: ISO 8601 with milliseconds, so that snapshots taken within one second are
  /// ordered as they were taken (history, the latest baseline; ties were broken by the id's random part).
  static func takenAtTime(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }

  static func isoTime(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }
}

struct HistoryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "history", abstract: "List the project's snapshots, oldest first.")

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var stateOptions: StateOptions

  @Option(name: .long, help: "Output format: text or json.")
  var format: HistoryFormat = .text

  enum HistoryFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
  }

  /// One snapshot's metadata as `history --format json` lists it (and `snapshot --format json` shows it).
  static func json(_ meta: SnapshotMetadata) -> JSONValue {
    .object([
      ("id", .string(meta.id)), ("taken_at", .string(meta.takenAt)), ("project", .string(meta.project)),
      ("warehouse", .string(meta.warehouse)), ("driftwatch_version", .string(meta.driftwatchVersion)),
      ("tables", .integer(meta.tables)), ("columns", .integer(meta.columns)),
      ("sampled_keys", .integer(meta.sampledKeys)), ("sample_size", .integer(meta.sampleSize)),
      ("values_hashed", .bool(meta.valuesHashed)),
    ])
  }

  func run() async throws {
    let project = try projectOptions.load()
    let store = try stateOptions.store(projectDirectory: projectOptions.project)
    let snapshots = try await store.list(project: project.projectName)
    switch format {
    case .json:
      Terminal.standardOutput(
        JSONValue.object([
          ("state", .string(store.displayName)), ("snapshots", .array(snapshots.map(Self.json))),
        ])
        .rendered())
    case .text:
      guard !snapshots.isEmpty else {
        Terminal.standardOutput(
          "no snapshots of \(project.projectName) in \(store.displayName): take one with driftwatch snapshot\n"
        )
        return
      }
      var lines = [
        "\(snapshots.count) snapshot\(snapshots.count == 1 ? "" : "s") of \(project.projectName) in \(store.displayName):"
      ]
      for meta in snapshots {
        lines.append(
          "  \(meta.id)  \(meta.takenAt)  \(meta.tables) tables, \(meta.columns) columns, \(meta.sampledKeys) keys\(meta.valuesHashed ? " (hashed)" : "")  \(meta.warehouse)"
        )
      }
      Terminal.standardOutput(lines.joined(separator: "\n") + "\n")
    }
  }
}

struct DiffCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare two snapshots (ids from history) and report what changed, as check does.",
    discussion: """
      The first snapshot is the baseline (every column it recorded, declared or not, with its type and
      place, plus what the yml declares); the second is the live side. Drift already present in the first
      snapshot is not repeated: only what changed between the two is reported. Keyed
      samples of the first are joined to the second's samples (a snapshot also samples undeclared keyed
      tables in the sources' schemas, and keys are picked in the same hash order, so a renamed table's keys
      are found again).

      Exit codes: 0 no breaking drift, 1 breaking drift found, 2 usage, input or connection error.
      """)

  @Argument(help: "The older snapshot's id.") var snapshotA: String
  @Argument(help: "The newer snapshot's id.") var snapshotB: String

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var stateOptions: StateOptions

  @Option(name: .long, help: "Output format: text, json or markdown.")
  var format: ReportFormat = .text

  @Flag(name: .long, help: "No colour in text output.")
  var noColor = false

  func run() async throws {
    let store = try stateOptions.store(projectDirectory: projectOptions.project)
    guard let old = try await store.load(id: snapshotA) else {
      throw InputError("no snapshot \(snapshotA) in \(store.displayName): see driftwatch history")
    }
    guard let new = try await store.load(id: snapshotB) else {
      throw InputError("no snapshot \(snapshotB) in \(store.displayName): see driftwatch history")
    }
    let project = try projectOptions.load()
    // The first snapshot is the baseline of both sides: every column it recorded, declared or not, with its
    // type and place. Drift already there in the first snapshot (against the yml) is not a change between
    // the two: only what the second adds is reported.
    let engine = DriftEngine(project: project)
    let before = Set(engine.diff(live: old.schema, baseline: old.schema).map(\.id))
    // Values found replaced against the first snapshot's are read from the second's profiles.
    let newProfiles = InMemoryProfiler(profiles: new.profiles)
    var changes = try await engine.changes(live: new.schema, snapshot: old, profiler: newProfiles)
    let sampler = InMemorySampler(
      tables: new.samples.filter { !$0.hashed }.map { sample in
        InMemorySampler.Table(
          ref: sample.table, columns: [sample.key] + sample.columns,
          rows: sample.rows.map { [$0.key] + $0.values })
      })
    changes = try await engine.applyingEvidence(
      to: changes, live: new.schema, snapshot: old, sampler: sampler, profiler: newProfiles)
    changes.removeAll { before.contains($0.id) }
    let report = engine.report(changes: changes, warehouse: "\(old.id) → \(new.id)")
    let renderer = DriftReportRenderer(
      color: !noColor && format == .text && Terminal.stdoutWantsColor, toolVersion: Driftwatch.version)
    Terminal.standardOutput(renderer.render(report, as: format))
    if report.breaking { throw ExitCode(1) }
  }
}
