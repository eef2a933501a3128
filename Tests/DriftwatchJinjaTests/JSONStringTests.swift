import DriftwatchJinja
import Foundation
import Testing

/// `JSON.quoted` (the one JSON string writer: `tojson` and `dbt ls --output json`) writes what Python's
/// `json.dumps` writes: controls, DEL and everything non-ASCII escaped.
@Suite struct JSONStringTests {
  /// Code points that cover every escape class: all of ASCII (controls, the named escapes, DEL), the Latin-1
  /// controls, non-ASCII letters, line/paragraph separators, the last BMP scalar, and astral ones (surrogate
  /// pairs).
  static let codePoints: [UInt32] =
    Array(0...0xA0) + [0xE9, 0x2028, 0x2029, 0x20AC, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF]

  /// As printed by Python 3's `json.dumps("a\x7fb\x00\x1f\x08\x0c\n\r\t\"\\é€😀\u2028~")`.
  @Test func writesWhatPythonWritesForDELControlsAndNonASCII() throws {
    let text = "a\u{7f}b\u{0}\u{1f}\u{8}\u{c}\n\r\t\"\\é€😀\u{2028}~"
    #expect(
      JSON.quoted(text)
        == #""a\u007fb\u0000\u001f\b\f\n\r\t\"\\\u00e9\u20ac\ud83d\ude00\u2028~""#)
    #expect(try JSON.dump(.string(text)) == JSON.quoted(text))
  }

  /// Every code point of `codePoints`, alone and all in one string, against the real `json.dumps` (the Python
  /// of dbt's venv, next to `DRIFTWATCH_DBT`).
  @Test func matchesPythonJSONDumps() throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (its venv's python is the reference)")
      return
    }
    let python = URL(fileURLWithPath: dbt).deletingLastPathComponent().appendingPathComponent("python")
    let inputs = Self.codePoints.map { [$0] } + [Self.codePoints]
    // Code points in, one json.dumps per line out: nothing non-ASCII crosses the pipe unescaped.
    let script = """
      import json, sys
      for line in sys.stdin.read().split("\\n"):
          if line:
              print(json.dumps("".join(chr(int(c)) for c in line.split(","))))
      """
    let process = Process()
    process.executableURL = python
    process.arguments = ["-c", script]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let request = inputs.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "\n") + "\n"
    input.fileHandleForWriting.write(Data(request.utf8))
    try input.fileHandleForWriting.close()
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let expected = printed.split(separator: "\n").map(String.init)
    try #require(expected.count == inputs.count)
    for (scalars, theirs) in zip(inputs, expected) {
      var text = ""
      text.unicodeScalars.append(contentsOf: scalars.compactMap(Unicode.Scalar.init))
      #expect(JSON.quoted(text) == theirs, "code points \(scalars.prefix(4))…")
    }
  }
}
