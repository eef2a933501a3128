import DriftwatchCore
import DriftwatchPostgres
import DriftwatchReports
import Foundation
import Logging

/// The time as `watch` sees it: the system's clock, or a test's.
public protocol WatchClock: Sendable {
  func now() -> Timestamp
  /// Waits `milliseconds` (returns early when the task is cancelled).
  func sleep(milliseconds: Int64) async
}

/// The system's clock.
public struct SystemClock: WatchClock {
  public init() {}

  public func now() -> Timestamp {
    Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
  }

  public func sleep(milliseconds: Int64) async {
    try? await Task.sleep(for: .milliseconds(max(0, milliseconds)))
  }
}

/// Posts an alert's JSON body: `HTTPAlertPoster` over the network, or a test's twin.
public protocol AlertPoster: Sendable {
  /// The response's status; throws `DeliveryError` when there is none (a bad URL, no connection, a timeout).
  func post(url: String, body: String, headers: [(String, String)]) async throws -> Int
}

/// One check's result as `watch` needs it: the report, and the fix drafted with no decisions (drafted only
/// when an incident opens or changes; nil when it cannot be).
public struct WatchCheck: Sendable {
  public var report: DriftReport
  public var draftFix: @Sendable () -> FixDraft?

  public init(report: DriftReport, draftFix: @escaping @Sendable () -> FixDraft?) {
    self.report = report
    self.draftFix = draftFix
  }
}

/// A value behind a lock, shared by the watch tasks.
final class WatchLocked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value
  init(_ value: Value) { self.value = value }
  func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}

/// What the watch tasks share: pending DDL events, a pending full re-check, and the status.
struct WatchShared {
  /// New DDL events, debounced.
  var debouncer: Debouncer
  /// The events of a failed check: they go with the next check (not new, so they wake nothing).
  var retryEvents: [DDLEvent] = []
  var fullCheckRequested = false
  /// A check queued alerts: the outbox loop reads the outbox now instead of at its next poll.
  var outboxWake = false
  /// Set by `stop()`: the loops finish what they are doing (a check, a delivery) and return.
  var stopping = false
  var status = WatchStatus()
}

/// The watch service: checks (on DDL, on the interval, after a reconnect, retried after a failure), the
/// incidents they open, change and clear (`IncidentTracker.update`, pure), the alert outbox and its
/// deliveries, and what `/healthz`, `/metrics` and `/incidents` show. Time comes from `clock`, alerts go
/// through `poster`, the checks from `check`: a test runs it in-process with twins of each.
public struct WatchEngine: Sendable {
  var check: @Sendable () async throws -> WatchCheck
  var incidents: any IncidentStore
  var destinations: [String]
  var fixCommand: String
  /// The URL of a destination (read from its environment variable when needed; never logged).
  var url: @Sendable (String) -> String?
  var clock: any WatchClock
  var poster: any AlertPoster
  var logger: Logger
  var policy = RetryPolicy()
  let shared: WatchLocked<WatchShared>
  /// The Prometheus registry behind `/metrics`.
  public let metrics = WatchMetrics()

  public init(
    check: @escaping @Sendable () async throws -> WatchCheck, incidents: any IncidentStore,
    destinations: [String], fixCommand: String, url: @escaping @Sendable (String) -> String?,
    debounceMilliseconds: Int64 = 300, clock: any WatchClock = SystemClock(),
    poster: any AlertPoster = HTTPAlertPoster(), logger: Logger
  ) {
    self.check = check
    self.incidents = incidents
    self.destinations = destinations
    self.fixCommand = fixCommand
    self.url = url
    self.clock = clock
    self.poster = poster
    self.logger = logger
    self.shared = WatchLocked(WatchShared(debouncer: Debouncer(quietMilliseconds: debounceMilliseconds)))
  }

  var isStopping: Bool { Task.isCancelled || shared.withLock { $0.stopping } }

  /// The loops finish their current check or delivery and return.
  public func stop() { shared.withLock { $0.stopping = true } }

  /// A copy of the status (`/healthz`).
  public var status: WatchStatus { shared.withLock { $0.status } }

  /// A DDL event from LISTEN: checked once the debouncer says the migration is over.
  public func received(_ event: DDLEvent) {
    let now = clock.now()
    shared.withLock { $0.debouncer.add(event, receivedAt: now) }
  }

  /// LISTEN is up (again): check everything, whatever changed while it was not.
  public func connected() {
    shared.withLock {
      $0.status.listening = true
      $0.status.connections += 1
      $0.fullCheckRequested = true
    }
    metrics.listening.set(to: 1)
  }

  /// LISTEN is down; returns whether it was up.
  public func disconnected() -> Bool {
    metrics.listening.set(to: 0)
    return shared.withLock { state -> Bool in
      defer { state.status.listening = false }
      return state.status.listening
    }
  }

  /// Runs a check when DDL events are due, a full check was requested (a reconnect), or the interval
  /// passed (`CheckSchedule`). A failed check — the warehouse down or restarting, a connection refused —
  /// is logged and retried with backoff; it never stops watch and never opens an incident.
  public func checkLoop(intervalMs: Int64, pollMilliseconds: Int64 = 20) async {
    var schedule = CheckSchedule(intervalMilliseconds: intervalMs, start: clock.now())
    while !isStopping {
      let now = clock.now()
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
          try await runCheck(events: events, reason: reason.rawValue)
          if schedule.failures > 0 {
            logger.info("check succeeded again", metadata: ["failed_checks": "\(schedule.failures)"])
          }
          schedule.succeeded()
          shared.withLock { state in
            state.status.lastCheckError = nil
            state.status.failingSince = nil
            state.status.consecutiveFailures = 0
          }
          if reason == .reconnect { logger.info("checked everything after (re)connecting") }
        } catch {
          let failedAt = clock.now()
          let delay = schedule.failed(at: failedAt, reason: reason)
          shared.withLock { state in
            state.status.checkFailures += 1
            state.status.consecutiveFailures += 1
            state.status.lastCheckError = describe(error)
            if state.status.failingSince == nil { state.status.failingSince = failedAt }
            // The DDL events go with the retry (or with new DDL's check, if that comes first).
            state.retryEvents = events + state.retryEvents
          }
          metrics.checkFailures.increment()
          logger.error(
            "check failed; will retry",
            metadata: [
              "reason": "\(reason.rawValue)", "error": "\(describe(error))",
              "attempt": "\(schedule.failures)", "retry_in_ms": "\(delay)",
            ])
        }
      }
      await clock.sleep(milliseconds: pollMilliseconds)
    }
  }

  /// One check and what it does to the project's incident (`IncidentTracker.update`), saved with its alerts
  /// in one transaction.
  public func runCheck(events: [DDLEvent], reason: String) async throws {
    let run = try await check()
    let detected = clock.now()
    shared.withLock {
      $0.status.checks += 1
      $0.status.lastCheck = detected
    }
    metrics.checks.increment()
    let report = run.report
    logger.debug("checked", metadata: ["reason": "\(reason)", "changes": "\(report.changes.count)"])
    let open = try await incidents.openIncident(project: report.project)
    let renderer = AlertRenderer(fixCommand: fixCommand)
    let clock = self.clock
    guard
      let update = IncidentTracker.update(
        report: report, open: open, events: events, reason: reason, detectedAt: detected, now: clock.now(),
        fixCommand: fixCommand, destinations: destinations, draftFix: run.draftFix,
        payload: { incident, destination in
          destination == "slack" ? renderer.slack(incident) : renderer.webhook(incident)
        })
    else { return }
    try await incidents.save(update.incident, enqueue: update.enqueue)
    let incident = update.incident
    switch update.kind {
    case .opened:
      shared.withLock {
        $0.status.driftFound += 1
        $0.outboxWake = true
      }
      metrics.driftFound.increment()
      logger.warning(
        "breaking drift: incident opened",
        metadata: [
          "incident": "\(incident.id)", "changes": "\(incident.breakingChanges.count)",
          "models": "\(report.blastRadius.models.count)", "dashboards": "\(incident.dashboards.count)",
          "detection_ms": "\(incident.detectionLatencyMs.map(String.init) ?? "n/a")",
        ])
    case .changed:
      logger.warning("the open incident's drift changed", metadata: ["incident": "\(incident.id)"])
    case .cleared:
      logger.info("breaking drift cleared: incident resolved", metadata: ["incident": "\(incident.id)"])
    }
  }

  /// Delivers due outbox messages; failures are retried with backoff.
  /// A state store that cannot be read (a PostgreSQL state store restarting) is retried with backoff.
  /// The outbox is read when a check queued alerts (`outboxWake`), when its earliest undelivered message is
  /// due, and otherwise every `idlePollMilliseconds` (another watch sharing a PostgreSQL state store may
  /// queue some): not 20 times a second, which reopened a SQLite state store as often.
  public func outboxLoop(idlePollMilliseconds: Int64 = 5000) async {
    let backoff = RetryPolicy(initialMilliseconds: 250, maximumMilliseconds: 30_000)
    var failures = 0
    // Messages queued by an earlier run for a destination this run has no URL for: left queued, and not
    // waited for.
    var parked: Set<String> = []
    while !isStopping {
      var pause: Int64 = idlePollMilliseconds
      do {
        shared.withLock { $0.outboxWake = false }
        let due = try await incidents.dueMessages(at: clock.now(), limit: 100).filter {
          !parked.contains($0.key)
        }
        for message in due.prefix(20) where !isStopping {
          if !(await deliver(message)) { parked.insert(message.key) }
        }
        // The earliest undelivered message (due now or retried later) sets the next read.
        let now = clock.now()
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
      let until = clock.now().adding(milliseconds: pause)
      while !isStopping && clock.now() < until && !shared.withLock({ $0.outboxWake }) {
        await clock.sleep(milliseconds: 50)
      }
    }
  }

  /// Tries to deliver `message`; false when this run has no URL for its destination (nothing attempted).
  @discardableResult
  public func deliver(_ message: OutboxMessage) async -> Bool {
    guard let url = url(message.destination), !url.isEmpty else {
      // Queued by an earlier run with this destination: kept until a run has its URL.
      return false
    }
    let failure: String
    do {
      let status = try await poster.post(
        url: url, body: message.payload, headers: [("Idempotency-Key", message.key)])
      if (200..<300).contains(status) {
        let delivered = clock.now()
        try await incidents.markDelivered(key: message.key, at: delivered)
        let incident = try await incidents.incident(id: message.incidentID)
        let latency = incident?.notificationLatencyMs
        shared.withLock {
          $0.status.alertsDelivered += 1
          if let latency { $0.status.alertLatencies.append(Double(latency) / 1000) }
        }
        metrics.alertsDelivered.increment()
        if let latency { metrics.alertLatency.record(Double(latency) / 1000) }
        logger.info(
          "alert delivered",
          metadata: [
            "incident": "\(message.incidentID)", "destination": "\(message.destination)",
            "attempt": "\(message.attempts + 1)", "latency_ms": "\(latency.map(String.init) ?? "n/a")",
          ])
        return true
      }
      failure = "http \(status)"
    } catch let error as DeliveryError {
      failure = error.message
    } catch {
      failure = describe(error)
    }
    let now = clock.now()
    let next = message.failed(at: now, error: failure, policy: policy)
    shared.withLock { $0.status.alertFailures += 1 }
    metrics.alertFailures.increment()
    logger.warning(
      "alert delivery failed; will retry",
      metadata: [
        "incident": "\(message.incidentID)", "destination": "\(message.destination)", "error": "\(failure)",
        "attempt": "\(next.attempts)", "retry_in_ms": "\(next.nextAttemptAt.milliseconds(since: now))",
      ])
    try? await incidents.update(next)
    return true
  }

  /// LISTENs for DDL events; reconnects with backoff. Every time LISTEN is up (the first time too), a full
  /// check follows, so whatever changed while it was not listening is still found.
  public func listenLoop(locator: PostgresLocator) async {
    let backoff = RetryPolicy(initialMilliseconds: 200, maximumMilliseconds: 5000)
    var failures = 0
    while !Task.isCancelled {
      let failure: String
      do {
        try await DDLTrigger.listen(
          locator: locator,
          connected: {
            connected()
            logger.info("listening for ddl", metadata: ["channel": "\(DDLTrigger.channel)"])
          },
          received: { event in
            received(event)
            logger.debug("ddl", metadata: ["tag": "\(event.tag)", "object": "\(event.identity ?? "")"])
          })
        failure = "the listen connection ended"
      } catch is CancellationError {
        return
      } catch {
        failure = describe(error)
      }
      if Task.isCancelled { return }
      let wasListening = disconnected()
      failures = wasListening ? 1 : failures + 1
      let delay = backoff.delayMilliseconds(afterAttempt: failures)
      logger.warning(
        wasListening ? "listen connection lost; reconnecting" : "cannot listen for ddl; retrying",
        metadata: ["error": "\(failure)", "attempt": "\(failures)", "retry_in_ms": "\(delay)"])
      await clock.sleep(milliseconds: delay)
    }
  }

  func describe(_ error: any Error) -> String {
    (error as? any UserFacingError)?.message ?? String(describing: error)
  }
}
