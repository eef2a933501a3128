import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `driftwatch serve` subprocess on a port the system chose, stopped by `stop()`.
final class ServeProcess: @unchecked Sendable {
  let process: Process
  let port: Int
  private let output: Collected
  private let errors: Collected

  final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) {
      lock.lock()
      data.append(more)
      lock.unlock()
    }
    var text: String {
      lock.lock()
      defer { lock.unlock() }
      return String(decoding: data, as: UTF8.self)
    }
  }

  private init(process: Process, port: Int, output: Collected, errors: Collected) {
    self.process = process
    self.port = port
    self.output = output
    self.errors = errors
  }

  /// Starts `driftwatch serve ARGUMENTS --http 127.0.0.1:0` and waits for the line that names its port.
  static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> ServeProcess {
    let process = Process()
    process.executableURL = try CLI.executable
    process.arguments =
      ["serve"] + arguments + (arguments.contains("--http") ? [] : ["--http", "127.0.0.1:0"])
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let output = Collected()
    let errors = Collected()
    out.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
    err.fileHandleForReading.readabilityHandler = { handle in errors.append(handle.availableData) }
    try process.run()
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(120)
    let marker = "serving the review page on http://127.0.0.1:"
    while clock.now < deadline {
      let text = output.text
      if let range = text.range(of: marker) {
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).hasPrefix("/") {
          return ServeProcess(process: process, port: port, output: output, errors: errors)
        }
      }
      if !process.isRunning {
        throw CLIError(
          "serve exited \(process.terminationStatus) before listening: \(errors.text)\(output.text)")
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    process.terminate()
    throw CLIError("serve did not listen within 120 s: \(errors.text)")
  }

  /// Stops the server (SIGTERM, as ctrl-c would) and returns what it wrote.
  @discardableResult
  func stop() -> (stdout: String, stderr: String, status: Int32) {
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (output.text, errors.text, process.terminationStatus)
  }

  var stderr: String { errors.text }
}

/// A bare HTTP/1.1 client over a socket to 127.0.0.1: every byte of the exchange under the test's control
/// (the Host header, no redirects followed, no cookies kept).
enum HTTP {
  struct Response {
    var status: Int
    var headers: [String: String]
    var body: String

    func header(_ name: String) -> String? { headers[name.lowercased()] }
  }

  static func get(
    _ port: Int, _ path: String, headers: [String: String] = [:]
  ) async throws -> Response {
    try await request("GET", port: port, path: path, headers: headers)
  }

  static func post(
    _ port: Int, _ path: String, form: [(String, String)], headers: [String: String] = [:]
  ) async throws -> Response {
    let body = form.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    var all = headers
    all["Content-Type"] = "application/x-www-form-urlencoded"
    return try await request("POST", port: port, path: path, headers: all, body: body)
  }

  static func encode(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }

  static func request(
    _ method: String, port: Int, path: String, headers: [String: String] = [:], body: String? = nil
  ) async throws -> Response {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            try blocking(method, port: port, path: path, headers: headers, body: body)
          })
      }
    }
  }

  private static func blocking(
    _ method: String, port: Int, path: String, headers: [String: String], body: String?
  ) throws -> Response {
    #if canImport(Glibc)
      let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let descriptor = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard descriptor >= 0 else { throw CLIError("socket() failed") }
    defer { close(descriptor) }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw CLIError("cannot connect to 127.0.0.1:\(port)") }
    var head = "\(method) \(path) HTTP/1.1\r\n"
    var all = headers
    if all["Host"] == nil { all["Host"] = "127.0.0.1:\(port)" }
    all["Connection"] = "close"
    if let body { all["Content-Length"] = String(body.utf8.count) }
    for (name, value) in all.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
    let request = Array((head + "\r\n" + (body ?? "")).utf8)
    #if canImport(Glibc)
      let flags = Int32(MSG_NOSIGNAL)
    #else
      let flags: Int32 = 0
    #endif
    var sent = 0
    while sent < request.count {
      let written = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, flags) }
      // A server that refused the request may close before reading it all: its answer is still there.
      guard written > 0 else { break }
      sent += written
    }
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = recv(descriptor, &buffer, buffer.count, 0)
      if count <= 0 { break }
      received.append(contentsOf: buffer[0..<count])
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else {
      throw CLIError("no HTTP response: \(text.prefix(200))")
    }
    let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    var parsed: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let name = line[..<colon].lowercased()
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      parsed[name] = parsed[name].map { $0 + "\n" + value } ?? value
    }
    var payload = String(text[split.upperBound...])
    if parsed["transfer-encoding"]?.lowercased() == "chunked" { payload = dechunked(payload) }
    return Response(status: status, headers: parsed, body: payload)
  }

  static func dechunked(_ text: String) -> String {
    var bytes = Array(text.utf8)[...]
    var out = [UInt8]()
    while let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) {
      let sizeText = String(decoding: bytes[bytes.startIndex..<lineEnd], as: UTF8.self)
      guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
      let start = lineEnd + 2
      guard start + size + 2 <= bytes.endIndex else { break }
      out.append(contentsOf: bytes[start..<(start + size)])
      bytes = bytes[(start + size + 2)...]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The value of the page's CSRF field.
  static func csrf(_ page: String) -> String? {
    guard let range = page.range(of: "name=\"csrf\" value=\"") else { return nil }
    return String(page[range.upperBound...].prefix { $0 != "\"" })
  }
}
