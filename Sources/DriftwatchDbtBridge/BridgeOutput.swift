import DriftwatchCore
import Foundation

/// Reads what one `dbt run-operation` printed: the `DRIFTWATCH_RESULT:` line (inside a JSON log line's
/// `msg` with `--log-format json`, or bare), and dbt's error messages when there is none.
public enum BridgeOutput {
  /// The result's JSON object. Throws `DbtBridgeError.operationFailed` with dbt's own error lines (already
  /// given to `redact`) when the run printed no result or exited non-zero.
  public static func result(
    stdout: String, stderr: String, exitCode: Int32, operation: String, redact: (String) -> String
  ) throws -> [String: Any] {
    var result: [String: Any]?
    var errors: [String] = []
    for line in stdout.split(whereSeparator: \.isNewline) {
      let text = String(line)
      var message = text
      if text.hasPrefix("{"), let data = text.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      {
        let info = object["info"] as? [String: Any]
        message = (info?["msg"] as? String) ?? ((object["data"] as? [String: Any])?["msg"] as? String) ?? ""
        if let level = info?["level"] as? String, level == "error", !message.isEmpty {
          errors.append(message)
        }
      }
      guard result == nil, let range = message.range(of: BridgeMacros.marker) else { continue }
      let body = message[range.upperBound...]
      if let data = body.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      {
        result = object
      }
    }
    if let result, exitCode == 0 { return result }
    let stderrLines = stderr.split(whereSeparator: \.isNewline).map(String.init).filter {
      !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
    let detail = (errors.isEmpty ? Array(stderrLines.suffix(3)) : errors)
      .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
      .joined(separator: " | ")
    throw DbtBridgeError.operationFailed(
      operation: operation, exitCode: exitCode, detail: redact(sanitized(String(detail.prefix(600)))))
  }

  /// No control character of dbt's output reaches the terminal.
  static func sanitized(_ text: String) -> String {
    String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
  }

  /// A cell: text or null. Numbers (counts) arrive as their text.
  static func cell(_ value: Any?) -> String? {
    switch value {
    case let text as String: return text
    case let number as NSNumber: return number.stringValue
    default: return nil
    }
  }

  static func integer(_ value: Any?) -> Int? {
    guard let text = cell(value) else { return nil }
    if let exact = Int(text) { return exact }
    return Double(text).flatMap { $0.isFinite ? Int($0.rounded()) : nil }
  }

  static func rows(_ value: Any?) -> [[String?]] {
    guard let rows = value as? [Any] else { return [] }
    return rows.map { row in (row as? [Any] ?? []).map(cell) }
  }
}

/// Errors of the bridge: one lowercase line saying what to do.
public enum DbtBridgeError: Error, UserFacingError, Equatable {
  case dbtNotFound(adapter: String)
  case cannotRun(path: String, reason: String)
  case operationFailed(operation: String, exitCode: Int32, detail: String)
  case unexpectedOutput(operation: String, what: String)
  case temporaryDirectory(reason: String)
  case timedOut(operation: String, seconds: Int)

  public var message: String {
    switch self {
    case .dbtNotFound(let adapter):
      return
        "the profile's \(adapter) target is read through dbt, and no dbt was found: install dbt with the "
        + "\(adapter) adapter, pass --dbt PATH or set DRIFTWATCH_DBT (or read dbt's catalog with --catalog)"
    case .cannotRun(let path, let reason):
      return "cannot run dbt at '\(path)': \(reason); pass --dbt PATH"
    case .operationFailed(let operation, let exitCode, let detail):
      return
        "dbt run-operation \(operation) failed (exit \(exitCode))\(detail.isEmpty ? "" : ": \(detail)"); "
        + "check that `dbt debug` works with this profile and target"
    case .unexpectedOutput(let operation, let what):
      return
        "dbt run-operation \(operation) answered without \(what): is this dbt ≥ 1.5? please report this"
    case .timedOut(let operation, let seconds):
      return
        "dbt run-operation \(operation) ran longer than \(seconds) s and was stopped: check the warehouse, or "
        + "raise --statement-timeout"
    case .temporaryDirectory(let reason):
      return "cannot create a temporary directory for driftwatch's dbt macros: \(reason); check TMPDIR"
    }
  }
}
