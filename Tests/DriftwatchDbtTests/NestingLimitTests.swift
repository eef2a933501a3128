import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// Every recursive reader stops at its nesting limit with a typed one-line error naming the file. Tested here at
/// the limit (and one past it); the inputs deep enough to have crashed the readers before (80,000 levels) are
/// run through the built executable in `HostileInputTests`, whose main thread has a full-size stack.
@Suite struct NestingLimitTests {
  static let limit = NestingLimit.documents

  static func flowSequence(_ depth: Int) -> String {
    "key: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
  }

  static func flowMapping(_ depth: Int) -> String {
    "key: " + String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
  }

  /// Block mappings nested `depth` deep, one key per line.
  static func blockMapping(_ depth: Int) -> String {
    (0..<depth).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
  }

  /// The depth of the deepest collection in `node` (the root mapping counts), without recursing.
  static func depth(_ node: YAMLNode) -> Int {
    var deepest = 0
    var pending: [(YAMLNode, Int)] = [(node, 0)]
    while let (node, level) = pending.popLast() {
      switch node {
      case .scalar: deepest = max(deepest, level)
      case .sequence(let items, _):
        deepest = max(deepest, level + 1)
        pending += items.map { ($0, level + 1) }
      case .mapping(let pairs, _):
        deepest = max(deepest, level + 1)
        pending += pairs.map { ($0.value, level + 1) }
      }
    }
    return deepest
  }

  static func expectTooDeep(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
      _ = try YAMLLoader.load(text, path: "models/deep.yml")
      Issue.record("read yaml nested past the limit", sourceLocation: sourceLocation)
    } catch let error as DbtError {
      #expect(error.file == "models/deep.yml", sourceLocation: sourceLocation)
      #expect(
        error.message.contains("nests deeper than \(limit) levels"), "\(error)",
        sourceLocation: sourceLocation)
      #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
    } catch {
      Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test func yamlAtTheLimitIsRead() throws {
    // The root mapping is one level: `limit - 1` brackets inside it reach the limit exactly.
    for text in [
      Self.flowSequence(Self.limit - 1), Self.flowMapping(Self.limit - 1), Self.blockMapping(Self.limit),
    ] {
      let root = try #require(try YAMLLoader.load(text, path: "models/deep.yml"))
      #expect(Self.depth(root) == Self.limit)
      // libyaml alone reads it the same.
      var copy = text
      let reference = try copy.withUTF8 { try YAMLLoader.libyaml($0, path: "models/deep.yml") }
      #expect(reference == root)
    }
  }

  @Test func yamlPastTheLimitIsOneTypedError() {
    Self.expectTooDeep(Self.flowSequence(Self.limit))
    Self.expectTooDeep(Self.flowMapping(Self.limit))
    Self.expectTooDeep(Self.blockMapping(Self.limit + 1))
    // Past libyaml's own limit (1,000), its message is not the one given.
    Self.expectTooDeep(Self.flowSequence(1_500))
  }

  @Test func manifestValuesPastTheLimit() throws {
    func manifest(_ depth: Int) -> Data {
      let kwargs = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
      return Data(
        ("{\"metadata\": {\"project_name\": \"p\"}, \"sources\": {}, \"nodes\": {\"test.p.t\": "
          + "{\"resource_type\": \"test\", \"name\": \"t\", \"package_name\": \"p\", "
          + "\"test_metadata\": {\"name\": \"not_null\", \"kwargs\": {\"deep\": \(kwargs)}}, "
          + "\"depends_on\": {\"nodes\": []}}}}").utf8)
    }
    // Path to the array: nodes, test.p.t, test_metadata, kwargs, deep: five steps.
    _ = try ManifestReader.read(data: manifest(Self.limit - 5), path: "target/manifest.json")
    #expect {
      _ = try ManifestReader.read(data: manifest(Self.limit - 4), path: "target/manifest.json")
    } throws: { error in
      let message = (error as? DbtError)?.message ?? ""
      return message.hasPrefix(
        "target/manifest.json: not a dbt manifest (json nested deeper than \(Self.limit)")
        && message.contains("nodes.test.p.t.test_metadata.kwargs") && message.count < 300
    }
  }

  @Test func templateExpressionsPastTheLimit() throws {
    let limit = NestingLimit.expressions
    let context = TemplateContext(environment: ["H": "db"])
    func nested(_ depth: Int) -> String {
      // `depth` expressions: the outermost, and `depth - 1` parenthesised ones inside it.
      "{{ " + String(repeating: "(", count: depth - 1) + "'db'" + String(repeating: ")", count: depth - 1)
        + " }}"
    }
    #expect(try TemplateRenderer.render(nested(limit), context: context) == "db")
    #expect(throws: TemplateError.self) { try TemplateRenderer.render(nested(limit + 1), context: context) }
    do {
      _ = try TemplateRenderer.render(nested(limit + 1), context: context)
    } catch {
      #expect(error.problem.contains("nests deeper than \(limit) levels"))
      #expect(error.problem.count < 120)
    }
    // Calls inside calls count too.
    let calls = String(repeating: "var(", count: limit + 1) + "'x'" + String(repeating: ")", count: limit + 1)
    #expect(throws: TemplateError.self) { try TemplateRenderer.render("{{ \(calls) }}", context: context) }
  }

  @Test func profileHostPastTheLimitNamesTheFileAndKey() throws {
    let depth = NestingLimit.expressions + 5
    let host =
      "{{ " + String(repeating: "(", count: depth) + "'h'" + String(repeating: ")", count: depth) + " }}"
    let project = try TemporaryProject([
      "dbt_project.yml": "name: shop\nprofile: shop\n",
      "profiles.yml": """
      shop:
        target: dev
        outputs:
          dev: {type: postgres, host: "\(host)", user: u, password: pw, dbname: d, schema: s}
      """,
    ])
    defer { project.remove() }
    #expect {
      _ = try ProfilesReader.locator(
        profilesDirectory: project.directory, projectDirectory: project.directory, profileName: nil,
        target: nil,
        environment: [:])
    } throws: { error in
      let message = (error as? DbtError)?.message ?? ""
      return message.contains("profiles.yml:") && message.contains("`host`")
        && message.contains("nests deeper than \(NestingLimit.expressions) levels")
    }
  }
}
