import DriftwatchCore
import SQLiteNIO

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A writable SQLite file: for the demo and for temporary copies, never for a monitored warehouse
/// (that is `SQLiteWarehouse`, which is read-only). Call `close()` when done.
public actor SQLiteDatabase {
  public nonisolated let path: String
  private let connection: SQLiteConnection
  private var isClosed = false

  private init(path: String, connection: SQLiteConnection) {
    self.path = path
    self.connection = connection
  }

  deinit {
    // Safety net for a forgotten close(): the close holds the connection until it is done.
    if !isClosed { _ = connection.close() }
  }

  /// Creates a new, empty database file. Fails with `.fileExists` if anything is already at `path`.
  public static func create(at path: String) async throws -> SQLiteDatabase {
    if let reason = createExclusively(path) {
      if reason == EEXIST {
        throw WarehouseError(
          .fileExists,
          "'\(path)' already exists: driftwatch will not overwrite it; remove it or pick another path")
      }
      throw WarehouseError(
        .sqliteFileMissing,
        "cannot create sqlite file '\(path)': \(String(cString: strerror(reason))); check that the directory exists"
      )
    }
    return try await open(at: path)
  }

  /// Opens an existing database file for reading and writing. A missing file is an error.
  public static func open(at path: String) async throws -> SQLiteDatabase {
    let connection = try await SQLiteFiles.open(path, mode: .readWrite)
    return SQLiteDatabase(path: path, connection: connection)
  }

  /// Runs every statement of `script` (split with `SQLScript`, SQLite rules) in one transaction: all or
  /// nothing. A `BEGIN … COMMIT` wrapping the whole script is accepted and folded into that transaction.
  /// A failing statement rolls everything back, and the error names the statement's line.
  public func execute(script: String) async throws {
    try checkOpen()
    let statements = SQLScript.removingTransactionWrapper(SQLScript.statements(in: script, dialect: .sqlite))
    do {
      _ = try await SQLiteFiles.rows(connection, "BEGIN IMMEDIATE")
    } catch {
      throw failure(error, context: "cannot start a transaction")
    }
    for statement in statements {
      do {
        _ = try await SQLiteFiles.rows(connection, statement.text)
      } catch {
        _ = try? await SQLiteFiles.rows(connection, "ROLLBACK")
        throw failure(
          error, context: "statement at line \(statement.line) failed", suffix: "; nothing was applied")
      }
    }
    do {
      _ = try await SQLiteFiles.rows(connection, "COMMIT")
    } catch {
      _ = try? await SQLiteFiles.rows(connection, "ROLLBACK")
      throw failure(error, context: "cannot commit the script", suffix: "; nothing was applied")
    }
  }

  public func close() async throws {
    guard !isClosed else { return }
    isClosed = true
    try await connection.close()
  }

  private func checkOpen() throws {
    if isClosed {
      throw WarehouseError(.queryFailed, "sqlite database '\(path)' is already closed: open it again")
    }
  }

  private func failure(_ error: any Error, context: String, suffix: String = "") -> WarehouseError {
    if SQLiteFiles.isNotADatabase(error) { return SQLiteFiles.notADatabase(path) }
    let detail = (error as? SQLiteError)?.message ?? "\(error)"
    return WarehouseError(.queryFailed, "\(path): \(context): \(detail)\(suffix)")
  }
}

/// Creates an empty file at `path` unless something is there; the `errno` on failure.
private func createExclusively(_ path: String) -> Int32? {
  let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
  guard descriptor >= 0 else { return errno }
  close(descriptor)
  return nil
}
