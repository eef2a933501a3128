/// An alert waiting in the persistent outbox until its destination accepts it.
///
/// `key` is the idempotency key (`INCIDENT:DESTINATION`): enqueuing the same key twice keeps one message, so
/// a restart that re-detects the same incident queues nothing new, and a message is marked delivered
/// before another attempt can pick it up.
public struct OutboxMessage: Sendable, Hashable, Codable {
  public var key: String
  public var incidentID: String
  /// `slack` or `webhook`.
  public var destination: String
  /// The JSON body to POST.
  public var payload: String
  public var attempts: Int
  public var nextAttemptAt: Timestamp
  public var deliveredAt: Timestamp?
  public var lastError: String?

  public init(
    incidentID: String, destination: String, payload: String, queuedAt: Timestamp, attempts: Int = 0,
    deliveredAt: Timestamp? = nil, lastError: String? = nil
  ) {
    self.key = "\(incidentID):\(destination)"
    self.incidentID = incidentID
    self.destination = destination
    self.payload = payload
    self.attempts = attempts
    self.nextAttemptAt = queuedAt
    self.deliveredAt = deliveredAt
    self.lastError = lastError
  }

  /// The message after a failed attempt at `now`: the next try is `policy`'s backoff later.
  public func failed(at now: Timestamp, error: String, policy: RetryPolicy) -> OutboxMessage {
    var next = self
    next.attempts += 1
    next.lastError = error
    next.nextAttemptAt = now.adding(milliseconds: policy.delayMilliseconds(afterAttempt: next.attempts))
    return next
  }
}

/// Exponential backoff: `initial`, doubled after each failed attempt, capped at `maximum`; never gives up
/// (an alert is dropped by nobody; `driftwatch incidents` shows the attempts and the last error).
public struct RetryPolicy: Sendable, Hashable {
  public var initialMilliseconds: Int64
  public var maximumMilliseconds: Int64
  public var multiplier: Int64

  public init(initialMilliseconds: Int64 = 500, maximumMilliseconds: Int64 = 60_000, multiplier: Int64 = 2) {
    self.initialMilliseconds = initialMilliseconds
    self.maximumMilliseconds = maximumMilliseconds
    self.multiplier = multiplier
  }

  /// The wait after attempt number `attempt` (1 = the first attempt failed).
  public func delayMilliseconds(afterAttempt attempt: Int) -> Int64 {
    var delay = initialMilliseconds
    var step = 1
    while step < attempt && delay < maximumMilliseconds {
      delay *= multiplier
      step += 1
    }
    return min(delay, maximumMilliseconds)
  }
}

/// Where `watch` keeps incidents and their alerts. Implemented by the SQLite and PostgreSQL state stores;
/// `InMemoryIncidentStore` is the twin.
public protocol IncidentStore: Sendable {
  var displayName: String { get }
  /// Inserts or replaces `incident`, and enqueues `messages` whose key is not queued yet: one transaction.
  func save(_ incident: Incident, enqueue messages: [OutboxMessage]) async throws
  func incident(id: String) async throws -> Incident?
  /// Incidents of `project` (all when nil), oldest first.
  func incidents(project: String?) async throws -> [Incident]
  /// Undelivered messages due at `now`, oldest first.
  func dueMessages(at now: Timestamp, limit: Int) async throws -> [OutboxMessage]
  /// Every message of an incident.
  func messages(incidentID: String) async throws -> [OutboxMessage]
  /// Records a failed attempt.
  func update(_ message: OutboxMessage) async throws
  /// Marks the message delivered and adds `alert_delivered` to its incident's timeline: one transaction.
  func markDelivered(key: String, at: Timestamp) async throws
}

extension IncidentStore {
  /// The project's open incident, if any (the newest).
  public func openIncident(project: String) async throws -> Incident? {
    try await incidents(project: project).last { $0.status == .open }
  }
}

/// The in-memory twin.
public actor InMemoryIncidentStore: IncidentStore {
  private var stored: [Incident] = []
  private var outbox: [OutboxMessage] = []

  public init() {}

  public nonisolated var displayName: String { "memory" }

  public func save(_ incident: Incident, enqueue messages: [OutboxMessage]) async throws {
    if let index = stored.firstIndex(where: { $0.id == incident.id }) {
      stored[index] = incident
    } else {
      stored.append(incident)
    }
    for message in messages where !outbox.contains(where: { $0.key == message.key }) {
      outbox.append(message)
    }
  }

  public func incident(id: String) async throws -> Incident? { stored.first { $0.id == id } }

  public func incidents(project: String?) async throws -> [Incident] {
    stored.filter { project == nil || $0.project == project }
  }

  public func dueMessages(at now: Timestamp, limit: Int) async throws -> [OutboxMessage] {
    Array(outbox.filter { $0.deliveredAt == nil && $0.nextAttemptAt <= now }.prefix(limit))
  }

  public func messages(incidentID: String) async throws -> [OutboxMessage] {
    outbox.filter { $0.incidentID == incidentID }
  }

  public func update(_ message: OutboxMessage) async throws {
    if let index = outbox.firstIndex(where: { $0.key == message.key }) { outbox[index] = message }
  }

  public func markDelivered(key: String, at: Timestamp) async throws {
    guard let index = outbox.firstIndex(where: { $0.key == key }), outbox[index].deliveredAt == nil else {
      return
    }
    outbox[index].deliveredAt = at
    outbox[index].attempts += 1
    let incidentID = outbox[index].incidentID
    if let i = stored.firstIndex(where: { $0.id == incidentID }) {
      stored[i].timeline.append(TimelineEntry(.alertDelivered, at: at, detail: outbox[index].destination))
    }
  }
}
