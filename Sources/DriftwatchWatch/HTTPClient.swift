import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// A failed POST. The message names the destination, never its URL (a webhook URL is a secret).
public struct DeliveryError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Webhook alerts over AsyncHTTPClient: a JSON POST with a whole-request timeout; the answer's status is
/// returned whatever it is, and every failure is a `DeliveryError` that never quotes the URL.
public struct HTTPAlertPoster: AlertPoster {
  public var timeout: Duration

  public init(timeout: Duration = .seconds(10)) { self.timeout = timeout }

  public func post(url: String, body: String, headers: [(String, String)]) async throws -> Int {
    guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
    else { throw DeliveryError("the webhook url is not a valid http(s) url") }
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.headers.add(name: "User-Agent", value: "driftwatch")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    request.body = .bytes(ByteBuffer(string: body))
    let seconds = timeout.components.seconds
    do {
      let response = try await HTTPClient.shared.execute(request, timeout: .seconds(seconds))
      // The answer's body is read (and dropped) so that the connection can be reused.
      _ = try? await response.body.collect(upTo: 1 << 20)
      return Int(response.status.code)
    } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
      throw DeliveryError("timed out after \(seconds) s")
    } catch {
      throw DeliveryError("request failed: \(Self.describe(error))")
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
    if let error = error as? HTTPClientError, error == .connectTimeout { return "connect timed out" }
    return String(describing: error).lowercased()
  }
}
