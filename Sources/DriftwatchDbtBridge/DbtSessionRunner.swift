import DriftwatchCore
import Foundation

/// dbt started once per driftwatch command: a small Python driver (run by the interpreter of the dbt
/// executable's own `#!` line) imports dbt once and runs each step with dbt's programmatic entry point
/// (`dbtRunner().invoke(["run-operation", …])`, the same command as the CLI), reading the step's printed result
/// from dbt's event callbacks. The private project is written once and kept for the session, so dbt parses
/// it fully once and partially (the request file) after. dbt's start-up — most of a run's time — is paid once
/// per command instead of once per step. Steps run one at a time. When the executable is not a Python script,
/// `DbtProcessRunner` (one `dbt run-operation` process per step) is used instead.
public final class DbtSessionRunner: DbtOperationRunner, @unchecked Sendable {
  public let invocation: DbtInvocation
  public let python: String
  private let lock = NSLock()
  private var session: Session?
  private var directory: String?

  /// nil when `invocation.dbt` is not a Python script.
  public init?(invocation: DbtInvocation) {
    guard let python = Self.interpreter(of: invocation.dbt) else { return nil }
    self.invocation = invocation
    self.python = python
  }

  deinit {
    session?.close()
    if let directory { try? FileManager.default.removeItem(atPath: directory) }
  }

  /// The interpreter of a `#!…python…` first line, when it is an executable file.
  static func interpreter(of executable: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: executable) else { return nil }
    defer { try? handle.close() }
    let head = String(decoding: handle.readData(ofLength: 512), as: UTF8.self)
    guard head.hasPrefix("#!"), let line = head.split(separator: "\n").first else { return nil }
    let command = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
    guard let path = command.split(separator: " ").first.map(String.init), path.contains("python"),
      FileManager.default.isExecutableFile(atPath: path)
    else { return nil }
    return path
  }

  public func run(operation: String, request: String) async throws -> DbtRunOutput {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try self.runBlocking(operation: operation, request: request) })
      }
    }
  }

  private func runBlocking(operation: String, request: String) throws -> DbtRunOutput {
    try lock.withLock {
      let started = Date()
      let directory =
        try self.directory ?? DbtProcessRunner.makeProject(profile: invocation.profile, request: "")
      self.directory = directory
      let session = try self.session ?? Session.start(python: python, invocation: invocation)
      self.session = session
      var arguments = [
        "run-operation", operation, "--project-dir", directory, "--profiles-dir",
        invocation.profilesDirectory,
        "--profile", invocation.profile, "--quiet", "--no-use-colors", "--log-path", directory + "/logs",
        "--target-path", directory + "/target",
      ]
      if let target = invocation.target { arguments += ["--target", target] }
      let step = BridgeJSON.object([
        ("args", .strings(arguments)), ("request", .string(request)),
        ("request_path", .string(directory + "/macros/request.sql")), ("project", .string(directory)),
      ])
      guard let answer = try session.exchange(step.encoded, timeout: invocation.timeout) else {
        self.session = nil
        session.close()
        let (seconds, _) = invocation.timeout.components
        throw DbtBridgeError.timedOut(operation: operation, seconds: Int(seconds))
      }
      guard let data = answer.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else {
        self.session = nil
        session.close()
        let detail = BridgeOutput.sanitized(session.standardErrorTail)
        throw DbtBridgeError.operationFailed(operation: operation, exitCode: 1, detail: detail)
      }
      // The same shape as a CLI run's JSON log: the printed result, then dbt's error lines.
      var lines = (object["prints"] as? [String] ?? []).map { message in
        BridgeJSON.object([("info", .object([("level", .string("info")), ("msg", .string(message))]))])
          .encoded
      }
      var errors = object["errors"] as? [String] ?? []
      if let exception = object["exception"] as? String, !exception.isEmpty { errors.append(exception) }
      lines += errors.map { message in
        BridgeJSON.object([("info", .object([("level", .string("error")), ("msg", .string(message))]))])
          .encoded
      }
      return DbtRunOutput(
        stdout: lines.joined(separator: "\n"), stderr: "", exitCode: object["ok"] as? Bool == true ? 0 : 1,
        seconds: Date().timeIntervalSince(started))
    }
  }

  static let driver = #"""
    import json, os, shutil, sys
    from dbt.cli.main import dbtRunner
    out = sys.stdout
    state = {"prints": [], "errors": []}
    def on_event(event):
        info = event.info
        if info.name == "PrintEvent":
            state["prints"].append(info.msg)
        elif info.level == "error":
            state["errors"].append(info.msg)
    runner = dbtRunner(callbacks=[on_event])
    project = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        step = json.loads(line)
        project = step["project"]
        state["prints"] = []
        state["errors"] = []
        with open(step["request_path"], "w", encoding="utf-8") as handle:
            handle.write(step["request"])
        exception = ""
        try:
            result = runner.invoke(step["args"])
            ok = bool(result.success)
            if result.exception is not None:
                exception = str(result.exception)
        except BaseException as error:
            ok = False
            exception = str(error)
        # DuckDB locks its file for the process holding it open: release it between steps (watch polls for
        # hours, and the user's own loads and dbt runs must get the file in between).
        try:
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager as duckdb_connections
            if duckdb_connections._ENV is not None:
                duckdb_connections._ENV.close()
                duckdb_connections._ENV = None
        except Exception:
            pass
        answer = {"ok": ok, "prints": state["prints"], "errors": state["errors"], "exception": exception}
        out.write("DRIFTWATCH_SESSION:" + json.dumps(answer) + "\n")
        out.flush()
    # driftwatch is done (or gone): its private project goes with it.
    if project and os.path.basename(project).startswith("driftwatch-dbt-"):
        shutil.rmtree(project, ignore_errors=True)
    """#

  static let answerMarker = "DRIFTWATCH_SESSION:"

  /// The Python process and its pipes.
  final class Session: @unchecked Sendable {
    let process: Process
    let input: FileHandle
    let output: FileHandle
    private var buffer = Data()
    private let errors = ErrorTail()

    init(process: Process, input: FileHandle, output: FileHandle) {
      self.process = process
      self.input = input
      self.output = output
    }

    static func start(python: String, invocation: DbtInvocation) throws -> Session {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: python)
      process.arguments = ["-c", DbtSessionRunner.driver]
      var environment = invocation.environment
      environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
      environment["PYTHONUNBUFFERED"] = "1"
      environment.removeValue(forKey: "DBT_PROJECT_DIR")
      process.environment = environment
      process.currentDirectoryURL = URL(fileURLWithPath: invocation.workingDirectory)
      let stdin = Pipe()
      let stdout = Pipe()
      let stderr = Pipe()
      process.standardInput = stdin
      process.standardOutput = stdout
      process.standardError = stderr
      do {
        try process.run()
      } catch {
        throw DbtBridgeError.cannotRun(path: python, reason: error.localizedDescription.lowercased())
      }
      let session = Session(
        process: process, input: stdin.fileHandleForWriting, output: stdout.fileHandleForReading)
      let tail = session.errors
      DispatchQueue.global().async {
        let handle = stderr.fileHandleForReading
        while true {
          let data = handle.availableData
          if data.isEmpty { break }
          tail.append(data)
        }
      }
      return session
    }

    var standardErrorTail: String { errors.text }

    /// Sends one step and waits for its answer line; nil on timeout (the process is then stopped).
    func exchange(_ line: String, timeout: Duration) throws -> String? {
      let stop = DispatchWorkItem { [process, errors] in
        errors.markTimedOut()
        if process.isRunning { process.terminate() }
      }
      let (seconds, attoseconds) = timeout.components
      DispatchQueue.global().asyncAfter(
        deadline: .now() + .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)),
        execute: stop)
      defer { stop.cancel() }
      do {
        try input.write(contentsOf: Data((line + "\n").utf8))
      } catch {
        return ""
      }
      while true {
        if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
          let text = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
          buffer.removeSubrange(buffer.startIndex...newline)
          // Anywhere in the line: what an engine writes to the same stream without a newline (a progress
          // bar ending in `\r`) may come before it.
          if let marker = text.range(of: DbtSessionRunner.answerMarker) {
            return String(text[marker.upperBound...])
          }
          continue
        }
        let data = output.availableData
        // The end of the output: stopped by the timeout (nil), or the driver died ("": not an answer).
        if data.isEmpty { return errors.timedOut ? nil : "" }
        buffer.append(data)
      }
    }

    func close() {
      try? input.close()
      if process.isRunning { process.terminate() }
    }
  }

  /// The last few kilobytes dbt's Python wrote to standard error.
  final class ErrorTail: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var stopped = false

    func markTimedOut() { lock.withLock { stopped = true } }

    var timedOut: Bool { lock.withLock { stopped } }

    func append(_ chunk: Data) {
      lock.withLock {
        data.append(chunk)
        if data.count > 4096 { data = data.suffix(4096) }
      }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
  }
}
