import DriftwatchCore
import Foundation
import SQLiteNIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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

  /// What a file's identity and size were when it was looked at: a read of an immutable open is kept only
  /// when the file is the same afterwards.
  struct FileState: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    init(_ status: stat) {
      device = UInt64(status.st_dev)
      inode = UInt64(status.st_ino)
      size = Int64(status.st_size)
      #if canImport(Darwin)
        modifiedSeconds = Int64(status.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int64(status.st_mtimespec.tv_nsec)
      #else
        modifiedSeconds = Int64(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(status.st_mtim.tv_nsec)
      #endif
    }
  }

  /// A database file checked before SQLite opens it.
  struct DatabaseFile: Sendable, Hashable {
    var path: String
    /// File format bytes 18/19 are 2: WAL mode.
    var isWAL: Bool
    var state: FileState

    /// WAL mode with no `-wal` file beside it when it was inspected: every committed page is in the file
    /// itself, so it is read with `immutable=1` (no `-wal`/`-shm` is created, no lock taken) and the read is
    /// kept only if the file did not change meanwhile (`SQLiteFiles.state`). Any other file is opened
    /// `mode=ro` as usual: a rollback-journal reader creates nothing, and a WAL file whose `-wal` exists
    /// already has its side files. Decided once, so the check after the read is the one the open needs.
    var readsImmutably: Bool
  }

  static func state(_ path: String) -> FileState? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return FileState(status)
  }

  /// Checks that `path` is a regular file that starts with the SQLite header ("SQLite format 3\0") and is
  /// as long as its header says, before SQLite sees it: a device (`/dev/zero`, `/dev/null`), a fifo, an empty,
  /// truncated or foreign file is one error naming the path (SQLite would read an empty file as an empty
  /// database, and block on a fifo).
  static func inspect(_ path: String) throws -> DatabaseFile {
    try checkExists(path)
    var status = stat()
    guard stat(path, &status) == 0 else {
      throw WarehouseError(
        .sqliteFileMissing,
        "cannot read sqlite file '\(path)': \(String(cString: strerror(errno)).lowercased()); check the path and its permissions"
      )
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
      let kind: String
      switch status.st_mode & S_IFMT {
      case S_IFCHR, S_IFBLK: kind = "a device"
      case S_IFIFO: kind = "a fifo"
      case S_IFSOCK: kind = "a socket"
      default: kind = "not a regular file"
      }
      throw WarehouseError(
        .notASQLiteDatabase, "'\(path)' is \(kind), not a sqlite database file: point --warehouse at the file"
      )
    }
    guard status.st_size > 0 else {
      throw WarehouseError(
        .notASQLiteDatabase,
        "'\(path)' is empty, not a sqlite database (driftwatch reads existing databases only): check --warehouse"
      )
    }
    let header = try readHeader(path)
    let magic: [UInt8] = Array("SQLite format 3\u{0}".utf8)
    guard header.count == 100, Array(header.prefix(16)) == magic else { throw notADatabase(path) }
    func big(_ offset: Int, _ count: Int) -> Int64 {
      header[offset..<(offset + count)].reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
    let rawPageSize = big(16, 2)
    let pageSize = rawPageSize == 1 ? 65_536 : rawPageSize
    let size = Int64(status.st_size)
    let damaged = WarehouseError(
      .notASQLiteDatabase,
      "'\(path)' is a damaged or truncated sqlite database (\(size) bytes): restore it from a good copy")
    guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else { throw damaged }
    guard size % pageSize == 0 else { throw damaged }
    let isWAL = header[18] == 2 && header[19] == 2
    // The page count in the header is valid when the change counter matches "version-valid-for".
    let pages = big(28, 4)
    if !isWAL, pages > 0, big(24, 4) == big(92, 4),
      !FileManager.default.fileExists(atPath: path + "-journal"), size < pages * pageSize
    {
      throw damaged
    }
    return DatabaseFile(
      path: path, isWAL: isWAL,
      state: FileState(status),
      readsImmutably: isWAL && !FileManager.default.fileExists(atPath: path + "-wal"))
  }

  private static func readHeader(_ path: String) throws -> [UInt8] {
    #if canImport(Glibc)
      let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    #else
      let descriptor = Darwin.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    #endif
    guard descriptor >= 0 else {
      throw WarehouseError(
        .sqliteFileMissing,
        "cannot read sqlite file '\(path)': \(String(cString: strerror(errno)).lowercased()); check the path and its permissions"
      )
    }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 100)
    var filled = 0
    while filled < 100 {
      let count = buffer.withUnsafeMutableBytes { bytes -> Int in
        guard let base = bytes.baseAddress else { return 0 }
        return read(descriptor, base + filled, 100 - filled)
      }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { break }
      filled += count
    }
    return Array(buffer.prefix(filled))
  }

  /// The URI a warehouse read opens `file` with (see `DatabaseFile.readsImmutably`).
  static func readURI(_ file: DatabaseFile) -> String {
    uri(for: file.path, mode: .readOnly) + (file.readsImmutably ? "&immutable=1" : "")
  }

  /// Opens `file` for a warehouse read and sets SQLite's busy timeout to `lockTimeout` (zero: wait as long
  /// as a writer holds it).
  static func openForReading(_ file: DatabaseFile, lockTimeout: Duration) async throws -> SQLiteConnection {
    let connection: SQLiteConnection
    do {
      connection = try await SQLiteConnection.open(storage: .file(path: readURI(file)))
    } catch let error as SQLiteError {
      throw mapOpenError(error, path: file.path, isWAL: file.isWAL)
    }
    if lockTimeout != .zero {
      do {
        _ = try await rows(
          connection, "PRAGMA busy_timeout = \(max(1, DurationText.milliseconds(lockTimeout)))")
      } catch {
        try? await connection.close()
        throw readError(error, path: file.path, lockTimeout: lockTimeout)
          ?? WarehouseError(
            .queryFailed, "cannot read sqlite file '\(file.path)': \(String(describing: error).lowercased())")
      }
    }
    return connection
  }

  /// The one-line error for a failed read of `path` that is about the file rather than the query: locked
  /// by a writer past the busy timeout, damaged, not a database, unreadable. Nil for other errors.
  static func readError(_ error: any Error, path: String, lockTimeout: Duration) -> WarehouseError? {
    if let error = error as? WarehouseError { return error }
    guard let error = error as? SQLiteError else { return nil }
    switch error.reason {
    case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .lockedBySharedCache:
      return WarehouseError(
        .lockTimeout,
        "sqlite file '\(path)' is locked by another process (a writer) and stayed locked longer than "
          + "--lock-timeout \(DurationText.format(lockTimeout)); retry once it is done, or raise --lock-timeout"
      )
    case .notADatabase:
      return notADatabase(path)
    case .corrupt, .corruptIndex, .corruptVirtualTable, .corruptSequenceSchema:
      return WarehouseError(
        .notASQLiteDatabase,
        "'\(path)' is a damaged or truncated sqlite database (\(error.message.lowercased())): restore it from a good copy"
      )
    case .ioError, .cantOpen, .permission, .readOnly, .readonlyCantLock, .readonlyDirectory,
      .readonlyInRecovery,
      .ioErrorFailedRead, .ioErrorIncompleteRead:
      return WarehouseError(
        .queryFailed,
        "cannot read sqlite file '\(path)': \(error.message.lowercased()); check the file and its permissions"
      )
    default:
      return nil
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

  /// Opens `path` in `mode` with a busy timeout of `busyTimeout` (sqlite-nio's own busy handler retries for
  /// as long as another process holds a lock: a hang).
  static func open(_ path: String, mode: Mode, busyTimeout: Duration = .seconds(10)) async throws
    -> SQLiteConnection
  {
    try checkExists(path)
    let connection: SQLiteConnection
    do {
      connection = try await SQLiteConnection.open(storage: .file(path: uri(for: path, mode: mode)))
    } catch let error as SQLiteError {
      throw mapOpenError(error, path: path)
    }
    do {
      _ = try await rows(
        connection, "PRAGMA busy_timeout = \(max(1, DurationText.milliseconds(busyTimeout)))")
    } catch {
      try? await connection.close()
      throw readError(error, path: path, lockTimeout: busyTimeout)
        ?? WarehouseError(
          .queryFailed, "cannot open sqlite file '\(path)': \(String(describing: error).lowercased())")
    }
    return connection
  }

  static func mapOpenError(_ error: SQLiteError, path: String, isWAL: Bool = false) -> WarehouseError {
    if case .notADatabase = error.reason {
      return notADatabase(path)
    }
    if isWAL {
      return WarehouseError(
        .sqliteFileMissing,
        "cannot open wal-mode sqlite file '\(path)' read-only: \(error.message.lowercased()); its -wal file exists "
          + "and sqlite needs its -shm beside it: let its writer finish (or checkpoint it), or read a copy")
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
