import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import DriftwatchServe
import DriftwatchState
import DriftwatchWatch
import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct InstallTrigger: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install-trigger",
    abstract: "Install the PostgreSQL event trigger that tells `driftwatch watch` about DDL at once.",
    discussion: """
      Creates schema driftwatch, function driftwatch.notify_ddl() and two event triggers (ddl_command_end,
      sql_drop) that pg_notify channel '\(DDLTrigger.channel)' with the schema, object, command tag,
      transaction id and time of each DDL statement. Event triggers need a superuser: without the rights,
      --print writes the SQL for a DBA. This is the one write driftwatch makes to a warehouse, and only here.

      Examples:
        driftwatch install-trigger --warehouse postgres://admin@db:5432/acme
        driftwatch install-trigger --print > driftwatch_trigger.sql

      Exit codes: 0 installed (or printed), 2 usage, input or connection error.
      """)

  @Option(name: .long, help: ArgumentHelp("The PostgreSQL warehouse.", valueName: "URL"))
  var warehouse: String?

  @Flag(name: .long, help: "Print the SQL instead of running it.")
  var print = false

  func run() async throws {
    if print {
      Terminal.standardOutput(DDLTrigger.script())
      return
    }
    guard let warehouse else { throw InputError("pass --warehouse postgres://… (or --print for the sql)") }
    let backend = Backends.backend(
      for: try WarehouseLocator.parse(warehouse, environment: ProcessInfo.processInfo.environment))
    guard backend.capabilities.contains(.ddlEvents), let locator = backend.postgres
    else { throw InputError("event triggers exist only on postgresql; watch polls other warehouses") }
    try await DDLTrigger.install(locator: locator)
    Terminal.standardOutput(
      "installed event triggers driftwatch_ddl_command_end and driftwatch_sql_drop on \(locator.displayURL) "
        + "(channel \(DDLTrigger.channel))\n")
  }
}

extension Timestamp {
  static var now: Timestamp {
    Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
  }
}

/// A value behind a lock, shared by the watch tasks.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value
  init(_ value: Value) { self.value = value }
  func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}

extension StateOptions {
  func incidentStore(projectDirectory: String) throws -> any IncidentStore {
    guard let state else {
      return SQLiteIncidentStore(path: SQLiteStateStore.defaultPath(projectDirectory: projectDirectory))
    }
    return Backends.incidentStore(
      for: try WarehouseLocator.parse(state, environment: ProcessInfo.processInfo.environment))
  }
}

struct Watch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Watch the warehouse continuously: open an incident on breaking drift, draft the fix, alert.",
    discussion: """
      On PostgreSQL with the event trigger installed (driftwatch install-trigger), DDL is reported at once
      over LISTEN/NOTIFY and checked after a quiet window (--debounce), so the statements of one migration
      make one incident. Every --interval, and after every reconnect, everything is checked again (the
      only mode on other warehouses). Incidents and the alert outbox live in the state store; alerts are
      retried with exponential backoff and sent once per incident and destination. Webhook URLs are read
      from the environment variables named, and never printed.

      Examples:
        driftwatch watch --project . --warehouse postgres://analyst@db:5432/acme \\
          --slack-webhook-env SLACK_WEBHOOK_URL --http 127.0.0.1:9464
        driftwatch watch --project . --warehouse sqlite:warehouse.db --interval 1m

      Runs until SIGTERM or SIGINT. Exit codes: 0 stopped on a signal, 2 usage, input or connection error
      at start.
      """)

  @OptionGroup var projectOptions: ProjectOptions
  @OptionGroup var warehouseOptions: WarehouseOptions
  @OptionGroup var stateOptions: StateOptions

  @Option(
    name: .long,
    help: "Check everything this often, and after every reconnect (e.g. 30s, 500ms, 2min; 100ms to 24h).")
  var interval = DurationArgument(.seconds(30))

  @Option(
    name: .long, parsing: .unconditional,
    help: ArgumentHelp("Wait this long without DDL before checking.", valueName: "MS"))
  var debounce: Int = 300

  @Option(
    name: .long,
    help: ArgumentHelp("Environment variable holding the Slack incoming webhook URL.", valueName: "VAR"))
  var slackWebhookEnv: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Environment variable holding a generic JSON webhook URL.", valueName: "VAR"))
  var webhookUrlEnv: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Serve /healthz, /metrics and /incidents on HOST:PORT (loopback unless a host is given).",
      valueName: "ADDRESS"))
  var http: String?

  @Flag(name: .long, help: "Do not use the latest snapshot as evidence.")
  var noSnapshot = false

  @Option(name: .long, help: ArgumentHelp("Log level: debug, info, warning, error.", valueName: "LEVEL"))
  var logLevel: String = "info"

  func validate() throws {
    guard (0...60_000).contains(debounce) else { throw ValidationError("--debounce must be 0…60000 ms") }
    guard (100...86_400_000).contains(interval.milliseconds) else {
      throw ValidationError("--interval must be 100ms…24h")
    }
    if warehouseOptions.catalog != nil {
      throw ValidationError("watch needs a live warehouse, not --catalog")
    }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
    }
  }

  /// The destinations with their variables; every named variable must hold a URL.
  func destinations() throws -> [(name: String, variable: String)] {
    var result: [(String, String)] = []
    let environment = ProcessInfo.processInfo.environment
    for (name, variable) in [("slack", slackWebhookEnv), ("webhook", webhookUrlEnv)] {
      guard let variable else { continue }
      guard let value = environment[variable], !value.isEmpty else {
        throw InputError("environment variable \(variable) is not set: put the \(name) webhook url in it")
      }
      guard value.hasPrefix("https://") || value.hasPrefix("http://") else {
        throw InputError("environment variable \(variable) does not hold an http(s) url")
      }
      result.append((name, variable))
    }
    return result
  }

  static func address(_ text: String) throws -> (String, Int) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    let host = parts.count == 2 ? String(parts[0]) : "127.0.0.1"
    guard let portText = parts.last, let port = Int(portText), (0...65535).contains(port), parts.count <= 2,
      !host.isEmpty
    else { throw InputError("--http must be HOST:PORT or PORT (e.g. 127.0.0.1:9464)") }
    return (host, port)
  }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      // Through `Terminal`: every log line is redacted like the rest of the output.
      var handler = RedactingLogHandler(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "driftwatch.watch")
    let stop = StopSignal()
    let destinations = try destinations()
    let httpAddress = try http.map(Self.address)
    let root = projectOptions.project
    let (warehouse, profile) = try warehouseOptions.introspector(projectDirectory: root)
    let postgres = warehouse.capabilities.contains(.ddlEvents) ? warehouse.postgres : nil
    let snapshots = noSnapshot ? nil : try stateOptions.store(projectDirectory: root)
    let incidents = try stateOptions.incidentStore(projectDirectory: root)
    let fixCommand = warehouseOptions.fixCommand(projectDirectory: root, backend: warehouse)
    // Whatever drift comes, its blast radius would depend on the nodes the reader could not read exactly.
    if !projectOptions.allowIncomplete {
      let project = try projectOptions.load(profile: profile)
      try projectOptions.requireExact(Exactness.anyCheck(project: project), project: project)
    }
    let environment = ProcessInfo.processInfo.environment
    let variables = Dictionary(uniqueKeysWithValues: destinations.map { ($0.name, $0.variable) })
    let dialect = warehouse.dialect
    let engine = WatchEngine(
      check: {
        let run = try await CheckRun.run(
          project: { try projectOptions.load(profile: profile) }, warehouse: warehouse,
          snapshot: { project in try await snapshots?.latest(project: project.projectName) })
        return WatchCheck(
          report: run.report, draftFix: { try? Self.draftFix(run, root: root, dialect: dialect) })
      },
      incidents: incidents, destinations: destinations.map(\.name), fixCommand: fixCommand,
      url: { destination in variables[destination].flatMap { environment[$0] } },
      debounceMilliseconds: Int64(debounce), logger: logger)

    // The first check runs before anything else: a bad project or an unreachable warehouse exits 2.
    try await engine.runCheck(events: [], reason: "start")
    if let postgres {
      let installed = (try? await DDLTrigger.isInstalled(locator: postgres)) ?? false
      if !installed {
        logger.warning(
          "event trigger not installed: polling only; run driftwatch install-trigger",
          metadata: ["interval_ms": "\(interval.milliseconds)"])
      }
    }
    var server: WatchHTTPServer?
    if let (host, port) = httpAddress {
      do {
        // The review page (`driftwatch serve`'s) under /review/: the current check, the drafted fix, its
        // questions. Loopback clients only (its POSTs write the project's files); checked again at start.
        let review = ReviewSession(
          backend: CLIReviewBackend(
            projectOptions: projectOptions, warehouseOptions: warehouseOptions, stateOptions: stateOptions,
            dialect: nil, threshold: FixDrafter.defaultThreshold),
          toolVersion: Driftwatch.version)
        server = try await WatchHTTPServer.start(
          host: host, port: port, engine: engine, logger: logger,
          extraRoutes: { router in
            ReviewRoutes.register(
              on: router.group("review"), base: "/review", session: review,
              access: ReviewAccess(token: nil, loopbackOnly: true))
          })
        Task { try? await review.recheck() }
      } catch {
        throw InputError("cannot listen on \(host):\(port) for --http: \(error)")
      }
      logger.info(
        "serving /healthz /metrics /incidents /review/",
        metadata: ["address": "\(host):\(server?.port ?? port)"])
    }
    logger.info(
      "watching",
      metadata: [
        "project": "\(root)", "warehouse": "\(warehouse.displayName)", "state": "\(incidents.displayName)",
        "mode": "\(postgres == nil ? "polling" : "listen+polling")",
        "interval_ms": "\(interval.milliseconds)",
      ])

    let intervalMs = interval.milliseconds
    // On a signal the loops finish their current check or delivery and return (a check is never cut
    // half-way); only the LISTEN task, which waits on the network, is cancelled.
    let listen = postgres.map { locator in Task { await engine.listenLoop(locator: locator) } }
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await engine.checkLoop(intervalMs: intervalMs) }
      group.addTask { await engine.outboxLoop() }
      await stop.wait()
      logger.info("stopping")
      engine.stop()
      listen?.cancel()
      await listen?.value
      await group.waitForAll()
    }
    await server?.stop()
    logger.info("stopped")
  }
}

/// SIGTERM and SIGINT, caught from the moment it is made (so a signal during the first check still stops
/// watch gracefully).
final class StopSignal: @unchecked Sendable {
  private let lock = NSLock()
  private var fired = false
  private var waiter: CheckedContinuation<Void, Never>?
  private var sources: [any DispatchSourceSignal] = []

  init() {
    for number in [SIGTERM, SIGINT] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [weak self] in self?.fire() }
      source.resume()
      sources.append(source)
    }
  }

  private func fire() {
    let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
      fired = true
      defer { waiter = nil }
      return waiter
    }
    waiting?.resume()
  }

  /// Returns once a signal arrived (at once if one already did).
  func wait() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let now = lock.withLock { () -> Bool in
        if fired { return true }
        waiter = continuation
        return false
      }
      if now { continuation.resume() }
    }
  }
}

extension Watch {
  /// The fix `driftwatch fix` would draft with no decisions.
  static func draftFix(_ check: CheckRun, root: String, dialect: SQLDialect) throws -> FixDraft {
    try FixInputs(root: root, check: check).drafter(check, dialect: dialect).draft()
  }
}
