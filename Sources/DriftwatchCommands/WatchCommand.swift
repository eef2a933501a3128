import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
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

/// What the watch tasks share: pending DDL events, a pending full re-check, and the metrics.
struct WatchShared {
  /// New DDL events, debounced.
  var debouncer: Debouncer
  /// The events of a failed check: they go with the next check (not new, so they wake nothing).
  var retryEvents: [DDLEvent] = []
  var fullCheckRequested = false
  /// The last check's error, nil once a check succeeded: `/healthz` answers 503 with it.
  var lastCheckError: String?
  var failingSince: Timestamp?
  var consecutiveFailures = 0
  /// A check queued alerts: the outbox loop reads the outbox now instead of at its next poll.
  var outboxWake = false
  /// Set on SIGTERM/SIGINT: the loops finish what they are doing (a check, a delivery) and return.
  var stopping = false
  var listening = false
  var connections = 0
  var checks = 0
  var checkFailures = 0
  var driftFound = 0
  var alertsDelivered = 0
  var alertFailures = 0
  var alertLatencies: [Double] = []
  var lastCheck: Timestamp?
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
    let fixCommand = "driftwatch fix --project \(root) --warehouse \(warehouse.displayName)"
    // Whatever drift comes, its blast radius would depend on the nodes the reader could not read exactly.
    if !projectOptions.allowIncomplete {
      let project = try projectOptions.load(profile: profile)
      try projectOptions.requireExact(Exactness.anyCheck(project: project), project: project)
    }
    let shared = Locked(WatchShared(debouncer: Debouncer(quietMilliseconds: Int64(debounce))))
    let engine = WatchEngine(
      root: root, load: { try projectOptions.load(profile: profile) }, warehouse: warehouse,
      snapshots: snapshots, incidents: incidents, destinations: destinations.map(\.name),
      fixCommand: fixCommand, shared: shared, logger: logger)

    // The first check runs before anything else: a bad project or an unreachable warehouse exits 2.
    try await engine.check(events: [], reason: "start")
    if let postgres {
      let installed = (try? await DDLTrigger.isInstalled(locator: postgres)) ?? false
      if !installed {
        logger.warning(
          "event trigger not installed: polling only; run driftwatch install-trigger",
          metadata: ["interval_ms": "\(interval.milliseconds)"])
      }
    }
    var server: MiniHTTPServer?
    if let (host, port) = httpAddress {
      do {
        server = try await MiniHTTPServer.start(host: host, port: port) { request in
          await engine.serve(request)
        }
      } catch {
        throw InputError("cannot listen on \(host):\(port) for --http: \(error)")
      }
      logger.info(
        "serving /healthz /metrics /incidents", metadata: ["address": "\(host):\(server?.port ?? port)"])
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
      group.addTask {
        await engine.outboxLoop(
          variables: Dictionary(uniqueKeysWithValues: destinations.map { ($0.name, $0.variable) }))
      }
      await stop.wait()
      logger.info("stopping")
      shared.withLock { $0.stopping = true }
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

/// The watch loop's work: checks, incidents, alerts, and the HTTP endpoints.
struct WatchEngine: Sendable {
  var root: String
  var load: @Sendable () throws -> ProjectGraph
  var warehouse: any WarehouseIntrospector
  var snapshots: (any StateStore)?
  var incidents: any IncidentStore
  var destinations: [String]
  var fixCommand: String
  var shared: Locked<WatchShared>
  var logger: Logger
  var policy = RetryPolicy()

  var isStopping: Bool { Task.isCancelled || shared.withLock { $0.stopping } }

  /// Runs a check when DDL events are due, a full check was requested (a reconnect), or the interval
  /// passed (`CheckSchedule`). A failed check — the warehouse down or restarting, a connection refused —
  /// is logged and retried with backoff; it never stops watch and never opens an incident.
  func checkLoop(intervalMs: Int64) async {
    var schedule = CheckSchedule(intervalMilliseconds: intervalMs, start: Timestamp.now)
    while !isStopping {
      let now = Timestamp.now
      let due = shared.withLock { state -> (CheckSchedule.Reason, [DDLEvent])? in
        guard
          let reason = schedule.due(
            at: now, eventsPending: !state.debouncer.pending.isEmpty || !state.retryEvents.isEmpty,
            eventsDue: state.debouncer.isDue(at: now),
            fullRequested: state.fullCheckRequested)
        else { return nil }
        state.fullCheckRequested = false  // every check is a full check
        // A failed check's events go with whichever check runs next (every check is a full check).
        defer { state.retryEvents = [] }
        return (reason, state.retryEvents + (reason == .ddl ? state.debouncer.take() : []))
      }
      if let (reason, events) = due {
        schedule.started(at: now)
        do {
          try await check(events: events, reason: reason.rawValue)
          if schedule.failures > 0 {
            logger.info("check succeeded again", metadata: ["failed_checks": "\(schedule.failures)"])
          }
          schedule.succeeded()
          shared.withLock { state in
            state.lastCheckError = nil
            state.failingSince = nil
            state.consecutiveFailures = 0
          }
          if reason == .reconnect { logger.info("checked everything after (re)connecting") }
        } catch {
          let failedAt = Timestamp.now
          let delay = schedule.failed(at: failedAt, reason: reason)
          shared.withLock { state in
            state.checkFailures += 1
            state.consecutiveFailures += 1
            state.lastCheckError = describe(error)
            if state.failingSince == nil { state.failingSince = failedAt }
            // The DDL events go with the retry (or with new DDL's check, if that comes first).
            state.retryEvents = events + state.retryEvents
          }
          logger.error(
            "check failed; will retry",
            metadata: [
              "reason": "\(reason.rawValue)", "error": "\(describe(error))",
              "attempt": "\(schedule.failures)",
              "retry_in_ms": "\(delay)",
            ])
        }
      }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  func check(events: [DDLEvent], reason: String) async throws {
    let run = try await CheckRun.run(
      project: load, warehouse: warehouse,
      snapshot: { project in try await snapshots?.latest(project: project.projectName) })
    let detected = Timestamp.now
    shared.withLock {
      $0.checks += 1
      $0.lastCheck = detected
    }
    let report = run.report
    logger.debug("checked", metadata: ["reason": "\(reason)", "changes": "\(report.changes.count)"])
    let open = try await incidents.openIncident(project: report.project)
    switch IncidentTracker.decide(report: report, open: open) {
    case .quiet, .unchanged:
      return
    case .open(let fingerprint):
      var timeline: [TimelineEntry] = []
      if let ddl = events.compactMap(\.at).min() {
        timeline.append(TimelineEntry(.ddl, at: ddl, detail: Self.describe(events)))
      }
      timeline.append(
        TimelineEntry(
          .detected, at: detected, detail: "\(report.changes.filter(\.breaking).count) breaking changes"))
      let fix = try? draftFix(run)
      if let fix {
        timeline.append(
          TimelineEntry(
            .fixDrafted, at: Timestamp.now,
            detail: "\(fix.files.count) files, \(fix.openQuestions.count) open questions"))
      }
      var incident = Incident(
        id: IncidentTracker.incidentID(
          project: report.project, fingerprint: fingerprint, detectedAt: detected),
        project: report.project, warehouse: report.warehouse, fingerprint: fingerprint, report: report,
        fix: fix, ddlEvents: events, timeline: timeline, fixCommand: fixCommand)
      let renderer = AlertRenderer(fixCommand: fixCommand)
      let queued = Timestamp.now
      let messages = destinations.map { destination in
        OutboxMessage(
          incidentID: incident.id, destination: destination,
          payload: destination == "slack" ? renderer.slack(incident) : renderer.webhook(incident),
          queuedAt: queued)
      }
      for message in messages {
        incident.timeline.append(TimelineEntry(.alertQueued, at: queued, detail: message.destination))
      }
      try await incidents.save(incident, enqueue: messages)
      shared.withLock {
        $0.driftFound += 1
        $0.outboxWake = true
      }
      logger.warning(
        "breaking drift: incident opened",
        metadata: [
          "incident": "\(incident.id)", "changes": "\(incident.breakingChanges.count)",
          "models": "\(report.blastRadius.models.count)", "dashboards": "\(incident.dashboards.count)",
          "detection_ms": "\(incident.detectionLatencyMs.map(String.init) ?? "n/a")",
        ])
    case .changed(let id, let fingerprint):
      guard var incident = open, incident.id == id else { return }
      incident.fingerprint = fingerprint
      incident.report = report
      incident.fix = (try? draftFix(run)) ?? incident.fix
      incident.ddlEvents += events
      incident.timeline.append(
        TimelineEntry(
          .driftChanged, at: detected, detail: "\(report.changes.filter(\.breaking).count) breaking changes"))
      try await incidents.save(incident, enqueue: [])
      logger.warning("the open incident's drift changed", metadata: ["incident": "\(id)"])
    case .cleared(let id):
      guard var incident = open, incident.id == id else { return }
      incident.status = .resolved
      incident.timeline.append(TimelineEntry(.driftCleared, at: detected, detail: reason))
      try await incidents.save(incident, enqueue: [])
      logger.info("breaking drift cleared: incident resolved", metadata: ["incident": "\(id)"])
    }
  }

  static func describe(_ events: [DDLEvent]) -> String {
    var seen: [String] = []
    for event in events {
      let text = "\(event.tag)\(event.identity.map { " \($0)" } ?? "")"
      if !seen.contains(text) { seen.append(text) }
    }
    return seen.prefix(6).joined(separator: "; ") + (seen.count > 6 ? "; …" : "")
  }

  /// The fix `driftwatch fix` would draft with no decisions.
  func draftFix(_ check: CheckRun) throws -> FixDraft {
    let testPath = try DbtProjectReader.testPath(projectDirectory: root)
    var files: [String: String] = [:]
    for path in FixDrafter.requiredFiles(project: check.project, report: check.report) {
      if let data = FileManager.default.contents(atPath: (root as NSString).appendingPathComponent(path)) {
        files[path] = String(decoding: data, as: UTF8.self)
      }
    }
    return try FixDrafter(
      project: check.project, report: check.report, live: check.live, dialect: warehouse.dialect,
      files: files,
      testPath: testPath, decisions: Decisions(), threshold: 0.8
    ).draft()
  }

  /// Delivers due outbox messages; failures are retried with backoff.
  /// A state store that cannot be read (a PostgreSQL state store restarting) is retried with backoff.
  /// The outbox is read when a check queued alerts (`outboxWake`), when its earliest undelivered message is
  /// due, and otherwise every `idlePollMilliseconds` (another watch sharing a PostgreSQL state store may
  /// queue some): not 20 times a second, which reopened a SQLite state store as often.
  func outboxLoop(variables: [String: String], idlePollMilliseconds: Int64 = 5000) async {
    let backoff = RetryPolicy(initialMilliseconds: 250, maximumMilliseconds: 30_000)
    var failures = 0
    // Messages queued by an earlier run for a destination this run has no URL for: left queued, and not
    // waited for.
    var parked: Set<String> = []
    while !isStopping {
      var pause: Int64 = idlePollMilliseconds
      do {
        shared.withLock { $0.outboxWake = false }
        let due = try await incidents.dueMessages(at: Timestamp.now, limit: 100).filter {
          !parked.contains($0.key)
        }
        for message in due.prefix(20) where !isStopping {
          if !(await deliver(message, variables: variables)) { parked.insert(message.key) }
        }
        // The earliest undelivered message (due now or retried later) sets the next read.
        let now = Timestamp.now
        let next = try await incidents.dueMessages(at: Timestamp(millisecondsSinceEpoch: .max), limit: 100)
          .filter { !parked.contains($0.key) }.map(\.nextAttemptAt).min()
        if let next { pause = max(0, min(pause, next.milliseconds(since: now))) }
        failures = 0
      } catch {
        failures += 1
        pause = backoff.delayMilliseconds(afterAttempt: failures)
        logger.error(
          "outbox read failed; will retry",
          metadata: ["error": "\(describe(error))", "attempt": "\(failures)", "retry_in_ms": "\(pause)"])
      }
      // Sleeps in short steps, so that a stop or a wake is not delayed by a long pause.
      let until = Timestamp.now.adding(milliseconds: pause)
      while !isStopping && Timestamp.now < until && !shared.withLock({ $0.outboxWake }) {
        try? await Task.sleep(for: .milliseconds(50))
      }
    }
  }

  /// Tries to deliver `message`; false when this run has no URL for its destination (nothing attempted).
  @discardableResult
  func deliver(_ message: OutboxMessage, variables: [String: String]) async -> Bool {
    let environment = ProcessInfo.processInfo.environment
    guard let variable = variables[message.destination], let url = environment[variable], !url.isEmpty else {
      // Queued by an earlier run with this destination: kept until a run has its URL.
      return false
    }
    let failure: String
    do {
      let response = try await HTTPPoster.post(
        url: url, body: message.payload, headers: [("Idempotency-Key", message.key)])
      if (200..<300).contains(response.status) {
        let delivered = Timestamp.now
        try await incidents.markDelivered(key: message.key, at: delivered)
        let incident = try await incidents.incident(id: message.incidentID)
        let latency = incident?.notificationLatencyMs
        shared.withLock {
          $0.alertsDelivered += 1
          if let latency { $0.alertLatencies.append(Double(latency) / 1000) }
        }
        logger.info(
          "alert delivered",
          metadata: [
            "incident": "\(message.incidentID)", "destination": "\(message.destination)",
            "attempt": "\(message.attempts + 1)", "latency_ms": "\(latency.map(String.init) ?? "n/a")",
          ])
        return true
      }
      failure = "http \(response.status)"
    } catch let error as DeliveryError {
      failure = error.message
    } catch {
      failure = describe(error)
    }
    let next = message.failed(at: Timestamp.now, error: failure, policy: policy)
    shared.withLock { $0.alertFailures += 1 }
    logger.warning(
      "alert delivery failed; will retry",
      metadata: [
        "incident": "\(message.incidentID)", "destination": "\(message.destination)", "error": "\(failure)",
        "attempt": "\(next.attempts)",
        "retry_in_ms": "\(next.nextAttemptAt.milliseconds(since: Timestamp.now))",
      ])
    try? await incidents.update(next)
    return true
  }

  /// LISTENs for DDL events; reconnects with backoff. Every time LISTEN is up (the first time too), a full
  /// check follows, so whatever changed while it was not listening is still found.
  func listenLoop(locator: PostgresLocator) async {
    let backoff = RetryPolicy(initialMilliseconds: 200, maximumMilliseconds: 5000)
    var failures = 0
    while !Task.isCancelled {
      let failure: String
      do {
        try await DDLTrigger.listen(
          locator: locator,
          connected: {
            shared.withLock {
              $0.listening = true
              $0.connections += 1
              $0.fullCheckRequested = true
            }
            logger.info("listening for ddl", metadata: ["channel": "\(DDLTrigger.channel)"])
          },
          received: { event in
            shared.withLock { $0.debouncer.add(event, receivedAt: Timestamp.now) }
            logger.debug("ddl", metadata: ["tag": "\(event.tag)", "object": "\(event.identity ?? "")"])
          })
        failure = "the listen connection ended"
      } catch is CancellationError {
        return
      } catch {
        failure = describe(error)
      }
      if Task.isCancelled { return }
      let wasListening = shared.withLock { state -> Bool in
        defer { state.listening = false }
        return state.listening
      }
      failures = wasListening ? 1 : failures + 1
      let delay = backoff.delayMilliseconds(afterAttempt: failures)
      logger.warning(
        wasListening ? "listen connection lost; reconnecting" : "cannot listen for ddl; retrying",
        metadata: ["error": "\(failure)", "attempt": "\(failures)", "retry_in_ms": "\(delay)"])
      try? await Task.sleep(for: .milliseconds(delay))
    }
  }

  // MARK: - HTTP

  func serve(_ request: HTTPRequest) async -> HTTPResponse {
    guard request.method == "GET" else { return HTTPResponse(status: 405, body: "method not allowed\n") }
    switch request.path.split(separator: "?").first.map(String.init) ?? "" {
    case "/healthz":
      // 503 while the warehouse cannot be checked (the last check failed), 200 once a check succeeded.
      let state = shared.withLock { $0 }
      var fields: [(String, JSONValue)] = [
        ("status", .string(state.lastCheckError == nil ? "ok" : "failing")),
        ("checks", .integer(state.checks)),
        ("last_check", .optional(state.lastCheck?.iso8601)), ("listening", .bool(state.listening)),
      ]
      if let error = state.lastCheckError {
        fields += [
          ("reason", .string(error)), ("failed_checks", .integer(state.consecutiveFailures)),
          ("failing_since", .optional(state.failingSince?.iso8601)),
        ]
      }
      return HTTPResponse(
        status: state.lastCheckError == nil ? 200 : 503, contentType: "application/json",
        body: JSONValue.object(fields).rendered())
    case "/metrics":
      return HTTPResponse(contentType: "text/plain; version=0.0.4", body: metrics())
    case "/incidents":
      do {
        let list = try await incidents.incidents(project: nil)
        return HTTPResponse(contentType: "application/json", body: IncidentList.json(list).rendered())
      } catch {
        return HTTPResponse(status: 500, body: "\(describe(error))\n")
      }
    default:
      return HTTPResponse(status: 404, body: "not found: try /healthz, /metrics or /incidents\n")
    }
  }

  static let latencyBuckets: [Double] = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300]

  func metrics() -> String {
    let state = shared.withLock { $0 }
    var lines = [
      "# HELP driftwatch_checks_total Checks run by watch.", "# TYPE driftwatch_checks_total counter",
      "driftwatch_checks_total \(state.checks)",
      "# HELP driftwatch_check_failures_total Checks that failed (warehouse or project errors).",
      "# TYPE driftwatch_check_failures_total counter",
      "driftwatch_check_failures_total \(state.checkFailures)",
      "# HELP driftwatch_drift_found_total Incidents opened on breaking drift.",
      "# TYPE driftwatch_drift_found_total counter", "driftwatch_drift_found_total \(state.driftFound)",
      "# HELP driftwatch_alerts_delivered_total Alerts delivered.",
      "# TYPE driftwatch_alerts_delivered_total counter",
      "driftwatch_alerts_delivered_total \(state.alertsDelivered)",
      "# HELP driftwatch_alert_failures_total Failed alert delivery attempts (retried).",
      "# TYPE driftwatch_alert_failures_total counter",
      "driftwatch_alert_failures_total \(state.alertFailures)",
      "# HELP driftwatch_listening Whether the LISTEN connection is up (PostgreSQL).",
      "# TYPE driftwatch_listening gauge", "driftwatch_listening \(state.listening ? 1 : 0)",
      "# HELP driftwatch_alert_latency_seconds DDL (or detection) to alert delivered.",
      "# TYPE driftwatch_alert_latency_seconds histogram",
    ]
    for bucket in Self.latencyBuckets {
      let count = state.alertLatencies.filter { $0 <= bucket }.count
      lines.append("driftwatch_alert_latency_seconds_bucket{le=\"\(bucket)\"} \(count)")
    }
    lines.append("driftwatch_alert_latency_seconds_bucket{le=\"+Inf\"} \(state.alertLatencies.count)")
    lines.append("driftwatch_alert_latency_seconds_sum \(state.alertLatencies.reduce(0, +))")
    lines.append("driftwatch_alert_latency_seconds_count \(state.alertLatencies.count)")
    return lines.joined(separator: "\n") + "\n"
  }

  func describe(_ error: any Error) -> String {
    (error as? any UserFacingError)?.message ?? String(describing: error)
  }
}
