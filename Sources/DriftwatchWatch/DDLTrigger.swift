import DriftwatchCore
import DriftwatchPostgres
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL event trigger that reports DDL to `watch`, and listening to it.
public enum DDLTrigger {
  public static let channel = "driftwatch_ddl"
  public static let schema = "driftwatch"
  public static let function = "notify_ddl"
  public static let triggers = [
    "driftwatch_ddl_command_end": "ddl_command_end", "driftwatch_sql_drop": "sql_drop",
  ]

  /// The statements that install (or replace) the trigger, in order. Identifiers are quoted; the
  /// function body uses only literals driftwatch defines.
  public static func installStatements() -> [String] {
    let schema = PostgresSession.quoted(Self.schema)
    let function = "\(schema).\(PostgresSession.quoted(Self.function))"
    let payload = """
      json_build_object(
            'event', TG_EVENT, 'tag', TG_TAG, 'schema', r.schema_name, 'identity', r.object_identity,
            'object_type', r.object_type, 'txid', txid_current()::text,
            'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
      """
    // Only what can change a source's shape: not indexes, constraints, row types, toast tables, or
    // driftwatch's own schema (a PostgreSQL state store lives there).
    let relevant = """
      object_type IN ('table', 'table column', 'view', 'materialized view', 'foreign table', 'schema') \
      AND coalesce(schema_name, '') NOT IN ('pg_toast', '\(Self.schema)')
      """
    var statements = [
      "CREATE SCHEMA IF NOT EXISTS \(schema)",
      """
      CREATE OR REPLACE FUNCTION \(function)() RETURNS event_trigger LANGUAGE plpgsql AS $driftwatch$
      DECLARE
        r record;
      BEGIN
        -- Reports each DDL statement to LISTENers on '\(channel)' (driftwatch watch). Delivered at commit.
        IF TG_EVENT = 'sql_drop' THEN
          FOR r IN SELECT * FROM pg_event_trigger_dropped_objects()
            WHERE NOT is_temporary AND \(relevant) LOOP
            PERFORM pg_notify('\(channel)', \(payload));
          END LOOP;
        ELSE
          FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
            WHERE NOT in_extension AND \(relevant) LOOP
            PERFORM pg_notify('\(channel)', \(payload));
          END LOOP;
        END IF;
      EXCEPTION WHEN others THEN
        -- Never let a notification problem fail the DDL it reports.
        RAISE WARNING 'driftwatch: ddl notification skipped: %', SQLERRM;
      END;
      $driftwatch$
      """,
    ]
    for (name, event) in triggers.sorted(by: { $0.key < $1.key }) {
      statements.append("DROP EVENT TRIGGER IF EXISTS \(PostgresSession.quoted(name))")
      statements.append(
        "CREATE EVENT TRIGGER \(PostgresSession.quoted(name)) ON \(event) EXECUTE FUNCTION \(function)()")
    }
    return statements
  }

  /// The script a DBA can run with psql.
  public static func script() -> String {
    """
    -- driftwatch: PostgreSQL event trigger for real-time schema drift detection.
    -- Reports every DDL statement (ddl_command_end, sql_drop) with pg_notify on channel '\(channel)'.
    -- Needs a superuser (event triggers do). Remove with:
    --   DROP EVENT TRIGGER driftwatch_ddl_command_end; DROP EVENT TRIGGER driftwatch_sql_drop;
    --   DROP FUNCTION driftwatch.notify_ddl();
    BEGIN;

    """ + installStatements().map { $0 + ";\n" }.joined(separator: "\n") + "\nCOMMIT;\n"
  }

  /// Installs the trigger in one transaction. The one write driftwatch makes to a warehouse, on request.
  public static func install(locator: PostgresLocator) async throws {
    try await PostgresSession.withConnection(to: locator) { connection in
      do {
        try await connection.query("BEGIN", logger: PostgresSession.silentLogger)
        for statement in installStatements() {
          try await connection.query(
            PostgresQuery(unsafeSQL: statement), logger: PostgresSession.silentLogger)
        }
        try await connection.query("COMMIT", logger: PostgresSession.silentLogger)
      } catch {
        _ = try? await connection.query("ROLLBACK", logger: PostgresSession.silentLogger)
        if let error = error as? PSQLError, error.serverInfo?[.sqlState] == "42501" {
          throw WarehouseError(
            .queryFailed,
            "cannot install the event trigger on \(locator.displayURL): it needs a superuser; run "
              + "'driftwatch install-trigger --print' and give the sql to your dba")
        }
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
    }
  }

  /// Whether the trigger is installed (both event triggers enabled).
  public static func isInstalled(locator: PostgresLocator) async throws -> Bool {
    try await PostgresSession.withConnection(to: locator, readOnly: true) { connection in
      var count = 0
      do {
        let rows = try await connection.query(
          "SELECT count(*)::int4 FROM pg_event_trigger WHERE evtname IN ('driftwatch_ddl_command_end', 'driftwatch_sql_drop') AND evtenabled <> 'D'",
          logger: PostgresSession.silentLogger)
        for try await row in rows { count = try row.decode(Int.self) }
      } catch {
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
      return count == 2
    }
  }

  /// Decodes a notification payload; nil when it is not one of the trigger's.
  public static func decode(payload: String) -> DDLEvent? {
    struct Payload: Decodable {
      var event: String
      var tag: String
      var schema: String?
      var identity: String?
      var object_type: String?
      var txid: String?
      var at: String?
    }
    guard let decoded = try? JSONDecoder().decode(Payload.self, from: Data(payload.utf8)) else { return nil }
    return DDLEvent(
      event: decoded.event, tag: decoded.tag, schema: decoded.schema, identity: decoded.identity,
      objectType: decoded.object_type, transactionID: decoded.txid, at: decoded.at.flatMap(Timestamp.parse))
  }

  /// Connects, LISTENs, calls `connected` once listening, then `received` for each event, until the
  /// connection fails (thrown) or the task is cancelled.
  public static func listen(
    locator: PostgresLocator, connected: @Sendable () async -> Void,
    received: @Sendable (DDLEvent) async -> Void
  ) async throws {
    try await PostgresSession.withConnection(to: locator, readOnly: true) { connection in
      do {
        try await connection.listen(on: channel) { notifications in
          await connected()
          for try await notification in notifications {
            if let event = decode(payload: notification.payload) { await received(event) }
          }
        }
      } catch is CancellationError {
        throw CancellationError()
      } catch {
        throw PostgresSession.warehouseError(error, locator: locator, connecting: false)
      }
      throw WarehouseError(.connectionFailed, "lost the listen connection to \(locator.displayURL)")
    }
  }
}
