import DriftwatchCore
import DriftwatchReports
import Hummingbird
import Logging
import NIOCore

/// `watch --http` on Hummingbird: `/healthz`, `/metrics` and `/incidents`, rendered by Reports (incidents,
/// health) and swift-prometheus (metrics). `routes(_:on:)` adds them to any router, so a page served
/// beside them can mount them too.
public enum WatchHTTP {
  public static func routes<Context: RequestContext>(
    _ engine: WatchEngine, on router: some RouterMethods<Context>
  ) {
    router.get("healthz") { _, _ -> Response in
      // 503 while the warehouse cannot be checked (the last check failed), 200 once a check succeeded.
      let (status, body) = WatchStatusRenderer.healthz(engine.status)
      return response(status, "application/json", body)
    }
    router.get("metrics") { _, _ -> Response in
      response(200, "text/plain; version=0.0.4", engine.metrics.rendered())
    }
    router.get("incidents") { _, _ -> Response in
      do {
        let list = try await engine.incidents.incidents(project: nil)
        return response(200, "application/json", IncidentList.json(list).rendered())
      } catch {
        return response(500, "text/plain; charset=utf-8", engine.describe(error) + "\n")
      }
    }
  }

  static func response(_ status: Int, _ contentType: String, _ body: String) -> Response {
    Response(
      status: HTTPResponse.Status(code: status), headers: [.contentType: contentType],
      body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
  }
}

/// The watch service's HTTP server: started on `host:port` (port 0: any free one), stopped by `stop()`.
public final class WatchHTTPServer: Sendable {
  public let port: Int
  private let task: Task<Void, Never>

  private init(port: Int, task: Task<Void, Never>) {
    self.port = port
    self.task = task
  }

  /// Returns once the server listens; throws when it cannot bind.
  /// `extraRoutes` adds routes beside watch's own (`watch --http` mounts the review page under `/review/`).
  public static func start(
    host: String, port: Int, engine: WatchEngine, logger: Logger,
    extraRoutes: @Sendable (Router<BasicRequestContext>) -> Void = { _ in }
  ) async throws
    -> WatchHTTPServer
  {
    let router = Router()
    WatchHTTP.routes(engine, on: router)
    extraRoutes(router)
    let (started, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
    var quiet = logger
    quiet.logLevel = .warning
    let app = Application(
      router: router, configuration: .init(address: .hostname(host, port: port)),
      onServerRunning: { channel in continuation.yield(.success(channel.localAddress?.port ?? port)) },
      logger: quiet)
    // Signals are watch's (it stops the server itself), not Hummingbird's.
    let task = Task<Void, Never> {
      do {
        try await app.runService(gracefulShutdownSignals: [])
      } catch {
        continuation.yield(.failure(error))
      }
      continuation.finish()
    }
    for await result in started {
      switch result {
      case .success(let bound): return WatchHTTPServer(port: bound, task: task)
      case .failure(let error): throw error
      }
    }
    throw CancellationError()
  }

  /// Stops accepting connections and waits for the server to close.
  public func stop() async {
    task.cancel()
    await task.value
  }
}
