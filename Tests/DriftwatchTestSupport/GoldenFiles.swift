import Foundation
import Testing

/// Golden files: expected output kept beside the tests, compared byte for byte. `DRIFTWATCH_RECORD_GOLDEN=1`
/// re-records them (review the diff before committing it).
public struct GoldenFiles: Sendable {
  public let directory: URL

  public init(directory: URL) {
    self.directory = directory
  }

  public func check(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    let url = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["DRIFTWATCH_RECORD_GOLDEN"] == "1" {
      try actual.write(to: url, atomically: true, encoding: .utf8)
      return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
      Issue.record(
        "golden file \(name) is missing: run with DRIFTWATCH_RECORD_GOLDEN=1 to record it",
        sourceLocation: sourceLocation)
      return
    }
    #expect(
      actual == expected, "output differs from \(directory.lastPathComponent)/\(name)",
      sourceLocation: sourceLocation)
  }
}
