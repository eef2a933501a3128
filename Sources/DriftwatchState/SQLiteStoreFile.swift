import DriftwatchCore
import Foundation
import SQLiteNIO

/// The file behind the SQLite stores (snapshots, incidents): created 0600 in a 0700 directory, opened with
/// busy_timeout and WAL, migrated, and every use retried while SQLite refuses it as locked.
struct SQLiteStoreFile: Sendable {
  let path: String

  func withConnection<T: Sendable>(
    create: Bool, migrate: (SQLiteConnection) async throws -> Void,
    _ body: (SQLiteConnection) async throws -> T
  ) async throws -> T {
    if create { try prepareFile() }
    let connection: SQLiteConnection
    do {
      connection = try await SQLiteConnection.open(storage: .file(path: path))
    } catch {
      throw StateError(
        "cannot open the state store \(path): \(describe(error)); check the path or pass --state")
    }
    var result: Result<T, any Error> = .failure(StateError("the state store \(path) stayed locked"))
    // SQLite answers "database is locked" at once (without waiting out busy_timeout) when a read turns into a
    // write while another process writes; every change is one transaction, so trying again is safe.
    for attempt in 0..<50 {
      do {
        try await run(connection, "PRAGMA busy_timeout = 5000")
        if create { try await run(connection, "PRAGMA journal_mode = WAL") }
        try await migrate(connection)
        result = .success(try await body(connection))
      } catch {
        result = .failure(error)
        if "\(error)".contains("locked") || "\(error)".contains("busy") {
          try? await run(connection, "ROLLBACK")
          try? await Task.sleep(for: .milliseconds(20 + 10 * attempt))
          continue
        }
      }
      break
    }
    try? await connection.close()
    return try result.get()
  }

  /// Creates the directory (0700) and the file (0600) when missing; keeps an existing file at 0600.
  func prepareFile() throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
      do {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw StateError("cannot create \(directory) for the state store: \(describe(error)); pass --state")
      }
    }
    let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
    guard descriptor >= 0 else {
      throw StateError(
        "cannot create the state store \(path): \(String(cString: strerror(errno))); check the directory or pass --state"
      )
    }
    close(descriptor)
    _ = chmod(path, 0o600)
  }

  func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws {
    _ = try await query(connection, sql, binds)
  }

  func query(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws
    -> [SQLiteRow]
  {
    do {
      return try await connection.query(sql, binds)
    } catch {
      throw StateError("state store \(path): \(describe(error))")
    }
  }

  func describe(_ error: any Error) -> String {
    ((error as? SQLiteError)?.message ?? String(describing: error)).lowercased()
  }
}
