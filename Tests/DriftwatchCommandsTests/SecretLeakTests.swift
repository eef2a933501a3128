import Foundation
import Testing

@testable import DriftwatchCommands

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// No output of any command that takes a warehouse or state URL contains its password, whatever shape the URL
/// has: mistyped (no `@`), with `@ / ? # :` in the password, percent-encoded, in a `password=` parameter, in
/// PGPASSWORD, in profiles.yml.
@Suite("secrets never printed")
struct SecretLeakTests {
  /// A URL and the texts that must never appear (the password, decoded and as written, and a part of it that
  /// a split at a `/`, `?`, `#` or `@` would leave).
  struct Shape: Sendable, CustomStringConvertible {
    var url: String
    var secrets: [String]
    var environment: [String: String] = [:]
    var description: String { url.replacingOccurrences(of: "Zq", with: "") }
  }

  static let shapes: [Shape] = [
    Shape(url: "postgres://user:Secret99Zq/db", secrets: ["Secret99Zq"]),
    Shape(url: "postgresql://:Secret99Zq@127.0.0.1:1/db", secrets: ["Secret99Zq"]),
    Shape(
      url: "postgres://u:Sec%40ret99Zq@127.0.0.1:x/db", secrets: ["Sec@ret99Zq", "Sec%40ret99Zq", "ret99Zq"]),
    Shape(url: "postgres://u:pa@ss99Zq@127.0.0.1:1/db", secrets: ["pa@ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:pa/ss99Zq@127.0.0.1:1/db", secrets: ["pa/ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:pa?ss99Zq@127.0.0.1:1/db", secrets: ["pa?ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:pa#ss99Zq@127.0.0.1:1/db", secrets: ["pa#ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:pa:ss99Zq@127.0.0.1:1/db", secrets: ["pa:ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:pa/ss99Zq/db", secrets: ["pa/ss99Zq", "ss99Zq"]),
    Shape(url: "postgres://u:Secret99Zq@127.0.0.1:1/db?Secret99Zq", secrets: ["Secret99Zq"]),
    Shape(url: "postgres://u@127.0.0.1:1/db?password=Qss99Zq&sslmode=disable", secrets: ["Qss99Zq"]),
    Shape(url: "postgres://u@127.0.0.1:1/db?sslmode=disable&password=Qss99Zq", secrets: ["Qss99Zq"]),
    Shape(url: "postgres:u:Secret99Zq@127.0.0.1:1/db", secrets: ["Secret99Zq"]),
    Shape(url: "postgres://u@127.0.0.1:1/db", secrets: ["Env99Zq"], environment: ["PGPASSWORD": "Env99Zq"]),
    Shape(url: "sqlite://u:Secret99Zq@/nonexistent/dir/x.db", secrets: ["Secret99Zq"]),
  ]

  static func expectNoSecret(
    _ result: CLI.Result, _ shape: Shape, _ command: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for secret in shape.secrets {
      #expect(
        !result.stdout.contains(secret) && !result.stderr.contains(secret),
        "\(command) with \(shape) printed the password: \(result.stderr.prefix(400)) \(result.stdout.prefix(400))",
        sourceLocation: sourceLocation)
    }
    #expect(!result.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
  }

  @Test(arguments: shapes)
  func warehouseURLs(shape: Shape) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let migration = scratch.file("m.sql")
    try "alter table raw.raw_customers rename to raw_accounts;".write(
      toFile: migration, atomically: true, encoding: .utf8)
    let state = "sqlite:" + scratch.file("state.db")
    let runs: [(String, [String])] = [
      ("check", ["check", "--project", CLI.acme, "--warehouse", shape.url]),
      ("snapshot", ["snapshot", "--project", CLI.acme, "--warehouse", shape.url, "--state", state]),
      ("fix", ["fix", "--project", CLI.acme, "--warehouse", shape.url]),
      ("impact", ["impact", "--project", CLI.acme, "--warehouse", shape.url, migration]),
      ("install-trigger", ["install-trigger", "--warehouse", shape.url]),
      (
        "snapshot --state",
        ["snapshot", "--project", CLI.acme, "--warehouse", "sqlite:x.db", "--state", shape.url]
      ),
      ("history", ["history", "--project", CLI.acme, "--state", shape.url]),
      ("diff", ["diff", "a", "b", "--project", CLI.acme, "--state", shape.url]),
      ("incidents", ["incidents", "list", "--project", CLI.acme, "--state", shape.url]),
    ]
    for (name, arguments) in runs {
      let result = try await CLI.run(arguments, environment: shape.environment)
      // A SQLite state store that does not exist is an empty one: `history` and `incidents` say so.
      let emptyStore = shape.url.hasPrefix("sqlite") && (name == "history" || name == "incidents")
      #expect(
        result.status == (emptyStore ? 0 : 2),
        "\(name) with \(shape): exit \(result.status) \(result.stderr.prefix(300))")
      Self.expectNoSecret(result, shape, name)
    }
  }

  /// watch retries a warehouse it cannot reach: its log is read for a while, then it is stopped.
  @Test(arguments: shapes)
  func watchLog(shape: Shape) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let watch = try WatchProcess(
      ["--project", CLI.acme, "--warehouse", shape.url, "--state", "sqlite:" + scratch.file("state.db")],
      environment: shape.environment, logPath: scratch.file("watch.log"))
    // Exits at once on a URL it cannot parse; otherwise logs failed checks until stopped.
    _ = await watch.waitForLog("check failed", timeout: .seconds(5))
    watch.signal(SIGTERM)
    _ = await watch.waitForExit()
    let log = watch.log
    #expect(!log.isEmpty)
    Self.expectNoSecret(CLI.Result(status: 0, stdout: "", stderr: log), shape, "watch")
  }

  @Test func profilePassword() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    for password in ["Prof99Zq", "pa@ss/Prof99Zq", "{{ Prof99Zq", "Prof99Zq }}"] {
      try """
      acme:
        target: dev
        outputs:
          dev:
            type: postgres
            host: 127.0.0.1
            port: 1
            user: app
            password: "\(password)"
            dbname: acme
            schema: analytics
      """.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
      for command in ["check", "snapshot", "fix"] {
        let result = try await CLI.run([command, "--project", CLI.acme, "--profiles-dir", scratch.path])
        #expect(result.status == 2, "\(command): \(result.stderr)")
        #expect(
          !result.stderr.contains("Prof99Zq") && !result.stdout.contains("Prof99Zq"), "\(result.stderr)")
      }
    }
  }

  /// A password written literally in profiles.yml (no env_var, so in no environment variable) that dbt itself
  /// echoes in its error — dbt-postgres validating the profile prints `99887766 is not of type 'string'` — never
  /// reaches the terminal through the bridge (check, snapshot, watch's first check).
  @Test func literalProfilePasswordEchoedByDbtIsRedacted() async throws {
    guard let dbt = ProcessInfo.processInfo.environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      Issue.record("DRIFTWATCH_DBT is not set: run scripts/test (it installs dbt and sets it)")
      return
    }
    let scratch = try Scratch()
    defer { scratch.remove() }
    try """
    acme:
      target: dev
      outputs:
        dev:
          type: postgres
          host: 127.0.0.1
          port: 1
          user: app
          password: 99887766
          dbname: acme
          schema: analytics
    """.write(toFile: scratch.file("profiles.yml"), atomically: true, encoding: .utf8)
    for command in ["check", "snapshot", "watch"] {
      let result = try await CLI.run(
        [
          command, "--project", CLI.acme, "--profiles-dir", scratch.path, "--via-dbt", "--state",
          "sqlite:" + scratch.file("s.db"),
        ] + (command == "watch" ? ["--interval", "1h"] : []),
        environment: ["DRIFTWATCH_DBT": dbt])
      #expect(result.status == 2, "\(command): \(result.stderr)")
      // dbt's own message came through, the password in it redacted.
      #expect(result.stderr.contains("***"), "\(command): \(result.stderr)")
      #expect(
        !result.stderr.contains("99887766") && !result.stdout.contains("99887766"),
        "\(command): \(result.stderr)")
    }
  }

  /// The last guard: whatever reaches the terminal (messages, watch's log lines) is redacted with every secret
  /// known from the arguments, the environment and the profiles read.
  @Test func terminalGuardRedactsKnownSecrets() {
    Secrets.register(
      arguments: [
        "check", "--warehouse", "postgres://u:ArgSecret99/db", "--state", "postgres://u:St%40te99@h/db",
      ],
      environment: ["DBT_ENV_SECRET_PW": "EnvSecret99", "PATH": "/usr/bin"])
    Secrets.register(.postgres(.init(host: "h", user: "u", password: "ProfileSecret99", database: "d")))
    let line = "a ArgSecret99 b St@te99 c St%40te99 d EnvSecret99 e ProfileSecret99 f /usr/bin"
    #expect(Secrets.redact(line) == "a *** b *** c *** d *** e *** f /usr/bin")
  }
}
