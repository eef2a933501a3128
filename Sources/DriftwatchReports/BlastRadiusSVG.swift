import DriftwatchCore

/// The blast radius of a report as an SVG graph, laid out here (no script, nothing fetched): the changed
/// sources on the left, each model, snapshot or exposure one column right of its furthest parent, edges as
/// curves. Tests are counted on the node they test rather than drawn (acme has 23). Every name is escaped.
public enum BlastRadiusSVG {
  static let boxWidth = 180
  static let boxHeight = 34
  static let columnGap = 44
  static let rowGap = 14
  static let margin = 12

  public struct Layout: Sendable, Hashable {
    public struct Box: Sendable, Hashable {
      public var id: String
      public var column: Int
      public var row: Int
    }
    public struct Edge: Sendable, Hashable {
      public var from: String
      public var to: String
    }
    public var boxes: [Box]
    public var edges: [Edge]
  }

  /// Columns and rows of the drawn nodes, and the edges between them.
  public static func layout(_ report: DriftReport) -> Layout {
    let drawn = report.nodes.values.filter { $0.resourceType != .test }
    let ids = Set(drawn.map(\.uniqueID))
    var column: [String: Int] = [:]
    func depth(_ id: String, _ visiting: Set<String>) -> Int {
      if let known = column[id] { return known }
      guard let node = report.nodes[id], !visiting.contains(id) else { return 0 }
      let parents = node.parents.filter { ids.contains($0) }
      let value =
        parents.isEmpty ? 0 : (parents.map { depth($0, visiting.union([id])) }.max() ?? 0) + 1
      column[id] = value
      return value
    }
    for id in ids.sorted() { _ = depth(id, []) }
    var rows: [String: Int] = [:]
    let columns = Dictionary(grouping: ids.sorted(), by: { column[$0] ?? 0 })
    var boxes: [Layout.Box] = []
    for index in columns.keys.sorted() {
      let members = columns[index] ?? []
      // Order by the mean row of the parents already placed: fewer crossings than alphabetical.
      let ordered = members.sorted { left, right in
        let l = meanRow(left, report, rows)
        let r = meanRow(right, report, rows)
        return l == r ? left < right : l < r
      }
      for (row, id) in ordered.enumerated() {
        rows[id] = row
        boxes.append(Layout.Box(id: id, column: index, row: row))
      }
    }
    var edges: [Layout.Edge] = []
    for box in boxes {
      for parent in report.nodes[box.id]?.parents ?? [] where ids.contains(parent) {
        edges.append(Layout.Edge(from: parent, to: box.id))
      }
    }
    return Layout(boxes: boxes, edges: edges)
  }

  private static func meanRow(_ id: String, _ report: DriftReport, _ rows: [String: Int]) -> Double {
    let placed = (report.nodes[id]?.parents ?? []).compactMap { rows[$0] }
    guard !placed.isEmpty else { return -1 }
    return Double(placed.reduce(0, +)) / Double(placed.count)
  }

  /// The graph as an `<svg>` element, or a one-line note when nothing is downstream.
  public static func render(_ report: DriftReport) -> String {
    let layout = layout(report)
    guard !layout.boxes.isEmpty else { return "<p class=\"muted\">nothing downstream reads what changed</p>" }
    let h = OutputEscape.html
    var testsOf: [String: Int] = [:]
    for node in report.nodes.values where node.resourceType == .test {
      for parent in node.parents { testsOf[parent, default: 0] += 1 }
    }
    var position: [String: (x: Int, y: Int)] = [:]
    for box in layout.boxes {
      position[box.id] = (
        margin + box.column * (boxWidth + columnGap), margin + box.row * (boxHeight + rowGap)
      )
    }
    let width = (position.values.map(\.x).max() ?? 0) + boxWidth + margin
    let height = (position.values.map(\.y).max() ?? 0) + boxHeight + margin
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"radius\" role=\"img\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" aria-label=\"blast radius: \(layout.boxes.count) nodes\">"
    for edge in layout.edges {
      guard let from = position[edge.from], let to = position[edge.to] else { continue }
      let x1 = from.x + boxWidth
      let y1 = from.y + boxHeight / 2
      let x2 = to.x
      let y2 = to.y + boxHeight / 2
      let middle = (x1 + x2) / 2
      out +=
        "<path class=\"edge\" d=\"M\(x1),\(y1) C\(middle),\(y1) \(middle),\(y2) \(x2 - 4),\(y2)\" fill=\"none\" stroke=\"#8a94a6\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
    }
    out +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#8a94a6\"/></marker></defs>"
    for box in layout.boxes {
      guard let node = report.nodes[box.id], let at = position[box.id] else { continue }
      let (fill, stroke) =
        switch node.resourceType {
        case .source: ("#fde2e2", "#c0392b")
        case .exposure: ("#e8f0fe", "#1f4e9c")
        default: ("#fff4d6", "#b7950b")
        }
      let name = node.resourceType == .exposure ? (node.label ?? node.name) : node.name
      let kind =
        node.resourceType == .exposure ? (node.exposureType ?? "exposure") : node.resourceType.rawValue
      let tests = testsOf[box.id].map { " · \($0) test\($0 == 1 ? "" : "s")" } ?? ""
      out += "<g class=\"node \(h(node.resourceType.rawValue))\"><title>\(h(box.id))</title>"
      out +=
        "<rect x=\"\(at.x)\" y=\"\(at.y)\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"6\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
      out +=
        "<text x=\"\(at.x + 8)\" y=\"\(at.y + 14)\" font-size=\"12\" font-weight=\"600\" fill=\"#1d2330\">\(h(truncated(name, 26)))</text>"
      out +=
        "<text x=\"\(at.x + 8)\" y=\"\(at.y + 28)\" font-size=\"10\" fill=\"#5b6475\">\(h(kind + tests))</text></g>"
    }
    return out + "</svg>"
  }

  static func truncated(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
  }
}
