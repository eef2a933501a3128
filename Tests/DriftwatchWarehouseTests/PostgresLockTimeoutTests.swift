import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import DriftwatchPostgres

/// A second session holds `ACCESS EXCLUSIVE` on a source table (a migration in an open transaction): reads
/// give up after the lock timeout with one error naming the table and the session, instead of waiting for
/// as long as the lock is held.
@Suite("PostgreSQL read timeouts")
struct PostgresLockTimeoutTests {
  static let fixture = """
    CREATE SCHEMA raw;
    CREATE TABLE raw.customers (id int PRIMARY KEY, tier text);
    INSERT INTO raw.customers SELECT g, CASE WHEN g % 2 = 0 THEN 'gold' ELSE 'silver' END
      FROM generate_series(1, 20) g;
    """
  static let raw = SchemaRef(schema: "raw")
  static let tier = ColumnRef(schema: raw, table: "customers", column: "tier")
  static let table = TableRef(schema: raw, name: "customers")

  /// `body` with the database and the pid of a session named `migration-42` holding `ACCESS EXCLUSIVE` on
  /// raw.customers in an open transaction (rolled back afterwards).
  static func withLockedTable(_ body: (PostgresLocator, Int32) async throws -> Void) async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: fixture, into: db)
      let holder = try await TestLockHolder.lock("raw.customers", in: db, applicationName: "migration-42")
      do {
        try await body(db, holder.pid)
      } catch {
        await holder.close()
        throw error
      }
      await holder.close()
    }
  }

  static func warehouse(_ db: PostgresLocator, lock: Duration, statement: Duration) -> PostgresWarehouse {
    var warehouse = PostgresWarehouse(locator: db)
    warehouse.timeouts = ReadTimeouts(lock: lock, statement: statement)
    return warehouse
  }

  /// Which statements block: the catalog query reads only pg_catalog (no lock on the table) and answers;
  /// the profile and the samples read the table (AccessShareLock) and wait for the lock.
  @Test func readsOfALockedTableFailAfterTheLockTimeoutNamingTheHolder() async throws {
    try await Self.withLockedTable { db, pid in
      let warehouse = Self.warehouse(db, lock: .milliseconds(300), statement: .seconds(60))
      let live = try await warehouse.introspect(schemas: [Self.raw])
      #expect(live.tables.map(\.name) == ["customers"])

      let reads: [(String, @Sendable () async throws -> Void)] = [
        ("profile", { _ = try await warehouse.profile(columns: [Self.tier], topK: 5) }),
        (
          "sample",
          { _ = try await warehouse.sample(table: Self.table, key: "id", columns: ["tier"], limit: 5) }
        ),
        (
          "rows",
          { _ = try await warehouse.rows(table: Self.table, key: "id", keys: ["1"], columns: ["tier"]) }
        ),
      ]
      for (name, read) in reads {
        // The lock is held until the test ends, so an answer at all means the read did not wait for the
        // lock to go: the kind (lock_timeout, not a release) is the proof. No wall-clock bound: the suite
        // runs tests in parallel on two cores, where a 300 ms timeout has been seen to answer after 25 s.
        let error = try await #require(throws: WarehouseError.self, "\(name)") { try await read() }
        #expect(error.kind == .lockTimeout, "\(name): \(error.message)")
        #expect(
          error.message
            == "reading raw.customers on \(db.displayURL): waited longer than --lock-timeout 300ms for a lock "
            + "held by pid \(pid) (application_name migration-42, user \(db.user)); retry once that session "
            + "commits or rolls back (a migration, a long transaction), or raise --lock-timeout",
          "\(name)")
      }
    }
  }

  /// With no lock timeout (0), the statement timeout ends the wait, and says who holds the lock.
  @Test func theStatementTimeoutEndsAWaitWithoutLockTimeout() async throws {
    try await Self.withLockedTable { db, pid in
      let warehouse = Self.warehouse(db, lock: .zero, statement: .milliseconds(400))
      let error = try await #require(throws: WarehouseError.self) {
        _ = try await warehouse.profile(columns: [Self.tier], topK: 5)
      }
      #expect(error.kind == .statementTimeout)
      #expect(
        error.message
          == "reading raw.customers on \(db.displayURL): waited longer than --statement-timeout 400ms for a lock "
          + "held by pid \(pid) (application_name migration-42, user \(db.user)); retry once that session commits "
          + "or rolls back, or set --lock-timeout (0 waits for as long as the lock is held)")
    }
  }

  /// The timeouts are local to driftwatch's read-only transaction, with the values bound: the session's
  /// own settings are untouched afterwards, and the reads still work once the lock is gone.
  @Test func timeoutsAreSetInTheReadOnlyTransaction() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: Self.fixture, into: db)
      let warehouse = Self.warehouse(db, lock: .milliseconds(1500), statement: .seconds(90))
      let settings = try await warehouse.withReadOnlySession { session in
        try await session.query(
          "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), current_setting('transaction_read_only')"
        ).first?.decode((String, String, String).self)
      }
      #expect(settings?.0 == "1500ms")
      #expect(settings?.1 == "90s")
      #expect(settings?.2 == "on")
      let profiles = try await warehouse.profile(columns: [Self.tier], topK: 5)
      #expect(profiles.first?.rowCount == 20)
    }
  }
}

/// Names and application names come from other sessions: control characters are escaped before they reach
/// a terminal or a log line.
@Suite("lock holder descriptions")
struct LockHolderDescriptionTests {
  @Test func controlCharactersAreEscaped() {
    #expect(printable("raw\n\u{1b}[31mcustomers\u{9b}") == "raw\\u{a}\\u{1b}[31mcustomers\\u{9b}")
    #expect(TableLock(schema: "raw", table: "a\tb").display == "raw.a\\u{9}b")
    let holders = [
      LockHolder(pid: 7, applicationName: "", user: "ev\u{7}il", granted: false),
      LockHolder(pid: 9, applicationName: "x", user: "y", granted: true),
    ]
    #expect(
      PostgresReadTimeout.describe(holders)
        == " queued first by pid 7 (application_name none, user ev\\u{7}il) and 1 more")
    #expect(PostgresReadTimeout.describe([]) == "")
  }
}
