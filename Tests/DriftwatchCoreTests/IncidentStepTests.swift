import DriftwatchCore
import Testing

/// `IncidentTracker.update`: a check's report → the incident and its outbox messages, with fixed times.
@Suite("watch: a decision becomes an incident and its alerts (pure)")
struct IncidentStepTests {
  static func at(_ text: String) throws -> Timestamp { try #require(Timestamp.parse(text)) }

  static let events = [
    DDLEvent(
      event: "ddl_command_end", tag: "ALTER TABLE", identity: "raw.raw_customers",
      at: Timestamp.parse("2026-02-17T14:00:00.300Z")),
    DDLEvent(
      event: "ddl_command_end", tag: "ALTER TABLE", identity: "raw.raw_customers",
      at: Timestamp.parse("2026-02-17T14:00:00.120Z")),
    DDLEvent(event: "sql_drop", tag: "DROP TABLE", identity: "raw.old"),
  ]

  @Test func breakingDriftOpensAnIncidentWithOneMessagePerDestination() throws {
    let drift = WatchModelTests.report(migrated: true)
    let detected = try Self.at("2026-02-17T14:00:00.610Z")
    let now = try Self.at("2026-02-17T14:00:00.655Z")
    var drafted = 0
    let update = try #require(
      IncidentTracker.update(
        report: drift, open: nil, events: Self.events, reason: "ddl", detectedAt: detected, now: now,
        fixCommand: "driftwatch fix", destinations: ["slack", "webhook"],
        draftFix: {
          drafted += 1
          return nil
        }, payload: { incident, destination in "\(destination):\(incident.id)" }))
    #expect(drafted == 1)
    #expect(update.kind == .opened)
    let incident = update.incident
    #expect(incident.status == .open)
    #expect(incident.fingerprint == IncidentTracker.fingerprint(drift))
    #expect(
      incident.id
        == IncidentTracker.incidentID(
          project: drift.project, fingerprint: incident.fingerprint, detectedAt: detected))
    #expect(incident.fixCommand == "driftwatch fix")
    #expect(incident.ddlEvents == Self.events)
    // The earliest DDL time starts the timeline; the same statement twice is named once.
    #expect(
      incident.timeline == [
        TimelineEntry(
          .ddl, at: try Self.at("2026-02-17T14:00:00.120Z"),
          detail: "ALTER TABLE raw.raw_customers; DROP TABLE raw.old"),
        TimelineEntry(
          .detected, at: detected, detail: "\(drift.changes.filter(\.breaking).count) breaking changes"),
        TimelineEntry(.alertQueued, at: now, detail: "slack"),
        TimelineEntry(.alertQueued, at: now, detail: "webhook"),
      ])
    #expect(incident.detectionLatencyMs == 490)
    #expect(update.enqueue.map(\.key) == ["\(incident.id):slack", "\(incident.id):webhook"])
    #expect(update.enqueue.map(\.payload) == ["slack:\(incident.id)", "webhook:\(incident.id)"])
    #expect(update.enqueue.allSatisfy { $0.nextAttemptAt == now && $0.attempts == 0 })
  }

  @Test func sameDriftIsNothingChangedDriftKeepsTheFixAndClearedDriftResolves() throws {
    let drift = WatchModelTests.report(migrated: true)
    let clean = WatchModelTests.report(migrated: false)
    let detected = try Self.at("2026-02-17T14:00:01Z")
    let later = try Self.at("2026-02-17T14:05:00Z")
    func update(_ report: DriftReport, open: Incident?, fix: FixDraft? = nil) -> IncidentUpdate? {
      IncidentTracker.update(
        report: report, open: open, events: [], reason: "interval", detectedAt: later, now: later,
        fixCommand: "", destinations: ["slack"], draftFix: { fix }, payload: { _, _ in "{}" })
    }
    #expect(update(clean, open: nil) == nil)
    let opened = try #require(
      IncidentTracker.update(
        report: drift, open: nil, events: [], reason: "start", detectedAt: detected, now: detected,
        fixCommand: "", destinations: [], draftFix: { nil }, payload: { _, _ in "{}" }))
    #expect(opened.enqueue.isEmpty)
    #expect(opened.incident.timeline.map(\.kind) == [.detected])
    #expect(update(drift, open: opened.incident) == nil, "the same drift again changes nothing")

    var partial = drift
    partial.changes = Array(drift.changes.prefix(1))
    let changed = try #require(update(partial, open: opened.incident))
    #expect(changed.kind == .changed)
    #expect(changed.enqueue.isEmpty, "a changed drift alerts nobody again")
    #expect(changed.incident.id == opened.incident.id)
    #expect(changed.incident.report == partial)
    #expect(changed.incident.fingerprint == IncidentTracker.fingerprint(partial))
    #expect(changed.incident.timeline.last?.kind == .driftChanged)

    let cleared = try #require(update(clean, open: changed.incident))
    #expect(cleared.kind == .cleared)
    #expect(cleared.incident.status == .resolved)
    #expect(cleared.incident.timeline.last == TimelineEntry(.driftCleared, at: later, detail: "interval"))
  }
}
