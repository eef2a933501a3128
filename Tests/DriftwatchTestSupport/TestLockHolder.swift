import DriftwatchCore
import DriftwatchPostgres
import PostgresNIO

/// Another session holding `ACCESS EXCLUSIVE` on a table in an open transaction, as a migration does while
/// it runs: `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on its own connection, kept until `commit` or
/// `rollback` (or `close`, which rolls back).
public final class TestLockHolder: Sendable {
  /// The holding session's backend pid.
  public let pid: Int32
  let connection: PostgresConnection

  private init(pid: Int32, connection: PostgresConnection) {
    self.pid = pid
    self.connection = connection
  }

  /// Locks `table` (already quoted, e.g. `raw.raw_customers`) on a new connection named `applicationName`.
  public static func lock(_ table: String, in locator: PostgresLocator, applicationName: String) async throws
    -> TestLockHolder
  {
    let connection = try await PostgresSession.connect(to: locator, applicationName: applicationName)
    do {
      let pid =
        try await connection.query("SELECT pg_backend_pid()", logger: PostgresSession.silentLogger).collect()
        .first?.decode(Int32.self) ?? -1
      let holder = TestLockHolder(pid: pid, connection: connection)
      try await holder.run("BEGIN")
      try await holder.run("LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
      return holder
    } catch {
      try? await connection.close()
      throw error
    }
  }

  /// Runs `sql` in the holding transaction.
  public func run(_ sql: String) async throws {
    _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresSession.silentLogger)
      .collect()
  }

  public func commit() async throws {
    try await run("COMMIT")
    try await connection.close()
  }

  public func close() async {
    try? await run("ROLLBACK")
    try? await connection.close()
  }
}
