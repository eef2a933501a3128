import DriftwatchCore

/// Output formats of `driftwatch impact`.
public enum ImpactFormat: String, Sendable, CaseIterable {
  case text
  case json
  /// A PR comment.
  case markdown
  /// GitHub Actions workflow commands: one annotation per change, on the migration line that caused it.
  case github
}

/// Renders an `ImpactReport` for the backend author whose migration it is. The change blocks, blast radius,
/// Mermaid graph and JSON of each change are `DriftReportRenderer`'s, so `impact` and `check` say the same
/// things the same way.
public struct ImpactReportRenderer: Sendable {
  public var color: Bool
  public var toolVersion: String

  public init(color: Bool = false, toolVersion: String) {
    self.color = color
    self.toolVersion = toolVersion
  }

  private var drift: DriftReportRenderer { DriftReportRenderer(color: color, toolVersion: toolVersion) }

  public func render(_ report: ImpactReport, as format: ImpactFormat) -> String {
    switch format {
    case .text: text(report)
    case .json: json(report).rendered()
    case .markdown: markdown(report)
    case .github: github(report)
    }
  }

  /// `9 dbt models, 23 tests, 15 dashboards`.
  static func breaksPhrase(_ report: DriftReport) -> String {
    let phrase = DriftReportRenderer.radiusPhrase(report)
    guard let space = phrase.firstIndex(of: " ") else { return phrase }
    return phrase[..<space] + " dbt" + phrase[space...]
  }

  private func rolledBack(_ report: ImpactReport) -> String {
    report.dialect == .sqlite ? "run on a temporary copy, deleted" : "run in a transaction, rolled back"
  }

  private func statements(_ count: Int) -> String { count == 1 ? "1 statement" : "\(count) statements" }

  // MARK: Text

  public func text(_ report: ImpactReport) -> String {
    let renderer = drift
    let drift = report.drift
    var lines: [String] = []
    lines.append(
      renderer.styled("driftwatch impact", .bold)
        + " · \(report.migration) · \(drift.warehouse) · \(statements(report.statementCount)) \(rolledBack(report))"
    )
    lines.append("")
    lines += renderer.inexactLines(drift)
    if drift.breaking {
      lines.append(
        renderer.styled("✗ this migration breaks \(Self.breaksPhrase(drift))", .red) + " of \(drift.project)")
    } else if drift.changes.isEmpty {
      lines.append(
        renderer.styled("✓ safe for \(drift.project)", .green)
          + ": the migration changes none of the \(drift.sourcesChecked) source table(s) the dbt project declares"
      )
    } else {
      lines.append(
        renderer.styled("✓ safe for \(drift.project)", .green)
          + ": nothing in the dbt project reads what this migration changes")
    }
    lines.append("")
    lines += renderer.changeBlocks(drift) { change in report.lines[change.id].map { "line \($0)" } }
    if drift.breaking {
      lines += renderer.radiusLines(drift)
      lines.append("")
    }
    if let parity = report.parity {
      lines += parityLines(parity, renderer: renderer)
      lines.append("")
    }
    if !report.preexisting.isEmpty {
      lines.append(
        renderer.styled(
          "\(report.preexisting.count) change(s) were already there before this migration and are not counted; "
            + "`driftwatch check` shows them", .dim))
    }
    if !report.resolved.isEmpty {
      lines.append(
        renderer.styled(
          "this migration resolves \(report.resolved.count) change(s) that were already there", .dim))
    }
    if let timings = report.timings {
      lines.append(
        renderer.styled(
          "checked in \(Decimal2.format(timings.totalMs, places: 0)) ms (project \(Decimal2.format(timings.readProjectMs, places: 0)) ms, "
            + "migration \(Decimal2.format(timings.applyMs, places: 0)) ms, catalog \(Decimal2.format(timings.introspectMs, places: 0)) ms, "
            + "diff \(Decimal2.format(timings.diffMs, places: 0)) ms)", .dim))
    }
    while lines.last == "" { lines.removeLast() }
    return OutputEscape.terminalLines(lines, styleMark: renderer.styleMark) + "\n"
  }

  private func parityLines(_ parity: ParityResult, renderer: DriftReportRenderer) -> [String] {
    var lines: [String] = []
    let verdict =
      parity.passed
      ? renderer.styled("✓ dbt build passed", .green) : renderer.styled("✗ dbt build failed", .red)
    lines.append(
      renderer.styled("staging parity", .bold)
        + ": \(verdict) on a migrated copy of staging with the drafted fix (\(parity.fixedFiles.count) file(s): "
        + "\(parity.fixedFiles.joined(separator: ", ")))")
    lines.append(
      "  \(parity.count(["success"])) models/seeds built, \(parity.count(["pass"])) tests passed, "
        + "\(parity.failures.count) failed, \(parity.count(["skipped"])) skipped, \(parity.count(["warn"])) warned "
        + "(dbt exit \(parity.dbtExitCode))")
    for node in parity.failures {
      lines.append("  ✗ \(node.uniqueID) \(node.status)\(node.message.map { ": \($0)" } ?? "")")
    }
    for question in parity.openQuestions {
      lines.append("  open question (answer with --decisions): \(question)")
    }
    for failure in parity.expectedFailures { lines.append("  expected to fail: \(failure)") }
    return lines
  }

  private func parityJSON(_ parity: ParityResult) -> JSONValue {
    .object([
      ("passed", .bool(parity.passed)),
      ("dbt_exit_code", .integer(Int(parity.dbtExitCode))),
      ("fixed_files", .strings(parity.fixedFiles)),
      ("open_questions", .strings(parity.openQuestions)),
      ("expected_failures", .strings(parity.expectedFailures)),
      (
        "nodes",
        .array(
          parity.nodes.map { node in
            .object([
              ("unique_id", .string(node.uniqueID)), ("status", .string(node.status)),
              ("message", .optional(node.message)),
            ])
          })
      ),
    ])
  }

  // MARK: JSON (docs/report-schema.md, "impact report")

  /// What `impact --format json` prints when it exits 2 (a refused or failed statement, a bad input, a
  /// connection error): the error as one object, so a JSON reader always gets JSON.
  public func errorJSON(migration: String, message: String) -> String {
    JSONValue.object([
      ("schema_version", .integer(DriftReport.schemaVersion)),
      ("kind", .string("impact")),
      ("tool", .object([("name", .string("driftwatch")), ("version", .string(toolVersion))])),
      ("migration", .object([("path", .string(migration))])),
      ("breaking", .null),
      ("error", .object([("message", .string(message)), ("exit_code", .integer(2))])),
    ]).rendered()
  }

  public func json(_ report: ImpactReport) -> JSONValue {
    let renderer = drift
    let drift = report.drift
    let dashboards = drift.blastRadius.exposures.filter { drift.nodes[$0]?.exposureType == "dashboard" }.count
    var members: [(String, JSONValue)] = [
      ("schema_version", .integer(DriftReport.schemaVersion)),
      ("kind", .string("impact")),
      ("tool", .object([("name", .string("driftwatch")), ("version", .string(toolVersion))])),
      (
        "migration",
        .object([
          ("path", .string(report.migration)),
          ("dialect", .string(report.dialect.rawValue)),
          ("statements", .integer(report.statementCount)),
          ("rolled_back", .bool(true)),
        ])
      ),
      ("project", .string(drift.project)),
      ("warehouse", .string(drift.warehouse)),
      ("schemas", .strings(drift.schemas)),
      ("sources_checked", .integer(drift.sourcesChecked)),
      ("breaking", .bool(drift.breaking)),
      ("exact", .bool(drift.exact)),
      ("incomplete", .array((drift.incomplete ?? []).map(IncompleteJSON.node))),
      (
        "summary",
        .object([
          ("changes", .integer(drift.changes.count)),
          ("breaking_changes", .integer(drift.changes.filter(\.breaking).count)),
          ("models", .integer(drift.blastRadius.models.count)),
          ("tests", .integer(drift.blastRadius.tests.count)),
          ("exposures", .integer(drift.blastRadius.exposures.count)),
          ("dashboards", .integer(dashboards)),
          ("preexisting_changes", .integer(report.preexisting.count)),
          ("resolved_changes", .integer(report.resolved.count)),
        ])
      ),
      (
        "changes",
        .array(
          drift.changes.map { change in
            renderer.change(
              change, extra: [("migration_line", report.lines[change.id].map { .integer($0) } ?? .null)])
          })
      ),
      ("blast_radius", renderer.radius(drift.blastRadius)),
      ("preexisting", .strings(report.preexisting.map(\.id))),
      ("resolved", .strings(report.resolved.map(\.id))),
    ]
    if let parity = report.parity { members.append(("dbt_build", parityJSON(parity))) }
    if let timings = report.timings {
      members.append(
        (
          "timings_ms",
          .object([
            ("read_project", .number(renderer.rounded(timings.readProjectMs))),
            ("apply", .number(renderer.rounded(timings.applyMs))),
            ("introspect", .number(renderer.rounded(timings.introspectMs))),
            ("diff", .number(renderer.rounded(timings.diffMs))),
            ("total", .number(renderer.rounded(timings.totalMs))),
          ])
        ))
    }
    return .object(members)
  }

  // MARK: Markdown (a PR comment on the backend repository)

  public func markdown(_ report: ImpactReport) -> String {
    let renderer = drift
    let drift = report.drift
    let file = report.migration.split(separator: "/").last.map(String.init) ?? report.migration
    var out: [String] = []
    if drift.breaking {
      out.append("### ❌ driftwatch impact: `\(renderer.cell(file))` breaks \(Self.breaksPhrase(drift))")
    } else {
      out.append(
        "### ✅ driftwatch impact: `\(renderer.cell(file))` is safe for the dbt project `\(renderer.cell(drift.project))`"
      )
    }
    out.append("")
    let how =
      report.dialect == .sqlite
      ? "ran on a temporary copy of `\(renderer.cell(drift.warehouse))`, deleted afterwards"
      : "ran in a transaction on `\(renderer.cell(drift.warehouse))` that was rolled back"
    out.append(
      "`\(renderer.cell(report.migration))` (\(statements(report.statementCount))) \(how); the schema it leaves behind was "
        + "compared with the \(drift.sourcesChecked) source table(s) of the dbt project `\(renderer.cell(drift.project))`."
    )
    out += renderer.inexactMarkdown(drift)
    out.append("")
    let radius = drift.blastRadius
    let dashboards = radius.exposures.filter { drift.nodes[$0]?.exposureType == "dashboard" }.count
    let exposureHeader = dashboards == radius.exposures.count && dashboards > 0 ? "dashboards" : "exposures"
    out.append("| changes | breaking | dbt models | tests | \(exposureHeader) |")
    out.append("|---:|---:|---:|---:|---:|")
    out.append(
      "| \(drift.changes.count) | \(drift.changes.filter(\.breaking).count) | \(radius.models.count) | \(radius.tests.count) | \(radius.exposures.count) |"
    )
    out.append("")
    if !drift.changes.isEmpty {
      out.append("| | line | change | source | from | to | confidence |")
      out.append("|---|---:|---|---|---|---|---|")
      for change in drift.changes {
        let mark = change.breaking ? "❌" : "➕"
        let to = change.to?.names.map { "`\(renderer.cell($0))`" }.joined(separator: ", ") ?? ""
        let from = change.from.map { "`\(renderer.cell($0))`" } ?? ""
        let line = report.lines[change.id].map(String.init) ?? ""
        out.append(
          "| \(mark) | \(line) | \(change.kind.rawValue) | `\(renderer.cell(change.source))` | \(from) | \(to) | \(Decimal2.format(change.confidence)) |"
        )
      }
      out.append("")
    }
    if drift.breaking {
      out += renderer.mermaid(drift)
      out.append("")
      out += renderer.radiusDetails(drift)
    }
    if !drift.changes.isEmpty {
      out += renderer.evidenceDetails(drift)
      out.append("")
    }
    if let parity = report.parity {
      out.append(
        "#### \(parity.passed ? "✅" : "❌") Staging parity: dbt build \(parity.passed ? "passed" : "failed") "
          + "with the drafted fix")
      out.append("")
      out.append(
        "The migration was applied to a throwaway copy of staging and the drafted fix "
          + "(\(parity.fixedFiles.map { "`\(renderer.cell($0))`" }.joined(separator: ", "))) to a copy of the dbt project."
      )
      out.append("")
      out.append("| built | tests passed | failed | skipped | warned |")
      out.append("|---:|---:|---:|---:|---:|")
      out.append(
        "| \(parity.count(["success"])) | \(parity.count(["pass"])) | \(parity.failures.count) | \(parity.count(["skipped"])) | \(parity.count(["warn"])) |"
      )
      out.append("")
      if !parity.openQuestions.isEmpty || !parity.expectedFailures.isEmpty {
        for question in parity.openQuestions {
          out.append("- open question: \(OutputEscape.markdownText(question))")
        }
        for failure in parity.expectedFailures {
          out.append("- expected to fail: \(OutputEscape.markdownText(failure))")
        }
        out.append("")
      }
      out.append("<details><summary>\(parity.nodes.count) dbt nodes</summary>")
      out.append("")
      for node in parity.nodes {
        let mark = node.isFailure ? "❌" : (node.status == "skipped" ? "⏭️" : "✅")
        out.append("- \(mark) `\(renderer.cell(node.uniqueID))` \(OutputEscape.markdownText(node.status))")
      }
      out.append("")
      out.append("</details>")
      out.append("")
    }
    if !report.preexisting.isEmpty {
      out.append(
        "_\(report.preexisting.count) change(s) were already there before this migration and are not counted._"
      )
      out.append("")
    }
    out.append(
      drift.breaking
        ? "<sub>driftwatch \(toolVersion) · this check fails until the data team has a fix ready for these sources</sub>"
        : "<sub>driftwatch \(toolVersion)</sub>")
    return OutputEscape.markdownDocument(out.joined(separator: "\n") + "\n")
  }

  // MARK: GitHub workflow annotations

  /// One `::error` (breaking) or `::notice` per change, on the migration line that caused it, then a summary.
  public func github(_ report: ImpactReport) -> String {
    let renderer = drift
    let drift = report.drift
    let file = report.migration.hasPrefix("./") ? String(report.migration.dropFirst(2)) : report.migration
    var out: [String] = []
    for change in drift.changes {
      var properties = "file=\(Self.property(file))"
      if let line = report.lines[change.id] { properties += ",line=\(line)" }
      properties += ",title=\(Self.property("driftwatch: \(change.kind.rawValue)"))"
      var message = change.kind.isTableLevel ? "" : "\(change.source): "
      message += renderer.headline(change)
      if change.breaking {
        message +=
          " — breaks " + DriftReportRenderer.radiusPhrase(change.blastRadius, nodes: drift.nodes)
          + " of \(drift.project)"
        let models = change.blastRadius.models.prefix(5).map {
          $0.split(separator: ".").last.map(String.init) ?? $0
        }
        if !models.isEmpty {
          message += " (\(models.joined(separator: ", "))\(change.blastRadius.models.count > 5 ? ", …" : ""))"
        }
      } else {
        message += " — nothing in \(drift.project) reads it"
      }
      out.append("::\(change.breaking ? "error" : "notice") \(properties)::\(Self.data(message))")
    }
    if let parity = report.parity {
      for node in parity.failures {
        out.append(
          "::error file=\(Self.property(file)),title=\(Self.property("driftwatch: dbt build with the drafted fix"))::"
            + Self.data("\(node.uniqueID) \(node.status)\(node.message.map { ": \($0)" } ?? "")"))
      }
      out.append(
        "driftwatch impact: staging parity: dbt build \(parity.passed ? "passed" : "failed") with the drafted fix "
          + "(\(parity.count(["success"])) built, \(parity.count(["pass"])) tests passed, \(parity.failures.count) failed)"
      )
    }
    if drift.breaking {
      out.append(
        "driftwatch impact: \(file) breaks \(Self.breaksPhrase(drift)) of \(drift.project)")
    } else {
      out.append("driftwatch impact: \(file) is safe for \(drift.project)")
    }
    // Plain log lines too: a control character or a newline from a name must not start a command.
    return OutputEscape.terminalLines(out) + "\n"
  }

  /// Workflow command escaping of a message: `OutputEscape.annotationData`.
  static func data(_ text: String) -> String { OutputEscape.annotationData(text) }

  /// Workflow command escaping of a property value: `OutputEscape.annotationProperty`.
  static func property(_ text: String) -> String { OutputEscape.annotationProperty(text) }
}
