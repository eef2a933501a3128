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
    ]
  )

  public init() {}

  /// Parse, run, and map every outcome to the documented exit codes. Never lets an error escape as a crash.
  public static func run(arguments: [String]) async -> Int32 {
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

/// Writing to the terminal, and asking whether it is one.
enum Terminal {
  static func standardOutput(_ text: String) {
    writeAll(text, to: STDOUT_FILENO)
  }

  static func standardError(_ text: String) {
    writeAll(text, to: STDERR_FILENO)
  }

  /// The text's bytes as they are (no copy: a lineage listing can be megabytes), written until all are out or
  /// the descriptor fails (a closed pipe: nothing more can be said there).
  private static func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { buffer in
      guard let base = buffer.baseAddress else { return }
      var offset = 0
      while offset < buffer.count {
        let written = write(descriptor, base + offset, buffer.count - offset)
        if written > 0 {
          offset += written
        } else if written < 0 && errno == EINTR {
          continue
        } else {
          return
        }
      }
    }
  }

  /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
  static var stdoutWantsColor: Bool {
    isatty(STDOUT_FILENO) == 1 && getenv("NO_COLOR") == nil
      && (getenv("TERM").map { String(cString: $0) } ?? "dumb") != "dumb"
  }
}
