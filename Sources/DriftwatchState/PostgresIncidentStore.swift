import DriftwatchCore
import DriftwatchPostgres
import PostgresNIO

/// Incidents and the alert outbox in a PostgreSQL state database shared by a team (`--state postgres://…`),
/// schema `driftwatch`, tables `incidents` and `outbox`, with their own versioned migrations
/// (`driftwatch.incident_migrations`, run under an advisory lock). Every change is one transaction.
public struct PostgresIncidentStore: IncidentStore {
  public var locator: PostgresLocator

  public init(locator: PostgresLocator) { self.locator = locator }

  public var displayName: String { locator.displayURL }

  static let migrations: [[String]] = [
    [
      """
      CREATE TABLE driftwatch.incidents (
        id text PRIMARY KEY, project text NOT NULL, status text NOT NULL, opened_at int8 NOT NULL,
        body text NOT NULL)
      """,
      "CREATE INDEX incidents_by_project ON driftwatch.incidents (project, opened_at, id)",
      """
      CREATE TABLE driftwatch.outbox (
        key text PRIMARY KEY, incident_id text NOT NULL REFERENCES driftwatch.incidents (id),
        destination text NOT NULL, payload text NOT NULL, attempts int4 NOT NULL, next_attempt_at int8 NOT NULL,
        delivered_at int8, last_error text)
      """,
      "CREATE INDEX outbox_due ON driftwatch.outbox (next_attempt_at) WHERE delivered_at IS NULL",
    ]
  ]

  public func save(_ incident: Incident, enqueue messages: [OutboxMessage]) async throws {
    let body = try IncidentCoding.encode(incident)
    try await database.transaction { connection in
      let openedAt = incident.first(.detected)?.millisecondsSinceEpoch ?? 0
      try await database.run(
        connection,
        """
        INSERT INTO driftwatch.incidents (id, project, status, opened_at, body)
        VALUES (\(incident.id), \(incident.project), \(incident.status.rawValue), \(openedAt), \(body))
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body
        """)
      for message in messages {
        try await database.run(
          connection,
          """
          INSERT INTO driftwatch.outbox (key, incident_id, destination, payload, attempts, next_attempt_at)
          VALUES (\(message.key), \(message.incidentID), \(message.destination), \(message.payload),
            \(Int32(message.attempts)), \(message.nextAttemptAt.millisecondsSinceEpoch))
          ON CONFLICT (key) DO NOTHING
          """)
      }
    }
  }

  public func incident(id: String) async throws -> Incident? {
    try await database.withConnection { connection in
      return try await database.query(connection, "SELECT body FROM driftwatch.incidents WHERE id = \(id)")
        .first
        .map { try IncidentCoding.decode(try $0.decode(String.self), store: displayName) }
    }
  }

  public func incidents(project: String?) async throws -> [Incident] {
    try await database.withConnection { connection in
      return try await database.query(
        connection,
        """
        SELECT body FROM driftwatch.incidents WHERE \(project)::text IS NULL OR project = \(project)
        ORDER BY opened_at, id
        """
      ).map { try IncidentCoding.decode(try $0.decode(String.self), store: displayName) }
    }
  }

  static let messageColumns =
    "key, incident_id, destination, payload, attempts, next_attempt_at, delivered_at, last_error"

  public func dueMessages(at now: Timestamp, limit: Int) async throws -> [OutboxMessage] {
    try await database.withConnection { connection in
      return try await database.query(
        connection,
        """
        SELECT \(unescaped: Self.messageColumns) FROM driftwatch.outbox
        WHERE delivered_at IS NULL AND next_attempt_at <= \(now.millisecondsSinceEpoch)
        ORDER BY next_attempt_at, key LIMIT \(Int32(limit))
        """
      ).map(Self.message)
    }
  }

  public func messages(incidentID: String) async throws -> [OutboxMessage] {
    try await database.withConnection { connection in
      return try await database.query(
        connection,
        "SELECT \(unescaped: Self.messageColumns) FROM driftwatch.outbox WHERE incident_id = \(incidentID) ORDER BY key"
      ).map(Self.message)
    }
  }

  public func update(_ message: OutboxMessage) async throws {
    try await database.transaction { connection in
      try await database.run(
        connection,
        """
        UPDATE driftwatch.outbox SET attempts = \(Int32(message.attempts)),
          next_attempt_at = \(message.nextAttemptAt.millisecondsSinceEpoch), last_error = \(message.lastError)
        WHERE key = \(message.key) AND delivered_at IS NULL
        """)
    }
  }

  public func markDelivered(key: String, at: Timestamp) async throws {
    try await database.transaction { connection in
      guard
        let row = try await database.query(
          connection,
          """
          SELECT incident_id, destination FROM driftwatch.outbox
          WHERE key = \(key) AND delivered_at IS NULL FOR UPDATE
          """
        ).first
      else { return }
      let (incidentID, destination) = try row.decode((String, String).self)
      try await database.run(
        connection,
        """
        UPDATE driftwatch.outbox SET delivered_at = \(at.millisecondsSinceEpoch), attempts = attempts + 1
        WHERE key = \(key)
        """)
      guard
        let body = try await database.query(
          connection, "SELECT body FROM driftwatch.incidents WHERE id = \(incidentID) FOR UPDATE"
        ).first
      else { return }
      var incident = try IncidentCoding.decode(try body.decode(String.self), store: displayName)
      incident.timeline.append(TimelineEntry(.alertDelivered, at: at, detail: destination))
      let saved = try IncidentCoding.encode(incident)
      try await database.run(
        connection, "UPDATE driftwatch.incidents SET body = \(saved) WHERE id = \(incidentID)")
    }
  }

  private static func message(_ row: PostgresRow) throws -> OutboxMessage {
    let (key, incidentID, destination, payload, attempts, next, delivered, lastError) = try row.decode(
      (String, String, String, String, Int32, Int64, Int64?, String?).self)
    var message = OutboxMessage(
      incidentID: incidentID, destination: destination, payload: payload,
      queuedAt: Timestamp(millisecondsSinceEpoch: next), attempts: Int(attempts),
      deliveredAt: delivered.map { Timestamp(millisecondsSinceEpoch: $0) }, lastError: lastError)
    message.key = key
    return message
  }

  // MARK: - database

  private var database: PostgresStoreDatabase {
    PostgresStoreDatabase(
      locator: locator, migrationsTable: "incident_migrations", migrations: Self.migrations,
      advisoryLock: 7_242_314_102,
      writtenBy: "the incidents in \(displayName) were written")
  }
}
