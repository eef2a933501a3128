/// How long a read of a monitored warehouse may wait for a lock and run, so that a migration holding a
/// table (PostgreSQL `ACCESS EXCLUSIVE`, a SQLite writer) makes driftwatch fail with one line instead of
/// waiting forever. `Duration.zero` means no limit.
public struct ReadTimeouts: Sendable, Hashable {
  /// PostgreSQL `lock_timeout`; SQLite's busy timeout.
  public var lock: Duration
  /// PostgreSQL `statement_timeout` of the reads of table data (profiles, samples, keyed rows).
  public var statement: Duration
  /// PostgreSQL `statement_timeout` of the catalog query (which reads only `pg_catalog`).
  public var catalogStatement: Duration

  public init(lock: Duration, statement: Duration, catalogStatement: Duration? = nil) {
    self.lock = lock
    self.statement = statement
    self.catalogStatement = catalogStatement ?? Self.catalogDefault(statement: statement)
  }

  /// The catalog query reads no table data: it gets the statement timeout, at most one minute (unless the
  /// statement timeout is no limit).
  static func catalogDefault(statement: Duration) -> Duration {
    statement == .zero ? .zero : min(statement, .seconds(60))
  }

  /// `check`, `fix`, `watch`: a lock wait of 10 s, reads of one minute.
  public static let check = ReadTimeouts(lock: .seconds(10), statement: .seconds(60))
  /// `snapshot` profiles every declared column: a lock wait of 10 s, statements of five minutes.
  public static let snapshot = ReadTimeouts(lock: .seconds(10), statement: .seconds(300))

  /// These defaults with the flags given (nil: not given).
  public func overriding(lock: Duration?, statement: Duration?) -> ReadTimeouts {
    guard lock != nil || statement != nil else { return self }
    return ReadTimeouts(
      lock: lock ?? self.lock, statement: statement ?? self.statement,
      catalogStatement: statement.map(Self.catalogDefault(statement:)) ?? catalogStatement)
  }
}
