/// What one check does to the project's incident, decided and built without I/O: `watch` saves `incident`
/// and enqueues `enqueue` in one transaction (`IncidentStore.save(_:enqueue:)`).
public struct IncidentUpdate: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable {
    /// New breaking drift: a new incident, alerts queued.
    case opened
    /// The open incident's drift changed: its report and fix replaced, no new alert.
    case changed
    /// The open incident's drift is gone: resolved.
    case cleared
  }

  public var kind: Kind
  public var incident: Incident
  public var enqueue: [OutboxMessage]

  public init(kind: Kind, incident: Incident, enqueue: [OutboxMessage]) {
    self.kind = kind
    self.incident = incident
    self.enqueue = enqueue
  }
}

extension IncidentTracker {
  /// The incident (and its outbox messages) a check's `report` leads to, or nil when nothing changes
  /// (no drift, or the open incident's drift seen again).
  ///
  /// - `events`: the DDL the check was woken by (the earliest one starts the timeline).
  /// - `detectedAt`: when the check finished; `now`: when the fix was drafted and the alerts queued.
  /// - `draftFix`: the fix drafted with no decisions; called only when an incident opens or changes, nil when
  ///   it cannot be drafted (a changed incident then keeps its earlier fix).
  /// - `payload`: the body posted to a destination (`slack`, `webhook`) for the new incident.
  public static func update(
    report: DriftReport, open: Incident?, events: [DDLEvent], reason: String, detectedAt: Timestamp,
    now: Timestamp, fixCommand: String, destinations: [String], draftFix: () -> FixDraft?,
    payload: (Incident, String) -> String
  ) -> IncidentUpdate? {
    let breaking = report.changes.filter(\.breaking).count
    switch decide(report: report, open: open) {
    case .quiet, .unchanged:
      return nil
    case .open(let fingerprint):
      var timeline: [TimelineEntry] = []
      if let ddl = events.compactMap(\.at).min() {
        timeline.append(TimelineEntry(.ddl, at: ddl, detail: describe(events)))
      }
      timeline.append(TimelineEntry(.detected, at: detectedAt, detail: "\(breaking) breaking changes"))
      let fix = draftFix()
      if let fix {
        timeline.append(
          TimelineEntry(
            .fixDrafted, at: now,
            detail: "\(fix.files.count) files, \(fix.openQuestions.count) open questions"))
      }
      var incident = Incident(
        id: incidentID(project: report.project, fingerprint: fingerprint, detectedAt: detectedAt),
        project: report.project, warehouse: report.warehouse, fingerprint: fingerprint, report: report,
        fix: fix, ddlEvents: events, timeline: timeline, fixCommand: fixCommand)
      let messages = destinations.map { destination in
        OutboxMessage(
          incidentID: incident.id, destination: destination, payload: payload(incident, destination),
          queuedAt: now)
      }
      for message in messages {
        incident.timeline.append(TimelineEntry(.alertQueued, at: now, detail: message.destination))
      }
      return IncidentUpdate(kind: .opened, incident: incident, enqueue: messages)
    case .changed(let id, let fingerprint):
      guard var incident = open, incident.id == id else { return nil }
      incident.fingerprint = fingerprint
      incident.report = report
      incident.fix = draftFix() ?? incident.fix
      incident.ddlEvents += events
      incident.timeline.append(
        TimelineEntry(.driftChanged, at: detectedAt, detail: "\(breaking) breaking changes"))
      return IncidentUpdate(kind: .changed, incident: incident, enqueue: [])
    case .cleared(let id):
      guard var incident = open, incident.id == id else { return nil }
      incident.status = .resolved
      incident.timeline.append(TimelineEntry(.driftCleared, at: detectedAt, detail: reason))
      return IncidentUpdate(kind: .cleared, incident: incident, enqueue: [])
    }
  }

  /// The DDL of a migration in one line: distinct `TAG identity`, at most six.
  public static func describe(_ events: [DDLEvent]) -> String {
    var seen: [String] = []
    for event in events {
      let text = "\(event.tag)\(event.identity.map { " \($0)" } ?? "")"
      if !seen.contains(text) { seen.append(text) }
    }
    return seen.prefix(6).joined(separator: "; ") + (seen.count > 6 ? "; …" : "")
  }
}
