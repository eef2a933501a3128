import DriftwatchCore

/// Output formats of `driftwatch lineage`.
public enum LineageFormat: String, Sendable, CaseIterable {
  case text
  case json
  case mermaid
  case dot
}

/// Turns a selection of a lineage graph into text, JSON, Mermaid or Graphviz dot. Deterministic: nodes are
/// sorted by unique id, edges by (parent, child); the same selection always renders the same bytes.
public enum LineageRenderer {
  /// Version of the JSON shape (see `json`).
  public static let schemaVersion = 1

  /// `incomplete`: the nodes the answer depends on that the reader could not read exactly (`Exactness`);
  /// empty when the answer is exact. Text marks them and says so in a headline, JSON lists them with
  /// `"exact": false`, Mermaid and dot say so in a comment.
  public static func render(
    _ selection: Selection, graph: LineageGraph, format: LineageFormat, incomplete: [IncompleteNode] = []
  ) -> String {
    let nodes = rows(selection, graph: graph)
    switch format {
    case .text: return text(nodes, selector: selection.selector, incomplete: incomplete)
    case .json: return json(nodes, selector: selection.selector, incomplete: incomplete)
    case .mermaid: return inexactComment(incomplete, prefix: "%% ") + mermaid(nodes)
    case .dot: return inexactComment(incomplete, prefix: "// ") + dot(nodes)
    }
  }

  /// The headline an answer that is not exact carries (one line, no newline).
  static func inexactHeadline(_ incomplete: [IncompleteNode]) -> String {
    let count = incomplete.count
    return
      "not exact: \(count) node\(count == 1 ? "" : "s") this answer depends on could not be read without "
      + "rendering jinja (marked incomplete); --manifest target/manifest.json (after `dbt parse`) is exact"
  }

  static func inexactComment(_ incomplete: [IncompleteNode], prefix: String) -> String {
    guard !incomplete.isEmpty else { return "" }
    var out = prefix + inexactHeadline(incomplete) + "\n"
    for node in incomplete {
      out += prefix + "incomplete: " + singleLine(node.uniqueID) + "\n"
    }
    return out
  }

  /// Ids and file names come from the project: a newline must not end a comment line early.
  static func singleLine(_ text: String) -> String {
    String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
  }

  /// What a renderer needs of one selected node.
  typealias Row = LineageGraph.ListedNode

  static func rows(_ selection: Selection, graph: LineageGraph) -> [Row] {
    graph.listing(selection)
  }

  /// Parent → child edges between selected nodes, as positions in `rows`, sorted by parent then child.
  static func edges(_ rows: [Row]) -> [(parent: Int, child: Int)] {
    var position: [String: Int] = [:]
    position.reserveCapacity(rows.count)
    for (index, row) in rows.enumerated() { position[row.id] = index }
    var edges: [(parent: Int, child: Int)] = []
    for (child, row) in rows.enumerated() {
      for parent in row.dependsOn {
        if let parent = position[parent], parent != child { edges.append((parent, child)) }
      }
    }
    return edges.sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
  }

  static func groups(_ rows: [Row]) -> [(ResourceType, [Row])] {
    Dictionary(grouping: rows, by: \.type).sorted { $0.key < $1.key }
  }

  static func plural(_ type: ResourceType, _ count: Int) -> String {
    let singular =
      switch type {
      case .semanticModel: "semantic model"
      case .savedQuery: "saved query"
      case .unitTest: "unit test"
      default: type.rawValue
      }
    if count == 1 { return singular }
    switch type {
    case .analysis: return "analyses"
    case .savedQuery: return "saved queries"
    default: return singular + "s"
    }
  }

  // MARK: Text

  /// ```
  /// source:acme.raw_customers+: 4 nodes (1 source, 2 models, 1 test)
  ///
  /// sources (1)
  ///   acme.raw_customers  source.acme.acme.raw_customers
  /// ```
  static func text(_ rows: [Row], selector: String?, incomplete: [IncompleteNode] = []) -> String {
    let groups = groups(rows)
    let counts = groups.map { "\($0.1.count) \(plural($0.0, $0.1.count))" }.joined(separator: ", ")
    var out = selector.map { "\(OutputEscape.terminal($0)): " } ?? ""
    out += "\(rows.count) \(rows.count == 1 ? "node" : "nodes")"
    out += counts.isEmpty ? "\n" : " (\(counts))\n"
    let marked = Set(incomplete.map(\.uniqueID))
    if !incomplete.isEmpty {
      out += inexactHeadline(incomplete) + "\n"
    }
    for (type, members) in groups {
      out += "\n\(plural(type, 2)) (\(members.count))\n"
      let displays = members.map { OutputEscape.terminal($0.display) }
      let width = min(displays.map(\.count).max() ?? 0, 48)
      for (row, display) in zip(members, displays) {
        let pad = String(repeating: " ", count: max(0, width - display.count))
        out +=
          "  \(display)\(pad)  \(OutputEscape.terminal(row.id))"
          + "\(marked.contains(row.id) ? "  [incomplete]" : "")\n"
      }
    }
    if !incomplete.isEmpty {
      out += "\nincomplete (\(incomplete.count))\n"
      for node in incomplete {
        for reason in node.reasons {
          out +=
            "  \(OutputEscape.terminal(node.uniqueID))  \(OutputEscape.terminal(reason.place)): "
            + "\(OutputEscape.terminal(reason.reason))\n"
        }
      }
    }
    return out
  }

  // MARK: JSON

  /// ```json
  /// {
  ///   "schema_version": 1,
  ///   "selector": "source:acme+",
  ///   "nodes": [
  ///     { "unique_id": "…", "resource_type": "model", "name": "stg_customers", "depends_on": ["…"] }
  ///   ]
  /// }
  /// ```
  /// `selector` is null when the selection did not come from one; `nodes` are sorted by `unique_id`;
  /// `depends_on` lists every id the node reads (sorted), selected or not; a source's `name` is its table name.
  /// Written straight into the text (a selection can hold tens of thousands of nodes): the same bytes as
  /// `JSONValue`'s pretty printing would give.
  static func json(_ rows: [Row], selector: String?, incomplete: [IncompleteNode] = []) -> String {
    var out = JSONBytes(capacity: 64 + rows.count * 240)
    out.append("{\n  \"schema_version\": \(schemaVersion),\n  \"selector\": ")
    if let selector { out.appendQuoted(selector) } else { out.append("null") }
    out.append(",\n  \"exact\": \(incomplete.isEmpty)")
    out.append(",\n  \"incomplete\": ")
    out.append(JSONValue.array(incomplete.map(IncompleteJSON.node)).renderedFragment(indent: 1))
    out.append(",\n  \"nodes\": ")
    guard !rows.isEmpty else {
      out.append("[]\n}\n")
      return out.string
    }
    out.append("[\n")
    for (position, row) in rows.enumerated() {
      out.append("    {\n      \"unique_id\": ")
      out.appendQuoted(row.id)
      out.append(",\n      \"resource_type\": ")
      out.appendQuoted(row.type.rawValue)
      out.append(",\n      \"name\": ")
      out.appendQuoted(row.name)
      out.append(",\n      \"depends_on\": ")
      if row.dependsOn.isEmpty {
        out.append("[]")
      } else {
        out.append("[\n")
        for (index, id) in row.dependsOn.enumerated() {
          out.append("        ")
          out.appendQuoted(id)
          out.append(index == row.dependsOn.count - 1 ? "\n" : ",\n")
        }
        out.append("      ]")
      }
      out.append(position == rows.count - 1 ? "\n    }\n" : "\n    },\n")
    }
    out.append("  ]\n}\n")
    return out.string
  }

  // MARK: Mermaid

  static let palette: [ResourceType: (fill: String, stroke: String)] = [
    .source: ("#e8f5e9", "#2e7d32"),
    .model: ("#e3f2fd", "#1565c0"),
    .seed: ("#f3e5f5", "#6a1b9a"),
    .snapshot: ("#fff3e0", "#ef6c00"),
    .test: ("#fffde7", "#f9a825"),
    .unitTest: ("#fffde7", "#f9a825"),
    .exposure: ("#fce4ec", "#ad1457"),
  ]
  static let otherColors = (fill: "#eeeeee", stroke: "#616161")

  /// `flowchart LR`, node ids `n0`, `n1`, … in unique-id order, labels in quotes with Mermaid's entity codes
  /// for characters that would end or break them, one `classDef` per resource type present.
  static func mermaid(_ rows: [Row]) -> String {
    var out = "flowchart LR\n"
    for (position, row) in rows.enumerated() {
      let id = "n\(position)"
      let label = "\"" + mermaidEscape(row.display) + "\""
      let shape =
        switch row.type {
        case .source: "[(\(label))]"
        case .exposure: ">\(label)]"
        case .test, .unitTest: "([\(label)])"
        default: "[\(label)]"
        }
      out += "  \(id)\(shape):::\(row.type.rawValue)\n"
    }
    for (parent, child) in edges(rows) {
      out += "  n\(parent) --> n\(child)\n"
    }
    for type in Set(rows.map(\.type)).sorted() {
      let colors = palette[type] ?? otherColors
      out += "  classDef \(type.rawValue) fill:\(colors.fill),stroke:\(colors.stroke),color:#000\n"
    }
    return out
  }

  static func mermaidEscape(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "#": out += "#35;"
      case "\"": out += "#quot;"
      case "<": out += "#lt;"
      case ">": out += "#gt;"
      case "`": out += "#96;"
      default:
        // Controls (newlines too), line separators and bidi overrides: a space.
        if character.unicodeScalars.contains(where: TextEscape.isInvisibleControl) {
          out += " "
        } else {
          out.append(character)
        }
      }
    }
    return out
  }

  // MARK: dot

  /// Graphviz: quoted unique ids, escaped labels, a shape and fill per resource type.
  static func dot(_ rows: [Row]) -> String {
    var out = "digraph lineage {\n"
    out += "  rankdir=LR;\n"
    out += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n"
    for row in rows {
      let colors = palette[row.type] ?? otherColors
      let shape =
        switch row.type {
        case .source: ", shape=cylinder"
        case .exposure: ", shape=component"
        case .test, .unitTest: ", shape=ellipse"
        default: ""
        }
      out += "  \(dotQuote(row.id)) [label=\(dotQuote(row.display)), fillcolor=\"\(colors.fill)\""
      out += ", color=\"\(colors.stroke)\"\(shape)];\n"
    }
    let quoted = rows.map { dotQuote($0.id) }
    for (parent, child) in edges(rows) {
      out += "  \(quoted[parent]) -> \(quoted[child]);\n"
    }
    out += "}\n"
    return out
  }

  static func dotQuote(_ text: String) -> String {
    var out = "\""
    for character in text {
      switch character {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += ""
      default:
        if character.unicodeScalars.contains(where: TextEscape.isInvisibleControl) {
          out += character.unicodeScalars.map { TextEscape.isInvisibleControl($0) ? " " : String($0) }
            .joined()
        } else {
          out.append(character)
        }
      }
    }
    return out + "\""
  }
}

/// The `incomplete` entries of every JSON report (docs/report-schema.md).
enum IncompleteJSON {
  static func node(_ node: IncompleteNode) -> JSONValue {
    .object([
      ("unique_id", .string(node.uniqueID)),
      ("reasons", .array(node.reasons.map(reason))),
    ])
  }

  static func reason(_ reason: Incompleteness) -> JSONValue {
    .object([
      ("kind", .string(reason.kind.rawValue)),
      ("effects", .strings(reason.effects.map(\.rawValue))),
      ("file", .string(reason.file)),
      ("line", reason.line.map { .integer($0) } ?? .null),
      ("construct", .string(reason.construct)),
      ("reason", .string(reason.reason)),
    ])
  }
}
