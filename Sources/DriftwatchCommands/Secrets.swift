import DriftwatchCore
import Foundation
import Logging

/// The passwords this run knows of, kept out of everything it writes: the last guard behind messages that
/// never quote one. `Terminal` redacts every text it writes to standard output and standard error with
/// `redact`, and watch's log lines go through `Terminal`.
///
/// Known at start: whatever in the arguments could be a password (`Redaction.candidates(inArgument:)`: the
/// user info of a `--warehouse` or `--state` URL whatever its shape, `password=` parameters), `PGPASSWORD`,
/// and the values of environment variables named like a secret (`…PASSWORD…`, `…SECRET…`, `…TOKEN…`).
/// Later: the password of each profiles.yml target that is read.
enum Secrets {
  private static let storage = Storage()

  static func register(_ secret: String?) {
    guard let secret, secret.count >= Redaction.minimumLength else { return }
    storage.insert(secret)
  }

  static func register(_ locator: WarehouseLocator) {
    if case .postgres(let postgres) = locator { register(postgres.password) }
  }

  /// Everything in the command line and the environment that could be a password.
  static func register(arguments: [String], environment: [String: String]) {
    for argument in arguments {
      for candidate in Redaction.candidates(inArgument: argument) { register(candidate) }
    }
    for (name, value) in environment {
      let upper = name.uppercased()
      if upper == "PGPASSWORD" || upper.contains("PASSWORD") || upper.contains("PASSWD")
        || upper.contains("SECRET") || upper.contains("TOKEN")
      {
        register(value)
      }
      for candidate in Redaction.candidates(inArgument: value) { register(candidate) }
    }
  }

  /// `text` with every known password replaced by `***`.
  static func redact(_ text: String) -> String {
    let secrets = storage.values
    return secrets.isEmpty ? text : Redaction.redact(text, secrets: secrets)
  }

  private final class Storage: @unchecked Sendable {
    private let lock = NSLock()
    private var secrets: Set<String> = []

    func insert(_ secret: String) {
      lock.lock()
      secrets.insert(secret)
      lock.unlock()
    }

    var values: Set<String> {
      lock.lock()
      defer { lock.unlock() }
      return secrets
    }
  }
}

/// swift-log's stream handler's format (`2024-01-31T12:00:00+0000 info driftwatch.watch: [source] message`), written
/// through `Terminal.standardError`, so that log lines are redacted like every other line.
struct RedactingLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(
    level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
    file: String, function: String, line: UInt
  ) {
    var all = metadata
    if let explicit { all.merge(explicit) { $1 } }
    let shownMetadata =
      all.isEmpty
      ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    Terminal.standardError("\(Self.timestamp()) \(level) \(label):\(shownMetadata) [\(source)] \(message)\n")
  }

  private static func timestamp() -> String {
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
