/// When `watch` checks the warehouse: debounced DDL events, a full check requested after the LISTEN
/// connection (re)connected, every interval — and, after a failed check (the warehouse down, a connection
/// refused, a project that does not load), again after a backoff that starts short and doubles up to the
/// interval (at most 30 s). A failed check is retried, never fatal. While it waits for its retry, new DDL
/// events (once debounced) and a reconnect of LISTEN do not wait: the server sent the event or accepted the
/// connection, so it answers again, and the check runs at once (a failure doubles the backoff as before).
/// The events of the failed check itself are not new: they go with the retry (`eventsPending`).
///
/// Every check is a full check; the reason only tells what triggered it (and which DDL events to attach).
public struct CheckSchedule: Sendable, Hashable {
  public enum Reason: String, Sendable, Hashable {
    /// Debounced DDL events are due (or pending when a retry is due).
    case ddl
    /// LISTEN (re)connected: whatever changed while nobody listened must be found.
    case reconnect
    /// The polling interval passed.
    case interval
    /// A failed interval or DDL check, retried.
    case retry
  }

  public let intervalMilliseconds: Int64
  public let backoff: RetryPolicy
  public private(set) var nextPoll: Timestamp
  /// Consecutive failed checks (0 after a success).
  public private(set) var failures = 0
  /// When the next retry is due, while backing off after a failure.
  public private(set) var retryAt: Timestamp?
  private var retryingReconnect = false

  public init(intervalMilliseconds: Int64, start now: Timestamp, initialRetryMilliseconds: Int64 = 250) {
    self.intervalMilliseconds = intervalMilliseconds
    backoff = RetryPolicy(
      initialMilliseconds: initialRetryMilliseconds,
      maximumMilliseconds: max(1, min(intervalMilliseconds, 30_000)))
    nextPoll = now.adding(milliseconds: intervalMilliseconds)
  }

  /// Why a check runs at `now`, or nil when none is due. `eventsPending`: events wait for a check (new
  /// ones in the debouncer, or those of a failed check); `eventsDue`: the debouncer says its new events are
  /// due; `fullRequested`: a reconnect asked for a full check.
  public func due(at now: Timestamp, eventsPending: Bool, eventsDue: Bool, fullRequested: Bool) -> Reason? {
    if let retryAt {
      // New DDL or a LISTEN reconnect during the backoff: the warehouse answers again, check now.
      if eventsDue { return .ddl }
      if fullRequested { return .reconnect }
      guard now >= retryAt else { return nil }
      if eventsPending { return .ddl }
      return fullRequested || retryingReconnect ? .reconnect : .retry
    }
    if eventsDue { return .ddl }
    if fullRequested { return .reconnect }
    if now >= nextPoll { return .interval }
    return nil
  }

  /// A check started at `now`: the next poll is an interval later.
  public mutating func started(at now: Timestamp) {
    nextPoll = now.adding(milliseconds: intervalMilliseconds)
  }

  public mutating func succeeded() {
    failures = 0
    retryAt = nil
    retryingReconnect = false
  }

  /// A check for `reason` failed at `now`; returns the wait before its retry.
  @discardableResult
  public mutating func failed(at now: Timestamp, reason: Reason) -> Int64 {
    failures += 1
    retryingReconnect = retryingReconnect || reason == .reconnect
    let delay = backoff.delayMilliseconds(afterAttempt: failures)
    retryAt = now.adding(milliseconds: delay)
    return delay
  }
}
