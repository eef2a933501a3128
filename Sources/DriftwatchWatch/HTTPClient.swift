import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A failed POST. The message names the destination, never its URL (a webhook URL is a secret).
public struct DeliveryError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// One-shot HTTP/1.1 POSTs over NIO (TLS through swift-nio-ssl for https), for webhook alerts.
/// Small on purpose: one request per connection, `Connection: close`, a whole-request timeout.
public enum HTTPPoster {
  public struct Response: Sendable {
    public var status: Int
    public var body: String
  }

  private static let tlsContext: Result<NIOSSLContext, any Error> = Result {
    try NIOSSLContext(configuration: .makeClientConfiguration())
  }

  /// POSTs `body` as JSON to `url`. Throws `DeliveryError` on a bad URL, a connection failure or a timeout;
  /// returns the response whatever its status.
  public static func post(
    url: String, body: String, headers: [(String, String)] = [], timeout: Duration = .seconds(10)
  ) async throws -> Response {
    guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
    else { throw DeliveryError("the webhook url is not a valid http(s) url") }
    let tls = scheme == "https"
    let port = parsed.port ?? (tls ? 443 : 80)
    var path = parsed.path.isEmpty ? "/" : parsed.path
    if let query = parsed.query { path += "?" + query }
    let requestPath = path
    return try await withThrowingTaskGroup(of: Response.self) { group in
      group.addTask {
        try await send(
          host: host, port: port, tls: tls, path: requestPath, body: body, headers: headers, timeout: timeout)
      }
      group.addTask {
        try await Task.sleep(for: timeout)
        throw DeliveryError("timed out after \(timeout)")
      }
      defer { group.cancelAll() }
      guard let first = try await group.next() else { throw DeliveryError("no response") }
      return first
    }
  }

  private static func send(
    host: String, port: Int, tls: Bool, path: String, body: String, headers: [(String, String)],
    timeout: Duration
  ) async throws -> Response {
    let sslContext: NIOSSLContext? = tls ? try tlsContext.get() : nil
    let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    do {
      channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(.seconds(5))
        .connect(host: host, port: port) { channel in
          channel.eventLoop.makeCompletedFuture {
            if let sslContext {
              try channel.pipeline.syncOperations.addHandler(
                try NIOSSLClientHandler(context: sslContext, serverHostname: host))
            }
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
              wrappingChannelSynchronously: channel)
          }
        }
    } catch {
      throw DeliveryError("cannot connect: \(describe(error))")
    }
    do {
      return try await channel.executeThenClose { inbound, outbound in
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: port == 80 || port == 443 ? host : "\(host):\(port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "driftwatch")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try await outbound.write(.head(head))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
        var status = 0
        var text = ""
        for try await part in inbound {
          switch part {
          case .head(let response): status = Int(response.status.code)
          case .body(var buffer): text += buffer.readString(length: buffer.readableBytes) ?? ""
          case .end: return Response(status: status, body: text)
          }
        }
        throw DeliveryError("the server closed the connection before answering")
      }
    } catch let error as DeliveryError {
      throw error
    } catch {
      throw DeliveryError("request failed: \(describe(error))")
    }
  }

  static func describe(_ error: any Error) -> String {
    if let error = error as? NIOConnectionError {
      if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
        return "host not found"
      }
      if let first = error.connectionErrors.first { return describe(first.error) }
    }
    if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
    return String(describing: error).lowercased()
  }
}
