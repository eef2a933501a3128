import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local HTTP endpoint standing in for Slack (or any webhook): records every POST it answers.
/// `failing` makes it answer 503 (an outage); `stop()` and `start()` take it down and up on the same port.
///
/// It answers on the NIO event loop itself, never on Swift's cooperative pool: a test process busy with
/// other tests must not delay its answers (a late answer is a timeout for watch, and a retry).
public final class AlertReceiver: @unchecked Sendable {
  public struct Received: Sendable {
    public var body: String
    public var idempotencyKey: String?
    public var at: Date
  }

  private let lock = NSLock()
  private var log: [Received] = []
  private var failingFlag = false
  private var channel: (any Channel)?
  public private(set) var port: Int

  private init(port: Int) { self.port = port }

  /// Starts on 127.0.0.1 (port 0: a free one).
  public static func start(port: Int = 0) async throws -> AlertReceiver {
    let receiver = AlertReceiver(port: port)
    try await receiver.start()
    return receiver
  }

  /// (Re)starts on the same port.
  public func start() async throws {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { [self] channel in
        channel.pipeline.configureHTTPServerPipeline().flatMap {
          channel.pipeline.addHandler(Handler(receiver: self))
        }
      }
      .bind(host: "127.0.0.1", port: port).get()
    lock.withLock {
      self.channel = channel
      self.port = channel.localAddress?.port ?? port
    }
  }

  public func stop() async {
    let channel = lock.withLock { () -> (any Channel)? in
      defer { self.channel = nil }
      return self.channel
    }
    try? await channel?.close()
  }

  /// Records a request; the status to answer.
  fileprivate func handle(body: String, idempotencyKey: String?) -> HTTPResponseStatus {
    lock.withLock {
      if failingFlag { return .serviceUnavailable }
      log.append(Received(body: body, idempotencyKey: idempotencyKey, at: Date()))
      return .ok
    }
  }

  /// The URL to configure (a path like Slack's, with a "secret" part that must never be printed).
  public var url: String { "http://127.0.0.1:\(port)/services/T000/B000/not-a-real-secret-xyz" }

  public var failing: Bool {
    get { lock.withLock { failingFlag } }
    set { lock.withLock { failingFlag = newValue } }
  }

  public var received: [Received] { lock.withLock { log } }

  /// Waits until at least `count` alerts arrived (or `timeout` passed); returns what arrived.
  public func wait(forCount count: Int, timeout: Duration = .seconds(20)) async -> [Received] {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      let now = received
      if now.count >= count { return now }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return received
  }

  private final class Handler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let receiver: AlertReceiver
    var head: HTTPRequestHead?
    var body = ""

    init(receiver: AlertReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let requestHead):
        head = requestHead
        body = ""
      case .body(var buffer):
        body += buffer.readString(length: buffer.readableBytes) ?? ""
      case .end:
        let status = receiver.handle(body: body, idempotencyKey: head?.headers.first(name: "Idempotency-Key"))
        let text = status == .ok ? "ok" : "unavailable"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(
          wrapOutboundOut(
            .head(HTTPResponseHead(version: head?.version ?? .http1_1, status: status, headers: headers))),
          promise: nil)
        context.write(
          wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
      }
    }
  }
}
