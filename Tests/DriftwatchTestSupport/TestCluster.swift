import DriftwatchCore
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A dedicated, throwaway PostgreSQL cluster that a test may stop and start again (`scripts/pg-cluster`),
/// so the shared server in `DRIFTWATCH_TEST_POSTGRES_URL`, used by other tests in parallel, is never
/// restarted. Superuser `postgres` with a random password, TCP on 127.0.0.1:`port`, and a unix socket in
/// `socketDirectory`; as root the server runs as the OS user postgres.
///
/// ```swift
/// try await TestCluster.with { cluster in
///   try await TestPostgres.withDatabase(on: cluster.admin) { db in … }
///   try cluster.stop()
///   try cluster.start(.socketOnly)   // reachable only through cluster.overSocket(db)
/// }
/// ```
public struct TestCluster: Sendable {
  public enum Listening: String, Sendable {
    /// 127.0.0.1:`port` and the unix socket.
    case tcp
    /// `listen_addresses=''`: the unix socket only; TCP connections to the port are refused.
    case socketOnly = "socket-only"
  }

  /// The cluster's directory (data, socket, logs, password file), removed by `destroy()`.
  public let directory: String
  public let port: Int
  public let socketDirectory: String
  /// The superuser on database `postgres`, over TCP.
  public let admin: PostgresLocator

  static var script: String { repositoryRoot() + "/scripts/pg-cluster" }

  /// Runs `body` with a new cluster, started on TCP; the cluster is stopped and its directory removed
  /// afterwards, whether `body` succeeds or throws.
  public static func with<T: Sendable>(_ body: (TestCluster) async throws -> T) async throws -> T {
    let cluster = try start()
    defer { cluster.destroy() }
    return try await body(cluster)
  }

  /// Creates and starts a cluster (on TCP). Call `destroy()` when done (`with` does).
  public static func start() throws -> TestCluster {
    let output = try run(["start"])
    var values: [String: String] = [:]
    for line in output.split(separator: "\n") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    // Only plain values are expected (a mktemp path, a port): anything quoted by %q is refused, not guessed.
    let unquoted = { (key: String) -> String? in
      guard let value = values[key], !value.isEmpty,
        value.allSatisfy({ $0.isLetter || $0.isNumber || "/._-".contains($0) })
      else { return nil }
      return value
    }
    guard let directory = unquoted("dir") else {
      throw TestSupportError(
        "scripts/pg-cluster start printed no usable dir (got keys \(values.keys.sorted()))")
    }
    // From here on the cluster exists: any failure removes it.
    do {
      guard let host = unquoted("host"), let port = unquoted("port").flatMap(Int.init),
        let user = unquoted("user"), let socket = unquoted("socket"),
        let passwordFile = unquoted("password_file")
      else {
        throw TestSupportError(
          "scripts/pg-cluster start printed an incomplete cluster: \(values.keys.sorted())")
      }
      let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      let admin = PostgresLocator(
        host: host, port: port, user: user, password: password, database: "postgres", sslMode: .disable)
      return TestCluster(directory: directory, port: port, socketDirectory: socket, admin: admin)
    } catch {
      _ = try? run(["destroy", directory])
      throw error
    }
  }

  /// Stops the server (fast shutdown: every session is terminated); the data stays.
  public func stop() throws { try Self.run(["stop", directory]) }

  /// Starts the server again on the same data, port and socket directory.
  public func start(_ listening: Listening) throws {
    try Self.run(["start-\(listening.rawValue)", directory])
  }

  /// `locator` (a database on this cluster) reached through the unix socket instead of TCP.
  public func overSocket(_ locator: PostgresLocator) -> PostgresLocator {
    var socket = locator
    socket.host = socketDirectory
    return socket
  }

  /// Stops the server if it runs and removes the directory. Never throws: it runs in `defer`.
  public func destroy() {
    if (try? Self.run(["destroy", directory])) == nil {
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  /// Runs scripts/pg-cluster; its stdout. A failure throws with its stderr (which never holds the password).
  @discardableResult
  static func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: script)
    process.arguments = arguments
    // Both pipes are read while it runs, so a long server log on stderr cannot block it.
    let (outData, errData) = try ProcessOutput.run(process)
    let status = exitStatus(of: process, timeout: 120)
    guard status == 0 else {
      throw TestSupportError(
        "scripts/pg-cluster \(arguments.joined(separator: " ")) exited \(status): "
          + String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
  }

  /// The exit code (128 + the signal when killed), reaping the child with waitpid: Foundation's
  /// `waitUntilExit` waits until a socket its child inherited is closed everywhere, which a server the
  /// child started could hold forever. After `timeout` seconds the child is killed: -1.
  static func exitStatus(of process: Process, timeout: TimeInterval) -> Int32 {
    let pid = process.processIdentifier
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid { return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
      if result == -1 && errno != EINTR { break }  // reaped by Foundation
      if Date() >= deadline {
        kill(pid, SIGKILL)
        return -1
      }
      usleep(10_000)
    }
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { return -1 }
    return process.terminationReason == .uncaughtSignal
      ? 128 + process.terminationStatus : process.terminationStatus
  }
}
