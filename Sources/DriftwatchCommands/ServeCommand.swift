import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import DriftwatchServe
import Foundation
import Logging

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract:
      "Serve the review page: the current check, its blast radius, the drafted fix and its questions.",
    discussion: """
      Answer the fix's questions in a browser and approve it: the files are written all or none (refused
      when one changed since the check) and the project is checked again. Incidents and their postmortems
      are on /incidents.

      Listens on 127.0.0.1:8765 by default. Any address that is not loopback needs a token: --token-env NAME
      names the environment variable holding it (open the page once as /?token=TOKEN).

      Examples:
        driftwatch serve --project . --warehouse sqlite:warehouse.db
        driftwatch serve --project . --warehouse postgres://analyst@db:5432/acme --http 127.0.0.1:9000
        DRIFTWATCH_TOKEN=… driftwatch serve --project . --warehouse … --http 0.0.0.0:8765 --token-env DRIFTWATCH_TOKEN
      """)

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var warehouseOptions: WarehouseOptions
  @OptionGroup var stateOptions: StateOptions

  @Option(name: .long, help: ArgumentHelp("Where to listen.", valueName: "HOST:PORT"))
  var http: String = "127.0.0.1:8765"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The environment variable holding the token the page asks for (required off loopback).",
      valueName: "NAME"))
  var tokenEnv: String?

  @Option(
    name: .long,
    help:
      "SQL dialect of the drafted models (default: the warehouse's): postgres, sqlite; others best-effort.")
  var dialect: SQLDialect?

  @Option(
    name: .long, parsing: .unconditional, help: "Inferences below this confidence become questions (0…1).")
  var threshold: Double = 0.8

  func validate() throws {
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be between 0 and 1") }
  }

  func run() async throws {
    let (host, port) = try Self.address(http)
    var token: String?
    if let tokenEnv {
      guard let value = ProcessInfo.processInfo.environment[tokenEnv], !value.isEmpty else {
        throw InputError("--token-env \(tokenEnv): that environment variable is not set; set it to the token")
      }
      guard value.count >= 16 else {
        throw InputError("--token-env \(tokenEnv): the token is shorter than 16 characters; use a longer one")
      }
      Secrets.register(value)
      token = value
    } else if !ReviewAccess.isLoopback(host) {
      throw InputError(
        "--http \(http) is not a loopback address: pass --token-env NAME with a token, or listen on 127.0.0.1"
      )
    }
    let backend = CLIReviewBackend(
      projectOptions: projectOptions, warehouseOptions: warehouseOptions, stateOptions: stateOptions,
      dialect: dialect, threshold: threshold)
    let session = ReviewSession(backend: backend, toolVersion: Driftwatch.version)
    // The first check before listening: a warehouse that cannot be read is one line and exit 2.
    try await session.recheck()
    var logger = Logger(label: "driftwatch.serve") { RedactingLogHandler(label: $0) }
    logger.logLevel = .warning
    do {
      try await ReviewServer.run(
        host: host, port: port, session: session,
        access: ReviewAccess(token: token, loopbackOnly: token == nil), logger: logger,
        onListening: { bound in
          let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
          Terminal.standardOutput(
            "driftwatch: serving the review page on http://\(shown):\(bound)/ (ctrl-c to stop)\n")
        })
    } catch let error as any UserFacingError {
      throw error
    } catch {
      throw InputError(
        "cannot listen on \(http) (\(String(describing: error).lowercased())): pick another --http address or port"
      )
    }
  }

  /// `HOST:PORT`, `[::1]:PORT` or `PORT` (on 127.0.0.1).
  static func address(_ text: String) throws -> (String, Int) {
    let host: String
    let portText: String
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      host = String(text[text.index(after: text.startIndex)..<close])
      portText = String(text[text.index(after: close)...].dropFirst())
    } else if let colon = text.lastIndex(of: ":") {
      host = String(text[..<colon])
      portText = String(text[text.index(after: colon)...])
    } else {
      host = "127.0.0.1"
      portText = text
    }
    guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty else {
      throw InputError("--http \(text): expected HOST:PORT, e.g. 127.0.0.1:8765")
    }
    return (host, port)
  }
}

/// The review page's backend: the CLI's own calls (`CheckRun`, `FixDrafter`, `FileTransaction`, `snapshot`,
/// the incident store), keeping the last check for drafting and writing.
actor CLIReviewBackend: ReviewBackend {
  let projectOptions: ProjectOptions
  let warehouseOptions: WarehouseOptions
  let stateOptions: StateOptions
  let dialect: SQLDialect?
  let threshold: Double

  private struct Checked {
    var run: CheckRun
    var files: [String: String]
    var testPath: String
    var dialect: SQLDialect
  }
  private var last: Checked?

  init(
    projectOptions: ProjectOptions, warehouseOptions: WarehouseOptions, stateOptions: StateOptions,
    dialect: SQLDialect?, threshold: Double
  ) {
    self.projectOptions = projectOptions
    self.warehouseOptions = warehouseOptions
    self.stateOptions = stateOptions
    self.dialect = dialect
    self.threshold = threshold
  }

  var root: String { projectOptions.project }

  func check() async throws -> ReviewCheck {
    let (warehouse, profile) = try warehouseOptions.introspector(projectDirectory: root)
    let store = try stateOptions.store(projectDirectory: root)
    let projectOptions = projectOptions
    var baseline: Snapshot?
    let run = try await CheckRun.run(
      project: { try projectOptions.load(profile: profile) }, warehouse: warehouse,
      snapshot: { project in
        let found = await StateOptions.latest(in: store, project: project.projectName)
        baseline = found
        return found
      })
    try projectOptions.requireExact((run.report.incomplete ?? []).map(\.uniqueID), project: run.project)
    let (files, testPath) = try Fix.readProjectFiles(root: root, check: run)
    last = Checked(run: run, files: files, testPath: testPath, dialect: dialect ?? warehouse.dialect)
    let snapshot = baseline
    var previews: [String: SplitPreview] = [:]
    if let sampler = warehouse as? any WarehouseSampler {
      for change in run.report.changes where change.kind == .columnSplit {
        previews[change.id] = try? await Self.preview(change, run: run, sampler: sampler, snapshot: snapshot)
      }
    }
    return ReviewCheck(
      report: run.report, previews: previews, checkedAt: SnapshotCommand.isoTime(Date()),
      snapshotID: snapshot?.metadata.id)
  }

  func draft(_ decisions: Decisions) async throws -> FixDraft {
    guard let last else { throw InputError("no check yet: check the project first") }
    return try FixDrafter(
      project: last.run.project, report: last.run.report, live: last.run.live, dialect: last.dialect,
      files: last.files, testPath: last.testPath, decisions: decisions, threshold: threshold,
      baseline: last.run.baseline
    ).draft()
  }

  func write(_ decisions: Decisions) async throws -> [String] {
    guard let last else { throw InputError("no check yet: check the project first") }
    let drafted = try await draft(decisions)
    try Fix.refuseOpenQuestions(drafted)
    guard !drafted.files.isEmpty else { throw InputError("the fix has nothing to write") }
    try FileTransaction(root: root).commit(drafted.files)
    await Fix.recordApplied(project: last.run.report.project, stateOptions: stateOptions, root: root)
    self.last = nil
    return drafted.files.map(\.path)
  }

  func snapshot(progress: @escaping @Sendable (Int, Int, String) -> Void) async throws -> String {
    let (backend, profile) = try warehouseOptions.backend(projectDirectory: root, timeouts: .snapshot)
    let store = try stateOptions.store(projectDirectory: root)
    let projectOptions = projectOptions
    let (snapshot, _, _) = try await SnapshotCommand.take(
      backend: backend, project: { try projectOptions.load(profile: profile) },
      sampleSize: SnapshotPlan.defaultSampleSize, hashValues: false, progress: progress)
    try await store.save(snapshot)
    let meta = snapshot.metadata
    return "snapshot \(meta.id): \(meta.columns) columns profiled, \(meta.sampledKeys) keys sampled"
  }

  func incidents() async throws -> [Incident] {
    try await stateOptions.incidentStore(projectDirectory: root).incidents(project: nil)
  }

  func incident(id: String) async throws -> Incident? {
    try await stateOptions.incidentStore(projectDirectory: root).incident(id: id)
  }

  nonisolated func redact(_ text: String) -> String { Secrets.redact(text) }

  /// Up to 8 rows of the table a column was split into: the parts, and the old value when the snapshot
  /// sampled the same key.
  static func preview(
    _ change: DriftChange, run: CheckRun, sampler: any WarehouseSampler, snapshot: Snapshot?
  ) async throws -> SplitPreview? {
    let parts = change.to?.names ?? []
    guard !parts.isEmpty, let relation = change.relation,
      let table = run.live.tables.first(where: { "\($0.schema).\($0.name)" == relation })
    else { return nil }
    let ref = TableRef(schema: table.schema, name: table.name)
    let limit = 8
    if let sample = snapshot?.samples.first(where: { $0.sourceID == change.sourceID && !$0.hashed }),
      let position = sample.columns.firstIndex(of: change.from ?? "")
    {
      // The key under its new name, when the key column was renamed too.
      let renamed = run.report.changes.first {
        $0.kind == .columnRenamed && $0.sourceID == change.sourceID && $0.from == sample.key
      }
      let key = renamed?.to?.names.first ?? sample.key
      let chosen = Array(sample.rows.prefix(limit))
      guard
        let rows = try await sampler.rows(table: ref, key: key, keys: chosen.map(\.key), columns: parts)
      else { return nil }
      return SplitPreview(
        columns: parts,
        rows: chosen.compactMap { row in
          guard let values = rows[row.key] else { return nil }
          return SplitPreview.Row(
            key: row.key, values: Self.named(parts, values), old: row.values[position])
        })
    }
    guard let key = table.columns.first(where: { !parts.contains($0.name) })?.name,
      let rows = try await sampler.sample(table: ref, key: key, columns: parts, limit: limit)
    else { return nil }
    return SplitPreview(
      columns: parts,
      rows: rows.map { SplitPreview.Row(key: $0.key, values: Self.named(parts, $0.values), old: nil) })
  }

  static func named(_ columns: [String], _ values: [String?]) -> [String: String] {
    var out: [String: String] = [:]
    for (column, value) in zip(columns, values) { out[column] = value ?? "" }
    return out
  }
}
