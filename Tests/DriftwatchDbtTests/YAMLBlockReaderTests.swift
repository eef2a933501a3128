import Foundation
import Testing

@testable import DriftwatchDbt

/// The fast reader must give libyaml's tree (texts, plain flags, marks) for every document it reads, and
/// decline what it does not read. libyaml is the reference.
@Suite struct YAMLBlockReaderTests {
  enum Reading: Equatable {
    case same
    case declined
    case different(String)
  }

  static func compare(_ text: String) -> Reading {
    var text = text
    return text.withUTF8 { bytes in
      guard case .document(let fast) = YAMLBlockReader.read(bytes) else { return .declined }
      let reference: YAMLNode?
      do {
        reference = try YAMLLoader.libyaml(bytes, path: "x.yml")
      } catch {
        return .different(
          "libyaml fails (\(error)) on a document the fast reader read: \(String(describing: fast))")
      }
      return fast == reference
        ? .same : .different("fast \(String(describing: fast))\nlibyaml \(String(describing: reference))")
    }
  }

  /// Shapes dbt projects use: read by the fast reader, exactly as libyaml reads them.
  static let read: [String] = [
    "",
    "# only a comment\n\n",
    "version: 2\n",
    "a: 1\nb: two words  \nc: 'single ''quoted'''\nd: \"double \\\"quoted\\\" \\\\ \\n \\t /\"\n",
    "models:\n  - name: m\n    description: A model, with commas; no. (parens) [brackets] {braces}\n",
    "models:\n- name: m\n  columns:\n  - name: id\n    data_tests:\n    - unique\n    - not_null\n",
    "sources:\n  - name: s   # trailing comment\n    tags: [\"a\", b, 'c']\n    meta: {owner: x, n: 1}\n",
    "x:\n  - name: t\n    data_tests:\n      - relationships:\n          arguments:\n            to: source('s', 't')\n"
      + "            field: id\n      - accepted_values:\n          values: ['a', 'b', \"c d\"]\n",
    "key:   # a comment after the key\n  nested: true\n\n\n# trailing comment\n",
    "a: [[1, 2], [], {}, {k: [x, y]}]\nb: {}\nc: []\n",
    "list:\n  -\n    name: after a bare dash\n  - plain item\n  - 'quoted item'\n  - [flow, item]\n",
    "'quoted key': 1\n\"other key\"  : 2\nspaced key : 3\n",
    "a: -1\nb: 1.5e3\nc: null\nd: ~\ne: yes\nf: 0x1F\ng: a#b\nh: http://example.com/x\n",
    "  indented:\n    root: 1\n",
    "a:\n    b:\n        c: deep\n    d: back\ne: top\n",
  ]

  /// What the fast reader leaves to libyaml (which reads it, or reports the error).
  static let declined: [String] = [
    "a: |\n  block\n", "a: >\n  folded\n", "a: &x 1\nb: *x\n", "a: !tag x\n", "<<: {a: 1}\n",
    "a: 1\na: 2\n", "a:\nb: 1\n", "a: plain\n  continued\n", "- a\n  b\n", "---\na: 1\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 'two\n  lines'\n", "a: [1,\n  2]\n", "a:\tb\n", "a: b\r\n", "a: caf\u{e9}\n", "? complex\n: key\n",
    "- - nested\n", "a: b: c\n", "a: \"\\u0041\"\n", "a: [x: y]\n", "a: [1, , 2]\n", "a: [1, 2,]\n",
    "just a scalar\n", String(repeating: "k", count: 1_100) + ": 1\n", "a: 'x' trailing\n", "a: [http://x]\n",
    "- {a: b}\n", "a:\n  - x\n b: 1\n",
  ]

  @Test func readsTheShapesDbtUsesExactlyAsLibyaml() {
    for text in Self.read {
      #expect(Self.compare(text) == .same, "\(text)")
    }
  }

  @Test func leavesEverythingElseToLibyaml() {
    for text in Self.declined {
      #expect(Self.compare(text) == .declined, "\(text)")
    }
  }

  @Test func marksAreLibyamlsForMappingsSequencesAndScalars() throws {
    var text = "models:\n  - name: m\n    tags: [a, 'b']\n"
    let root = try text.withUTF8 { bytes -> YAMLNode? in
      guard case .document(let root) = YAMLBlockReader.read(bytes) else { return nil }
      return root
    }
    let models = try #require(root?["models"])
    #expect(models.mark == YAMLMark(line: 2, column: 3))
    let model = try #require(models.items?.first)
    #expect(model.mark == YAMLMark(line: 2, column: 5))
    #expect(model["tags"]?.mark == YAMLMark(line: 3, column: 11))
    #expect(model["tags"]?.items?.last?.mark == YAMLMark(line: 3, column: 15))
    #expect(model.pairs?.last?.keyMark == YAMLMark(line: 3, column: 5))
  }

  /// Every yml the repository holds (fixtures, examples) and a generated 300-model project: each file the fast
  /// reader reads gives libyaml's tree, and it reads all of the generated project's.
  @Test func repositoryAndGeneratedProjectFiles() throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let generated = FileManager.default.temporaryDirectory.appendingPathComponent(
      "driftwatch-yaml-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: generated) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", repository.appendingPathComponent("scripts/generate_project.py").path, "--models", "300",
      "--out", generated.path,
    ]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)

    func ymlFiles(_ directory: URL) -> [URL] {
      let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
      return (walker?.allObjects as? [URL] ?? []).filter {
        ($0.pathExtension == "yml" || $0.pathExtension == "yaml") && !$0.path.contains("/.build")
          && !$0.path.contains("/.venv")
      }
    }
    var read = 0
    for file in ymlFiles(repository.appendingPathComponent("Tests"))
      + ymlFiles(
        repository.appendingPathComponent("examples"))
    {
      let reading = Self.compare(try String(contentsOf: file, encoding: .utf8))
      #expect(reading != .different(""), "\(file.path)")
      if case .different(let detail) = reading { Issue.record("\(file.path): \(detail)") }
      if reading == .same { read += 1 }
    }
    #expect(read > 0)
    let generatedFiles = ymlFiles(generated)
    #expect(generatedFiles.count > 20)
    for file in generatedFiles {
      let reading = Self.compare(try String(contentsOf: file, encoding: .utf8))
      #expect(reading == .same, "\(file.path): \(reading)")
    }
  }

  /// Random documents built from dbt-like pieces, some of them broken: whatever the fast reader reads must
  /// be what libyaml reads.
  @Test func randomDocumentsAgreeWithLibyaml() {
    var generator = SplitMix(seed: 7)
    let scalars = [
      "a", "two words", "'q'", "\"d\"", "-1", "x: y", "a#b", "a #c", "[1, 2]", "{k: v}", "[]", "''",
      "\"\\n\"",
      "'it''s'", "http://x", "null", "|", "&a x", "*a", "~", "[a, [b, c]]", "{a: [b]}", "[a,b]", ": x",
      "'a: b'", "\"x # y\"", "a  ", "[ a , b ]", "{ a: 1 , b: 'c' }", "- x", "a, b", "x # c", "'",
    ]
    let keys = [
      "name", "tags", "'quoted'", "x y", "data_tests", "columns", "a", "a", "<<", "?", "key  ", "\"k\"",
    ]
    var agreed = 0
    for _ in 0..<3_000 {
      var lines: [String] = []
      var depth = 0
      for _ in 0..<Int(generator.next() % 8 + 1) {
        let pad = String(repeating: " ", count: depth * 2 + Int(generator.next() % 5 == 0 ? 1 : 0))
        let key = keys[Int(generator.next() % UInt64(keys.count))]
        let value = scalars[Int(generator.next() % UInt64(scalars.count))]
        switch generator.next() % 6 {
        case 0:
          lines.append("\(pad)\(key):")
          depth += 1
        case 1: lines.append("\(pad)- \(value)")
        case 2: lines.append("\(pad)- \(key): \(value)")
        case 3:
          lines.append(generator.next() % 2 == 0 ? "\(pad)# comment" : "")
        default:
          lines.append("\(pad)\(key): \(value)")
          if depth > 0, generator.next() % 3 == 0 { depth -= 1 }
        }
      }
      let reading = Self.compare(lines.joined(separator: "\n") + "\n")
      if case .different(let detail) = reading {
        Issue.record("\(lines.joined(separator: "\n"))\n\(detail)")
      }
      if reading == .same { agreed += 1 }
    }
    #expect(agreed > 100)
  }
}

/// A small deterministic generator (SplitMix64), so a failure can be replayed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
