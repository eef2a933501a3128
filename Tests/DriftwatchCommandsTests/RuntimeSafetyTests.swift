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

/// The command line when the warehouse is locked, is not a database, or is down for a while.
@Suite("runtime safety: locked tables, bad sqlite files, watch health", .serialized)
struct RuntimeSafetyTests {
  /// `check` and `snapshot` while a migration holds `ACCESS EXCLUSIVE` on raw.raw_customers: one line,
  /// exit 2, after the lock timeout. Before: check blocked as long as the lock was held.
  @Test func checkAndSnapshotOnALockedTableExitTwoNamingTheHolder() async throws {
    try await TestPostgres.withDatabase { db in
      try await TestPostgres.load(sql: try CLI.read(Acme.seed), into: db, searchPath: "raw")
      let holder = try await TestLockHolder.lock(
        "raw.raw_customers", in: db, applicationName: "deploy 0042")
      let scratch = try Scratch()
      defer { scratch.remove() }
      let url = "postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)?sslmode=disable"
      let environment = ["PGPASSWORD": db.password ?? ""]
      let commands: [[String]] = [
        ["check", "--project", CLI.acme, "--warehouse", url, "--lock-timeout", "500ms"],
        [
          "snapshot", "--project", CLI.acme, "--warehouse", url, "--state", "sqlite:" + scratch.file("s.db"),
          "--lock-timeout", "0.5s",
        ],
      ]
      for arguments in commands {
        let started = Date()
        let result = try await CLI.run(arguments, environment: environment)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 2, "\(arguments[0]): \(result.stderr)")
        #expect(
          result.stderr.hasPrefix(
            "driftwatch: reading raw.raw_customers on postgres://\(db.user)@\(db.host):\(db.port)/\(db.database)"
          ), "\(result.stderr)")
        #expect(
          result.stderr.contains(
            "waited longer than --lock-timeout 500ms for a lock held by pid \(holder.pid) (application_name deploy 0042, user \(db.user))"
          ), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
        #expect(seconds < 15, "\(arguments[0]) took \(seconds) s")
      }
      // The flags go through the one duration parser.
      let bad = try await CLI.run(
        ["check", "--project", CLI.acme, "--warehouse", url, "--statement-timeout", "soon"],
        environment: environment)
      #expect(bad.status == 2)
      #expect(bad.stderr.contains("--statement-timeout"), "\(bad.stderr)")
      // --interval reads the same units (2min was refused before), within 100ms…24h.
      let short = try await CLI.run([
        "watch", "--project", CLI.acme, "--warehouse", url, "--interval", "50ms",
      ])
      #expect(short.status == 2)
      #expect(short.stderr.contains("--interval must be 100ms…24h"), "\(short.stderr)")
      await holder.close()
    }
  }

  /// `/dev/zero`, `/dev/null`, an empty file: exit 2 and one line naming the path. Before: read as empty
  /// warehouses (every table missing, exit 1).
  @Test func sqliteDevicesAndEmptyFilesExitTwo() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let empty = scratch.file("empty.db")
    #expect(FileManager.default.createFile(atPath: empty, contents: nil))
    for (path, says) in [("/dev/zero", "is a device"), ("/dev/null", "is a device"), (empty, "is empty")] {
      let result = try await CLI.run(["check", "--project", CLI.acme, "--warehouse", "sqlite:" + path])
      #expect(result.status == 2, "\(path): \(result.stdout) \(result.stderr)")
      #expect(result.stderr.hasPrefix("driftwatch: '\(path)' \(says)"), "\(result.stderr)")
      #expect(result.stderr.filter { $0 == "\n" }.count == 1)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty)
  }

  /// `/healthz` says 503 with the reason while checks fail (the warehouse file replaced by garbage), and ok
  /// again once a check succeeds. Before: ok throughout.
  @Test func healthzReportsTheWarehouseState() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let port = try await TestNetwork.closedPort()
    let watch = try WatchProcess(
      [
        "--project", CLI.acme, "--warehouse", "sqlite:\(warehouse)", "--state",
        "sqlite:" + scratch.file("s.db"),
        "--interval", "300ms", "--http", "127.0.0.1:\(port)",
      ], environment: [:], logPath: scratch.file("watch.log"))
    #expect(await watch.waitForLog("watching"), "\(watch.log)")
    func health() async throws -> (status: String, body: String) {
      let result = try await CLI.run(
        executable: URL(fileURLWithPath: "/usr/bin/curl"),
        ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/healthz"])
      let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
      return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }
    await #expect(try health().status == "200")

    let saved = scratch.file("saved.db")
    try FileManager.default.moveItem(atPath: warehouse, toPath: saved)
    try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: warehouse))
    #expect(await watch.waitForLog("check failed; will retry"), "\(watch.log)")
    let failing = try await health()
    #expect(failing.status == "503", "\(failing)")
    let body = try CLI.json(failing.body)
    #expect(body["status"] as? String == "failing")
    #expect(
      (body["reason"] as? String)?.contains("'\(warehouse)' is not a sqlite database") == true, "\(body)")
    #expect((body["failed_checks"] as? Int ?? 0) >= 1)

    try FileManager.default.removeItem(atPath: warehouse)
    try FileManager.default.moveItem(atPath: saved, toPath: warehouse)
    #expect(await watch.waitForLog("check succeeded again"), "\(watch.log)")
    let recovered = try await health()
    #expect(recovered.status == "200", "\(recovered)")
    #expect(try CLI.json(recovered.body)["status"] as? String == "ok")
    watch.signal(SIGTERM)
    #expect(await watch.waitForExit() == 0)
  }

  /// At debug level (where sqlite-nio logs every open), an idle watch opens its SQLite state store a few
  /// times (every idle poll of the outbox, 5 s), not ~20 times a second (the outbox read every 50 ms).
  @Test func anIdleWatchDoesNotReopenTheStateStoreInALoop() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let state = scratch.file("state.db")
    // The state store exists (a baseline snapshot in it), as it does once watch or snapshot ran.
    let snapshot = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", "sqlite:\(warehouse)", "--state", "sqlite:" + state,
    ])
    #expect(snapshot.status == 0, "\(snapshot.stderr)")
    let watch = try WatchProcess(
      [
        "--project", CLI.acme, "--warehouse", "sqlite:\(warehouse)", "--state", "sqlite:" + state,
        "--interval", "60s", "--log-level", "debug",
      ], environment: [:], logPath: scratch.file("watch.log"))
    #expect(await watch.waitForLog("watching"), "\(watch.log)")
    func opens() -> Int {
      watch.log.split(separator: "\n").filter {
        $0.contains("Connected to sqlite database") && $0.contains(state)
      }.count
    }
    let before = opens()
    try await Task.sleep(for: .seconds(3))
    let during = opens() - before
    print("state store opens in 3 s idle at debug level: \(during)")
    #expect(during <= 4, "the state store was opened \(during) times in 3 s")
    watch.signal(SIGTERM)
    #expect(await watch.waitForExit() == 0)
  }
}

@Suite("watch on PostgreSQL: ddl during the backoff", .serialized)
struct WatchBackoffTests {
  /// Checks fail while a migration holds raw.raw_customers (lock timeout), so the backoff grows to seconds;
  /// the migration then renames a column and commits: the DDL event is checked at once, not when the
  /// backoff ends.
  @Test func ddlDuringTheBackoffIsCheckedAtOnce() async throws {
    try await WatchFixture.with { fixture in
      let watch = try fixture.start(["--lock-timeout", "200ms"], interval: "60s", to: .webhook)
      #expect(await watch.waitForLog("checked everything after (re)connecting"), "\(watch.log)")
      let holder = try await TestLockHolder.lock(
        "raw.raw_customers", in: fixture.db, applicationName: "migration-0042")
      // Any committed DDL makes watch check; the check waits for the lock and fails.
      try await TestPostgres.load(sql: "CREATE TABLE raw.audit_log (id int)", into: fixture.db)
      #expect(await watch.waitForLog("retry_in_ms=8000"), "\(watch.log)")
      #expect(watch.log.contains("held by pid \(holder.pid)"), "\(watch.log)")
      // The next retry is 8 s away: the migration's DDL arrives now.
      try await holder.run("ALTER TABLE raw.raw_customers RENAME COLUMN customer_segment TO plan_tier")
      let committed = Date()
      try await holder.commit()
      let received = await fixture.receiver.wait(forCount: 1)
      try #require(received.count == 1, "\(watch.log)")
      let latency = received[0].at.timeIntervalSince(committed) * 1000
      print("ddl during backoff → alert: \(Int(latency)) ms")
      // The retry is 8 s away; well below it means the DDL, not the retry, started the check.
      #expect(latency < 6000, "the ddl waited for the backoff: \(latency) ms")
      watch.signal(SIGTERM)
      #expect(await watch.waitForExit() == 0)
    }
  }
}
