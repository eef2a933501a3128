import ArgumentParser
import DriftwatchCore
import DriftwatchReports
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The `driftwatch` command line. The executable calls `Driftwatch.run(arguments:)` and exits with its code.
public struct Driftwatch: AsyncParsableCommand {
  public static let version = "0.1.0"

  public static let configuration = CommandConfiguration(
    commandName: "driftwatch",
    abstract: "Catch upstream schema drift before it breaks your dbt models, tests and dashboards.",
    discussion: """
      Exit codes: 0 no breaking drift, 1 breaking drift found, 2 usage, input or connection error.
      """,
    version: version,
    subcommands: [
      Check.self, ImpactCommand.self, Fix.self, SnapshotCommand.self, HistoryCommand.self, DiffCommand.self,
      Lineage.self, Watch.self, InstallTrigger.self, IncidentsCommand.self, PostmortemCommand.self, Demo.self,
      MCPCommand.self, ServeCommand.self,
    ]
  )

  public init() {}

  /// Parse, run, and map every outcome to the documented exit codes. Never lets an error escape as a crash.
  public static func run(arguments: [String]) async -> Int32 {
    Secrets.register(arguments: arguments, environment: ProcessInfo.processInfo.environment)
    let code = await runCommand(arguments: arguments)
    // An answer that did not reach its reader (a full disk, an i/o error) is not an answer.
    if let failure = Terminal.outputFailure {
      Terminal.standardError(
        "driftwatch: cannot write to standard output (\(failure)); the output is incomplete\n")
      return 2
    }
    return code
  }

  private static func runCommand(arguments: [String]) async -> Int32 {
    do {
      var command = try parseAsRoot(arguments)
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
      return 0
    } catch let error as any UserFacingError {
      // Messages name tables, columns and files: no control character of theirs reaches the terminal.
      Terminal.standardError("driftwatch: \(OutputEscape.terminalBlock(error.message))\n")
      return 2
    } catch let error as ExitCode {
      return error.rawValue
    } catch {
      let code = exitCode(for: error)
      if code == .success {  // --help, --version
        let message = fullMessage(for: error)
        if !message.isEmpty { Terminal.standardOutput(message + "\n") }
        return 0
      }
      // A usage error: the short message and where to read more, not the whole usage screen.
      var message = Self.message(for: error)
      if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
      if let first = message.first { message = first.lowercased() + message.dropFirst() }
      Terminal.standardError(
        "driftwatch: \(message)\nsee 'driftwatch --help' and 'driftwatch <command> --help'\n")
      return 2
    }
  }
}

/// What a command answers: its output, and whether it found breaking drift (exit 1). The command line
/// prints it (`emit`); `driftwatch mcp` returns it as a tool's result.
struct CommandOutput: Sendable {
  var text: String
  var breaking = false

  init(_ text: String, breaking: Bool = false) {
    self.text = text
    self.breaking = breaking
  }

  func emit() throws {
    Terminal.standardOutput(text)
    if breaking { throw ExitCode(1) }
  }
}

/// Writing to the terminal, and asking whether it is one. Every text written is redacted (`Secrets`).
enum Terminal {
  static func standardOutput(_ text: String) {
    // Standard output is the protocol's: anything else goes to standard error.
    if carriesProtocol { return standardError(text) }
    if let failure = writeAll(Secrets.redact(text), to: STDOUT_FILENO) { failures.record(failure) }
  }

  /// True once `driftwatch mcp` serves: standard output carries the protocol and nothing else, nobody is
  /// there to answer a prompt, and the process answers many commands (values are freed after each).
  static var carriesProtocol: Bool { protocolOutput.withLock { $0 } }

  static func reserveStandardOutputForProtocol() { protocolOutput.withLock { $0 = true } }

  private static let protocolOutput = Locked(false)

  static func standardError(_ text: String) {
    _ = writeAll(Secrets.redact(text), to: STDERR_FILENO)
  }

  /// Why writing to standard output failed, if it did (`no space left on device`); a reader that went away
  /// (a closed pipe) is not a failure: nothing more can be said there, and nobody is left to tell.
  static var outputFailure: String? { failures.first }

  private static let failures = FirstFailure()

  /// The text's bytes as they are (no copy: a lineage listing can be megabytes), written until all are out or
  /// the descriptor fails; the error, unless it is a closed pipe.
  private static func writeAll(_ text: String, to descriptor: Int32) -> String? {
    var text = text
    return text.withUTF8 { buffer -> String? in
      guard let base = buffer.baseAddress else { return nil }
      var offset = 0
      while offset < buffer.count {
        let written = write(descriptor, base + offset, buffer.count - offset)
        if written > 0 {
          offset += written
        } else if written < 0 && errno == EINTR {
          continue
        } else {
          let code = written < 0 ? errno : EIO
          if code == EPIPE { return nil }
          return strerror(code).map { String(cString: $0).lowercased() } ?? "error \(code)"
        }
      }
      return nil
    }
  }

  private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: String?

    func record(_ text: String) {
      lock.lock()
      if failure == nil { failure = text }
      lock.unlock()
    }

    var first: String? {
      lock.lock()
      defer { lock.unlock() }
      return failure
    }
  }

  /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
  static var stdoutWantsColor: Bool {
    isatty(STDOUT_FILENO) == 1 && getenv("NO_COLOR") == nil
      && (getenv("TERM").map { String(cString: $0) } ?? "dumb") != "dumb"
  }
}
