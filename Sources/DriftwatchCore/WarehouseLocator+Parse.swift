/// Parsing of `--warehouse` URLs, and the errors warehouses report.
///
/// Accepted forms:
/// - `sqlite:PATH`, `sqlite://PATH` (relative or absolute), `sqlite:///abs/path`. The path is taken literally.
/// - `postgres://[USER[:PASSWORD]@]HOST[:PORT][/DB][?sslmode=disable|prefer|require]`, also `postgresql://`.
///   User, password, host and database are percent-decoded; an IPv6 host is written in brackets (`[::1]`);
///   a host that decodes to an absolute path (`%2Ftmp`) is a unix socket directory.
///   Defaults follow libpq: user from `PGUSER`, then `USER`; password from `PGPASSWORD`; host from `PGHOST`,
///   then `localhost`; port from `PGPORT`, then 5432; database from `PGDATABASE`, then the user name;
///   sslmode from `PGSSLMODE`, then `prefer`.
///
/// Messages never contain a password: URLs are echoed with the password replaced by `***`.
extension WarehouseLocator {
  public static func parse(_ text: String, environment: [String: String]) throws -> WarehouseLocator {
    let trimmed = text.trimmingWhitespace()
    let shown = redactingPassword(in: trimmed)
    guard !trimmed.isEmpty else {
      throw WarehouseError(.invalidURL, "the warehouse url is empty: use sqlite:PATH or \(postgresShape)")
    }
    guard let colon = trimmed.firstIndex(of: ":") else {
      throw WarehouseError(
        .invalidURL,
        "warehouse url '\(shown)' has no scheme: use sqlite:\(shown) for a sqlite file or \(postgresShape)")
    }
    let scheme = trimmed[..<colon].lowercased()
    let afterScheme = trimmed[trimmed.index(after: colon)...]
    switch scheme {
    case "sqlite":
      return try parseSQLite(afterScheme, shown: shown)
    case "postgres", "postgresql":
      guard afterScheme.hasPrefix("//") else {
        throw WarehouseError(.invalidURL, "invalid warehouse url '\(shown)': use \(postgresShape)")
      }
      let rest = afterScheme.dropFirst(2)
      return .postgres(try parsePostgres(rest, shown: shown, environment: environment))
    default:
      throw WarehouseError(
        .invalidURL, "unsupported warehouse url '\(shown)': use sqlite:PATH or \(postgresShape)")
    }
  }

  /// `text` with any password (in the user-info part or a `password=` parameter) replaced by `***`.
  /// Safe to print. Over-redacts rather than leak when the text is malformed.
  public static func redactingPassword(in text: String) -> String {
    var result: String
    var rest: Substring
    if let schemeEnd = text.firstRange(of: "://") {
      result = String(text[..<schemeEnd.upperBound])
      rest = text[schemeEnd.upperBound...]
      if let at = rest.lastIndex(of: "@") {
        result += redactedUserInfo(rest[..<at])
        rest = rest[at...]
      } else {
        // No `@`: `user:password/db` with the `@` forgotten reads as a host and a port. A "port" that is not
        // digits may be a password, and so may everything after it up to the query (it may hold a `/`).
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if let colon = authority.firstIndex(of: ":"),
          !authority[authority.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isNumber })
        {
          result += rest[...colon] + "***"
          rest = rest[(rest[colon...].firstIndex(of: "?") ?? rest.endIndex)...]
        }
      }
    } else if let at = text.lastIndex(of: "@") {
      // No authority: `postgres:user:pw@host`, or something unknown such as `user:pw@host`.
      let beforeAt = text[..<at]
      if let colon = beforeAt.firstIndex(of: ":"),
        ["postgres", "postgresql"].contains(beforeAt[..<colon].lowercased())
      {
        result = beforeAt[...colon] + redactedUserInfo(beforeAt[beforeAt.index(after: colon)...])
      } else {
        result = "***"
      }
      rest = text[at...]
    } else {
      return text
    }
    guard let question = rest.firstIndex(of: "?") else { return result + rest }
    result += rest[...question]
    let parameters = rest[rest.index(after: question)...].split(
      separator: "&", omittingEmptySubsequences: false)
    result += parameters.map { parameter -> String in
      // A parameter without `=` is not one libpq knows: it may be a password pasted in the wrong place.
      guard let equals = parameter.firstIndex(of: "=") else { return parameter.isEmpty ? "" : "***" }
      let key = parameter[..<equals].lowercased()
      return key == "password" ? parameter[...equals] + "***" : String(parameter)
    }.joined(separator: "&")
    return result
  }

  /// `user:***` for `user:password`; a user alone is kept.
  private static func redactedUserInfo(_ userInfo: Substring) -> String {
    guard let colon = userInfo.firstIndex(of: ":") else { return String(userInfo) }
    return userInfo[...colon] + "***"
  }

  private static let postgresShape = "postgres://USER@HOST:PORT/DB"

  private static func parseSQLite(_ afterScheme: Substring, shown: String) throws -> WarehouseLocator {
    // sqlite:///abs → /abs ; sqlite://rel → rel ; sqlite:PATH → PATH
    let path = afterScheme.hasPrefix("//") ? afterScheme.dropFirst(2) : afterScheme
    guard !path.isEmpty else {
      throw WarehouseError(
        .invalidURL, "warehouse url '\(shown)' has no file path: use sqlite:PATH, e.g. sqlite:warehouse.db")
    }
    return .sqlite(path: String(path))
  }

  private static func parsePostgres(
    _ rest: Substring, shown: String, environment: [String: String]
  ) throws -> PostgresLocator {
    func invalid(_ problem: String) -> WarehouseError {
      WarehouseError(.invalidURL, "invalid warehouse url '\(shown)': \(problem)")
    }

    var remainder = rest
    var user: String?
    var password: String?
    if let at = remainder.lastIndex(of: "@") {
      let userInfo = remainder[..<at]
      remainder = remainder[remainder.index(after: at)...]
      let rawUser: Substring
      if let colon = userInfo.firstIndex(of: ":") {
        rawUser = userInfo[..<colon]
        guard let decoded = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
          throw invalid("the password has a bad %-escape; encode special characters as %XX")
        }
        password = decoded
      } else {
        rawUser = userInfo
      }
      guard let decodedUser = percentDecoded(rawUser) else {
        throw invalid("the user name has a bad %-escape; encode special characters as %XX")
      }
      user = decodedUser.isEmpty ? nil : decodedUser
    }
    if remainder.contains("#") {
      throw invalid("'#' is not allowed; encode it as %23")
    }

    var query: Substring = ""
    if let question = remainder.firstIndex(of: "?") {
      query = remainder[remainder.index(after: question)...]
      remainder = remainder[..<question]
    }
    var path: Substring?
    if let slash = remainder.firstIndex(of: "/") {
      path = remainder[remainder.index(after: slash)...]
      remainder = remainder[..<slash]
    }

    // Host and port.
    var rawHost: Substring = remainder
    var rawPort: Substring?
    if remainder.hasPrefix("[") {
      guard let close = remainder.firstIndex(of: "]") else {
        throw invalid("the ipv6 host has no closing ']'; write it as [::1]")
      }
      rawHost = remainder[remainder.index(after: remainder.startIndex)..<close]
      let afterClose = remainder[remainder.index(after: close)...]
      if !afterClose.isEmpty {
        guard afterClose.hasPrefix(":") else {
          throw invalid("unexpected text after the host; use [HOST]:PORT")
        }
        rawPort = afterClose.dropFirst()
      }
    } else if let colon = remainder.lastIndex(of: ":") {
      rawHost = remainder[..<colon]
      rawPort = remainder[remainder.index(after: colon)...]
    }
    if rawHost.contains(",") {
      throw invalid("several hosts are not supported; give one host")
    }
    guard let decodedHost = percentDecoded(rawHost) else {
      throw invalid("the host has a bad %-escape")
    }
    let host = decodedHost.isEmpty ? (nonEmpty(environment["PGHOST"]) ?? "localhost") : decodedHost

    let portText = rawPort.map(String.init) ?? nonEmpty(environment["PGPORT"])
    var port = 5432
    if let portText {
      guard let value = Int(portText), (1...65535).contains(value) else {
        // Not quoted: `user:password/db` (the `@` forgotten) puts the password here.
        if rawPort == nil { throw invalid("PGPORT is not a number from 1 to 65535") }
        throw invalid(
          "the port is not a number from 1 to 65535; if that was a password, write USER:PASSWORD@HOST "
            + "(and encode '@', ':', '/', '?' and '#' in it as %40, %3A, %2F, %3F and %23)")
      }
      port = value
    }

    // Query parameters.
    var sslModeText = nonEmpty(environment["PGSSLMODE"])
    var sslModeOrigin = "PGSSLMODE"
    for parameter in query.split(separator: "&") {
      let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = String(parts[0])
      guard key == "sslmode" else {
        // A key is quoted only when it is a plain word: `?Secret99` is not echoed.
        let plainWord = key.count <= 32 && key.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
        throw invalid(
          "\(plainWord ? "parameter '\(key)'" : "a parameter") is not supported; remove it (only sslmode is)")
      }
      guard parts.count == 2, let value = percentDecoded(parts[1]) else {
        throw invalid("sslmode needs a value: disable, prefer or require")
      }
      sslModeText = value
      sslModeOrigin = "sslmode"
    }
    var sslMode = PostgresLocator.SSLMode.prefer
    if let sslModeText {
      guard let mode = PostgresLocator.SSLMode(rawValue: sslModeText.lowercased()) else {
        let supported = PostgresLocator.SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
        throw invalid("\(sslModeOrigin) '\(sslModeText)' is not supported; use one of \(supported)")
      }
      sslMode = mode
    }

    // User, password, database.
    guard let resolvedUser = user ?? nonEmpty(environment["PGUSER"]) ?? nonEmpty(environment["USER"]) else {
      throw invalid("no user given and neither PGUSER nor USER is set; use \(postgresShape)")
    }
    var database: String?
    if let path, !path.isEmpty {
      guard let decoded = percentDecoded(path) else {
        throw invalid("the database name has a bad %-escape")
      }
      database = decoded
    }
    return PostgresLocator(
      host: host,
      port: port,
      user: resolvedUser,
      password: password ?? environment["PGPASSWORD"],
      database: database ?? nonEmpty(environment["PGDATABASE"]) ?? resolvedUser,
      sslMode: sslMode
    )
  }

  private static func nonEmpty(_ value: String?) -> String? {
    guard let value, !value.isEmpty else { return nil }
    return value
  }

  /// Decodes `%XX` escapes; nil on a malformed escape or invalid UTF-8. Also used by `Redaction`, which
  /// redacts a URL's password both as typed and decoded.
  static func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
        return nil
      }
      bytes.append(high << 4 | low)
    }
    let decoded = String(decoding: bytes, as: UTF8.self)
    // Invalid UTF-8 decodes to replacement characters, which re-encode differently.
    return Array(decoded.utf8) == bytes ? decoded : nil
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
      let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
    else { return "" }
    return String(scalars[first...last])
  }
}

/// A problem reaching or reading a warehouse, or with the URL that names it. The message is meant for the
/// user, never contains a password, and says what to do.
public struct WarehouseError: UserFacingError, Equatable {
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// The `--warehouse` URL (or profile target) could not be understood.
    case invalidURL
    case connectionRefused
    case hostNotFound
    case timeout
    case authenticationFailed
    case databaseNotFound
    /// Reached the server but the connection failed otherwise (TLS, protocol, server shutting down).
    case connectionFailed
    case sqliteFileMissing
    case notASQLiteDatabase
    /// `SQLiteDatabase.create(at:)` refuses to overwrite an existing file.
    case fileExists
    /// A catalog or script statement failed on the server.
    case queryFailed
    /// A read waited longer than its lock timeout (PostgreSQL `lock_timeout`, SQLite busy timeout).
    case lockTimeout
    /// A read ran longer than its statement timeout (or was cancelled on the server).
    case statementTimeout
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }
}
