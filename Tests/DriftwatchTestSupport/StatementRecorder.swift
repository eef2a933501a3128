import Foundation
import Logging

/// Captures the `sql` metadata of debug log records: the statements the PostgreSQL driver sends, in order
/// (`PostgresWarehouse` logs each at debug level).
public final class StatementRecorder: LogHandler, @unchecked Sendable {
  private let lock = NSLock()
  private var recorded: [String] = []

  public init() {}

  public var statements: [String] { lock.withLock { recorded } }

  /// What ran in the warehouse: the statements less transaction control.
  public var work: [String] { Self.work(statements) }

  /// `statements` less transaction control (`START TRANSACTION READ ONLY`, `ROLLBACK`, `COMMIT`).
  public static func work<S: Sequence<String>>(_ statements: S) -> [String] {
    statements.filter { !["START TRANSACTION READ ONLY", "ROLLBACK", "COMMIT"].contains($0) }
  }

  public var metadata: Logger.Metadata {
    get { [:] }
    set {}
  }
  public var logLevel: Logger.Level {
    get { .debug }
    set {}
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { nil }
    set {}
  }

  public func log(event: LogEvent) {
    if case .string(let sql) = event.metadata?["sql"] {
      lock.withLock { recorded.append(sql) }
    }
  }
}
