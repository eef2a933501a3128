import Foundation
import Testing

/// `driftwatch lineage` against real `dbt ls` (dbt-core in the venv scripts/test installs), on a generated
/// 500-model project: scripts/compare_dbt.py asserts that every selector gives the same node set, read from
/// the project files and from dbt's manifest.json.
@Suite("lineage vs dbt ls")
struct DbtComparisonTests {
  static let dbtVariable = "DRIFTWATCH_DBT"

  @Test func lineageSelectsWhatDbtLsLists() async throws {
    guard let dbt = ProcessInfo.processInfo.environment[Self.dbtVariable], !dbt.isEmpty else {
      Issue.record(
        "\(Self.dbtVariable) is not set: run scripts/test (it installs dbt-core into .venv-dbt and sets it)")
      return
    }
    #expect(FileManager.default.isExecutableFile(atPath: dbt), "\(Self.dbtVariable)=\(dbt) is not executable")
    let script = CLI.repository.appendingPathComponent("scripts/compare_dbt.py").path
    let result = try await CLI.run(
      executable: URL(fileURLWithPath: "/usr/bin/env"),
      [
        "python3", script, "--models", "500", "--quick", "--driftwatch", try CLI.executable.path, "--dbt",
        dbt,
      ], directory: CLI.repository.path)
    #expect(
      result.status == 0,
      "compare_dbt.py exited \(result.status):\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(3000))")
    #expect(result.stdout.contains("driftwatch lineage (files and manifest) == dbt ls"), "\(result.stdout)")
    #expect(!result.stdout.contains("DIFFERS"))
  }
}
