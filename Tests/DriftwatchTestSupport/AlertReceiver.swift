import DriftwatchWatch
import Foundation

/// A local HTTP endpoint standing in for Slack (or any webhook): records every POST it answers.
/// `failing` makes it answer 503 (an outage); `stop()` and `start()` take it down and up on the same port.
public final class AlertReceiver: @unchecked Sendable {
  public struct Received: Sendable {
    public var body: String
    public var idempotencyKey: String?
    public var at: Date
  }

  private let lock = NSLock()
  private var log: [Received] = []
  private var failingFlag = false
  private var server: MiniHTTPServer?
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
    let server = try await MiniHTTPServer.start(host: "127.0.0.1", port: port) { [self] request in
      let failing = lock.withLock { failingFlag }
      if failing { return HTTPResponse(status: 503, body: "unavailable") }
      lock.withLock {
        log.append(
          Received(body: request.body, idempotencyKey: request.header("Idempotency-Key"), at: Date()))
      }
      return HTTPResponse(body: "ok")
    }
    lock.withLock {
      self.server = server
      self.port = server.port
    }
  }

  public func stop() async {
    let server = lock.withLock { () -> MiniHTTPServer? in
      defer { self.server = nil }
      return self.server
    }
    await server?.stop()
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
}
