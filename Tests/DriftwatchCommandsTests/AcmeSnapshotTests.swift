import DriftwatchCore
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

/// Snapshot → migration → check on the acme example: the data proves the incident.
enum AcmeEvidence {
  /// What the issue asks the evidence to show, whatever the warehouse.
  static func expectProven(
    _ report: [String: Any], sampled: Int = 1000, sourceLocation: SourceLocation = #_sourceLocation
  )
    throws
  {
    try Acme.expectIncident(report, sourceLocation: sourceLocation)
    let changes = try #require(report["changes"] as? [[String: Any]], sourceLocation: sourceLocation)
    func change(_ kind: String, _ from: String) throws -> [String: Any] {
      try #require(
        changes.first { $0["kind"] as? String == kind && $0["from"] as? String == from },
        sourceLocation: sourceLocation)
    }
    let evidence = { (change: [String: Any]) in change["evidence"] as? [String] ?? [] }
    let keyLine =
      "\(sampled)/\(sampled) sampled keys of raw_customers.customer_id found as raw_accounts.account_id"
    #expect(
      evidence(try change("table_renamed", "raw_customers")).contains(keyLine), sourceLocation: sourceLocation
    )
    #expect(
      evidence(try change("column_renamed", "customer_id")).contains(keyLine), sourceLocation: sourceLocation)
    #expect(
      evidence(try change("column_renamed", "country")).contains(
        "country = country_code on \(sampled)/\(sampled) sampled keys"),
      sourceLocation: sourceLocation)
    #expect(
      evidence(try change("column_renamed", "customer_segment")).contains {
        $0.hasPrefix(
          "customer_segment → account_tier on every sampled key, with its values renamed one to one")
      }, sourceLocation: sourceLocation)

    let split = try change("column_split", "address")
    let template = try #require(split["template"] as? [String: Any], sourceLocation: sourceLocation)
    #expect(
      template["format"] as? String == "{street}, {city}, {state_code} {postal_code}",
      sourceLocation: sourceLocation)
    #expect(template["matched"] as? Int == sampled, sourceLocation: sourceLocation)
    #expect(template["sampled"] as? Int == sampled, sourceLocation: sourceLocation)
    #expect(split["confidence"] as? Double == 0.99, sourceLocation: sourceLocation)

    let remap = try change("values_remapped", "customer_segment")
    let mapping = try #require(remap["mapping"] as? [[String: Any]], sourceLocation: sourceLocation)
    let pairs = Set(mapping.map { "\($0["old"] as? String ?? "")→\($0["new"] as? String ?? "")" })
    #expect(pairs == ["premium→gold", "standard→silver", "basic→bronze"], sourceLocation: sourceLocation)
    for pair in mapping {
      let support = try #require(pair["support"] as? Int, sourceLocation: sourceLocation)
      #expect(support > 0 && support == pair["total"] as? Int, sourceLocation: sourceLocation)
    }
    #expect(
      mapping.compactMap { $0["total"] as? Int }.reduce(0, +) == sampled, sourceLocation: sourceLocation)
    #expect(evidence(remap).contains { $0.contains("a human's call") }, sourceLocation: sourceLocation)
  }
}

@Suite("acme snapshots on SQLite")
struct AcmeSnapshotSQLiteTests {
  @Test func snapshotThenMigrationThenCheckProvesTheIncident() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let state = "sqlite:" + scratch.file("state/state.db")
    let warehouse = "sqlite:\(path)"

    let history0 = try await CLI.run(["history", "--project", CLI.acme, "--state", state])
    #expect(history0.status == 0, "\(history0.stderr)")
    #expect(history0.stdout.contains("no snapshots of acme"))

    let taken = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", warehouse, "--state", state,
    ])
    #expect(taken.status == 0, "\(taken.stderr)")
    #expect(taken.stdout.contains("3 tables, 18 columns profiled, 3000 keys sampled from 3 tables"))

    let database = try await SQLiteDatabase.open(at: path)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()

    let check = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", warehouse, "--state", state, "--format", "json",
    ])
    #expect(check.status == 1, "\(check.stderr)")
    try AcmeEvidence.expectProven(try CLI.json(check.stdout))

    // Without the snapshot: names only, no template counts.
    let names = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", warehouse, "--state", state, "--no-snapshot", "--format",
      "json",
    ])
    #expect(names.status == 1)
    #expect(!names.stdout.contains("sampled keys"))

    // A second snapshot after the migration, and the diff of the two.
    let second = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", warehouse, "--state", state,
    ])
    #expect(second.status == 0, "\(second.stderr)")
    let history = try await CLI.run(["history", "--project", CLI.acme, "--state", state, "--format", "json"])
    let snapshots = try #require(try CLI.json(history.stdout)["snapshots"] as? [[String: Any]])
    #expect(snapshots.count == 2)
    let ids = snapshots.compactMap { $0["id"] as? String }
    #expect(snapshots.first?["warehouse"] as? String == warehouse)
    let diff = try await CLI.run([
      "diff", ids[0], ids[1], "--project", CLI.acme, "--state", state, "--format", "json",
    ])
    #expect(diff.status == 1, "\(diff.stderr)")
    let diffReport = try CLI.json(diff.stdout)
    let kinds = (diffReport["changes"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    #expect(kinds.contains("table_renamed"))
    #expect(kinds.contains("column_split"))
    // The second snapshot sampled raw_accounts (undeclared, keyed): the same keys in the same hash order,
    // so the diff proves the split too.
    let diffSplit = (diffReport["changes"] as? [[String: Any]] ?? []).first {
      $0["kind"] as? String == "column_split"
    }
    let diffTemplate = diffSplit?["template"] as? [String: Any]
    #expect(diffTemplate?["format"] as? String == "{street}, {city}, {state_code} {postal_code}")
    #expect(diffTemplate?["matched"] as? Int == 1000)

    let missing = try await CLI.run(["diff", "nope", ids[1], "--project", CLI.acme, "--state", state])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no snapshot nope"))
  }

  @Test func hashedSnapshotStillConfirmsRenamesAndMapping() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let state = "sqlite:" + scratch.file("state.db")
    let taken = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--state", state,
      "--no-sample-values",
      "--sample-size", "200",
    ])
    #expect(taken.status == 0, "\(taken.stderr)")
    #expect(taken.stdout.contains("600 keys sampled from 3 tables (values hashed)"))
    // No value of the warehouse is in the state store.
    let stored = try Data(contentsOf: URL(fileURLWithPath: scratch.file("state.db")))
    #expect(stored.range(of: Data("patricia.taylor@gmail.com".utf8)) == nil)

    let database = try await SQLiteDatabase.open(at: path)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()
    let check = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--state", state, "--format", "json",
    ])
    #expect(check.status == 1)
    let changes = try #require(try CLI.json(check.stdout)["changes"] as? [[String: Any]])
    let country = changes.first { $0["from"] as? String == "country" }
    #expect(
      (country?["evidence"] as? [String])?.contains("country = country_code on 200/200 sampled keys") == true)
    let remap = changes.first { $0["kind"] as? String == "values_remapped" }
    let olds = Set((remap?["mapping"] as? [[String: Any]] ?? []).compactMap { $0["old"] as? String })
    #expect(olds == ["premium", "standard", "basic"])
  }

  @Test func anUnreadableStateStoreIsAWarningNotAFailure() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let state = scratch.file("state.db")
    try Data("not a database at all, just text".utf8).write(to: URL(fileURLWithPath: state))
    let check = try await CLI.run([
      "check", "--project", CLI.acme, "--warehouse", "sqlite:\(path)", "--state", "sqlite:\(state)",
      "--format", "json",
    ])
    #expect(check.status == 1, "\(check.stderr)")
    #expect(check.stderr.hasPrefix("driftwatch: warning: no snapshot evidence:"))
    try Acme.expectIncident(try CLI.json(check.stdout))
  }

  @Test func badStateAndSampleSizeAreUsageErrors() async throws {
    let bad = try await CLI.run(["history", "--project", CLI.acme, "--state", "mysql://x"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("--state"))
    let size = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", "sqlite:/nope.db", "--sample-size", "-1",
    ])
    #expect(size.status == 2)
    let missing = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", "sqlite:/no/such/file.db", "--state",
      "sqlite:/tmp/never.db",
    ])
    #expect(missing.status == 2)
    #expect(!FileManager.default.fileExists(atPath: "/tmp/never.db"), "no partial write on a bad warehouse")
  }
}

@Suite("acme snapshots on PostgreSQL")
struct AcmeSnapshotPostgresTests {
  @Test func snapshotInAPostgresStateStoreThenCheckProvesTheIncident() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
      let environment = ["PGPASSWORD": db.password ?? ""]
      // The state lives in the same test database, schema driftwatch, named by URL.
      let state = url + "?sslmode=disable"
      let taken = try await CLI.run(
        ["snapshot", "--project", CLI.acme, "--warehouse", url, "--state", state], environment: environment)
      #expect(taken.status == 0, "\(taken.stderr)")
      #expect(taken.stdout.contains("3000 keys sampled"))
      #expect(!taken.stdout.contains(db.password ?? "\u{0}"))

      try await TestPostgres.load(sql: try CLI.read(Acme.postgresMigration), into: db, searchPath: "raw")
      let check = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url, "--state", state, "--format", "json"],
        environment: environment)
      #expect(check.status == 1, "\(check.stderr)")
      try AcmeEvidence.expectProven(try CLI.json(check.stdout))

      let history = try await CLI.run(
        ["history", "--project", CLI.acme, "--state", state, "--format", "json"], environment: environment)
      let snapshots = try #require(try CLI.json(history.stdout)["snapshots"] as? [[String: Any]])
      #expect(snapshots.count == 1)
      #expect((snapshots.first?["warehouse"] as? String)?.contains(db.password ?? "\u{0}") == false)
    }
  }
}
