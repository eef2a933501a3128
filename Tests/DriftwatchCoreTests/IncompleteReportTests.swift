import DriftwatchCore
import DriftwatchReports
import Testing

/// A drift report that is not exact says so in every format (docs/report-schema.md, "Incomplete nodes").
@Suite struct IncompleteReportTests {
  private func report(incomplete: [IncompleteNode]?) -> DriftReport {
    var report = DriftReport(
      project: "shop", warehouse: "memory", schemas: ["raw"], sourcesChecked: 1,
      changes: [
        DriftChange(
          kind: .tableMissing, source: "raw.orders", sourceID: "source.shop.raw.orders", relation: nil,
          from: nil, to: nil, confidence: 1, breaking: true, evidence: [],
          blastRadius: BlastRadius(models: ["model.shop.stg_orders"]))
      ], blastRadius: BlastRadius(models: ["model.shop.stg_orders"]), nodes: [:])
    report.incomplete = incomplete
    return report
  }

  private let node = IncompleteNode(
    uniqueID: "model.shop.stg_orders",
    reasons: [
      Incompleteness(
        kind: .dynamicCall, effects: [.missingEdges], file: "models/stg_orders.sql", line: 4,
        construct: "ref(…)")
    ])

  @Test func everyFormatMarksIt() throws {
    let renderer = DriftReportRenderer(toolVersion: "test")
    let inexact = report(incomplete: [node])
    let text = renderer.render(inexact, as: .text)
    #expect(text.contains("⚠ not exact: 1 node this answer depends on"))
    #expect(text.contains("[incomplete]"))
    #expect(text.contains("incomplete: model.shop.stg_orders  models/stg_orders.sql:4: ref(…) has arguments"))
    let json = renderer.render(inexact, as: .json)
    #expect(
      json.contains(
        "\"exact\": false,\n  \"incomplete\": [\n    {\n      \"unique_id\": \"model.shop.stg_orders\""))
    #expect(json.contains("\"kind\": \"dynamic_call\""))
    #expect(json.contains("\"effects\": [\n            \"missing_edges\"\n          ]"))
    let markdown = renderer.render(inexact, as: .markdown)
    #expect(markdown.contains("> ⚠️ **Not exact**"))
    #expect(markdown.contains("- `model.shop.stg_orders` — `models/stg_orders.sql:4`"))
  }

  @Test func anExactReportLooksAsBefore() {
    let renderer = DriftReportRenderer(toolVersion: "test")
    for incomplete in [nil, [IncompleteNode]()] {
      let exact = report(incomplete: incomplete)
      #expect(exact.exact)
      #expect(!renderer.render(exact, as: .text).contains("incomplete"))
      #expect(!renderer.render(exact, as: .markdown).contains("Not exact"))
      #expect(renderer.render(exact, as: .json).contains("\"exact\": true,\n  \"incomplete\": [],"))
    }
  }
}
