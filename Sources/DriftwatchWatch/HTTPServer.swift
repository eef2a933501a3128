import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

public struct HTTPRequest: Sendable {
  public var method: String
  public var path: String
  public var headers: [(String, String)]
  public var body: String

  public func header(_ name: String) -> String? {
    headers.first { $0.0.lowercased() == name.lowercased() }?.1
  }
}

public struct HTTPResponse: Sendable {
  public var status: Int
  public var contentType: String
  public var body: String

  public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
    self.status = status
    self.contentType = contentType
    self.body = body
  }
}

/// A small HTTP/1.1 server on NIOHTTP1: one request per connection, the handler answers it.
/// Used by `watch --http` (healthz, metrics, incidents) and by the tests' stand-in for Slack.
public final class MiniHTTPServer: Sendable {
  public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

  public let host: String
  public let port: Int
  private let channel: any Channel
  private let task: Task<Void, Never>

  private init(host: String, port: Int, channel: any Channel, task: Task<Void, Never>) {
    self.host = host
    self.port = port
    self.channel = channel
    self.task = task
  }

  /// Binds `host:port` (port 0: any free port) and serves until `stop()`.
  public static func start(host: String, port: Int, handler: @escaping Handler) async throws -> MiniHTTPServer
  {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .bind(host: host, port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
            wrappingChannelSynchronously: channel)
        }
      }
    let bound = server.channel.localAddress?.port ?? port
    let task = Task<Void, Never> {
      _ = try? await server.executeThenClose { inbound in
        try await withThrowingDiscardingTaskGroup { group in
          for try await connection in inbound {
            group.addTask { await serve(connection, handler: handler) }
          }
        }
      }
    }
    return MiniHTTPServer(host: host, port: bound, channel: server.channel, task: task)
  }

  /// Stops accepting connections and waits for the server to close.
  public func stop() async {
    try? await channel.close()
    // Connections still open (a client that sends nothing) must not hold the shutdown.
    task.cancel()
    await task.value
  }

  private static func serve(
    _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, handler: Handler
  ) async {
    try? await connection.executeThenClose { inbound, outbound in
      var head: HTTPRequestHead?
      var body = ""
      for try await part in inbound {
        switch part {
        case .head(let requestHead):
          head = requestHead
          body = ""
        case .body(var buffer):
          body += buffer.readString(length: buffer.readableBytes) ?? ""
        case .end:
          guard let requestHead = head else { return }
          let request = HTTPRequest(
            method: requestHead.method.rawValue, path: requestHead.uri,
            headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
          let response = await handler(request)
          var headers = HTTPHeaders()
          headers.add(name: "Content-Type", value: response.contentType)
          headers.add(name: "Content-Length", value: String(response.body.utf8.count))
          headers.add(name: "Connection", value: "close")
          try await outbound.write(
            .head(
              HTTPResponseHead(
                version: requestHead.version, status: HTTPResponseStatus(statusCode: response.status),
                headers: headers)))
          try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
          try await outbound.write(.end(nil))
          return
        }
      }
    }
  }
}
