import DriftwatchCore

/// `watch --http`'s `/healthz`: 200 while checks succeed, 503 with the reason while the warehouse cannot
/// be checked.
public enum WatchStatusRenderer {
  public static func healthz(_ status: WatchStatus) -> (status: Int, body: String) {
    var fields: [(String, JSONValue)] = [
      ("status", .string(status.healthy ? "ok" : "failing")),
      ("checks", .integer(status.checks)),
      ("last_check", .optional(status.lastCheck?.iso8601)), ("listening", .bool(status.listening)),
    ]
    if let error = status.lastCheckError {
      fields += [
        ("reason", .string(error)), ("failed_checks", .integer(status.consecutiveFailures)),
        ("failing_since", .optional(status.failingSince?.iso8601)),
      ]
    }
    return (status.healthy ? 200 : 503, JSONValue.object(fields).rendered())
  }
}
