import DriftwatchCore
import Foundation
import SQLiteNIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The file behind the SQLite stores (snapshots, incidents): created 0600 in a 0700 directory (an existing
/// path must be a regular file and keeps its mode), opened with
/// busy_timeout and WAL, migrated, and every use retried while SQLite refuses it as locked.
struct SQLiteStoreFile: Sendable {
  let path: String
  /// Which migrations of this store ran (one table per store: both stores may share a file).
  let migrationsTable: String
  /// Statements of each schema version, oldest first.
  let migrations: [[String]]
  /// The store as the subject of "… by a newer driftwatch": "the state store PATH was written".
  let writtenBy: String

  func withConnection<T: Sendable>(create: Bool, _ body: (SQLiteConnection) async throws -> T) async throws
    -> T
  {
    if create { try prepareFile() } else { try checkRegularFile() }
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

  /// Applies the migrations this file lacks, in one `BEGIN IMMEDIATE` transaction (re-read under the lock:
  /// another process may have migrated meanwhile).
  private func migrate(_ connection: SQLiteConnection) async throws {
    try await run(
      connection,
      "CREATE TABLE IF NOT EXISTS \(migrationsTable) (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    func version() async throws -> Int {
      try await query(connection, "SELECT coalesce(max(version), 0) AS v FROM \(migrationsTable)").first?
        .column("v")?.integer ?? 0
    }
    let current = try await version()
    guard current < migrations.count else {
      if current > migrations.count {
        throw StateError("\(writtenBy) by a newer driftwatch (schema \(current)); upgrade driftwatch")
      }
      return
    }
    try await transaction(connection) { connection in
      let again = try await version()
      for (index, statements) in migrations.enumerated() where index + 1 > again {
        for statement in statements { try await run(connection, statement) }
        try await run(
          connection, "INSERT INTO \(migrationsTable) (version, applied_at) VALUES (?1, datetime('now'))",
          [.integer(index + 1)])
      }
    }
  }

  /// `body` in one `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when it throws.
  func transaction<T: Sendable>(
    _ connection: SQLiteConnection, _ body: (SQLiteConnection) async throws -> T
  ) async throws -> T {
    try await run(connection, "BEGIN IMMEDIATE")
    do {
      let result = try await body(connection)
      try await run(connection, "COMMIT")
      return result
    } catch {
      try? await run(connection, "ROLLBACK")
      throw error
    }
  }

  /// Creates the directory (0700) and the file (0600) when missing. Only what driftwatch creates here gets
  /// a mode: the file is made with `O_CREAT | O_EXCL | O_NOFOLLOW` and `fchmod`ed through that descriptor;
  /// an existing path must be a regular file (`checkRegularFile`) and keeps its mode.
  func prepareFile() throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
      let parent = (directory as NSString).deletingLastPathComponent
      do {
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
          try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
      } catch {
        throw StateError("cannot create \(parent) for the state store: \(describe(error)); pass --state")
      }
      // mkdir(2) gives the mode to a directory it creates and never touches one that exists.
      if mkdir(directory, 0o700) != 0, errno != EEXIST {
        throw StateError(
          "cannot create \(directory) for the state store: \(String(cString: strerror(errno))); pass --state")
      }
    }
    let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
    if descriptor >= 0 {
      // umask may have taken bits away; this descriptor is the file just created, nothing else.
      _ = fchmod(descriptor, 0o600)
      close(descriptor)
      return
    }
    guard errno == EEXIST else {
      throw StateError(
        "cannot create the state store \(path): \(String(cString: strerror(errno))); check the directory or pass --state"
      )
    }
    try checkRegularFile()
  }

  /// Refuses a state store path that exists and is not a regular file (a symlink, a fifo, a device, a
  /// directory, a socket): SQLite would follow it, block on it or write into it.
  func checkRegularFile() throws {
    var status = stat()
    guard lstat(path, &status) == 0 else {
      if errno == ENOENT { return }
      throw StateError(
        "cannot read the state store \(path): \(String(cString: strerror(errno))); check the path or pass --state"
      )
    }
    let kind: String
    switch status.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFLNK: kind = "a symbolic link"
    case S_IFIFO: kind = "a fifo"
    case S_IFCHR, S_IFBLK: kind = "a device"
    case S_IFDIR: kind = "a directory"
    case S_IFSOCK: kind = "a socket"
    default: kind = "not a regular file"
    }
    throw StateError(
      "the state store \(path) is \(kind), not a regular file: driftwatch refuses it; pass --state with the path of a sqlite file"
    )
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
