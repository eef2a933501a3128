import DriftwatchTestSupport
import Foundation
import Testing

/// Runs the real `driftwatch` executable that `swift build` put beside the test bundle.
struct CLI {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
  static let acme = repository.appendingPathComponent("examples/acme").path

  static var executable: URL {
    get throws {
      var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("driftwatch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
      }
      throw CLIError(
        "driftwatch executable not found near \(CommandLine.arguments[0]): run `swift build` first")
    }
  }

  /// Runs driftwatch with `arguments`.
  @discardableResult
  static func run(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil)
    async throws -> Result
  {
    try await run(executable: try executable, arguments, environment: environment, directory: directory)
  }

  /// Runs any program, reading its output while it runs; `NO_COLOR` is set. The wait happens on a Dispatch
  /// thread, not on the test's: Swift Testing runs tests in parallel on the cooperative pool (two threads
  /// here), and a test blocked in a subprocess for seconds (dbt build) starved every other async test.
  static func run(
    executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
  ) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Swift.Result {
            try runBlocking(executable: executable, arguments, environment: environment, directory: directory)
          })
      }
    }
  }

  private static func runBlocking(
    executable: URL, _ arguments: [String], environment: [String: String], directory: String?
  ) throws -> Result {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (key, value) in environment { env[key] = value }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let (outData, errData) = try ProcessOutput.run(process)
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  static func json(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let dictionary = object as? [String: Any] else {
      throw CLIError("not a JSON object: \(text.prefix(200))")
    }
    return dictionary
  }

  static func read(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
  }
}

struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A fresh temporary directory, removed by `remove()`.
struct Scratch {
  let path: String

  init() throws {
    path =
      FileManager.default.temporaryDirectory.appendingPathComponent("driftwatch-test-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> String { path + "/" + name }
  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Golden files live in Tests/DriftwatchCommandsTests/Golden; `DRIFTWATCH_RECORD_GOLDEN=1` re-records them.
let golden = GoldenFiles(
  directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"))
