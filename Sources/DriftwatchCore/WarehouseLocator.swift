/// Where a warehouse is, as parsed from a `--warehouse` URL or a dbt profiles.yml target.
/// Parsing lives in `WarehouseLocator+Parse.swift`.
public enum WarehouseLocator: Sendable, Hashable {
  /// A SQLite database file.
  case sqlite(path: String)
  case postgres(PostgresLocator)
}

public struct PostgresLocator: Sendable, Hashable {
  public enum SSLMode: String, Sendable, Hashable, CaseIterable {
    case disable
    case prefer
    case require
  }

  public var host: String
  public var port: Int
  public var user: String
  /// Never printed: `displayURL` leaves it out.
  public var password: String?
  public var database: String
  public var sslMode: SSLMode

  public init(
    host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
    sslMode: SSLMode = .prefer
  ) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.database = database
    self.sslMode = sslMode
  }

  /// `postgres://user@host:port/db`, with no password: safe for logs and messages.
  public var displayURL: String {
    let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    return "postgres://\(user)@\(shownHost):\(port)/\(database)"
  }
}
