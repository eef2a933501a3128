import DriftwatchCore
import DriftwatchReports
import Foundation
import Testing

@Suite("watch model: timestamps, debouncer, tracker, outbox, alerts")
struct WatchModelTests {
  static func at(_ text: String) throws -> Timestamp { try #require(Timestamp.parse(text)) }

  static func report(migrated: Bool) -> DriftReport {
    let tables =
      migrated
      ? [DriftFixtures.migratedAccounts, DriftFixtures.ordersTable]
      : [
        DriftFixtures.table("raw_customers", DriftFixtures.customerColumns, keys: ["customer_id"]),
        DriftFixtures.ordersTable,
      ]
    return DriftEngine(project: DriftFixtures.customersProject()).report(
      live: DriftFixtures.live(tables), warehouse: "postgres://analyst@db:5432/shop")
  }

  @Test func timestampsRoundTripAndParseOffsets() throws {
    let t = try Self.at("2026-02-17T14:00:00.250Z")
    #expect(t.iso8601 == "2026-02-17T14:00:00.250Z")
    #expect(t.date == "2026-02-17")
    #expect(t.time == "14:00:00")
    #expect(try Self.at("2026-02-17 15:00:00.250+01:00") == t)
    #expect(try Self.at("2026-02-17T14:00:00.25Z") == t)
    #expect(Timestamp(millisecondsSinceEpoch: 0).iso8601 == "1970-01-01T00:00:00.000Z")
    #expect(Timestamp(millisecondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    #expect(
      try Self.at("2024-02-29T23:59:59Z").adding(milliseconds: 1000).iso8601 == "2024-03-01T00:00:00.000Z")
    for bad in ["", "2026-02-17", "2026-13-01T00:00:00Z", "2026-02-17T14:00:00Zjunk", "2026-02-17T25:00:00Z"]
    {
      #expect(Timestamp.parse(bad) == nil, "\(bad)")
    }
  }

  @Test func debouncerWaitsForAQuietWindowButNotForever() throws {
    var debouncer = Debouncer(quietMilliseconds: 300, maxWaitMilliseconds: 1000)
    let t0 = try Self.at("2026-02-17T14:00:00Z")
    #expect(!debouncer.isDue(at: t0))
    #expect(debouncer.deadline == nil)
    debouncer.add(DDLEvent(event: "ddl_command_end", tag: "CREATE TABLE"), receivedAt: t0)
    debouncer.add(DDLEvent(event: "sql_drop", tag: "DROP TABLE"), receivedAt: t0.adding(milliseconds: 200))
    #expect(!debouncer.isDue(at: t0.adding(milliseconds: 499)))
    #expect(debouncer.isDue(at: t0.adding(milliseconds: 500)))
    #expect(debouncer.take().map(\.tag) == ["CREATE TABLE", "DROP TABLE"])
    #expect(debouncer.pending.isEmpty)
    #expect(!debouncer.isDue(at: t0.adding(milliseconds: 10_000)))
    // A steady stream of statements is still checked after maxWait.
    for step in 0..<20 {
      debouncer.add(
        DDLEvent(event: "ddl_command_end", tag: "ALTER TABLE"),
        receivedAt: t0.adding(milliseconds: Int64(step) * 100))
    }
    #expect(debouncer.deadline == t0.adding(milliseconds: 1000))
    #expect(debouncer.isDue(at: t0.adding(milliseconds: 1000)))
  }

  @Test func trackerOpensOnceThenIgnoresTheSameDriftAndClearsWhenGone() throws {
    let clean = Self.report(migrated: false)
    let drift = Self.report(migrated: true)
    #expect(drift.breaking)
    #expect(IncidentTracker.decide(report: clean, open: nil) == .quiet)
    guard case .open(let fingerprint) = IncidentTracker.decide(report: drift, open: nil) else {
      Issue.record("breaking drift must open an incident")
      return
    }
    #expect(fingerprint == IncidentTracker.fingerprint(Self.report(migrated: true)), "stable across checks")
    let detected = try Self.at("2026-02-17T14:00:01Z")
    let id = IncidentTracker.incidentID(project: "shop", fingerprint: fingerprint, detectedAt: detected)
    #expect(id.hasPrefix("inc-20260217140001-"))
    let incident = Incident(
      id: id, project: "shop", warehouse: drift.warehouse, fingerprint: fingerprint, report: drift, fix: nil,
      ddlEvents: [], timeline: [TimelineEntry(.detected, at: detected)])
    #expect(IncidentTracker.decide(report: drift, open: incident) == .unchanged(id: id))
    #expect(IncidentTracker.decide(report: clean, open: incident) == .cleared(id: id))
    var partial = drift
    partial.changes = Array(drift.changes.prefix(1))
    #expect(
      IncidentTracker.decide(report: partial, open: incident)
        == .changed(id: id, fingerprint: IncidentTracker.fingerprint(partial)))
  }

  @Test func retryPolicyBacksOffExponentiallyUpToTheCap() throws {
    let policy = RetryPolicy(initialMilliseconds: 500, maximumMilliseconds: 4000)
    #expect(
      (1...6).map { policy.delayMilliseconds(afterAttempt: $0) } == [500, 1000, 2000, 4000, 4000, 4000])
    let now = try Self.at("2026-02-17T14:00:00Z")
    let message = OutboxMessage(incidentID: "inc-1", destination: "slack", payload: "{}", queuedAt: now)
    #expect(message.key == "inc-1:slack")
    let failed = message.failed(at: now, error: "http 503", policy: policy).failed(
      at: now.adding(milliseconds: 500), error: "http 503", policy: policy)
    #expect(failed.attempts == 2)
    #expect(failed.nextAttemptAt == now.adding(milliseconds: 1500))
    #expect(failed.lastError == "http 503")
  }

  @Test func checkScheduleRetriesFailedChecksWithBackoffUpToTheInterval() throws {
    let start = try Self.at("2026-02-17T14:00:00Z")
    func at(_ milliseconds: Int64) -> Timestamp { start.adding(milliseconds: milliseconds) }
    var schedule = CheckSchedule(intervalMilliseconds: 2000, start: start)
    #expect(schedule.backoff == RetryPolicy(initialMilliseconds: 250, maximumMilliseconds: 2000))
    #expect(schedule.due(at: at(100), eventsPending: true, eventsDue: false, fullRequested: false) == nil)
    #expect(schedule.due(at: at(100), eventsPending: true, eventsDue: true, fullRequested: true) == .ddl)
    #expect(
      schedule.due(at: at(100), eventsPending: false, eventsDue: false, fullRequested: true) == .reconnect)
    #expect(
      schedule.due(at: at(2000), eventsPending: false, eventsDue: false, fullRequested: false) == .interval)

    // The reconnect check fails (the server restarted and went down again): retried at 250, 500, 1000, 2000,
    // 2000 ms; while backing off nothing runs, not the interval nor the failed check's own events.
    schedule.started(at: at(3000))
    var now: Int64 = 3000
    var delays: [Int64] = []
    for (index, reason) in [CheckSchedule.Reason.reconnect, .retry, .retry, .retry, .retry].enumerated() {
      let delay = schedule.failed(at: at(now), reason: reason)
      delays.append(delay)
      #expect(schedule.failures == index + 1)
      #expect(
        schedule.due(at: at(now + delay - 1), eventsPending: true, eventsDue: false, fullRequested: false)
          == nil)
      // The retry of a failed reconnect check is still the reconnect check.
      #expect(
        schedule.due(at: at(now + delay), eventsPending: false, eventsDue: false, fullRequested: false)
          == .reconnect)
      now += delay
      schedule.started(at: at(now))
    }
    #expect(delays == [250, 500, 1000, 2000, 2000])
    // DDL that arrived meanwhile goes with the retry, due or not.
    #expect(
      schedule.due(at: at(now + 2000), eventsPending: true, eventsDue: false, fullRequested: false) == .ddl)
    schedule.succeeded()
    #expect(schedule.failures == 0)
    #expect(schedule.retryAt == nil)
    #expect(
      schedule.due(at: at(now + 100), eventsPending: false, eventsDue: false, fullRequested: false) == nil)
    #expect(
      schedule.due(at: at(now + 2000), eventsPending: false, eventsDue: false, fullRequested: false)
        == .interval)
    // A failed interval check is retried as a retry; backoff starts over after the success.
    #expect(schedule.failed(at: at(now), reason: .interval) == 250)
    #expect(
      schedule.due(at: at(now + 250), eventsPending: false, eventsDue: false, fullRequested: false) == .retry)
    // A long interval caps the backoff at 30 s; a very short one at the interval.
    #expect(
      CheckSchedule(intervalMilliseconds: 3_600_000, start: start).backoff.maximumMilliseconds == 30_000)
    var fast = CheckSchedule(intervalMilliseconds: 100, start: start)
    #expect(fast.failed(at: start, reason: .interval) == 100)
  }

  /// A DDL event that arrives while a failed check backs off is checked as soon as it is debounced, not when
  /// the backoff ends (up to 30 s later): the server that sent it answers again. A LISTEN reconnect during
  /// the backoff likewise. A failure of that check doubles the backoff as before.
  @Test func checkScheduleChecksNewDDLDuringTheBackoffAtOnce() throws {
    let start = try Self.at("2026-02-17T14:00:00Z")
    func at(_ milliseconds: Int64) -> Timestamp { start.adding(milliseconds: milliseconds) }
    var schedule = CheckSchedule(intervalMilliseconds: 60_000, start: start)
    var now: Int64 = 0
    // The warehouse is down: six failures, the backoff is now 16 s.
    for _ in 0..<6 {
      schedule.started(at: at(now))
      now += schedule.failed(at: at(now), reason: .interval)
    }
    schedule.started(at: at(now))
    let delay = schedule.failed(at: at(now), reason: .retry)
    #expect(delay == 16_000)
    #expect(schedule.retryAt == at(now + 16_000))
    // 3 s into the backoff nothing is due; the failed check's own events wait for the retry.
    #expect(
      schedule.due(at: at(now + 3000), eventsPending: false, eventsDue: false, fullRequested: false) == nil)
    #expect(
      schedule.due(at: at(now + 3000), eventsPending: true, eventsDue: false, fullRequested: false) == nil)
    // New DDL arrives at +3 s and is debounced by +3.3 s: due then, 12.7 s before the backoff ends.
    var debouncer = Debouncer(quietMilliseconds: 300)
    debouncer.add(
      DDLEvent(event: "ddl_command_end", tag: "ALTER TABLE", identity: "raw.customers", at: at(now + 3000)),
      receivedAt: at(now + 3000))
    #expect(
      schedule.due(
        at: at(now + 3200), eventsPending: true, eventsDue: debouncer.isDue(at: at(now + 3200)),
        fullRequested: false) == nil)
    #expect(
      schedule.due(
        at: at(now + 3300), eventsPending: true, eventsDue: debouncer.isDue(at: at(now + 3300)),
        fullRequested: false) == .ddl)
    // That check fails too: the backoff keeps doubling (up to its 30 s cap), and new DDL again does not wait.
    schedule.started(at: at(now + 3300))
    #expect(schedule.failed(at: at(now + 3300), reason: .ddl) == 30_000)
    #expect(
      schedule.due(at: at(now + 3400), eventsPending: true, eventsDue: true, fullRequested: false) == .ddl)
    // LISTEN reconnected during the backoff: the server is up, check everything now.
    #expect(
      schedule.due(at: at(now + 3400), eventsPending: false, eventsDue: false, fullRequested: true)
        == .reconnect)
    schedule.succeeded()
    #expect(schedule.retryAt == nil)
  }

  @Test func inMemoryOutboxKeepsOneMessagePerKeyAndRecordsDelivery() async throws {
    let store = InMemoryIncidentStore()
    let now = try Self.at("2026-02-17T14:00:01Z")
    let drift = Self.report(migrated: true)
    let incident = Incident(
      id: "inc-1", project: "shop", warehouse: drift.warehouse, fingerprint: "f", report: drift, fix: nil,
      ddlEvents: [],
      timeline: [TimelineEntry(.ddl, at: now.adding(milliseconds: -400)), TimelineEntry(.detected, at: now)])
    let message = OutboxMessage(incidentID: "inc-1", destination: "slack", payload: "{}", queuedAt: now)
    try await store.save(incident, enqueue: [message])
    try await store.save(incident, enqueue: [message])  // a restart re-enqueuing: still one
    #expect(try await store.dueMessages(at: now, limit: 10).count == 1)
    #expect(try await store.dueMessages(at: now.adding(milliseconds: -1), limit: 10).isEmpty)
    try await store.markDelivered(key: message.key, at: now.adding(milliseconds: 200))
    try await store.markDelivered(key: message.key, at: now.adding(milliseconds: 900))
    #expect(try await store.dueMessages(at: now.adding(milliseconds: 10_000), limit: 10).isEmpty)
    let stored = try #require(try await store.incident(id: "inc-1"))
    #expect(stored.timeline.filter { $0.kind == .alertDelivered }.count == 1)
    #expect(stored.detectionLatencyMs == 400)
    #expect(stored.notificationLatencyMs == 600)
    #expect(try await store.openIncident(project: "shop")?.id == "inc-1")
  }

  @Test func slackAndWebhookPayloadsCarryTheFacts() throws {
    let drift = Self.report(migrated: true)
    let now = try Self.at("2026-02-17T14:00:01Z")
    let incident = Incident(
      id: "inc-1", project: "shop", warehouse: drift.warehouse, fingerprint: "f", report: drift, fix: nil,
      ddlEvents: [],
      timeline: [TimelineEntry(.ddl, at: now.adding(milliseconds: -400)), TimelineEntry(.detected, at: now)])
    let renderer = AlertRenderer(
      fixCommand: "driftwatch fix --project . --warehouse postgres://analyst@db:5432/shop")
    let slack = try #require(
      try JSONSerialization.jsonObject(with: Data(renderer.slack(incident).utf8)) as? [String: Any])
    let blocks = try #require(slack["blocks"] as? [[String: Any]])
    #expect(blocks.first?["type"] as? String == "header")
    let text = renderer.slack(incident)
    #expect(text.contains("raw_customers` → `raw_accounts"))
    #expect(text.contains("confidence"))
    #expect(text.contains("*Dashboards*\\n1"), "only revenue_dashboard reads raw_customers")
    #expect(text.contains("Dashboard revenue_dashboard"))
    #expect(text.contains("driftwatch fix --project ."))
    #expect((slack["text"] as? String)?.contains("Schema drift in shop") == true)
    let webhook = try #require(
      try JSONSerialization.jsonObject(with: Data(renderer.webhook(incident).utf8)) as? [String: Any])
    #expect(webhook["idempotency_key"] as? String == "inc-1:webhook")
    #expect(webhook["ddl_at"] as? String == "2026-02-17T14:00:00.600Z")
    #expect((webhook["changes"] as? [Any])?.count == drift.changes.filter(\.breaking).count)
  }
}
