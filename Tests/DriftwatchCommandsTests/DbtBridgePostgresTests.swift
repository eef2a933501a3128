import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// On PostgreSQL, the dbt bridge (`--via-dbt`: driftwatch's macros through dbt-postgres) and the native driver
/// give the same report on acme, both reading the example's own profile: clean, after the migration, and with
/// each one's own snapshot (and the other's) as evidence.
@Suite("dbt bridge = native driver on PostgreSQL", .serialized)
struct DbtBridgePostgresTests {
  /// The report without what names the way it was read (`warehouse`) or how long it took.
  static func comparable(_ stdout: String) throws -> NSDictionary {
    var report = try CLI.json(stdout)
    report.removeValue(forKey: "warehouse")
    report.removeValue(forKey: "timings_ms")
    return report as NSDictionary
  }

  @Test func bridgeAndNativeReportsAreIdenticalOnAcme() async throws {
    guard let (dbt, _) = DbtBridgeDuckDBTests.tools else { return }
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      let password = db.password ?? ""
      let scratch = try Scratch()
      defer { scratch.remove() }
      let environment = [
        "PGPASSWORD": password, "ACME_PG_HOST": db.host, "ACME_PG_PORT": String(db.port),
        "ACME_PG_USER": db.user, "ACME_PG_PASSWORD": password, "ACME_PG_DBNAME": db.database,
        "DRIFTWATCH_DBT": dbt, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
      ]
      let native = ["--profiles-dir", CLI.acme]
      let bridge = ["--profiles-dir", CLI.acme, "--via-dbt"]
      let nativeState = "sqlite:" + scratch.file("native.db")
      let bridgeState = "sqlite:" + scratch.file("bridge.db")

      func check(_ warehouse: [String], state: String) async throws -> CLI.Result {
        try await CLI.run(
          ["check", "--project", CLI.acme, "--format", "json", "--state", state] + warehouse,
          environment: environment)
      }

      let cleanNative = try await check(native, state: nativeState)
      let cleanBridge = try await check(bridge, state: bridgeState)
      #expect(
        cleanNative.status == 0 && cleanBridge.status == 0, "\(cleanNative.stderr)\(cleanBridge.stderr)")
      #expect(try Self.comparable(cleanBridge.stdout) == Self.comparable(cleanNative.stdout))
      #expect((try CLI.json(cleanBridge.stdout)["warehouse"] as? String)?.hasPrefix("dbt:acme.dev") == true)

      for (warehouse, state) in [(native, nativeState), (bridge, bridgeState)] {
        let taken = try await CLI.run(
          ["snapshot", "--project", CLI.acme, "--state", state] + warehouse, environment: environment)
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stdout.contains("3 tables, 18 columns profiled, 3000 keys sampled from 3 tables"))
      }

      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")

      let brokenNative = try await check(native, state: nativeState)
      let brokenBridge = try await check(bridge, state: bridgeState)
      #expect(brokenNative.status == 1 && brokenBridge.status == 1, "\(brokenBridge.stderr)")
      try AcmeEvidence.expectProven(try CLI.json(brokenBridge.stdout))
      #expect(try Self.comparable(brokenBridge.stdout) == Self.comparable(brokenNative.stdout))
      // Each with the other's snapshot: the samples (md5 order of the key) and profiles are the same data.
      let crossed = try await check(bridge, state: nativeState)
      #expect(try Self.comparable(crossed.stdout) == Self.comparable(brokenNative.stdout))
      #expect(!brokenBridge.stdout.contains(password) && !brokenBridge.stderr.contains(password))
    }
  }
}
