import DriftwatchCore
import Foundation

/// Runs one of driftwatch's macros through dbt and returns what dbt printed. The real one starts
/// `dbt run-operation`; the recorded twin (tests) answers from a recorded run's output.
public protocol DbtOperationRunner: Sendable {
  /// `request` is the `driftwatch_request()` macro's file (`BridgeMacros.requestFile`).
  func run(operation: String, request: String) async throws -> DbtRunOutput
}

public struct DbtRunOutput: Sendable, Hashable {
  public var stdout: String
  public var stderr: String
  public var exitCode: Int32
  public var seconds: Double

  public init(stdout: String, stderr: String, exitCode: Int32, seconds: Double = 0) {
    self.stdout = stdout
    self.stderr = stderr
    self.exitCode = exitCode
    self.seconds = seconds
  }
}

/// Where dbt and the user's profile are.
public struct DbtInvocation: Sendable, Hashable {
  /// The dbt executable.
  public var dbt: String
  /// The directory dbt runs in: the user's project (relative paths in profiles.yml, such as a DuckDB file,
  /// resolve as they do for the user's own dbt runs).
  public var workingDirectory: String
  public var profilesDirectory: String
  public var profile: String
  public var target: String?
  public var environment: [String: String]
  /// A run of dbt taking longer than this is stopped (SIGTERM, then SIGKILL) and reported: never a hang.
  public var timeout: Duration

  public init(
    dbt: String, workingDirectory: String, profilesDirectory: String, profile: String, target: String?,
    environment: [String: String], timeout: Duration = .seconds(600)
  ) {
    self.timeout = timeout
    self.dbt = dbt
    self.workingDirectory = workingDirectory
    self.profilesDirectory = profilesDirectory
    self.profile = profile
    self.target = target
    self.environment = environment
  }

  /// `--dbt PATH`, else `DRIFTWATCH_DBT`, else `dbt` on PATH; nil when none is found.
  public static func findDbt(_ explicit: String?, environment: [String: String]) -> String? {
    if let explicit, !explicit.isEmpty { return explicit }
    if let configured = environment["DRIFTWATCH_DBT"], !configured.isEmpty { return configured }
    for directory in (environment["PATH"] ?? "").split(separator: ":") {
      let candidate = "\(directory)/dbt"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// `dbt run-operation` in a private temporary project (0700) holding driftwatch's macros and the step's
/// request; the directory is removed after the run. dbt reads the user's profiles.yml itself: credentials stay
/// there and are never passed on a command line.
public struct DbtProcessRunner: DbtOperationRunner {
  public var invocation: DbtInvocation

  public init(invocation: DbtInvocation) { self.invocation = invocation }

  public func run(operation: String, request: String) async throws -> DbtRunOutput {
    let directory = try Self.makeProject(profile: invocation.profile, request: request)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var arguments = [
      "run-operation", operation, "--project-dir", directory, "--profiles-dir", invocation.profilesDirectory,
      "--profile", invocation.profile, "--log-format", "json", "--no-use-colors", "--log-path",
      directory + "/logs", "--target-path", directory + "/target",
    ]
    if let target = invocation.target { arguments += ["--target", target] }
    var environment = invocation.environment
    environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    environment["DBT_PARTIAL_PARSE"] = "false"
    environment.removeValue(forKey: "DBT_PROJECT_DIR")
    let invocation = self.invocation
    let (finalArguments, finalEnvironment) = (arguments, environment)
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            try Self.runProcess(
              invocation.dbt, arguments: finalArguments, environment: finalEnvironment,
              directory: invocation.workingDirectory, timeout: invocation.timeout, operation: operation)
          })
      }
    }
  }

  static func makeProject(profile: String, request: String) throws -> String {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
      "driftwatch-dbt-\(UUID().uuidString.lowercased())"
    ).path
    do {
      try FileManager.default.createDirectory(
        atPath: base + "/macros", withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: base)
      try Data(BridgeMacros.projectFile(profile: profile).utf8).write(
        to: URL(fileURLWithPath: base + "/dbt_project.yml"))
      try Data(BridgeMacros.macros.utf8).write(to: URL(fileURLWithPath: base + "/macros/driftwatch.sql"))
      try Data(request.utf8).write(to: URL(fileURLWithPath: base + "/macros/request.sql"))
    } catch {
      try? FileManager.default.removeItem(atPath: base)
      throw DbtBridgeError.temporaryDirectory(reason: error.localizedDescription.lowercased())
    }
    return base
  }

  /// Runs dbt to the end; stdout and stderr are read on their own threads (a full pipe would block dbt).
  static func runProcess(
    _ executable: String, arguments: [String], environment: [String: String], directory: String,
    timeout: Duration, operation: String
  ) throws -> DbtRunOutput {
    let started = Date()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw DbtBridgeError.cannotRun(path: executable, reason: error.localizedDescription.lowercased())
    }
    let collected = Collected()
    let (seconds, attoseconds) = timeout.components
    let deadline =
      DispatchTime.now() + .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    let stop = DispatchWorkItem {
      guard process.isRunning else { return }
      collected.markTimedOut()
      process.terminate()
      DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      }
    }
    DispatchQueue.global().asyncAfter(deadline: deadline, execute: stop)
    defer { stop.cancel() }
    let group = DispatchGroup()
    for (pipe, isOut) in [(out, true), (err, false)] {
      group.enter()
      DispatchQueue.global().async {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        collected.set(data, isOut: isOut)
        group.leave()
      }
    }
    group.wait()
    process.waitUntilExit()
    if collected.timedOut {
      throw DbtBridgeError.timedOut(operation: operation, seconds: Int(seconds))
    }
    return DbtRunOutput(
      stdout: String(decoding: collected.stdout, as: UTF8.self),
      stderr: String(decoding: collected.stderr, as: UTF8.self), exitCode: process.terminationStatus,
      seconds: Date().timeIntervalSince(started))
  }

  private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private var stopped = false

    func markTimedOut() {
      lock.lock()
      stopped = true
      lock.unlock()
    }

    var timedOut: Bool {
      lock.lock()
      defer { lock.unlock() }
      return stopped
    }

    func set(_ data: Data, isOut: Bool) {
      lock.lock()
      if isOut { out = data } else { err = data }
      lock.unlock()
    }

    var stdout: Data {
      lock.lock()
      defer { lock.unlock() }
      return out
    }

    var stderr: Data {
      lock.lock()
      defer { lock.unlock() }
      return err
    }
  }
}

/// The recorded twin: answers each operation with a recorded run's output (tests parse real dbt output with
/// the same code as live runs), and keeps the requests it was given.
public final class RecordedDbtRunner: DbtOperationRunner, @unchecked Sendable {
  private let lock = NSLock()
  private var outputs: [String: [DbtRunOutput]]
  private var seen: [(operation: String, request: String)] = []

  public init(outputs: [String: [DbtRunOutput]]) { self.outputs = outputs }

  public func run(operation: String, request: String) async throws -> DbtRunOutput {
    next(operation: operation, request: request)
  }

  private func next(operation: String, request: String) -> DbtRunOutput {
    lock.withLock {
      seen.append((operation, request))
      guard var queue = outputs[operation], !queue.isEmpty else {
        return DbtRunOutput(stdout: "", stderr: "no recorded run of \(operation)", exitCode: 2)
      }
      let next = queue.removeFirst()
      outputs[operation] = queue.isEmpty ? [next] : queue
      return next
    }
  }

  public var requests: [(operation: String, request: String)] {
    lock.lock()
    defer { lock.unlock() }
    return seen
  }
}
