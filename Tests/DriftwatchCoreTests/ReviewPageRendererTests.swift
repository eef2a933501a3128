import DriftwatchReports
import Testing

@testable import DriftwatchCore

/// The review page's HTML: names from the warehouse and the state store are text, never markup; the graph,
/// the preview and the postmortem are rendered here, without script from anywhere else.
@Suite("review page renderer")
struct ReviewPageRendererTests {
  static let hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>"
  static let source = "source.acme.acme.raw_customers"

  /// A report whose every name, value and evidence line is hostile.
  static func report(name: String = hostile) -> DriftReport {
    var change = DriftChange(
      kind: .columnSplit, source: "acme.\(name)", sourceID: source, relation: "raw.\(name)", from: name,
      to: .many(["street", name]), confidence: 0.9, breaking: true, evidence: ["evidence \(name)"],
      blastRadius: BlastRadius(
        models: ["model.acme.stg"], tests: ["test.acme.t"], exposures: ["exposure.acme.d"]))
    change.template = SplitTemplate(parts: [.column("street"), .literal(", "), .column(name)])
    let nodes: [String: NodeLabel] = [
      source: NodeLabel(
        uniqueID: source, name: name, resourceType: .source, label: nil, exposureType: nil),
      "model.acme.stg": NodeLabel(
        uniqueID: "model.acme.stg", name: "stg_\(name)", resourceType: .model, label: nil, exposureType: nil,
        parents: [source]),
      "test.acme.t": NodeLabel(
        uniqueID: "test.acme.t", name: "not_null_\(name)", resourceType: .test, label: nil, exposureType: nil,
        parents: ["model.acme.stg"]),
      "exposure.acme.d": NodeLabel(
        uniqueID: "exposure.acme.d", name: "d", resourceType: .exposure, label: "Dash \(name)",
        exposureType: "dashboard", parents: ["model.acme.stg"]),
    ]
    return DriftReport(
      project: "acme\(name)", warehouse: "sqlite:\(name)", schemas: ["raw"], sourcesChecked: 1,
      changes: [change],
      blastRadius: BlastRadius(
        models: ["model.acme.stg"], tests: ["test.acme.t"], exposures: ["exposure.acme.d"]),
      nodes: nodes)
  }

  static func draft(_ report: DriftReport) -> FixDraft {
    let name = hostile
    return FixDraft(
      project: report.project, dialect: .sqlite,
      files: [
        DraftedFile(
          path: "models/\(name).sql", original: "select \(name)\n", content: "select '\(name)' as x\n",
          reason: "reason \(name)")
      ],
      questions: [
        Question(
          changeID: report.changes[0].id, kind: .splitTemplate, subject: "subject \(name)",
          prompt: "prompt \(name)", proposal: "{street}, {\(name)}", oldValues: nil, newValues: nil,
          columns: ["street", name], status: .open, answer: nil),
        Question(
          changeID: "c2", kind: .valueMapping, subject: name, prompt: name, proposal: "\(name) → gold",
          oldValues: [name], newValues: ["gold", name], columns: nil, status: .open, answer: nil),
      ],
      expectedFailures: [ExpectedFailure(test: name, changeID: "c2", reason: name)], notes: [name],
      changes: [report.changes[0].id])
  }

  static let chrome = PageChrome(csrf: "csrf123", nonce: "nonce456", notice: hostile, error: hostile)

  /// No tag and no attribute the page did not write itself.
  static func expectInert(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!html.contains("<script>"), sourceLocation: sourceLocation)
    #expect(!html.contains("<img"), sourceLocation: sourceLocation)
    // A name cannot close an attribute or a tag: every quote and bracket of it is an entity.
    #expect(!html.contains("\"><img"), sourceLocation: sourceLocation)
    // The page's only script is its own, under the nonce.
    #expect(html.components(separatedBy: "<script").count - 1 <= 1, sourceLocation: sourceLocation)
  }

  @Test func hostileNamesAreTextOnTheReviewPage() {
    let report = Self.report()
    let page = ReviewPage(
      report: report, draft: Self.draft(report),
      previews: [
        report.changes[0].id: SplitPreview(
          columns: ["street", Self.hostile],
          rows: [.init(key: "1", values: ["street": Self.hostile, Self.hostile: "x"], old: Self.hostile)])
      ], checkedAt: "2026-01-01T00:00:00Z")
    let html = ReviewPageRenderer(toolVersion: "0.1.0").page(page, chrome: Self.chrome)
    Self.expectInert(html)
    #expect(
      html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
    #expect(html.contains("<script nonce=\"nonce456\">"))
    #expect(html.contains("name=\"csrf\" value=\"csrf123\""))
    // Every form carries the CSRF token.
    #expect(
      html.components(separatedBy: "<form ").count == html.components(separatedBy: "name=\"csrf\"").count)
    // Open questions: approve is disabled and says why.
    #expect(html.contains("disabled>approve and write"))
    #expect(html.contains("answer the 2 open questions first"))
  }

  @Test func hostileNamesAreTextOnIncidentPages() {
    let report = Self.report()
    let incident = Incident(
      id: "inc-1\(Self.hostile)", project: Self.hostile, warehouse: Self.hostile, fingerprint: "f",
      report: report, fix: Self.draft(report), ddlEvents: [],
      timeline: [
        TimelineEntry(.detected, at: Timestamp(millisecondsSinceEpoch: 1_000), detail: Self.hostile)
      ])
    let renderer = ReviewPageRenderer(toolVersion: "0.1.0")
    let list = renderer.incidents([incident], chrome: Self.chrome)
    Self.expectInert(list)
    // The id goes into the link as one percent-encoded path component.
    #expect(list.contains("href=\"/incidents/inc-1%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%3E%3Cimg"))
    let markdown = PostmortemRenderer().render(incident)
    let page = renderer.incident(incident, postmortem: markdown, chrome: Self.chrome)
    Self.expectInert(page)
    #expect(page.contains("download markdown"))
  }

  @Test func markdownIsRenderedAndEscaped() {
    let html = MarkdownHTML.render(
      """
      # Title `a|b`

      **Date**: 2026 &lt;b&gt; \\[x\\]
      | Time | Event |
      |---|---|
      | 14:00 | `x \\| y` <i>raw</i> |

      - one **two**
      - three

      ```
      <script>
      ```
      """)
    #expect(html.contains("<h3>Title <code>a|b</code></h3>"))
    #expect(html.contains("<strong>Date</strong>: 2026 &lt;b&gt; [x]"))
    #expect(html.contains("<tr><th>Time</th><th>Event</th></tr>"))
    #expect(html.contains("<td><code>x | y</code> &lt;i&gt;raw&lt;/i&gt;</td>"))
    #expect(html.contains("<ul><li>one <strong>two</strong></li><li>three</li></ul>"))
    #expect(html.contains("<pre><code>&lt;script&gt;</code></pre>"))
    #expect(!html.contains("<i>") && !html.contains("<script>"))
  }

  @Test func blastRadiusIsLaidOutLeftToRight() {
    let report = Self.report(name: "customers")
    let layout = BlastRadiusSVG.layout(report)
    let column = Dictionary(uniqueKeysWithValues: layout.boxes.map { ($0.id, $0.column) })
    #expect(column == [Self.source: 0, "model.acme.stg": 1, "exposure.acme.d": 2])
    #expect(
      Set(layout.edges.map { "\($0.from)>\($0.to)" }) == [
        "\(Self.source)>model.acme.stg", "model.acme.stg>exposure.acme.d",
      ])
    let svg = BlastRadiusSVG.render(report)
    #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>"))
    // Tests are counted on the node they test, not drawn.
    #expect(svg.contains("model · 1 test"))
    #expect(!svg.contains("not_null_customers"))
  }

  @Test func previewRendersTheTemplateOnSampledRows() {
    let renderer = ReviewPageRenderer(toolVersion: "0.1.0")
    let preview = SplitPreview(
      columns: ["street", "city"],
      rows: [
        .init(
          key: "1", values: ["street": "1 Main St", "city": "Springfield"], old: "1 Main St, Springfield"),
        .init(key: "2", values: ["street": "2 Elm St", "city": "Shelbyville"], old: "2 Elm St; Shelbyville"),
      ])
    let html = renderer.previewTable(
      template: "{street}, {city}", columns: ["street", "city"], preview: preview)
    #expect(html.contains("<code>1 Main St, Springfield</code>"))
    #expect(html.contains("rebuilds 1 of 2 sampled rows exactly"))
    let refused = renderer.previewTable(
      template: "{street}, {zip}", columns: ["street", "city"], preview: preview)
    #expect(refused.contains("class=\"error\"") && refused.contains("names column 'zip'"))
    // The proposal without data: its `?` are unknown separators, and the preview says so.
    let unknown = renderer.previewTable(
      template: "{street}?{city}", columns: ["street", "city"], preview: preview)
    #expect(unknown.contains("each ? the proposal has stands for a separator nobody knows yet"))
    #expect(!html.contains("each ? the proposal has"))
  }
}
