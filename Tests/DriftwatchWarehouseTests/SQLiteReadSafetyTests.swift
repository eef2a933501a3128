import DriftwatchCore
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reading a SQLite warehouse leaves nothing beside it, refuses what is not a SQLite file, and never waits
/// forever for another process's lock.
@Suite("SQLite warehouse reads")
struct SQLiteReadSafetyTests {
  static let fixture = """
    CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, tier TEXT);
    INSERT INTO customers (email, tier) VALUES ('a@x', 'gold'), ('b@x', 'silver'), ('c@x', 'gold');
    """
  static let main = SchemaRef(schema: "main")

  /// A rollback-journal database and the same database in WAL mode (file format bytes 18/19 set to 2, as
  /// `PRAGMA journal_mode = WAL` leaves them).
  static func databases(in directory: TemporaryDirectory) async throws -> (rollback: String, wal: String) {
    let rollback = directory.file("rollback.db")
    try await TestSQLite.create(at: rollback, sql: fixture)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: rollback))
    #expect(bytes[18] == 1 && bytes[19] == 1)
    bytes[18] = 2
    bytes[19] = 2
    let wal = directory.file("wal.db")
    try bytes.write(to: URL(fileURLWithPath: wal))
    return (rollback, wal)
  }

  /// Introspects, profiles and samples `path`: every kind of read a check or a snapshot makes.
  static func readEverything(_ path: String) async throws {
    let warehouse = SQLiteWarehouse(path: path)
    let live = try await warehouse.introspect(schemas: [main])
    #expect(live.tables.map(\.name) == ["customers"])
    let profiles = try await warehouse.profile(
      columns: [ColumnRef(schema: main, table: "customers", column: "tier")], topK: 5)
    #expect(profiles.first?.topValues.first?.value == "gold")
    let sample = try await warehouse.sample(
      table: TableRef(schema: main, name: "customers"), key: "id", columns: ["tier"], limit: 10)
    #expect(sample?.count == 3)
  }

  static func listing(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
  }

  /// Before: every read of a WAL-mode file left `wal.db-wal` and `wal.db-shm` beside it.
  @Test func readsLeaveNoSideFilesBesideRollbackOrWALDatabases() async throws {
    try await withTemporaryDirectory { directory in
      let (rollback, wal) = try await Self.databases(in: directory)
      let before = try Self.listing(directory.path)
      let contents = try [rollback, wal].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
      for path in [rollback, wal] { try await Self.readEverything(path) }
      #expect(try Self.listing(directory.path) == before)
      #expect(try [rollback, wal].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == contents)
    }
  }

  /// Before: in a read-only directory a WAL-mode file failed with "unable to open database file".
  @Test func readsWorkInAReadOnlyDirectory() async throws {
    try await withTemporaryDirectory { directory in
      let (rollback, wal) = try await Self.databases(in: directory)
      let before = try Self.listing(directory.path)
      try await Self.withReadOnlyDirectory(directory.path) {
        for path in [rollback, wal] { try await Self.readEverything(path) }
      }
      #expect(try Self.listing(directory.path) == before)
    }
  }

  /// `body` while `path` cannot be written to: mode 0555, and for root (whom modes do not stop) the
  /// immutable attribute.
  static func withReadOnlyDirectory(_ path: String, _ body: () async throws -> Void) async throws {
    #expect(chmod(path, 0o555) == 0)
    let root = geteuid() == 0
    if root { try chattr("+i", path) }
    defer {
      if root { try? chattr("-i", path) }
      _ = chmod(path, 0o755)
    }
    let probe = path + "/probe"
    let writable = FileManager.default.createFile(atPath: probe, contents: nil)
    if writable { try? FileManager.default.removeItem(atPath: probe) }
    #expect(!writable, "the directory must be read-only for this test")
    try await body()
  }

  static func chattr(_ flag: String, _ path: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["chattr", flag, path]
    try process.run()
    process.waitUntilExit()
  }

  /// A WAL database whose `-wal` holds committed pages (a writer still has it open, nothing checkpointed):
  /// the read sees them (it is not read immutably), and leaves no file that was not there.
  @Test func aWALDatabaseWithALiveWriterIsReadWithItsWAL() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("live.db")
      let writer = try PythonSQLite.start(
        """
        c = sqlite3.connect(path, isolation_level=None)
        c.execute('PRAGMA journal_mode = WAL')
        c.execute('PRAGMA wal_autocheckpoint = 0')
        c.execute('CREATE TABLE customers (id INTEGER PRIMARY KEY, tier TEXT)')
        c.execute("INSERT INTO customers (tier) VALUES ('gold')")
        c.execute('CREATE TABLE only_in_the_wal (id INTEGER PRIMARY KEY)')
        """, path: path, directory: directory)
      defer { writer.stop() }
      #expect(FileManager.default.fileExists(atPath: path + "-wal"))
      let before = try Self.listing(directory.path)
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [Self.main])
      #expect(live.tables.map(\.name) == ["customers", "only_in_the_wal"])
      #expect(try Self.listing(directory.path) == before)
    }
  }

  /// Another process holds the write lock (`BEGIN EXCLUSIVE`): the read waits the lock timeout, then one
  /// error naming the file. Before: sqlite-nio's busy handler retried forever (a hang).
  @Test func aLockedDatabaseIsOneErrorAfterTheLockTimeout() async throws {
    try await withTemporaryDirectory { directory in
      let (rollback, _) = try await Self.databases(in: directory)
      let writer = try PythonSQLite.start(
        """
        c = sqlite3.connect(path, isolation_level=None)
        c.execute('BEGIN EXCLUSIVE')
        c.execute("UPDATE customers SET tier = 'platinum'")
        """, path: rollback, directory: directory)
      defer { writer.stop() }
      let clock = ContinuousClock()
      let started = clock.now
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: rollback, lockTimeout: .milliseconds(300)).introspect(schemas: [
          Self.main
        ])
      }
      let waited = clock.now - started
      #expect(error.kind == .lockTimeout)
      #expect(error.message.contains("'\(rollback)' is locked by another process"), "\(error.message)")
      #expect(error.message.contains("--lock-timeout 300ms"))
      // The writer holds its lock until the test ends: the error's kind proves the read stopped waiting.
      // No upper wall-clock bound (tests run in parallel on two cores and can be starved for seconds).
      #expect(waited >= .milliseconds(300), "\(waited)")
    }
  }

  /// Devices, a fifo, empty, truncated and foreign files: one error naming the path, before SQLite opens
  /// them (before: /dev/zero, /dev/null and empty files read as empty databases, every table missing).
  @Test func filesThatAreNotSQLiteDatabasesAreOneErrorNamingThePath() async throws {
    try await withTemporaryDirectory { directory in
      let (rollback, wal) = try await Self.databases(in: directory)
      let whole = try Data(contentsOf: URL(fileURLWithPath: rollback))
      let cutMidPage = directory.file("cut-mid-page.db")
      try whole.prefix(whole.count - 100).write(to: URL(fileURLWithPath: cutMidPage))
      let cutAtPage = directory.file("cut-at-page.db")
      let pageSize = Int(whole[16]) << 8 | Int(whole[17])
      try whole.prefix(pageSize).write(to: URL(fileURLWithPath: cutAtPage))
      #expect(whole.count > pageSize)
      let walCut = directory.file("wal-cut.db")
      try Data(contentsOf: URL(fileURLWithPath: wal)).prefix(whole.count - 7).write(
        to: URL(fileURLWithPath: walCut))
      let empty = directory.file("empty.db")
      #expect(FileManager.default.createFile(atPath: empty, contents: nil))
      let foreign = try directory.write("name,email\nann,ann@example.com\n", to: "customers.csv")
      let header = directory.file("header-only.db")
      try whole.prefix(60).write(to: URL(fileURLWithPath: header))
      let fifo = directory.file("fifo.db")
      #expect(mkfifo(fifo, 0o600) == 0)
      let cases: [(String, String)] = [
        ("/dev/zero", "is a device"), ("/dev/null", "is a device"), (fifo, "is a fifo"),
        (empty, "is empty"), (cutMidPage, "is a damaged or truncated"),
        (cutAtPage, "is a damaged or truncated"),
        (walCut, "is a damaged or truncated"), (foreign, "is not a sqlite database"),
        (header, "is not a sqlite database"),
      ]
      for (path, says) in cases {
        let error = try await #require(throws: WarehouseError.self, "\(path)") {
          try await SQLiteWarehouse(path: path).introspect(schemas: [Self.main])
        }
        #expect(error.kind == .notASQLiteDatabase, "\(path): \(error.message)")
        #expect(error.message.contains("'\(path)' \(says)"), "\(path): \(error.message)")
        #expect(!error.message.contains("\n"))
      }
      // An attached file is checked the same way.
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: rollback, attachments: ["raw": "/dev/zero"]).introspect(schemas: [
          SchemaRef(schema: "raw")
        ])
      }
      #expect(error.message.contains("'/dev/zero' is a device"))
    }
  }
}

/// A Python process (the standard library's sqlite3) holding a SQLite file open, as another writer would.
final class PythonSQLite: @unchecked Sendable {
  let process = Process()
  let input = Pipe()

  /// Runs `script` with `path` bound, then signals readiness and sleeps until stopped.
  static func start(_ script: String, path: String, directory: TemporaryDirectory) throws -> PythonSQLite {
    let ready = directory.file("writer-ready-\(UUID().uuidString)")
    // It holds the file until its standard input closes (`stop`), whatever runs python (a shim script).
    let program =
      "import sqlite3, sys\npath = sys.argv[1]\n" + script
      + "\nopen(sys.argv[2], 'w').close()\nsys.stdin.read()\n"
    let writer = PythonSQLite()
    writer.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    writer.process.arguments = ["python3", "-c", program, path, ready]
    writer.process.standardInput = writer.input
    try writer.process.run()
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: ready) {
      guard writer.process.isRunning, Date() < deadline else {
        writer.stop()
        throw InputError("the python sqlite writer did not start")
      }
      usleep(20_000)
    }
    return writer
  }

  func stop() {
    try? input.fileHandleForWriting.close()
    if process.isRunning { process.waitUntilExit() }
  }
}
