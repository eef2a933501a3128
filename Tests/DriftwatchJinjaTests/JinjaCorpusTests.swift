import DriftwatchJinja
import Foundation
import Testing

/// One case of the corpus rendered by real Jinja2 (scripts/jinja/render_corpus.py).
struct CorpusCase: Sendable, CustomTestStringConvertible {
  var name: String
  var template: String
  var contextJSON: String
  var output: String?
  var error: String?
  var testDescription: String { name }

  static func load() -> [CorpusCase] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/jinja2-corpus.json")
    guard let text = try? String(contentsOf: url, encoding: .utf8),
      case .list(let items) = try? JSON.parse(text)
    else { return [] }
    return items.items.compactMap { item in
      guard case .dict(let d) = item, case .string(let name)? = d.get("name"),
        case .string(let template)? = d.get("template"), let context = d.get("context")
      else { return nil }
      return CorpusCase(
        name: name, template: template, contextJSON: (try? JSON.dump(context)) ?? "{}",
        output: d.get("output")?.stringValue, error: d.get("error")?.stringValue)
    }
  }
}

@Suite struct JinjaCorpusTests {
  static let cases = CorpusCase.load()

  @Test func corpusIsLoaded() {
    #expect(Self.cases.count > 100)
  }

  @Test(arguments: cases)
  func rendersLikeJinja2(_ c: CorpusCase) throws {
    var context: [String: Value] = [:]
    if case .dict(let d) = try JSON.parse(c.contextJSON) {
      for entry in d.entries { context[entry.key.str] = entry.value }
    }
    if let expected = c.output {
      let template = try Template(c.template, file: "corpus.sql")
      let output = try template.render(context)
      #expect(output == expected)
    } else {
      #expect(throws: JinjaError.self, "jinja2 raised \(c.error ?? "")") {
        _ = try Template(c.template, file: "corpus.sql").render(context)
      }
    }
  }
}
