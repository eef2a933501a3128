import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchState

/// The same contract on the SQLite file, the real PostgreSQL server and the in-memory twin.
@Suite("Incident stores")
struct IncidentStoreTests {
  static func incident(_ id: String, detected: Int64, project: String = "acme") -> Incident {
    let report = DriftReport(
      project: project, warehouse: "sqlite:w.db", schemas: ["raw"], sourcesChecked: 1,
      changes: [
        DriftChange(
          kind: .tableMissing, source: "acme.raw_customers", sourceID: "source.acme.acme.raw_customers",
          relation: nil, from: "raw_customers", to: nil, confidence: 1, breaking: true, evidence: ["gone"])
      ], blastRadius: BlastRadius(models: ["model.acme.stg_customers"]), nodes: [:])
    return Incident(
      id: id, project: project, warehouse: report.warehouse, fingerprint: "f-\(id)", report: report, fix: nil,
      ddlEvents: [DDLEvent(event: "sql_drop", tag: "DROP TABLE", identity: "raw.raw_customers")],
      timeline: [
        TimelineEntry(.ddl, at: Timestamp(millisecondsSinceEpoch: detected - 300)),
        TimelineEntry(.detected, at: Timestamp(millisecondsSinceEpoch: detected)),
      ])
  }

  static func exercise(_ store: any IncidentStore) async throws {
    let t0 = Timestamp(millisecondsSinceEpoch: 1_771_336_800_000)
    #expect(try await store.incidents(project: nil).isEmpty)
    let first = incident("inc-1", detected: t0.millisecondsSinceEpoch)
    let slack = OutboxMessage(
      incidentID: "inc-1", destination: "slack", payload: "{\"text\":\"x\"}", queuedAt: t0)
    let hook = OutboxMessage(incidentID: "inc-1", destination: "webhook", payload: "{}", queuedAt: t0)
    try await store.save(first, enqueue: [slack, hook])
    // A restart that saves the same incident and messages again queues nothing new.
    try await store.save(first, enqueue: [slack])
    try await store.save(
      incident("inc-2", detected: t0.millisecondsSinceEpoch + 5000, project: "other"), enqueue: [])
    #expect(try await store.incidents(project: nil).map(\.id) == ["inc-1", "inc-2"])
    #expect(try await store.incidents(project: "acme").map(\.id) == ["inc-1"])
    #expect(try await store.openIncident(project: "acme")?.id == "inc-1")
    #expect(try await store.incident(id: "inc-1") == first)
    #expect(try await store.incident(id: "nope") == nil)
    #expect(try await store.dueMessages(at: t0, limit: 10).map(\.key) == ["inc-1:slack", "inc-1:webhook"])

    let failed = slack.failed(at: t0, error: "http 503", policy: RetryPolicy())
    try await store.update(failed)
    #expect(try await store.dueMessages(at: t0, limit: 10).map(\.key) == ["inc-1:webhook"])
    let later = t0.adding(milliseconds: 500)
    let due = try await store.dueMessages(at: later, limit: 10)
    #expect(due.first { $0.key == "inc-1:slack" }?.attempts == 1)
    #expect(due.first { $0.key == "inc-1:slack" }?.lastError == "http 503")

    try await store.markDelivered(key: "inc-1:slack", at: later)
    try await store.markDelivered(key: "inc-1:slack", at: later.adding(milliseconds: 100))
    #expect(try await store.dueMessages(at: later, limit: 10).map(\.key) == ["inc-1:webhook"])
    let stored = try #require(try await store.incident(id: "inc-1"))
    #expect(stored.timeline.filter { $0.kind == .alertDelivered }.count == 1)
    #expect(stored.notificationLatencyMs == 800)
    let messages = try await store.messages(incidentID: "inc-1")
    #expect(messages.first { $0.key == "inc-1:slack" }?.deliveredAt == later)
    #expect(messages.first { $0.key == "inc-1:slack" }?.attempts == 2)

    var resolved = stored
    resolved.status = .resolved
    try await store.save(resolved, enqueue: [])
    #expect(try await store.openIncident(project: "acme") == nil)
  }

  @Test func sqliteFileKeepsIncidentsAndOutbox() async throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("state/state.db")
    try await Self.exercise(SQLiteIncidentStore(path: path))
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    // Snapshots and incidents share the file, each with its own migrations.
    #expect(try await SQLiteStateStore(path: path).list(project: nil).isEmpty)
    #expect(try await SQLiteIncidentStore(path: path).incidents(project: nil).count == 2)
  }

  @Test func postgresKeepsIncidentsAndOutbox() async throws {
    try await TestPostgres.withDatabase { db in
      try await Self.exercise(PostgresIncidentStore(locator: db))
      let tables = try await TestPostgres.rows(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'driftwatch' ORDER BY 1",
        in: db)
      #expect(tables.map { $0.first ?? nil } == ["incident_migrations", "incidents", "outbox"])
    }
  }

  @Test func inMemoryTwinKeepsTheSameContract() async throws {
    try await Self.exercise(InMemoryIncidentStore())
  }
}
