import DriftwatchTestSupport
import Foundation
import Testing

/// The drift benchmark at its small size (one scenario of each of its 25 kinds and traps, schema-only and
/// with a snapshot) against the built executable: `scripts/drift_benchmark.py --size small --json`, its three
/// targets asserted. The full size and its figures are in docs/benchmarks.md.
@Suite("drift benchmark (small)")
struct DriftBenchmarkTests {
  static let script = CLI.repository.appendingPathComponent("scripts/drift_benchmark.py").path

  /// The `python` next to `DRIFTWATCH_DBT`, else `python3` on PATH; a recorded issue when `CI` is set and
  /// neither is found, a skip note otherwise.
  static func python() -> URL? {
    let environment = ProcessInfo.processInfo.environment
    if let dbt = environment["DRIFTWATCH_DBT"], !dbt.isEmpty {
      let python = URL(fileURLWithPath: dbt).deletingLastPathComponent().appendingPathComponent("python")
      if FileManager.default.isExecutableFile(atPath: python.path) { return python }
    }
    for directory in (environment["PATH"] ?? "").split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    let message =
      "no Python for scripts/drift_benchmark.py: neither a python next to DRIFTWATCH_DBT nor python3 on PATH (run scripts/test, which sets DRIFTWATCH_DBT)"
    if environment["CI"] != nil { Issue.record(Comment(rawValue: message)) }
    return nil
  }

  @Test(.timeLimit(.minutes(5)))
  func smallBenchmarkMeetsItsTargets() async throws {
    guard let python = Self.python() else { return }
    let run = try await CLI.run(
      executable: python,
      [
        Self.script, "--size", "small", "--seed", "7", "--json", "--driftwatch", try CLI.executable.path,
      ])
    #expect(run.status == 0 || run.status == 1, "the benchmark did not run: \(run.stderr.prefix(2000))")
    let summary = try CLI.json(run.stdout)
    let scenarios = try #require(summary["scenarios"] as? Int)
    #expect(scenarios >= 25)
    #expect((summary["errors"] as? [Any])?.isEmpty == true, "\(summary["errors"] ?? "")")

    let recall = try #require(summary["recall"] as? Double)
    #expect(recall >= 0.95, "recall \(recall); misses: \(summary["misses"] ?? "")")
    #expect(
      summary["wrong_claims_at_or_above_0_5"] as? Int == 0,
      "wrong claims: \(summary["wrong_claims"] ?? "")")
    let bins = try #require(summary["calibration"] as? [[String: Any]])
    #expect(!bins.isEmpty)
    for bin in bins {
      #expect(bin["within_target"] as? Bool == true, "calibration bin off: \(bin)")
    }
    #expect(summary["targets_met"] as? Bool == true)
    #expect(run.status == 0)
  }
}
