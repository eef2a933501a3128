import DriftwatchCore
import Logging
import PostgresNIO

/// A table a statement reads: named in the error when the statement waits too long for a lock on it.
public struct TableLock: Sendable, Hashable {
  /// The names as they are in the database.
  public var schema: String
  public var table: String

  public init(schema: String, table: String) {
    self.schema = schema
    self.table = table
  }

  var display: String { "\(printable(schema)).\(printable(table))" }
}

/// A session holding (or first in line for) a lock that blocks a read, from `pg_locks` and
/// `pg_stat_activity`.
struct LockHolder: Sendable, Hashable {
  var pid: Int32
  var applicationName: String
  var user: String
  var granted: Bool
}

/// The errors of a read that hit `lock_timeout` (SQLSTATE 55P03) or `statement_timeout` (57014).
enum PostgresReadTimeout {
  /// The typed error for `error` when it is a lock or statement timeout; nil for any other error. The lock
  /// holder is looked up on a second, short, read-only connection (the failed transaction is aborted).
  static func error(
    _ error: any Error, reading: TableLock?, locator: PostgresLocator, timeouts: ReadTimeouts,
    connectTimeout: Duration
  ) async -> WarehouseError? {
    guard let error = error as? PSQLError, error.code == .server,
      let sqlState = error.serverInfo?[.sqlState], sqlState == "55P03" || sqlState == "57014"
    else { return nil }
    let serverMessage = (error.serverInfo?[.message] ?? "").lowercased()
    let url = locator.displayURL
    let what = reading.map { "reading \($0.display) on \(url)" } ?? "reading the catalog of \(url)"
    let holders =
      reading == nil
      ? [] : await lockHolders(reading, locator: locator, connectTimeout: min(connectTimeout, .seconds(5)))
    let holder = describe(holders)
    if sqlState == "55P03" {
      // The holder may have finished meanwhile, or be invisible to this user.
      let heldBy = holders.isEmpty ? " held by another session" : holder
      return WarehouseError(
        .lockTimeout,
        "\(what): waited longer than --lock-timeout \(DurationText.format(timeouts.lock)) for a lock\(heldBy)"
          + "; retry once that session commits or rolls back (a migration, a long transaction), or raise --lock-timeout"
      )
    }
    guard serverMessage.contains("statement timeout") else {
      return WarehouseError(
        .statementTimeout,
        "\(what): the server cancelled the statement (\(serverMessage), sqlstate 57014)\(holder); try again")
    }
    let limit = DurationText.format(reading == nil ? timeouts.catalogStatement : timeouts.statement)
    guard holders.isEmpty else {
      return WarehouseError(
        .statementTimeout,
        "\(what): waited longer than --statement-timeout \(limit) for a lock\(holder); retry once that session "
          + "commits or rolls back, or set --lock-timeout (0 waits for as long as the lock is held)")
    }
    return WarehouseError(
      .statementTimeout,
      "\(what): the statement ran longer than --statement-timeout \(limit); raise --statement-timeout if the "
        + "table is large")
  }

  /// `, held by pid 123 (application_name psql, user alice)`, or a note that nobody was found.
  static func describe(_ holders: [LockHolder]) -> String {
    guard let first = holders.first else { return "" }
    let application = first.applicationName.isEmpty ? "none" : printable(first.applicationName)
    let others = holders.count > 1 ? " and \(holders.count - 1) more" : ""
    return
      " \(first.granted ? "held" : "queued first") by pid \(first.pid) (application_name \(application), "
      + "user \(printable(first.user)))\(others)"
  }

  /// Sessions holding an `ACCESS EXCLUSIVE` lock on `table` (the one mode that blocks a read), granted
  /// first, then those waiting for one (a waiting `ALTER TABLE` blocks the reads behind it). Read-only,
  /// bound names, a 2 s statement timeout; an empty list when the lookup fails.
  static func lockHolders(_ table: TableLock?, locator: PostgresLocator, connectTimeout: Duration) async
    -> [LockHolder]
  {
    guard let table else { return [] }
    do {
      return try await PostgresSession.withConnection(
        to: locator, readOnly: true, applicationName: "driftwatch lock lookup", connectTimeout: connectTimeout
      ) { connection in
        _ = try await connection.query(
          "SELECT set_config('statement_timeout', '2000', false)", logger: PostgresSession.silentLogger)
        let rows = try await connection.query(
          holdersQuery(schema: table.schema, table: table.table), logger: PostgresSession.silentLogger
        ).collect()
        return try rows.map { row in
          let (pid, application, user, granted) = try row.decode((Int32, String, String, Bool).self)
          return LockHolder(pid: pid, applicationName: application, user: user, granted: granted)
        }
      }
    } catch {
      return []
    }
  }

  static func holdersQuery(schema: String, table: String) -> PostgresQuery {
    """
    SELECT l.pid::int4, coalesce(a.application_name, '')::text, coalesce(a.usename::text, ''), l.granted
    FROM pg_catalog.pg_locks l
    LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_catalog.pg_backend_pid()
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
      AND l.relation IN (
        SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = \(schema) AND c.relname = \(table))
    ORDER BY l.granted DESC, l.pid
    LIMIT 5
    """
  }
}

/// `text` with control characters (C0, DEL, C1: terminal escapes, newlines) written as `\u{…}`: names and
/// application names come from other sessions and go to a terminal or a log line.
func printable(_ text: String) -> String {
  var result = ""
  for scalar in text.unicodeScalars {
    if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
      result += "\\u{\(String(scalar.value, radix: 16))}"
    } else {
      result.unicodeScalars.append(scalar)
    }
  }
  return result
}
