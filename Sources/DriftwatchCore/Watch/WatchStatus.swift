/// What `watch` reports about itself on `/healthz` and `/metrics`: the last check's outcome and the counts
/// since start. A value: the watch engine keeps one behind a lock and hands out copies.
public struct WatchStatus: Sendable, Hashable {
  /// The last check's error, nil once a check succeeded: `/healthz` answers 503 with it.
  public var lastCheckError: String?
  public var failingSince: Timestamp?
  public var consecutiveFailures = 0
  /// Whether the LISTEN connection is up (PostgreSQL).
  public var listening = false
  public var connections = 0
  public var checks = 0
  public var checkFailures = 0
  public var driftFound = 0
  public var alertsDelivered = 0
  public var alertFailures = 0
  /// DDL (or detection) to alert delivered, in seconds, one per delivered alert.
  public var alertLatencies: [Double] = []
  public var lastCheck: Timestamp?

  public init() {}

  public var healthy: Bool { lastCheckError == nil }
}
