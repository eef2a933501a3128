import DriftwatchCore
import Foundation
import SQLiteNIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Incidents and the alert outbox of `watch`, in the same SQLite file as the snapshots (0600, WAL).
/// Its tables have their own versioned migrations (`driftwatch_incident_migrations`), so they evolve
/// independently of the snapshot tables. Every change is one `BEGIN IMMEDIATE … COMMIT`.
public struct SQLiteIncidentStore: IncidentStore {
  public let path: String

  public init(path: String) { self.path = path }

  public var displayName: String { "sqlite:\(path)" }

  static let migrations: [[String]] = [
    [
      """
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY, project TEXT NOT NULL, status TEXT NOT NULL, opened_at INTEGER NOT NULL,
        body TEXT NOT NULL)
      """,
      "CREATE INDEX incidents_by_project ON incidents (project, opened_at, id)",
      """
      CREATE TABLE outbox (
        key TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents (id), destination TEXT NOT NULL,
        payload TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER, last_error TEXT)
      """,
      "CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at)",
    ]
  ]

  public func save(_ incident: Incident, enqueue messages: [OutboxMessage]) async throws {
    let body = try IncidentCoding.encode(incident)
    try await transaction { connection in
      try await file.run(
        connection,
        """
        INSERT INTO incidents (id, project, status, opened_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body
        """,
        [
          .text(incident.id), .text(incident.project), .text(incident.status.rawValue),
          .integer(Int(incident.first(.detected)?.millisecondsSinceEpoch ?? 0)), .text(body),
        ])
      for message in messages {
        try await file.run(
          connection,
          """
          INSERT INTO outbox (key, incident_id, destination, payload, attempts, next_attempt_at, delivered_at,
            last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL) ON CONFLICT (key) DO NOTHING
          """,
          [
            .text(message.key), .text(message.incidentID), .text(message.destination), .text(message.payload),
            .integer(message.attempts), .integer(Int(message.nextAttemptAt.millisecondsSinceEpoch)),
          ])
      }
    }
  }

  public func incident(id: String) async throws -> Incident? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try await file.withConnection(create: false) { connection in
      try await file.query(connection, "SELECT body FROM incidents WHERE id = ?1", [.text(id)]).first
        .map { try IncidentCoding.decode($0.column("body")?.string ?? "", store: displayName) }
    }
  }

  public func incidents(project: String?) async throws -> [Incident] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try await file.withConnection(create: false) { connection in
      let rows =
        try await file.query(
          connection,
          "SELECT body FROM incidents WHERE ?1 IS NULL OR project = ?1 ORDER BY opened_at, id",
          [project.map { .text($0) } ?? .null])
      return try rows.map { try IncidentCoding.decode($0.column("body")?.string ?? "", store: displayName) }
    }
  }

  public func dueMessages(at now: Timestamp, limit: Int) async throws -> [OutboxMessage] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try await file.withConnection(create: false) { connection in
      try await file.query(
        connection,
        """
        SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?1
        ORDER BY next_attempt_at, key LIMIT ?2
        """, [.integer(Int(now.millisecondsSinceEpoch)), .integer(limit)]
      ).map(Self.message)
    }
  }

  public func messages(incidentID: String) async throws -> [OutboxMessage] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try await file.withConnection(create: false) { connection in
      try await file.query(
        connection, "SELECT * FROM outbox WHERE incident_id = ?1 ORDER BY key", [.text(incidentID)]
      )
      .map(Self.message)
    }
  }

  public func update(_ message: OutboxMessage) async throws {
    try await transaction { connection in
      try await file.run(
        connection,
        "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE key = ?1 AND delivered_at IS NULL",
        [
          .text(message.key), .integer(message.attempts),
          .integer(Int(message.nextAttemptAt.millisecondsSinceEpoch)),
          message.lastError.map { .text($0) } ?? .null,
        ])
    }
  }

  public func markDelivered(key: String, at: Timestamp) async throws {
    try await transaction { connection in
      guard
        let row = try await file.query(
          connection, "SELECT incident_id, destination FROM outbox WHERE key = ?1 AND delivered_at IS NULL",
          [.text(key)]
        ).first,
        let incidentID = row.column("incident_id")?.string
      else { return }
      try await file.run(
        connection, "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1 WHERE key = ?1",
        [.text(key), .integer(Int(at.millisecondsSinceEpoch))])
      guard
        let body = try await file.query(
          connection, "SELECT body FROM incidents WHERE id = ?1", [.text(incidentID)]
        ).first?.column("body")?.string
      else { return }
      var incident = try IncidentCoding.decode(body, store: displayName)
      incident.timeline.append(
        TimelineEntry(.alertDelivered, at: at, detail: row.column("destination")?.string))
      try await file.run(
        connection, "UPDATE incidents SET body = ?2 WHERE id = ?1",
        [.text(incidentID), .text(try IncidentCoding.encode(incident))])
    }
  }

  private static func message(_ row: SQLiteRow) -> OutboxMessage {
    var message = OutboxMessage(
      incidentID: row.column("incident_id")?.string ?? "",
      destination: row.column("destination")?.string ?? "",
      payload: row.column("payload")?.string ?? "",
      queuedAt: Timestamp(millisecondsSinceEpoch: Int64(row.column("next_attempt_at")?.integer ?? 0)),
      attempts: row.column("attempts")?.integer ?? 0,
      deliveredAt: row.column("delivered_at")?.integer.map { Timestamp(millisecondsSinceEpoch: Int64($0)) },
      lastError: row.column("last_error")?.string)
    message.key = row.column("key")?.string ?? message.key
    return message
  }

  // MARK: - connection, file and migrations

  private func transaction(_ body: @escaping (SQLiteConnection) async throws -> Void) async throws {
    try await file.withConnection(create: true) { connection in try await file.transaction(connection, body) }
  }

  private var file: SQLiteStoreFile {
    SQLiteStoreFile(
      path: path, migrationsTable: "driftwatch_incident_migrations", migrations: Self.migrations,
      writtenBy: "the incidents in \(path) were written")
  }
}

/// Incidents are stored as JSON documents (their report and fix are nested values).
enum IncidentCoding {
  static func encode(_ incident: Incident) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(incident), as: UTF8.self)
  }

  static func decode(_ text: String, store: String) throws -> Incident {
    do {
      return try JSONDecoder().decode(Incident.self, from: Data(text.utf8))
    } catch {
      throw StateError(
        "an incident in \(store) cannot be read (\(error)); was it written by a newer driftwatch?")
    }
  }
}
