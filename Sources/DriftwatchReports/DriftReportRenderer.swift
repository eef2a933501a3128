import DriftwatchCore

/// Output formats of a drift report.
public enum ReportFormat: String, Sendable, CaseIterable {
  case text
  case json
  case markdown
}

/// Turns a `DriftReport` into text for a terminal, JSON for machines, or markdown for a PR comment.
public struct DriftReportRenderer: Sendable {
  public var color: Bool
  public var toolVersion: String
  /// Put before each style sequence `styled` writes: the text guard keeps those, and only those.
  let styleMark = OutputEscape.newStyleMark()

  public init(color: Bool = false, toolVersion: String) {
    self.color = color
    self.toolVersion = toolVersion
  }

  public func render(_ report: DriftReport, as format: ReportFormat) -> String {
    switch format {
    case .text: text(report)
    case .json: json(report).rendered()
    case .markdown: markdown(report)
    }
  }

  // MARK: JSON (schema documented in docs/report-schema.md)

  public func json(_ report: DriftReport) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("schema_version", .integer(DriftReport.schemaVersion)),
      ("tool", .object([("name", .string("driftwatch")), ("version", .string(toolVersion))])),
      ("project", .string(report.project)),
      ("warehouse", .string(report.warehouse)),
      ("schemas", .strings(report.schemas)),
      ("sources_checked", .integer(report.sourcesChecked)),
      ("breaking", .bool(report.breaking)),
      ("exact", .bool(report.exact)),
      ("incomplete", .array((report.incomplete ?? []).map(IncompleteJSON.node))),
      (
        "summary",
        .object([
          ("changes", .integer(report.changes.count)),
          ("breaking_changes", .integer(report.changes.filter(\.breaking).count)),
          ("models", .integer(report.blastRadius.models.count)),
          ("tests", .integer(report.blastRadius.tests.count)),
          ("exposures", .integer(report.blastRadius.exposures.count)),
        ])
      ),
      ("changes", .array(report.changes.map { change($0) })),
      ("blast_radius", radius(report.blastRadius)),
    ]
    if let notes = report.columnReads, !notes.isEmpty {
      members.append(
        (
          "column_reads",
          .array(
            notes.map {
              .object([
                ("node", .string($0.node)), ("status", .string($0.status.rawValue)),
                ("reason", .string($0.reason)),
              ])
            })
        ))
    }
    if let timings = report.timings {
      members.append(
        (
          "timings_ms",
          .object([
            ("read_project", .number(rounded(timings.readProjectMs))),
            ("introspect", .number(rounded(timings.introspectMs))),
            ("diff", .number(rounded(timings.diffMs))),
          ])
        ))
    }
    return .object(members)
  }

  func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

  /// One change as JSON; `extra` members (the impact report's `migration_line`) go last.
  func change(_ change: DriftChange, extra: [(String, JSONValue)] = []) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("id", .string(change.id)),
      ("kind", .string(change.kind.rawValue)),
      ("source", .string(change.source)),
      ("source_id", .optional(change.sourceID)),
      ("relation", .optional(change.relation)),
      ("from", .optional(change.from)),
    ]
    switch change.to {
    case .one(let name): members.append(("to", .string(name)))
    case .many(let names): members.append(("to", .strings(names)))
    case nil: members.append(("to", .null))
    }
    if let column = change.column { members.append(("column", .string(column))) }
    members += [
      ("confidence", .number(change.confidence)),
      ("breaking", .bool(change.breaking)),
      ("evidence", .strings(change.evidence)),
      ("parent", .optional(change.parent)),
      ("blast_radius", radius(change.blastRadius)),
    ]
    if let mapping = change.mapping {
      members.append(
        (
          "mapping",
          .array(
            mapping.map { pair in
              var members: [(String, JSONValue)] = [("old", .string(pair.old)), ("new", .optional(pair.new))]
              if let support = pair.support { members.append(("support", .integer(support))) }
              if let total = pair.total { members.append(("total", .integer(total))) }
              return .object(members)
            })
        ))
    }
    if let template = change.template {
      var fields: [(String, JSONValue)] = [
        ("format", .string(template.description)), ("columns", .strings(template.columns)),
      ]
      if let matched = template.matched { fields.append(("matched", .integer(matched))) }
      if let sampled = template.sampled { fields.append(("sampled", .integer(sampled))) }
      members.append(("template", .object(fields)))
    }
    if let values = change.values { members.append(("values", .strings(values))) }
    if let kinds = change.evidenceKinds {
      members.append(("evidence_kinds", .strings(kinds.map(\.rawValue))))
    }
    if let candidate = change.possibleRename { members.append(("possible_rename", .string(candidate))) }
    if let silentNulls = change.silentNulls {
      members.append(
        (
          "silent_nulls",
          .array(
            silentNulls.map {
              .object([
                ("node", .string($0.node)), ("column", .string($0.column)), ("aliases", .strings($0.aliases)),
                ("read_by", radius($0.readBy)),
              ])
            })
        ))
    }
    if let measure = change.measure {
      var fields: [(String, JSONValue)] = [
        ("metric", .string(measure.metric)), ("before", .number(measure.before)),
        ("after", .number(measure.after)),
      ]
      if let factor = measure.factor { fields.append(("factor", .number(factor))) }
      if let shape = measure.shapeBefore { fields.append(("shape_before", .string(shape.rawValue))) }
      if let shape = measure.shapeAfter { fields.append(("shape_after", .string(shape.rawValue))) }
      if let agreeing = measure.keysAgreeing { fields.append(("keys_agreeing", .integer(agreeing))) }
      if let joined = measure.keysJoined { fields.append(("keys_joined", .integer(joined))) }
      fields.append(("snapshot", .string(measure.snapshot)))
      members.append(("measure", .object(fields)))
    }
    members += extra
    return .object(members)
  }

  func radius(_ radius: BlastRadius) -> JSONValue {
    .object([
      ("models", .strings(radius.models)),
      ("tests", .strings(radius.tests)),
      ("exposures", .strings(radius.exposures)),
    ])
  }

  // MARK: Text

  enum Style: String {
    case bold = "1"
    case red = "31"
    case green = "32"
    case yellow = "33"
    case dim = "2"
  }

  func styled(_ text: String, _ style: Style) -> String {
    color ? "\(styleMark)\u{1B}[\(style.rawValue)m\(text)\(styleMark)\u{1B}[0m" : text
  }

  public func text(_ report: DriftReport) -> String {
    var lines: [String] = []
    let sources = report.sourcesChecked == 1 ? "1 source" : "\(report.sourcesChecked) sources"
    let schemas = report.schemas.isEmpty ? "" : " in \(report.schemas.joined(separator: ", "))"
    lines.append(
      styled("driftwatch", .bold) + " · \(report.project) · \(report.warehouse) · \(sources)\(schemas)")
    lines.append("")
    lines += inexactLines(report)
    lines += columnReadLines(report)
    if report.sourcesChecked == 0 {
      lines.append(
        styled("nothing to check", .yellow)
          + ": the project declares no sources (driftwatch compares sources: yml entries with the warehouse)")
      return OutputEscape.terminalLines(lines, styleMark: styleMark) + "\n"
    }
    if report.changes.isEmpty {
      lines.append(styled("✓ no drift", .green) + ": every declared source matches the warehouse")
      appendTimings(report, into: &lines)
      return OutputEscape.terminalLines(lines, styleMark: styleMark) + "\n"
    }
    lines += changeBlocks(report)
    if report.breaking {
      lines += radiusLines(report)
      lines.append("")
      lines.append(
        styled("✗ breaking drift", .red)
          + ": \(report.changes.filter(\.breaking).count) breaking change(s); see the JSON report for every id"
      )
    } else {
      lines.append(styled("✓ no breaking drift", .green) + ": nothing downstream reads what changed")
    }
    appendTimings(report, into: &lines)
    return OutputEscape.terminalLines(lines, styleMark: styleMark) + "\n"
  }

  /// Readers whose column reads are not known exactly (not rendered, approximate, raw SQL calling a macro).
  func columnReadLines(_ report: DriftReport) -> [String] {
    guard let notes = report.columnReads, !notes.isEmpty else { return [] }
    var lines: [String] = []
    for note in notes {
      let status = note.status == .approximate ? "approximate" : "reads every column"
      lines.append(
        styled("  column reads \(status): ", .yellow) + LineageRenderer.singleLine(note.node) + "  "
          + LineageRenderer.singleLine(note.reason))
    }
    lines.append("")
    return lines
  }

  /// For an answer that is not exact: a headline, and each incomplete node with why (then a blank line).
  func inexactLines(_ report: DriftReport) -> [String] {
    guard let incomplete = report.incomplete, !incomplete.isEmpty else { return [] }
    var lines = [styled("⚠ " + LineageRenderer.inexactHeadline(incomplete), .yellow)]
    for node in incomplete {
      for reason in node.reasons {
        lines.append(
          "  incomplete: \(LineageRenderer.singleLine(node.uniqueID))  "
            + "\(LineageRenderer.singleLine(reason.place)): \(LineageRenderer.singleLine(reason.reason))")
      }
    }
    lines.append("")
    return lines
  }

  /// Each top-level change as a block (its column changes inside), then the non-breaking additions.
  /// `location` adds where a change comes from (the impact report's migration line) to its block.
  func changeBlocks(_ report: DriftReport, location: (DriftChange) -> String? = { _ in nil }) -> [String] {
    var lines: [String] = []
    let topLevel = report.changes.filter { $0.parent == nil }
    for change in topLevel where change.breaking || change.kind != .tableAdded && change.kind != .columnAdded
    {
      // Children, each followed by its own children (a value remap under its column's rename).
      let children = report.changes.filter { $0.parent == change.id }.flatMap { child in
        [child] + report.changes.filter { $0.parent == child.id }
      }
      lines += block(change, children: children, location: location, incomplete: report.isIncomplete(change))
    }
    let additions = topLevel.filter { !$0.breaking && ($0.kind == .tableAdded || $0.kind == .columnAdded) }
    if !additions.isEmpty {
      lines.append(styled("not breaking", .dim) + " (nothing reads them yet):")
      for change in additions {
        let what = change.kind == .tableAdded ? "new table" : "new column"
        let name =
          change.kind == .tableAdded
          ? change.relation ?? "" : "\(change.relation ?? change.source).\(change.to?.description ?? "")"
        let from = location(change).map { "  (\($0))" } ?? ""
        lines.append("  + \(what) \(name)  [\(change.id)]\(from)")
      }
      lines.append("")
    }
    return lines
  }

  /// `9 models, 23 tests, 15 dashboards` (exposures that are not all dashboards are counted as exposures).
  public static func radiusPhrase(_ report: DriftReport) -> String {
    radiusPhrase(report.blastRadius, nodes: report.nodes)
  }

  public static func radiusPhrase(_ radius: BlastRadius, nodes: [String: NodeLabel]) -> String {
    let dashboards = radius.exposures.filter { nodes[$0]?.exposureType == "dashboard" }.count
    var exposures = "\(radius.exposures.count) exposure\(radius.exposures.count == 1 ? "" : "s")"
    if dashboards == radius.exposures.count, dashboards > 0 {
      exposures = "\(dashboards) dashboard\(dashboards == 1 ? "" : "s")"
    } else if dashboards > 0 {
      exposures += " (\(dashboards) dashboard\(dashboards == 1 ? "" : "s"))"
    }
    return
      "\(radius.models.count) model\(radius.models.count == 1 ? "" : "s"), \(radius.tests.count) test\(radius.tests.count == 1 ? "" : "s"), \(exposures)"
  }

  /// The blast radius: counts, then the models, exposures and tests by name.
  func radiusLines(_ report: DriftReport) -> [String] {
    let radius = report.blastRadius
    var lines: [String] = []
    lines.append(styled("blast radius", .bold) + ": " + Self.radiusPhrase(report))
    lines += wrapped("  models:    ", radius.models.map { name($0, report) })
    if !radius.exposures.isEmpty {
      lines += wrapped("  exposures: ", radius.exposures.map { exposureName($0, report) })
    }
    lines += wrapped("  tests:     ", radius.tests.map { name($0, report) })
    return lines
  }

  private func appendTimings(_ report: DriftReport, into lines: inout [String]) {
    guard let timings = report.timings else { return }
    lines.append(
      styled(
        "checked in \(Decimal2.format(timings.readProjectMs + timings.introspectMs + timings.diffMs, places: 0)) ms "
          + "(project \(Decimal2.format(timings.readProjectMs, places: 0)) ms, warehouse \(Decimal2.format(timings.introspectMs, places: 0)) ms, diff \(Decimal2.format(timings.diffMs, places: 0)) ms)",
        .dim))
  }

  /// A comma-separated list under a label, wrapped at 100 columns with a hanging indent.
  private func wrapped(_ label: String, _ items: [String], width: Int = 100) -> [String] {
    let indent = String(repeating: " ", count: label.count)
    var lines: [String] = []
    var current = label
    for (index, item) in items.enumerated() {
      let piece = item + (index == items.count - 1 ? "" : ",")
      if current.count > indent.count, current.count + 1 + piece.count > width {
        lines.append(current)
        current = indent + piece
      } else {
        current += (current.count > indent.count ? " " : "") + piece
      }
    }
    lines.append(current)
    return lines
  }

  /// A node's name; for models the unique id's tail, so versions stay apart (`dim_customers.v2`).
  private func name(_ id: String, _ report: DriftReport) -> String {
    guard let node = report.nodes[id] else { return id }
    guard node.resourceType == .model else { return node.name }
    let parts = id.split(separator: ".")
    return parts.count > 2 ? parts.dropFirst(2).joined(separator: ".") : node.name
  }

  func exposureName(_ id: String, _ report: DriftReport) -> String {
    guard let node = report.nodes[id] else { return id }
    return node.label ?? node.name
  }

  public func headline(_ change: DriftChange) -> String {
    let to = change.to?.names.joined(separator: ", ") ?? ""
    switch change.kind {
    case .tableMissing: return "\(change.source) is missing"
    case .tableRenamed: return "\(change.source) was renamed to \(to)"
    case .tableAdded: return "new table \(change.relation ?? to)"
    case .columnMissing:
      let hint = change.possibleRename.map { " (possibly renamed to \($0): position and type only)" } ?? ""
      return "column \(change.from ?? "") is missing\(hint)"
    case .columnRenamed: return "\(change.from ?? "") → \(to)"
    case .columnSplit: return "\(change.from ?? "") split into \(to)"
    case .columnTypeChanged: return "\(change.column ?? "") changed type \(change.from ?? "") → \(to)"
    case .valuesRemapped:
      let pairs = (change.mapping ?? []).map { pair in
        let counts = pair.support.flatMap { support in pair.total.map { " (\(support)/\($0))" } } ?? ""
        return "\(pair.old) → \(pair.new ?? "?")\(counts)"
      }
      return "\(change.column ?? "") values remapped: \(pairs.joined(separator: ", "))"
    case .acceptedValuesViolated:
      return
        "\(change.column ?? "") has values outside accepted_values: \((change.values ?? []).joined(separator: ", "))"
    case .columnAdded: return "new column \(to)"
    case .columnsSwapped, .nullRateChanged, .scaleChanged, .valueShapeChanged, .distinctCountChanged:
      return Self.profileDriftHeadline(change)
    }
  }

  /// The headline of a profile drift change (`ChangeKind.isProfileDrift`); names through `name`.
  public static func profileDriftHeadline(_ change: DriftChange, name: (String) -> String = { $0 }) -> String
  {
    let column = name(change.column ?? change.from ?? "")
    let measure = change.measure
    func percent(_ share: Double?) -> String { share.map { "\(Int(($0 * 100).rounded()))%" } ?? "?" }
    switch change.kind {
    case .columnsSwapped:
      return "\(column) and \(name(change.to?.description ?? "")) swapped their values"
    case .nullRateChanged:
      if let measure, measure.after >= 1 {
        return "\(column) became all NULL (was \(percent(measure.before)) NULL)"
      }
      return "NULLs in \(column) jumped \(percent(measure?.before)) → \(percent(measure?.after))"
    case .scaleChanged:
      guard let factor = measure?.factor, factor > 0 else { return "\(column) changed scale" }
      let times = factor < 1 ? "\(Int((1 / factor).rounded()))× smaller" : "\(Int(factor.rounded()))× larger"
      let keys =
        measure?.keysAgreeing.flatMap { agreeing in
          measure?.keysJoined.map { " (exact on \(agreeing)/\($0) sampled keys)" }
        } ?? ""
      return "\(column) values are \(times)\(keys)"
    case .valueShapeChanged:
      let from = measure?.shapeBefore?.label ?? "?"
      let to = measure?.shapeAfter?.label ?? "?"
      return "\(column) changed kind of value: \(from) → \(to)"
    case .distinctCountChanged:
      let before = Int(measure?.before ?? 0)
      let after = Int(measure?.after ?? 0)
      return "distinct values of \(column) \(after < before ? "collapsed" : "exploded") \(before) → \(after)"
    default:
      return change.kind.rawValue
    }
  }

  private func tag(_ change: DriftChange) -> String {
    change.breaking ? styled("BREAKING", .red) : styled("changed ", .yellow)
  }

  private func block(
    _ change: DriftChange, children: [DriftChange], location: (DriftChange) -> String?, incomplete: Bool
  ) -> [String] {
    var lines: [String] = []
    let where_ = change.kind.isTableLevel ? "" : "\(change.source): "
    lines.append(
      "\(tag(change))  \(where_)\(headline(change))   "
        + styled(
          "\(change.kind.rawValue), confidence \(Decimal2.format(change.confidence)) [\(change.id)]", .dim)
        + (incomplete ? "  " + styled("[incomplete]", .yellow) : ""))
    if let from = location(change) { lines.append("    ↳ \(from)") }
    for line in change.evidence { lines.append("    · \(line)") }
    let shownChildren = children.filter { $0.kind != .columnAdded }
    if !shownChildren.isEmpty {
      lines.append("    columns:")
      let width = shownChildren.map { headline($0).count }.max() ?? 0
      for child in shownChildren {
        let text = headline(child)
        let padding = String(repeating: " ", count: max(0, width - text.count))
        lines.append(
          "      \(text)\(padding)  \(child.kind.rawValue) \(Decimal2.format(child.confidence))"
            + styled("  [\(child.id)]", .dim) + (location(child).map { "  ↳ \($0)" } ?? ""))
        for line in child.evidence { lines.append(styled("          · \(line)", .dim)) }
      }
    }
    let added = children.filter { $0.kind == .columnAdded }
    if !added.isEmpty {
      lines.append("    also new: " + added.compactMap { $0.to?.description }.joined(separator: ", "))
    }
    lines.append("")
    return lines
  }

  // MARK: Markdown (a PR comment)

  public func markdown(_ report: DriftReport) -> String {
    var out: [String] = []
    let radius = report.blastRadius
    if report.changes.isEmpty {
      out.append("### ✅ driftwatch: no drift in `\(cell(report.project))`")
      out.append("")
      out.append("Every declared source matches `\(cell(report.warehouse))`.")
      out += inexactMarkdown(report)
      return OutputEscape.markdownDocument(out.joined(separator: "\n") + "\n")
    }
    if report.breaking {
      out.append(
        "### ❌ driftwatch: breaking drift in `\(cell(report.project))` — \(radius.models.count) models, \(radius.tests.count) tests, \(radius.exposures.count) exposures affected"
      )
    } else {
      out.append("### ⚠️ driftwatch: non-breaking drift in `\(cell(report.project))`")
    }
    out += inexactMarkdown(report)
    out.append("")
    out.append("| | change | source | from | to | confidence | id |")
    out.append("|---|---|---|---|---|---|---|")
    for change in report.changes {
      let mark = change.breaking ? "❌" : "➕"
      let to = change.to?.names.map { "`\(cell($0))`" }.joined(separator: ", ") ?? ""
      let from = change.from.map { "`\(cell($0))`" } ?? ""
      out.append(
        "| \(mark) | \(change.kind.rawValue) | `\(cell(change.source))` | \(from) | \(to) | \(Decimal2.format(change.confidence)) | `\(cell(change.id))` |"
      )
    }
    out.append("")
    if report.breaking {
      out += mermaid(report)
      out.append("")
      out += radiusDetails(report)
    }
    out += evidenceDetails(report)
    return OutputEscape.markdownDocument(out.joined(separator: "\n") + "\n")
  }

  /// For an answer that is not exact: a warning line and the incomplete nodes, collapsed.
  func inexactMarkdown(_ report: DriftReport) -> [String] {
    guard let incomplete = report.incomplete, !incomplete.isEmpty else { return [] }
    var out = ["", "> ⚠️ **Not exact**: \(cell(LineageRenderer.inexactHeadline(incomplete)))", ""]
    out.append("<details><summary>\(incomplete.count) incomplete nodes</summary>")
    out.append("")
    for node in incomplete {
      for reason in node.reasons {
        out.append("- `\(cell(node.uniqueID))` — `\(cell(reason.place))`: \(cell(reason.reason))")
      }
    }
    out.append("")
    out.append("</details>")
    return out
  }

  /// The blast radius as a Mermaid flowchart, sources to models to exposures (tests left out).
  func mermaid(_ report: DriftReport) -> [String] {
    var out: [String] = []
    out.append("```mermaid")
    out.append("flowchart LR")
    let ids = report.nodes.keys.filter { report.nodes[$0]?.resourceType != .test }.sorted()
    var index: [String: String] = [:]
    for (offset, id) in ids.enumerated() { index[id] = "n\(offset)" }
    for id in ids {
      guard let node = report.nodes[id], let key = index[id] else { continue }
      let label = LineageRenderer.mermaidEscape(node.label ?? node.name)
      switch node.resourceType {
      case .source: out.append("  \(key)[(\"\(label)\")]:::source")
      case .exposure: out.append("  \(key){{\"\(label)\"}}:::exposure")
      default: out.append("  \(key)[\"\(label)\"]:::model")
      }
    }
    for id in ids {
      guard let node = report.nodes[id], let key = index[id] else { continue }
      for parent in node.parents { if let from = index[parent] { out.append("  \(from) --> \(key)") } }
    }
    out.append("  classDef source fill:#fde2e2,stroke:#c0392b")
    out.append("  classDef model fill:#fff4d6,stroke:#b7950b")
    out.append("  classDef exposure fill:#e8f0fe,stroke:#1f4e9c")
    out.append("```")
    return out
  }

  /// Collapsed lists of the exposures, models and tests in the blast radius.
  func radiusDetails(_ report: DriftReport) -> [String] {
    let radius = report.blastRadius
    var out: [String] = []
    out.append("<details><summary>\(radius.exposures.count) exposures</summary>")
    out.append("")
    for id in radius.exposures {
      out.append("- \(OutputEscape.markdownText(exposureName(id, report))) (`\(cell(id))`)")
    }
    out.append("")
    out.append("</details>")
    out.append("")
    out.append("<details><summary>\(radius.models.count) models</summary>")
    out.append("")
    for id in radius.models { out.append("- `\(cell(id))`") }
    out.append("")
    out.append("</details>")
    out.append("")
    out.append("<details><summary>\(radius.tests.count) tests</summary>")
    out.append("")
    for id in radius.tests { out.append("- `\(cell(id))`") }
    out.append("")
    out.append("</details>")
    out.append("")
    return out
  }

  /// Every change's evidence, collapsed.
  func evidenceDetails(_ report: DriftReport) -> [String] {
    var out: [String] = []
    out.append("<details><summary>evidence</summary>")
    out.append("")
    for change in report.changes {
      out.append("- **\(change.kind.rawValue)** `\(cell(headline(change)))`")
      for line in change.evidence { out.append("  - \(OutputEscape.markdownText(line))") }
    }
    out.append("")
    out.append("</details>")
    return out
  }

  /// The inside of a code span in a table cell: see `OutputEscape.markdownCode`.
  func cell(_ text: String) -> String { OutputEscape.markdownCode(text) }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for character in self {
      if character == target { out += replacement } else { out.append(character) }
    }
    return out
  }
}
