import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// A deterministic generator (SplitMix64): the same inputs on every run, so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}

/// Small fuzzing that runs with the suite: random and mutated input through every reader, with fixed seeds.
/// Invariants: no crash, no hang (every input well under a second), and either a result or a typed
/// `UserFacingError` (for the template renderer, its `TemplateError`).
@Suite struct ReaderFuzzTests {
  static let projectFiles = Fixtures.jaffleDrift

  /// Texts made of `pieces`, up to `length` pieces long.
  static func random(_ pieces: [String], length: Int, using generator: inout SeededGenerator) -> String {
    let count = Int.random(in: 0...length, using: &generator)
    return (0..<count).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
  }

  /// `text` changed in one of several ways: bytes flipped, cut short, a slice repeated, deep nesting inserted,
  /// garbage bytes inserted.
  static func mutate(_ text: String, using generator: inout SeededGenerator) -> [UInt8] {
    var bytes = Array(text.utf8)
    guard !bytes.isEmpty else { return bytes }
    let at = Int.random(in: 0..<bytes.count, using: &generator)
    switch Int.random(in: 0..<6, using: &generator) {
    case 0:
      for _ in 0..<Int.random(in: 1...8, using: &generator) {
        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
          in: 0...255, using: &generator)
      }
    case 1:
      bytes.removeSubrange(at...)
    case 2:
      let end = min(bytes.count, at + Int.random(in: 1...200, using: &generator))
      bytes.insert(contentsOf: bytes[at..<end], at: at)
    case 3:
      let depth = Int.random(in: 100...1_200, using: &generator)
      let brackets = [("[", "]"), ("{a: ", "}"), ("{\"a\": ", "}")]
      let (open, close) = brackets[Int.random(in: 0..<brackets.count, using: &generator)]
      let closing = Bool.random(using: &generator) ? String(repeating: close, count: depth) : ""
      bytes.insert(contentsOf: Array((String(repeating: open, count: depth) + closing).utf8), at: at)
    case 4:
      bytes.insert(
        contentsOf: (0..<Int.random(in: 1...64, using: &generator)).map { _ in
          UInt8.random(in: 0...255, using: &generator)
        },
        at: at)
    default:
      bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...50, using: &generator)))
    }
    return bytes
  }

  /// Runs `body`, checking it ends quickly and either returns or throws one of `allowed`.
  static func check(
    _ input: @autoclosure () -> String, allowed: (any Error) -> Bool, _ body: () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let start = ContinuousClock.now
    do {
      try body()
    } catch {
      #expect(
        allowed(error), "untyped error \(error) for \(input().prefix(300).debugDescription)",
        sourceLocation: sourceLocation)
      if let typed = error as? any UserFacingError {
        #expect(
          !typed.message.isEmpty && !typed.message.contains("\n"),
          "not one line: \(typed.message.prefix(300))",
          sourceLocation: sourceLocation)
      }
    }
    let elapsed = ContinuousClock.now - start
    #expect(
      elapsed < .seconds(2), "took \(elapsed) for \(input().prefix(300).debugDescription)",
      sourceLocation: sourceLocation)
  }

  static let yamlPieces = [
    "[", "]", "{", "}", ":", ": ", " ", "  ", "\n", "- ", "-", "'", "\"", "a", "name", "#", "&x ", "*x",
    "<<: ",
    "\t", "|", ">", "%", "!", "!!str ", "?", ",", "\u{0}", "é", "\r", "---\n", "...", "\\", "1", "0x1F", "~",
    "version: 2\n", "sources:\n", "  - name: raw\n", "    tables:\n", "      - name: t\n",
  ]

  @Test func randomAndMutatedYAML() throws {
    var generator = SeededGenerator(seed: 0x5EED_0001)
    let seeds = try ["models/marts/_marts.yml", "models/staging/_staging.yml", "dbt_project.yml"].map {
      try String(contentsOfFile: Self.projectFiles + "/" + $0, encoding: .utf8)
    }
    var tried = 0
    for round in 0..<300 {
      let bytes: [UInt8]
      if round % 3 == 0 {
        bytes = Array(Self.random(Self.yamlPieces, length: 120, using: &generator).utf8)
      } else {
        bytes = Self.mutate(seeds[round % seeds.count], using: &generator)
      }
      let text = String(decoding: bytes, as: UTF8.self)
      Self.check(text, allowed: { $0 is DbtError }) { _ = try YAMLLoader.load(text, path: "models/fuzz.yml") }
      tried += 1
    }
    #expect(tried == 300)
  }

  /// Mutated yml files in a copy of a real project, read by the whole project reader.
  @Test func mutatedProjectFiles() throws {
    var generator = SeededGenerator(seed: 0x5EED_0002)
    let marts = try String(contentsOfFile: Self.projectFiles + "/models/marts/_marts.yml", encoding: .utf8)
    let project = try String(contentsOfFile: Self.projectFiles + "/dbt_project.yml", encoding: .utf8)
    let copy = try TemporaryProject([
      "dbt_project.yml": project, "models/a.sql": "select 1 as id",
      "models/b.sql": "select * from {{ ref('a') }}",
    ])
    defer { copy.remove() }
    for round in 0..<60 {
      let target = round % 4 == 0 ? "dbt_project.yml" : "models/fuzz.yml"
      let mutated = Data(Self.mutate(round % 4 == 0 ? project : marts, using: &generator))
      try mutated.write(to: URL(fileURLWithPath: copy.path(target)))
      Self.check(String(decoding: mutated, as: UTF8.self), allowed: { $0 is any UserFacingError }) {
        _ = try DbtProjectReader.read(projectDirectory: copy.directory)
      }
      if target == "dbt_project.yml" {
        try project.write(toFile: copy.path(target), atomically: true, encoding: .utf8)
      }
    }
  }

  @Test func mutatedManifests() throws {
    var generator = SeededGenerator(seed: 0x5EED_0003)
    let manifest = try String(contentsOfFile: Self.projectFiles + "/target/manifest.json", encoding: .utf8)
    for _ in 0..<100 {
      let mutated = Data(Self.mutate(manifest, using: &generator))
      Self.check(String(decoding: mutated.prefix(300), as: UTF8.self), allowed: { $0 is DbtError }) {
        _ = try ManifestReader.read(data: mutated, path: "target/manifest.json")
      }
    }
  }

  static let jinjaPieces = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "ref(", "source(", "config(", "dbt.ref(", "'", "\"",
    "(",
    ")", "[", "]", ",", " raw ", " endraw ", "\\", "\n", "=", "a", "b", "-", "~", "|", " ", "{", "}",
    "snapshot ",
    "endsnapshot", "enabled=false", "tags=[", "#", "'''", "\"\"\"", "env_var(", "var(", "target.", "lower",
    "1",
  ]

  @Test func randomTemplates() {
    var generator = SeededGenerator(seed: 0x5EED_0004)
    let context = TemplateContext(environment: ["a": "x"], vars: ["a": "y"], target: ["schema": "s"])
    for round in 0..<300 {
      var text = Self.random(Self.jinjaPieces, length: 60, using: &generator)
      if round % 10 == 0 {
        // Deep nesting, past every limit.
        let depth = Int.random(in: 50...3_000, using: &generator)
        text =
          "{{ " + String(repeating: "(", count: depth) + text + String(repeating: ")", count: depth) + " }}"
      }
      Self.check(text, allowed: { $0 is JinjaScanError }) { _ = try JinjaScanner.scan(text) }
      Self.check(text, allowed: { $0 is JinjaScanError }) { _ = try JinjaScanner.scanExpression(text) }
      Self.check(text, allowed: { $0 is JinjaScanError }) { _ = try JinjaScanner.scanPython(text) }
      Self.check(text, allowed: { $0 is TemplateError }) {
        _ = try TemplateRenderer.render(text, context: context)
      }
    }
  }

  static let selectorPieces = [
    "+", "@", "1", "2", ":", ",", " ", "*", "?", "[", "]", "!", ".", "/", "tag", "source", "path", "fqn",
    "resource_type", "model", "state", "config.materialized", "a", "b", "\t", "-", "\u{0}", "é",
  ]

  @Test func randomSelectors() {
    var generator = SeededGenerator(seed: 0x5EED_0005)
    for _ in 0..<300 {
      let select = Self.random(Self.selectorPieces, length: 30, using: &generator)
      let exclude =
        Bool.random(using: &generator) ? Self.random(Self.selectorPieces, length: 10, using: &generator) : nil
      Self.check(select, allowed: { $0 is InputError }) {
        _ = try NodeSelector.parse(select: select, exclude: exclude)
      }
    }
  }
}
