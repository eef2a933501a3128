/// One DDL statement reported by the PostgreSQL event trigger (`driftwatch install-trigger`).
public struct DDLEvent: Sendable, Hashable, Codable {
  /// `ddl_command_end` or `sql_drop`.
  public var event: String
  /// The command tag: `CREATE TABLE`, `ALTER TABLE`, `DROP TABLE` …
  public var tag: String
  public var schema: String?
  /// The object's identity as PostgreSQL prints it (`raw.raw_accounts`).
  public var identity: String?
  public var objectType: String?
  public var transactionID: String?
  /// When the statement ended, by the server's clock.
  public var at: Timestamp?

  public init(
    event: String, tag: String, schema: String? = nil, identity: String? = nil, objectType: String? = nil,
    transactionID: String? = nil, at: Timestamp? = nil
  ) {
    self.event = event
    self.tag = tag
    self.schema = schema
    self.identity = identity
    self.objectType = objectType
    self.transactionID = transactionID
    self.at = at
  }
}

/// What happened to an incident, in order.
public enum TimelineKind: String, Sendable, Hashable, Codable, CaseIterable {
  case ddl
  case detected
  case fixDrafted = "fix_drafted"
  case alertQueued = "alert_queued"
  case alertDelivered = "alert_delivered"
  case alertFailed = "alert_failed"
  case driftChanged = "drift_changed"
  case fixApplied = "fix_applied"
  case verifiedGreen = "verified_green"
  case driftCleared = "drift_cleared"
}

public struct TimelineEntry: Sendable, Hashable, Codable {
  public var kind: TimelineKind
  public var at: Timestamp
  public var detail: String?

  public init(_ kind: TimelineKind, at: Timestamp, detail: String? = nil) {
    self.kind = kind
    self.at = at
    self.detail = detail
  }
}

/// Breaking drift seen by `watch`, from detection to verified green.
public struct Incident: Sendable, Hashable, Codable {
  public enum Status: String, Sendable, Hashable, Codable {
    case open
    case resolved
  }

  public var id: String
  public var project: String
  public var warehouse: String
  /// Identifies the drift: the same breaking changes give the same fingerprint on every check.
  public var fingerprint: String
  public var status: Status
  public var report: DriftReport
  /// The fix drafted with no decisions: the files and the questions still open.
  public var fix: FixDraft?
  public var ddlEvents: [DDLEvent]
  public var timeline: [TimelineEntry]
  /// The command that shows the drafted fix (no password in it).
  public var fixCommand: String?

  public init(
    id: String, project: String, warehouse: String, fingerprint: String, status: Status = .open,
    report: DriftReport, fix: FixDraft?, ddlEvents: [DDLEvent], timeline: [TimelineEntry],
    fixCommand: String? = nil
  ) {
    self.fixCommand = fixCommand
    self.id = id
    self.project = project
    self.warehouse = warehouse
    self.fingerprint = fingerprint
    self.status = status
    self.report = report
    self.fix = fix
    self.ddlEvents = ddlEvents
    self.timeline = timeline
  }

  /// The first time of `kind` on the timeline.
  public func first(_ kind: TimelineKind) -> Timestamp? {
    timeline.filter { $0.kind == kind }.map(\.at).min()
  }

  public func last(_ kind: TimelineKind) -> Timestamp? {
    timeline.filter { $0.kind == kind }.map(\.at).max()
  }

  /// When the drift started: the earliest DDL event, else detection.
  public var startedAt: Timestamp? { first(.ddl) ?? first(.detected) }

  /// DDL → detected, in milliseconds (nil without a DDL time).
  public var detectionLatencyMs: Int64? {
    guard let ddl = first(.ddl), let detected = first(.detected) else { return nil }
    return detected.milliseconds(since: ddl)
  }

  /// DDL (or detection, when no DDL time is known) → first alert delivered, in milliseconds.
  public var notificationLatencyMs: Int64? {
    guard let start = startedAt, let delivered = first(.alertDelivered) else { return nil }
    return delivered.milliseconds(since: start)
  }

  /// The breaking changes, most important first.
  public var breakingChanges: [DriftChange] { report.changes.filter(\.breaking) }

  /// Labels of the dashboards (exposures of type dashboard) in the blast radius, sorted.
  public var dashboards: [String] {
    report.blastRadius.exposures.filter { report.nodes[$0]?.exposureType == "dashboard" }
      .map { report.nodes[$0]?.label ?? report.nodes[$0]?.name ?? $0 }.sorted()
  }
}

/// Decides what a check means for the project's open incident. Pure: `watch` applies the decision.
public enum IncidentTracker {
  public enum Decision: Sendable, Hashable {
    /// No breaking drift and nothing open.
    case quiet
    /// New breaking drift: open an incident with this fingerprint and alert.
    case open(fingerprint: String)
    /// The open incident's drift, seen again: nothing to do.
    case unchanged(id: String)
    /// The open incident's drift changed (a migration seen half-way, then whole): update its report.
    case changed(id: String, fingerprint: String)
    /// The open incident's drift is gone (fixed upstream, or the dbt project was fixed).
    case cleared(id: String)
  }

  public static func fingerprint(_ report: DriftReport) -> String {
    let ids = report.changes.filter(\.breaking).map(\.id).sorted()
    return StableID.make(report.project, ids.joined(separator: ","))
  }

  public static func decide(report: DriftReport, open: Incident?) -> Decision {
    guard report.breaking else {
      if let open { return .cleared(id: open.id) }
      return .quiet
    }
    let fingerprint = fingerprint(report)
    guard let open else { return .open(fingerprint: fingerprint) }
    return open.fingerprint == fingerprint
      ? .unchanged(id: open.id) : .changed(id: open.id, fingerprint: fingerprint)
  }

  /// A deterministic id: the project, the drift and when it was detected.
  public static func incidentID(project: String, fingerprint: String, detectedAt: Timestamp) -> String {
    let stamp = detectedAt.iso8601.filter { $0.isNumber }.prefix(14)
    return "inc-\(stamp)-\(StableID.make(project, fingerprint, detectedAt.iso8601).dropFirst().prefix(6))"
  }
}

/// Collects the DDL events of one migration: a check runs once no event arrived for `quiet`, or at the
/// latest `maxWait` after the first one (a migration that runs for minutes is still checked).
public struct Debouncer: Sendable {
  public var quietMilliseconds: Int64
  public var maxWaitMilliseconds: Int64
  public private(set) var pending: [DDLEvent] = []
  private var firstAt: Timestamp?
  private var lastAt: Timestamp?

  public init(quietMilliseconds: Int64 = 300, maxWaitMilliseconds: Int64 = 5000) {
    self.quietMilliseconds = quietMilliseconds
    self.maxWaitMilliseconds = maxWaitMilliseconds
  }

  public mutating func add(_ event: DDLEvent, receivedAt now: Timestamp) {
    pending.append(event)
    if firstAt == nil { firstAt = now }
    lastAt = now
  }

  /// When the pending events are due (nil when nothing is pending).
  public var deadline: Timestamp? {
    guard let firstAt, let lastAt else { return nil }
    return min(
      lastAt.adding(milliseconds: quietMilliseconds), firstAt.adding(milliseconds: maxWaitMilliseconds))
  }

  public func isDue(at now: Timestamp) -> Bool {
    guard let deadline else { return false }
    return now >= deadline
  }

  /// The pending events, emptied.
  public mutating func take() -> [DDLEvent] {
    defer {
      pending = []
      firstAt = nil
      lastAt = nil
    }
    return pending
  }
}
