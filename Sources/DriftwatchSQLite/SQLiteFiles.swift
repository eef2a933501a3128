import DriftwatchCore
import Foundation
import SQLiteNIO

/// Opening SQLite files without ever creating one by accident.
enum SQLiteFiles {
  enum Mode: String {
    case readOnly = "ro"
    case readWrite = "rw"
  }

  /// Fails with `.sqliteFileMissing` when `path` does not exist and `.notASQLiteDatabase` for a directory.
  static func checkExists(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw WarehouseError(
        .sqliteFileMissing,
        "sqlite file '\(path)' does not exist: check the path in --warehouse (driftwatch never creates it)")
    }
    if isDirectory.boolValue {
      throw WarehouseError(
        .notASQLiteDatabase,
        "'\(path)' is a directory, not a sqlite database file: point --warehouse at the file")
    }
  }

  /// A `file:` URI for `path` that SQLite opens in `mode` (`ro` or `rw`, never creating the file).
  static func uri(for path: String, mode: Mode) -> String {
    var encoded = ""
    for character in path.unicodeScalars {
      switch character {
      case "%": encoded += "%25"
      case "?": encoded += "%3f"
      case "#": encoded += "%23"
      default: encoded.unicodeScalars.append(character)
      }
    }
    // An absolute path gets an empty authority (`file:///abs`), so a leading `//` is never read as a host.
    let prefix = path.hasPrefix("/") ? "file://" : "file:"
    return "\(prefix)\(encoded)?mode=\(mode.rawValue)"
  }

  static func open(_ path: String, mode: Mode) async throws -> SQLiteConnection {
    try checkExists(path)
    do {
      return try await SQLiteConnection.open(storage: .file(path: uri(for: path, mode: mode)))
    } catch let error as SQLiteError {
      throw mapOpenError(error, path: path)
    }
  }

  static func mapOpenError(_ error: SQLiteError, path: String) -> WarehouseError {
    if case .notADatabase = error.reason {
      return notADatabase(path)
    }
    return WarehouseError(
      .sqliteFileMissing,
      "cannot open sqlite file '\(path)': \(error.message.lowercased()); check the path and its permissions")
  }

  static func notADatabase(_ path: String) -> WarehouseError {
    WarehouseError(
      .notASQLiteDatabase, "'\(path)' is not a sqlite database (file is not a database): check --warehouse")
  }

  static func isNotADatabase(_ error: any Error) -> Bool {
    guard let error = error as? SQLiteError, case .notADatabase = error.reason else { return false }
    return true
  }

  /// Closes `connection` whatever `body` does.
  static func using<T: Sendable>(
    _ connection: SQLiteConnection, _ body: (SQLiteConnection) async throws -> T
  ) async throws -> T {
    let result: Result<T, any Error>
    do {
      result = .success(try await body(connection))
    } catch {
      result = .failure(error)
    }
    try? await connection.close()
    return try result.get()
  }

  /// All rows of `sql`, read on sqlite-nio's thread pool without a hop to the event loop per row.
  static func rows(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws
    -> [SQLiteRow]
  {
    let collector = RowCollector()
    try await connection.query(sql, binds) { row in collector.append(row) }
    return collector.rows
  }

  /// `"name"` with embedded quotes doubled.
  static func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// Rows appended from sqlite-nio's worker thread, read after the query finished.
private final class RowCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var collected: [SQLiteRow] = []

  func append(_ row: SQLiteRow) { lock.withLock { collected.append(row) } }
  var rows: [SQLiteRow] { lock.withLock { collected } }
}
