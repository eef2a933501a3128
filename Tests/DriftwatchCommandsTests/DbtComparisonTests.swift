import Foundation
import Testing

/// `driftwatch lineage` against real `dbt ls` (dbt-core in the venv scripts/test installs), on a generated
/// 500-model project: scripts/compare_dbt.py asserts that every selector gives the same node set, read from
/// the project files and from dbt's manifest.json.
@Suite("lineage vs dbt ls")
struct DbtComparisonTests {
  static let dbtVariable = "DRIFTWATCH_DBT"

  @Test func lineageSelectsWhatDbtLsLists() throws {
    guard let dbt = ProcessInfo.processInfo.environment[Self.dbtVariable], !dbt.isEmpty else {
      Issue.record(
        "\(Self.dbtVariable) is not set: run scripts/test (it installs dbt-core into .venv-dbt and sets it)")
      return
    }
    #expect(FileManager.default.isExecutableFile(atPath: dbt), "\(Self.dbtVariable)=\(dbt) is not executable")
    let script = CLI.repository.appendingPathComponent("scripts/compare_dbt.py").path
    let result = try Self.run(
      "/usr/bin/env",
      [
        "python3", script, "--models", "500", "--quick", "--driftwatch", try CLI.executable.path, "--dbt",
        dbt,
      ])
    #expect(
      result.status == 0,
      "compare_dbt.py exited \(result.status):\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(3000))")
    #expect(result.stdout.contains("driftwatch lineage (files and manifest) == dbt ls"), "\(result.stdout)")
    #expect(!result.stdout.contains("DIFFERS"))
  }

  /// Runs `executable` with `arguments`, returning its status and output.
  static func run(_ executable: String, _ arguments: [String]) throws -> CLI.Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    process.environment = environment
    process.currentDirectoryURL = CLI.repository
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes while the process runs, so a large output cannot block it.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CLI.Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}
