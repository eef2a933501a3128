import DriftwatchCore
import Logging
import PostgresNIO

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Connecting to PostgreSQL with errors a user can act on.
public enum PostgresSession {
  /// A logger that discards everything: the default, so that nothing reaches the terminal unasked.
  public static let silentLogger = Logger(
    label: "driftwatch.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

  /// Opens a connection to `locator`. Errors are `WarehouseError`s that never contain the password.
  ///
  /// sslmode follows libpq: `disable` never uses TLS, `prefer` uses it when the server offers it, `require`
  /// insists on it. As in libpq, neither `prefer` nor `require` verifies the server certificate.
  /// A host that is an absolute path is a unix socket directory (`HOST/.s.PGSQL.PORT`).
  /// With `readOnly`, the session starts with `default_transaction_read_only=on`, so every transaction on it
  /// is read-only unless explicitly changed.
  /// `applicationName` is what the server shows in `pg_stat_activity.application_name`.
  public static func connect(
    to locator: PostgresLocator, readOnly: Bool = false, applicationName: String? = nil,
    logger: Logger = silentLogger, connectTimeout: Duration = .seconds(5)
  ) async throws -> PostgresConnection {
    var configuration: PostgresConnection.Configuration
    if locator.host.hasPrefix("/") {
      configuration = .init(
        unixSocketPath: "\(locator.host)/.s.PGSQL.\(locator.port)", username: locator.user,
        password: locator.password, database: locator.database)
    } else {
      configuration = .init(
        host: locator.host, port: locator.port, username: locator.user, password: locator.password,
        database: locator.database, tls: try tls(for: locator))
    }
    configuration.options.connectTimeout = timeAmount(connectTimeout)
    if readOnly {
      configuration.options.additionalStartupParameters.append(("default_transaction_read_only", "on"))
    }
    if let applicationName {
      configuration.options.additionalStartupParameters.append(("application_name", applicationName))
    }
    do {
      return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    } catch {
      throw warehouseError(error, locator: locator, connecting: true, connectTimeout: connectTimeout)
    }
  }

  /// Runs `body` on a fresh connection and closes it whatever happens.
  public static func withConnection<T: Sendable>(
    to locator: PostgresLocator, readOnly: Bool = false, applicationName: String? = nil,
    logger: Logger = silentLogger, connectTimeout: Duration = .seconds(5),
    _ body: (PostgresConnection) async throws -> T
  ) async throws -> T {
    let connection = try await connect(
      to: locator, readOnly: readOnly, applicationName: applicationName, logger: logger,
      connectTimeout: connectTimeout)
    let result: Result<T, any Error>
    do {
      result = .success(try await body(connection))
    } catch {
      result = .failure(error)
    }
    try? await connection.close()
    return try result.get()
  }

  /// `"name"` with embedded double quotes doubled: safe to splice as an identifier.
  public static func quoted(_ identifier: String) -> String {
    "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"")
      + "\""
  }

  /// Maps any error from postgres-nio to a `WarehouseError` whose message says what to do.
  /// `connecting` tells whether the error happened while opening the connection or while running a query.
  public static func warehouseError(
    _ error: any Error, locator: PostgresLocator, connecting: Bool, connectTimeout: Duration = .seconds(5)
  ) -> WarehouseError {
    if let error = error as? WarehouseError { return error }
    let url = locator.displayURL
    let cannotConnect = "cannot connect to \(url)"
    guard let error = error as? PSQLError else {
      return WarehouseError(
        connecting ? .connectionFailed : .queryFailed,
        "\(connecting ? cannotConnect : "query failed on \(url)"): \(String(describing: error).lowercased())")
    }
    switch error.code {
    case .server:
      return serverError(error, locator: locator, connecting: connecting)
    case .connectionError:
      return connectionError(error.underlying, locator: locator, connectTimeout: connectTimeout)
    case .authMechanismRequiresPassword:
      return WarehouseError(
        .authenticationFailed,
        "\(cannotConnect): the server asks for a password and none was given; put it in the url "
          + "(postgres://USER:PASSWORD@HOST:PORT/DB) or in PGPASSWORD")
    case .unsupportedAuthMechanism:
      return WarehouseError(
        .authenticationFailed,
        "\(cannotConnect): the server asks for an authentication method driftwatch does not support; "
          + "use password, md5 or scram-sha-256 authentication for this user")
    case .saslError:
      return WarehouseError(
        .authenticationFailed,
        "\(cannotConnect): scram authentication failed for user \(locator.user); check the password")
    case .sslUnsupported:
      return WarehouseError(
        .connectionFailed,
        "\(cannotConnect): the server does not support ssl but sslmode is require; "
          + "use ?sslmode=prefer or ?sslmode=disable, or enable ssl on the server")
    case .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
      return WarehouseError(
        .connectionFailed,
        "\(cannotConnect): the tls handshake failed; try ?sslmode=disable if the server has no tls")
    case .serverClosedConnection, .uncleanShutdown:
      return WarehouseError(
        .connectionFailed,
        "\(connecting ? cannotConnect : "lost the connection to \(url)"): the server closed the connection; "
          + "check that the server is healthy and try again")
    case .queryCancelled:
      return WarehouseError(.queryFailed, "query on \(url) was cancelled; try again")
    default:
      return WarehouseError(
        connecting ? .connectionFailed : .queryFailed,
        "\(connecting ? cannotConnect : "query failed on \(url)"): \(error.code.description.lowercased())")
    }
  }

  private static func serverError(_ error: PSQLError, locator: PostgresLocator, connecting: Bool)
    -> WarehouseError
  {
    let url = locator.displayURL
    let sqlState = error.serverInfo?[.sqlState] ?? ""
    let serverMessage = error.serverInfo?[.message] ?? "unknown server error"
    switch sqlState {
    case "28P01":
      return WarehouseError(
        .authenticationFailed,
        "cannot connect to \(url): password authentication failed for user \(locator.user); "
          + "check the password in the url or PGPASSWORD")
    case "28000":
      return WarehouseError(
        .authenticationFailed,
        "cannot connect to \(url): \(serverMessage); check the user name and the server's pg_hba.conf")
    case "3D000":
      return WarehouseError(
        .databaseNotFound,
        "cannot connect to \(url): database \(locator.database) does not exist; check the database name in --warehouse"
      )
    case "57P03", "57P01", "57P02":
      // Starting up, shutting down, terminated by an administrator: while connecting, or on a session that
      // was up (a server restart).
      return WarehouseError(
        .connectionFailed,
        connecting
          ? "cannot connect to \(url): \(serverMessage); the server is not accepting connections, try again"
          : "lost the connection to \(url): \(serverMessage); the server may be restarting, try again")
    case "53300":
      return WarehouseError(
        .connectionFailed,
        "cannot connect to \(url): \(serverMessage); close other connections or raise max_connections")
    default:
      let prefix = connecting ? "cannot connect to \(url)" : "query failed on \(url)"
      return WarehouseError(
        connecting ? .connectionFailed : .queryFailed, "\(prefix): \(serverMessage) (sqlstate \(sqlState))")
    }
  }

  private static func connectionError(
    _ underlying: (any Error)?, locator: PostgresLocator, connectTimeout: Duration
  ) -> WarehouseError {
    let cannotConnect = "cannot connect to \(locator.displayURL)"
    let refused = WarehouseError(
      .connectionRefused,
      "\(cannotConnect): connection refused; is the server running and is --warehouse right?")
    let timedOut = WarehouseError(
      .timeout,
      "\(cannotConnect): timed out after \(seconds(connectTimeout)); is the host reachable and the port right?"
    )
    if let error = underlying as? NIOConnectionError {
      if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
        return WarehouseError(
          .hostNotFound,
          "\(cannotConnect): host \(locator.host) not found; check the host name in --warehouse")
      }
      let codes = error.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
      if codes.contains(ECONNREFUSED) { return refused }
      if codes.contains(ETIMEDOUT) { return timedOut }
      if codes.contains(ENETUNREACH) || codes.contains(EHOSTUNREACH) {
        return WarehouseError(
          .connectionFailed, "\(cannotConnect): the host is unreachable; check the host name and your network"
        )
      }
      if error.connectionErrors.isEmpty {
        return WarehouseError(
          .hostNotFound,
          "\(cannotConnect): host \(locator.host) has no address; check the host name in --warehouse")
      }
    }
    if let error = underlying as? ChannelError, case .connectTimeout = error { return timedOut }
    if let error = underlying as? IOError {
      switch error.errnoCode {
      case ECONNREFUSED: return refused
      case ENOENT:
        return WarehouseError(
          .connectionRefused,
          "\(cannotConnect): no server socket in \(locator.host); is the server running and is --warehouse right?"
        )
      case ETIMEDOUT: return timedOut
      default: break
      }
    }
    let detail = underlying.map { String(describing: $0).lowercased() } ?? "unknown error"
    return WarehouseError(.connectionFailed, "\(cannotConnect): \(detail)")
  }

  private static func tls(for locator: PostgresLocator) throws -> PostgresConnection.Configuration.TLS {
    guard locator.sslMode != .disable else { return .disable }
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.certificateVerification = .none
    let context: NIOSSLContext
    do {
      context = try NIOSSLContext(configuration: configuration)
    } catch {
      throw WarehouseError(
        .connectionFailed,
        "cannot set up tls for \(locator.displayURL): \(String(describing: error).lowercased()); try ?sslmode=disable"
      )
    }
    return locator.sslMode == .require ? .require(context) : .prefer(context)
  }

  static func timeAmount(_ duration: Duration) -> TimeAmount {
    let (seconds, attoseconds) = duration.components
    return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }

  private static func seconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
  }
}
