import DriftwatchCore
import DriftwatchReports
import DriftwatchSQLite
import DriftwatchTestSupport
import DriftwatchWatch
import Foundation
import Logging
import Testing

@testable import DriftwatchCommands

/// A clock whose time moves only when told (`advance`) or when a loop sleeps (then by the time it asked for,
/// after a real millisecond, so that the loops run many times faster than real time).
final class TestClock: WatchClock, @unchecked Sendable {
  private let lock = NSLock()
  private var current: Timestamp

  init(_ start: Timestamp) { current = start }

  func now() -> Timestamp { lock.withLock { current } }

  func advance(milliseconds: Int64) { lock.withLock { current = current.adding(milliseconds: milliseconds) } }

  func sleep(milliseconds: Int64) async {
    try? await Task.sleep(for: .milliseconds(1))
    advance(milliseconds: milliseconds)
  }
}

/// Records every POST and answers with the statuses it is given (then 200).
final class TestPoster: AlertPoster, @unchecked Sendable {
  struct Post {
    var url: String
    var body: String
    var idempotencyKey: String?
  }

  private let lock = NSLock()
  private var answers: [Int]
  private var log: [Post] = []

  init(answers: [Int] = []) { self.answers = answers }

  var posts: [Post] { lock.withLock { log } }

  func post(url: String, body: String, headers: [(String, String)]) async throws -> Int {
    lock.withLock {
      log.append(Post(url: url, body: body, idempotencyKey: headers.first { $0.0 == "Idempotency-Key" }?.1))
      return answers.isEmpty ? 200 : answers.removeFirst()
    }
  }
}

/// A warehouse twin whose tables can be swapped (a migration) or made to fail (an outage).
final class SwitchableWarehouse: WarehouseIntrospector, @unchecked Sendable {
  private let lock = NSLock()
  private var tables: [LiveTable]
  private var failure: String?

  init(tables: [LiveTable]) { self.tables = tables }

  var displayName: String { "memory" }
  var dialect: SQLDialect { .sqlite }

  func set(tables: [LiveTable]) { lock.withLock { self.tables = tables } }
  func fail(_ message: String?) { lock.withLock { failure = message } }

  func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    let (tables, failure) = lock.withLock { (self.tables, self.failure) }
    if let failure { throw InputError(failure) }
    return try await InMemoryWarehouse(dialect: .sqlite, tables: tables).introspect(schemas: schemas)
  }
}

/// `WatchEngine` in-process with its twins: a test clock, a recording poster, the in-memory incident store
/// and an in-memory warehouse holding acme's tables before and after the migration.
@Suite("watch engine in-process, with twins")
struct WatchEngineTests {
  static func at(_ text: String) throws -> Timestamp { try #require(Timestamp.parse(text)) }

  /// acme's tables as the real SQLite warehouse has them, before and after the migration.
  static func acmeTables(in scratch: Scratch) async throws -> (clean: [LiveTable], migrated: [LiveTable]) {
    let project = try ProjectOptions.parse(["--project", CLI.acme]).load()
    let clean = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let cleanTables = try await SQLiteWarehouse(path: clean).introspect(schemas: project.sourceSchemas).tables
    let database = try await SQLiteDatabase.open(at: clean)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()
    let migrated = try await SQLiteWarehouse(path: clean).introspect(schemas: project.sourceSchemas).tables
    return (cleanTables, migrated)
  }

  static func engine(
    warehouse: SwitchableWarehouse, store: InMemoryIncidentStore, clock: TestClock, poster: TestPoster,
    destinations: [String] = ["slack"]
  ) throws -> WatchEngine {
    let project = try ProjectOptions.parse(["--project", CLI.acme]).load()
    return WatchEngine(
      check: {
        let run = try await CheckRun.run(project: { project }, warehouse: warehouse)
        return WatchCheck(
          report: run.report,
          draftFix: { try? Watch.draftFix(run, root: CLI.acme, dialect: .sqlite) })
      },
      incidents: store, destinations: destinations, fixCommand: "driftwatch fix --project .",
      url: { destination in destination == "slack" ? "https://hooks.example/slack-secret" : nil },
      clock: clock, poster: poster, logger: Logger(label: "test"))
  }

  /// Step by step, with fixed times: DDL → incident with its timeline → a 503, retried with backoff →
  /// delivered once, with its latency; the same drift again changes nothing; the fix clears it.
  @Test func ddlOpensOneIncidentAlertRetriedThenDeliveredOnce() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let tables = try await Self.acmeTables(in: scratch)
    let warehouse = SwitchableWarehouse(tables: tables.clean)
    let store = InMemoryIncidentStore()
    let clock = TestClock(try Self.at("2026-02-17T14:00:00.000Z"))
    let poster = TestPoster(answers: [503])
    let engine = try Self.engine(warehouse: warehouse, store: store, clock: clock, poster: poster)

    try await engine.runCheck(events: [], reason: "start")
    #expect(try await store.incidents(project: nil).isEmpty)

    warehouse.set(tables: tables.migrated)
    let ddl = DDLEvent(
      event: "ddl_command_end", tag: "ALTER TABLE", identity: "main.raw_customers",
      at: try Self.at("2026-02-17T13:59:59.800Z"))
    try await engine.runCheck(events: [ddl], reason: "ddl")
    let incident = try #require(try await store.incidents(project: nil).first)
    #expect(incident.status == .open)
    #expect(incident.timeline.map(\.kind) == [.ddl, .detected, .fixDrafted, .alertQueued])
    #expect(incident.detectionLatencyMs == 200)
    #expect(incident.fix?.openQuestions.isEmpty == false)
    let queued = try await store.dueMessages(at: clock.now(), limit: 10)
    try #require(queued.count == 1)

    // The receiver is down: the failure is recorded and retried after the backoff.
    await engine.deliver(queued[0])
    #expect(try await store.dueMessages(at: clock.now(), limit: 10).isEmpty)
    let retry = try #require(try await store.messages(incidentID: incident.id).first)
    #expect(retry.attempts == 1)
    #expect(retry.lastError == "http 503")
    #expect(retry.nextAttemptAt == clock.now().adding(milliseconds: 500))
    clock.advance(milliseconds: 500)
    let due = try await store.dueMessages(at: clock.now(), limit: 10)
    try #require(due.count == 1)
    await engine.deliver(due[0])

    #expect(poster.posts.count == 2)
    #expect(poster.posts.allSatisfy { $0.idempotencyKey == "\(incident.id):slack" })
    #expect(poster.posts.allSatisfy { $0.url == "https://hooks.example/slack-secret" })
    let delivered = try #require(try await store.incident(id: incident.id))
    #expect(delivered.notificationLatencyMs == 700)
    #expect(try await store.dueMessages(at: Timestamp(millisecondsSinceEpoch: .max), limit: 10).isEmpty)

    let status = engine.status
    #expect(status.checks == 2 && status.driftFound == 1)
    #expect(status.alertsDelivered == 1 && status.alertFailures == 1)
    #expect(status.alertLatencies == [0.7])
    let metrics = engine.metrics.rendered()
    #expect(metrics.contains("driftwatch_drift_found_total 1"))
    #expect(metrics.contains("driftwatch_alert_failures_total 1"))
    #expect(metrics.contains("driftwatch_alert_latency_seconds_count 1"))
    #expect(metrics.contains("driftwatch_alert_latency_seconds_bucket{le=\"1.0\"} 1"))

    // The same drift again: nothing new. The warehouse back as it was: resolved.
    try await engine.runCheck(events: [], reason: "interval")
    #expect(try await store.incidents(project: nil).count == 1)
    #expect(try await store.messages(incidentID: incident.id).count == 1)
    warehouse.set(tables: tables.clean)
    try await engine.runCheck(events: [], reason: "interval")
    let cleared = try #require(try await store.incident(id: incident.id))
    #expect(cleared.status == .resolved)
    #expect(cleared.timeline.last?.kind == .driftCleared)
  }

  /// The loops on the test clock: debounced DDL is checked and alerted without waiting for the interval; an
  /// outage makes /healthz fail with the reason and opens nothing; recovery makes it healthy again.
  @Test func loopsDebounceDDLSurviveAnOutageAndServeHealth() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let tables = try await Self.acmeTables(in: scratch)
    let warehouse = SwitchableWarehouse(tables: tables.clean)
    let store = InMemoryIncidentStore()
    let clock = TestClock(try Self.at("2026-02-17T14:00:00.000Z"))
    let poster = TestPoster()
    let engine = try Self.engine(warehouse: warehouse, store: store, clock: clock, poster: poster)
    let server = try await WatchHTTPServer.start(
      host: "127.0.0.1", port: 0, engine: engine, logger: Logger(label: "test"))
    func get(_ path: String) async throws -> CLI.Result {
      try await CLI.run(
        executable: URL(fileURLWithPath: "/usr/bin/curl"),
        ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(server.port)\(path)"])
    }
    func until(_ condition: () async throws -> Bool) async throws -> Bool {
      for _ in 0..<2000 {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
      }
      return false
    }

    try await engine.runCheck(events: [], reason: "start")
    // An interval of 24 h: whatever is checked below is checked because of DDL or a retry.
    let loops = Task {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await engine.checkLoop(intervalMs: 86_400_000) }
        group.addTask { await engine.outboxLoop() }
      }
    }
    defer { loops.cancel() }

    warehouse.fail("cannot open sqlite:/gone.db: no such file")
    engine.received(DDLEvent(event: "ddl_command_end", tag: "ALTER TABLE", at: clock.now()))
    #expect(try await until { engine.status.lastCheckError != nil })
    let failing = try await get("/healthz")
    #expect(failing.stdout.hasSuffix("\n503"), "\(failing.stdout)")
    #expect(failing.stdout.contains("cannot open sqlite:/gone.db: no such file"))
    #expect(try await store.incidents(project: nil).isEmpty, "a failed check opens no incident")

    warehouse.set(tables: tables.migrated)
    warehouse.fail(nil)
    // The DDL's check is retried with backoff and succeeds: one incident, one alert.
    #expect(try await until { poster.posts.count == 1 })
    #expect(engine.status.lastCheckError == nil)
    let incidents = try await store.incidents(project: nil)
    #expect(incidents.count == 1)
    #expect(incidents.first?.timeline.first?.kind == .ddl, "the failed check's DDL went with the retry")
    let healthy = try await get("/healthz")
    #expect(healthy.stdout.hasSuffix("\n200"), "\(healthy.stdout)")
    #expect(healthy.stdout.contains("\"status\": \"ok\""))
    let metrics = try await get("/metrics")
    #expect(metrics.stdout.contains("# TYPE driftwatch_checks_total counter"))
    #expect(metrics.stdout.contains("driftwatch_check_failures_total "))
    #expect(!metrics.stdout.contains("driftwatch_check_failures_total 0"))
    let listed = try await get("/incidents")
    let body = String(listed.stdout.dropLast(4))
    #expect((try CLI.json(body)["incidents"] as? [Any])?.count == 1)

    engine.stop()
    await loops.value
    await server.stop()
    #expect(poster.posts.count == 1, "delivered once")
  }

  /// The AsyncHTTPClient poster against a real local receiver: the status as answered, a refused
  /// connection as a DeliveryError that does not quote the URL.
  @Test func httpPosterPostsJSONAndNamesFailuresWithoutTheURL() async throws {
    let receiver = try await AlertReceiver.start()
    let poster = HTTPAlertPoster(timeout: .seconds(5))
    let status = try await poster.post(
      url: receiver.url, body: #"{"text": "hi"}"#, headers: [("Idempotency-Key", "inc-1:slack")])
    #expect(status == 200)
    let received = await receiver.wait(forCount: 1)
    #expect(received.first?.body == #"{"text": "hi"}"#)
    #expect(received.first?.idempotencyKey == "inc-1:slack")
    receiver.failing = true
    #expect(try await poster.post(url: receiver.url, body: "{}", headers: []) == 503)
    await receiver.stop()

    let closed = try await TestNetwork.closedPort()
    let url = "http://127.0.0.1:\(closed)/services/secret-path"
    await #expect(throws: DeliveryError.self) { _ = try await poster.post(url: url, body: "{}", headers: []) }
    do {
      _ = try await poster.post(url: url, body: "{}", headers: [])
    } catch let error as DeliveryError {
      #expect(!error.message.contains("secret-path"))
      #expect(error.message.hasPrefix("request failed: "), "\(error.message)")
    }
    await #expect(throws: DeliveryError.self) {
      _ = try await poster.post(url: "ftp://example.com/x", body: "{}", headers: [])
    }
  }
}
