import DriftwatchCore
import DriftwatchPostgres
import DriftwatchTestSupport
import Foundation
import PostgresNIO
import Testing

/// The staging copy of `impact --dbt-build` is dropped even when a session of another role is on it — what
/// autovacuum's worker is on a freshly built copy, and what a least-privileged role may not end with
/// `DROP DATABASE … WITH (FORCE)` (sqlstate 42501). A copy left behind was found in CI: the drop failed, the
/// command exited 2 and the copy stayed.
@Suite("staging copy on PostgreSQL")
struct StagingCopyTests {
  @Test func theCopyIsDroppedWhenAnotherRolesSessionLeavesIt() async throws {
    try await TestPostgres.withFitRole { admin, fit in
      let copy = try await PostgresStagingCopy.create(from: fit)
      var other = admin
      other.database = copy.locator.database
      // A session of another role (the test's admin) on the copy, for about a second.
      let held = Task {
        try await TestPostgres.withConnection(to: other) { connection in
          _ = try await connection.query("SELECT 1", logger: PostgresSession.silentLogger).collect()
          try await Task.sleep(for: .milliseconds(1500))
        }
      }
      // Wait until the session is there.
      for _ in 0..<50 {
        let rows = try await TestPostgres.rows(
          "SELECT count(*)::text FROM pg_catalog.pg_stat_activity WHERE datname = '\(copy.locator.database)'",
          in: admin)
        if rows.first?.first != "0" { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      try await copy.drop()
      try await held.value
      let left = try await TestPostgres.rows(
        "SELECT count(*)::text FROM pg_catalog.pg_database WHERE datname = '\(copy.locator.database)'",
        in: admin)
      #expect(left.first?.first == "0")
    }
  }
}
