import DriftwatchCore

/// The incident list as JSON (`driftwatch incidents --format json`, `/incidents`).
public enum IncidentList {
  public static func json(_ incidents: [Incident]) -> JSONValue {
    .object([
      (
        "incidents",
        .array(
          incidents.map { incident in
            .object([
              ("id", .string(incident.id)), ("status", .string(incident.status.rawValue)),
              ("project", .string(incident.project)), ("warehouse", .string(incident.warehouse)),
              ("started_at", .optional(incident.startedAt?.iso8601)),
              ("detected_at", .optional(incident.first(.detected)?.iso8601)),
              ("alert_delivered_at", .optional(incident.first(.alertDelivered)?.iso8601)),
              ("detection_latency_ms", incident.detectionLatencyMs.map { .integer(Int($0)) } ?? .null),
              ("notification_latency_ms", incident.notificationLatencyMs.map { .integer(Int($0)) } ?? .null),
              ("breaking_changes", .integer(incident.breakingChanges.count)),
              ("models", .integer(incident.report.blastRadius.models.count)),
              ("tests", .integer(incident.report.blastRadius.tests.count)),
              ("dashboards", .integer(incident.dashboards.count)),
              ("fix_files", .integer(incident.fix?.files.count ?? 0)),
              ("open_questions", .integer(incident.fix?.openQuestions.count ?? 0)),
              (
                "timeline",
                .array(
                  incident.timeline.map { entry in
                    .object([
                      ("kind", .string(entry.kind.rawValue)), ("at", .string(entry.at.iso8601)),
                      ("detail", .optional(entry.detail)),
                    ])
                  })
              ),
            ])
          })
      )
    ])
  }

  public static func text(_ incidents: [Incident]) -> String {
    guard !incidents.isEmpty else { return "no incidents\n" }
    var lines: [String] = []
    for incident in incidents {
      let delivered =
        incident.first(.alertDelivered).map { "alert delivered \($0.iso8601)" } ?? "alert not delivered"
      lines.append(
        "\(incident.id)  \(incident.status.rawValue)  detected \(incident.first(.detected)?.iso8601 ?? "?")  "
          + "\(incident.breakingChanges.count) breaking changes, \(incident.report.blastRadius.models.count) models, "
          + "\(incident.dashboards.count) dashboards  \(delivered)")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
