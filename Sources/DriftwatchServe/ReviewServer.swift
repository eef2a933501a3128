import DriftwatchCore
import Hummingbird
import Logging
import NIOCore

/// `driftwatch serve`'s HTTP server: the review routes at `/` on Hummingbird.
public enum ReviewServer {
  /// Serves until the process is told to stop (SIGINT, SIGTERM). `onListening` gets the bound port (the
  /// one asked for, or the one the system chose for port 0).
  public static func run(
    host: String, port: Int, session: ReviewSession, access: ReviewAccess, logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void
  ) async throws {
    let router = Router()
    ReviewRoutes.register(on: router, session: session, access: access)
    let app = Application(
      router: router,
      configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
      logger: logger)
    try await app.runService()
  }
}
