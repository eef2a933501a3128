import DriftwatchCore

/// The alert bodies `watch` posts: a Slack Block Kit message and a generic JSON webhook event.
public struct AlertRenderer: Sendable {
  /// The command that prints the drafted fix (`driftwatch fix --project … --warehouse …`), password-free.
  public var fixCommand: String
  public var maxChanges: Int
  public var maxDashboards: Int

  public init(fixCommand: String, maxChanges: Int = 8, maxDashboards: Int = 5) {
    self.fixCommand = fixCommand
    self.maxChanges = maxChanges
    self.maxDashboards = maxDashboards
  }

  /// One line per breaking change: what changed and how sure driftwatch is. Names are passed through
  /// `name` (the destination's escaping of a code span's inside); the default keeps them as they are (JSON).
  public static func summary(_ change: DriftChange, name: (String) -> String = { $0 }) -> String {
    let percent = Int((change.confidence * 100).rounded())
    func n(_ text: String) -> String { "`" + name(text) + "`" }
    let what: String
    switch change.kind {
    case .tableMissing: what = "table \(n(change.from ?? change.source)) is gone"
    case .tableRenamed:
      what = "table \(n(change.from ?? "")) → \(n(change.to?.description ?? ""))"
    case .columnMissing:
      what = "column \(n(change.from ?? "")) is gone from \(n(change.relation ?? change.source))"
    case .columnRenamed: what = "column \(n(change.from ?? "")) → \(n(change.to?.description ?? ""))"
    case .columnSplit:
      what =
        "column \(n(change.from ?? "")) split into \((change.to?.names ?? []).map(n).joined(separator: ", "))"
    case .columnTypeChanged:
      what =
        "column \(n(change.column ?? "")) type \(n(change.from ?? "")) → \(n(change.to?.description ?? ""))"
    case .valuesRemapped:
      let pairs = (change.mapping ?? []).map { "\($0.old)→\($0.new ?? "?")" }.joined(separator: ", ")
      what =
        "values of \(n(change.column ?? change.to?.description ?? "")) remapped"
        + (pairs.isEmpty ? "" : " (\(name(pairs)))")
    case .acceptedValuesViolated:
      what =
        "\(n(change.column ?? "")) has values outside accepted_values: \(name((change.values ?? []).joined(separator: ", ")))"
    case .tableAdded: what = "new table \(n(change.relation ?? ""))"
    case .columnAdded: what = "new column \(n(change.to?.description ?? ""))"
    case .columnsSwapped, .nullRateChanged, .scaleChanged, .valueShapeChanged, .distinctCountChanged:
      what = DriftReportRenderer.profileDriftHeadline(change, name: n)
    }
    return "\(what) (\(change.kind.rawValue), confidence \(percent)%)"
  }

  static func counts(_ incident: Incident) -> (models: Int, tests: Int, dashboards: Int) {
    let radius = incident.report.blastRadius
    return (radius.models.count, radius.tests.count, incident.dashboards.count)
  }

  /// Slack incoming-webhook body (Block Kit, with a plain-text fallback).
  public func slack(_ incident: Incident) -> String {
    let changes = incident.breakingChanges
    let (models, tests, dashboards) = Self.counts(incident)
    let slack = OutputEscape.slack
    let title =
      "Schema drift in \(slack(incident.project)): \(changes.count) breaking change\(changes.count == 1 ? "" : "s")"
    var lines = changes.prefix(maxChanges).map { "• " + Self.summary($0, name: slack) }
    if changes.count > maxChanges { lines.append("• … and \(changes.count - maxChanges) more") }
    let top = incident.dashboards.prefix(maxDashboards)
    var blocks: [JSONValue] = [
      .object([("type", .string("header")), ("text", plain(title))]),
      .object([("type", .string("section")), ("text", markdown(lines.joined(separator: "\n")))]),
      .object([
        ("type", .string("section")),
        (
          "fields",
          .array([
            markdown("*Models*\n\(models)"), markdown("*Tests*\n\(tests)"),
            markdown("*Dashboards*\n\(dashboards)"), markdown("*Warehouse*\n\(slack(incident.warehouse))"),
          ])
        ),
      ]),
    ]
    if !top.isEmpty {
      var text = "*Top dashboards*: " + top.map(slack).joined(separator: ", ")
      if incident.dashboards.count > top.count { text += " … (+\(incident.dashboards.count - top.count))" }
      blocks.append(.object([("type", .string("section")), ("text", markdown(text))]))
    }
    let command = slack(fixCommand)
    var fixText = "*Drafted fix*: see it with\n```\(command)```"
    if let fix = incident.fix {
      fixText =
        "*Drafted fix* (\(fix.files.count) file\(fix.files.count == 1 ? "" : "s"), \(fix.openQuestions.count) open question\(fix.openQuestions.count == 1 ? "" : "s")): see it with\n```\(command)```"
    }
    blocks.append(.object([("type", .string("section")), ("text", markdown(fixText))]))
    blocks.append(
      .object([
        ("type", .string("context")),
        ("elements", .array([markdown("incident `\(slack(incident.id))` · driftwatch")])),
      ]))
    return JSONValue.object([
      ("text", .string("\(title): \(models) models, \(tests) tests, \(dashboards) dashboards downstream")),
      ("blocks", .array(blocks)),
    ]).rendered()
  }

  /// Generic webhook body: the incident's facts as JSON.
  public func webhook(_ incident: Incident) -> String {
    let (models, tests, dashboards) = Self.counts(incident)
    return JSONValue.object([
      ("event", .string("driftwatch.incident.opened")),
      ("incident", .string(incident.id)),
      ("idempotency_key", .string("\(incident.id):webhook")),
      ("project", .string(incident.project)),
      ("warehouse", .string(incident.warehouse)),
      ("detected_at", .optional(incident.first(.detected)?.iso8601)),
      ("ddl_at", .optional(incident.first(.ddl)?.iso8601)),
      (
        "changes",
        .array(
          incident.breakingChanges.map { change in
            .object([
              ("id", .string(change.id)), ("kind", .string(change.kind.rawValue)),
              ("source", .string(change.source)), ("from", .optional(change.from)),
              ("to", .optional(change.to?.description)), ("confidence", .number(change.confidence)),
              ("summary", .string(Self.summary(change))),
            ])
          })
      ),
      (
        "blast_radius",
        .object([
          ("models", .integer(models)), ("tests", .integer(tests)), ("dashboards", .integer(dashboards)),
          ("top_dashboards", .strings(Array(incident.dashboards.prefix(maxDashboards)))),
        ])
      ),
      ("fix_command", .string(fixCommand)),
    ]).rendered()
  }

  private func plain(_ text: String) -> JSONValue {
    .object([("type", .string("plain_text")), ("text", .string(String(text.prefix(150))))])
  }

  private func markdown(_ text: String) -> JSONValue {
    .object([("type", .string("mrkdwn")), ("text", .string(String(text.prefix(3000))))])
  }
}
