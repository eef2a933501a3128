import DriftwatchCore
import DriftwatchSQLite
import DriftwatchState
import Foundation
import Testing

/// `driftwatch serve`, the real executable on a real port: the review page answered and approved in
/// headless Chromium, and over bare HTTP what a browser would not send (forged forms, other hosts, no token).
@Suite("serve: the review page", .serialized)
struct ServeTests {
  /// A writable copy of acme and the migrated SQLite warehouse, with a server on it.
  static func withServer(
    environment: [String: String] = [:], extra: [String] = [],
    _ body: (ServeProcess, String, String) async throws -> Void
  ) async throws {
    try await FixCommandTests.withAcmeCopy { project, warehouse in
      let server = try await ServeProcess.start(
        ["--project", project, "--warehouse", "sqlite:\(warehouse)"] + extra, environment: environment)
      do {
        try await body(server, project, warehouse)
      } catch {
        server.stop()
        throw error
      }
      let stopped = server.stop()
      #expect(stopped.stderr.isEmpty || !stopped.stderr.contains("error"), "\(stopped.stderr)")
    }
  }

  static let stagingModel = "/models/staging/stg_customers.sql"

  /// The page's `map.N` field for each old value.
  static func mappingFields(_ page: String) -> [String: String] {
    var fields: [String: String] = [:]
    var rest = page[...]
    while let range = rest.range(of: "</code></td><td><select name=\"map.") {
      let before = rest[..<range.lowerBound]
      let old = before[(before.range(of: "<code>", options: .backwards)?.upperBound ?? before.startIndex)...]
      let index = rest[range.upperBound...].prefix { $0.isNumber }
      fields[String(old)] = "map.\(index)"
      rest = rest[range.upperBound...]
    }
    return fields
  }

  /// Answers acme's three questions over HTTP, as the page's forms do.
  static func answerAll(_ port: Int, csrf: String) async throws {
    let page = try await HTTP.get(port, "/").body
    let mapping = mappingFields(page)
    #expect(Set(mapping.keys) == ["premium", "standard", "basic"], "\(mapping)")
    let answers: [[(String, String)]] = [
      [("change", "c27aa5b39e8"), ("accept", "true")],
      [("change", "c94df8081eb"), ("accept", "mapping")]
        + [("premium", "gold"), ("standard", "silver"), ("basic", "bronze")].map {
          (mapping[$0.0] ?? "", $0.1)
        },
      [
        ("change", "c073c62f3ab"), ("accept", "template"),
        ("template", "{street}, {city}, {state_code} {postal_code}"),
      ],
    ]
    for form in answers {
      let response = try await HTTP.post(port, "/answer", form: [("csrf", csrf)] + form)
      #expect(response.status == 302, "\(response.body)")
      let after = try await HTTP.get(port, "/").body
      #expect(!after.contains("id=\"error\""), "\(form): \(Self.errorLine(after) ?? "")")
    }
  }

  static func errorLine(_ page: String) -> String? {
    guard let range = page.range(of: "id=\"error\" role=\"alert\">") else { return nil }
    return String(page[range.upperBound...].prefix { $0 != "<" })
  }

  static func noticeLine(_ page: String) -> String? {
    guard let range = page.range(of: "id=\"notice\">") else { return nil }
    return String(page[range.upperBound...].prefix { $0 != "<" })
  }

  // MARK: The browser

  /// The issue's acceptance test: a person's path through the page in headless Chromium (selenium from
  /// PyPI in dbt's venv, Chromium and chromedriver from Debian).
  @Test func browserAnswersTheQuestionsAndApproves() async throws {
    let environment = ProcessInfo.processInfo.environment
    let inCI = environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false
    func missing(_ what: String) {
      if inCI {
        Issue.record("\(what): scripts/test installs it (scripts/lib/browser.sh, scripts/lib/dbt.sh)")
      } else {
        print("skipping the browser test: \(what) (scripts/test installs it)")
      }
    }
    let chromium = environment["DRIFTWATCH_CHROMIUM"] ?? (inCI ? nil : "/usr/bin/chromium")
    let driver = environment["DRIFTWATCH_CHROMEDRIVER"] ?? (inCI ? nil : "/usr/bin/chromedriver")
    guard let chromium, FileManager.default.isExecutableFile(atPath: chromium) else {
      return missing("headless Chromium not found (DRIFTWATCH_CHROMIUM is not set or not executable)")
    }
    guard let driver, FileManager.default.isExecutableFile(atPath: driver) else {
      return missing("chromedriver not found (DRIFTWATCH_CHROMEDRIVER is not set or not executable)")
    }
    guard let dbt = environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      return missing("DRIFTWATCH_DBT is not set, so dbt's venv (its python has selenium) is not known")
    }
    let python = URL(fileURLWithPath: dbt).deletingLastPathComponent().appendingPathComponent("python")
    let script = CLI.repository.appendingPathComponent(
      "Tests/DriftwatchCommandsTests/Fixtures/browser/review_page.py"
    ).path
    let artifacts = CLI.repository.appendingPathComponent(".build/test-artifacts/review-page").path
    try? FileManager.default.removeItem(atPath: artifacts)
    try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)

    try await Self.withServer { server, project, warehouse in
      let original = try CLI.read(project + Self.stagingModel)
      let clock = ContinuousClock()
      let started = clock.now
      let browser = try await CLI.run(
        executable: python,
        [
          script, "--url", "http://127.0.0.1:\(server.port)/", "--screenshots", artifacts, "--chromium",
          chromium,
          "--chromedriver", driver,
        ])
      let elapsed = clock.now - started
      print("browser test: \(elapsed); screenshots in \(artifacts)\n\(browser.stdout)")
      #expect(browser.status == 0, "\(browser.stderr)\(browser.stdout)")
      let result = try CLI.json(browser.stdout.split(separator: "\n").last.map(String.init) ?? "")
      #expect(result["ok"] as? Bool == true)
      #expect((result["screenshots"] as? [String])?.count == 7)

      // The project's files are written …
      let sql = try CLI.read(project + Self.stagingModel)
      #expect(sql != original)
      #expect(sql.contains("when 'gold' then 'premium'"))
      #expect(sql.contains("street || ', ' || city || ', ' || state_code || ' ' || postal_code as address"))
      // … and the CLI agrees the drift is handled.
      let check = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
  }

  // MARK: Over HTTP

  @Test func approveIsRefusedWhileQuestionsAreOpenAndWhenFilesChanged() async throws {
    try await Self.withServer { server, project, warehouse in
      let port = server.port
      let first = try await HTTP.get(port, "/")
      #expect(first.status == 200)
      let csrf = try #require(HTTP.csrf(first.body))
      let original = try CLI.read(project + Self.stagingModel)

      // Open questions: nothing is written, one line says why.
      _ = try await HTTP.post(port, "/approve", form: [("csrf", csrf)])
      let refused = try await HTTP.get(port, "/").body
      #expect(Self.errorLine(refused)?.hasPrefix("3 questions are open, so nothing was written") == true)
      #expect(try CLI.read(project + Self.stagingModel) == original)

      // A bad answer is one line too, and is not kept.
      _ = try await HTTP.post(
        port, "/answer",
        form: [
          ("csrf", csrf), ("change", "c073c62f3ab"), ("accept", "template"), ("template", "{street} {zip}"),
        ])
      let bad = try await HTTP.get(port, "/").body
      #expect(Self.errorLine(bad)?.contains("names column 'zip'") == true, "\(Self.errorLine(bad) ?? "")")

      try await Self.answerAll(port, csrf: csrf)
      // Someone edits the model after the check: the write is refused, their edit kept.
      let edited = original + "\n-- edited by hand\n"
      try edited.write(toFile: project + Self.stagingModel, atomically: true, encoding: .utf8)
      _ = try await HTTP.post(port, "/approve", form: [("csrf", csrf)])
      let conflict = try await HTTP.get(port, "/").body
      #expect(
        Self.errorLine(conflict)?.contains("changed since driftwatch read it: nothing was written") == true,
        "\(Self.errorLine(conflict) ?? "")")
      #expect(try CLI.read(project + Self.stagingModel) == edited)

      // Checked again (a background job, shown as progress), the answers still stand and the write goes through.
      try original.write(toFile: project + Self.stagingModel, atomically: true, encoding: .utf8)
      _ = try await HTTP.post(port, "/check", form: [("csrf", csrf)])
      var page = try await HTTP.get(port, "/").body
      for _ in 0..<200 where page.contains("id=\"progress\"") {
        try await Task.sleep(for: .milliseconds(50))
        page = try await HTTP.get(port, "/").body
      }
      #expect(page.contains("Questions (0 open)"))
      _ = try await HTTP.post(port, "/approve", form: [("csrf", csrf)])
      let written = try await HTTP.get(port, "/").body
      let notice = try #require(Self.noticeLine(written), "\(Self.errorLine(written) ?? "")")
      #expect(notice.hasPrefix("wrote 3 files"))
      #expect(notice.hasSuffix("checked again: no breaking drift"))
      let check = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(check.status == 0, "\(check.stdout)")
    }
  }

  @Test func requestsFromElsewhereAreRefused() async throws {
    try await Self.withServer { server, _, _ in
      let port = server.port
      let page = try await HTTP.get(port, "/")
      let csrf = try #require(HTTP.csrf(page.body))
      // Our own script and style only, under a fresh nonce; no framing.
      let policy = try #require(page.header("Content-Security-Policy"))
      #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'nonce-"))
      #expect(!policy.contains("unsafe-inline"))
      #expect(policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self'"))
      #expect(page.header("X-Frame-Options") == "DENY")
      // DNS rebinding: a name other than loopback in the Host header.
      let rebound = try await HTTP.get(port, "/", headers: ["Host": "attacker.example:\(port)"])
      #expect(rebound.status == 403)
      // Forged forms: no token, a wrong token, another origin, a cross-site fetch.
      let answer = [("change", "c27aa5b39e8"), ("accept", "true")]
      for (form, headers) in [
        (answer, [String: String]()),
        ([("csrf", (csrf.first == "0" ? "1" : "0") + csrf.dropFirst())] + answer, [:]),
        ([("csrf", csrf)] + answer, ["Origin": "http://attacker.example"]),
        ([("csrf", csrf)] + answer, ["Sec-Fetch-Site": "cross-site"]),
      ] {
        let response = try await HTTP.post(port, "/answer", form: form, headers: headers)
        #expect(response.status == 403, "\(headers): \(response.body)")
        #expect(response.body.split(separator: "\n").count == 1)
      }
      let still = try await HTTP.get(port, "/").body
      #expect(still.contains("Questions (3 open)"), "no forged answer was recorded")
      // A huge body is refused, not read.
      let huge = try await HTTP.post(
        port, "/answer", form: [("csrf", csrf), ("x", String(repeating: "a", count: 1_100_000))])
      #expect(huge.status == 413)
      // The live preview is the server's rendering of the template on sampled rows.
      let preview = try await HTTP.get(
        port, "/preview?change=c073c62f3ab&template=" + HTTP.encode("{street} | {city}"))
      #expect(preview.status == 200)
      #expect(preview.body.contains("<td class=\"rebuilt\"><code>"))
      #expect(preview.body.contains(" | "))
    }
  }

  @Test func aTokenIsAskedForWhenConfigured() async throws {
    let token = "t0k3n-" + UUID().uuidString
    try await Self.withServer(
      environment: ["DW_SERVE_TEST_TOKEN": token], extra: ["--token-env", "DW_SERVE_TEST_TOKEN"]
    ) { server, _, _ in
      let port = server.port
      #expect(try await HTTP.get(port, "/").status == 401)
      #expect(try await HTTP.get(port, "/?token=wrong").status == 401)
      #expect(try await HTTP.get(port, "/incidents").status == 401)
      let entry = try await HTTP.get(port, "/?token=\(token)")
      #expect(entry.status == 302)
      let cookie = try #require(entry.header("Set-Cookie"))
      #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
      #expect(entry.header("Location") == "/")
      let withCookie = try await HTTP.get(port, "/", headers: ["Cookie": "driftwatch_token=\(token)"])
      #expect(withCookie.status == 200)
      #expect(!withCookie.body.contains(token), "the token is never in a page")
      let bearer = try await HTTP.get(port, "/", headers: ["Authorization": "Bearer \(token)"])
      #expect(bearer.status == 200)
    }
  }

  /// Every page goes through the CLI's redaction: a secret the process knows (here a variable named like a
  /// token whose value the warehouse happens to hold as a table name) is `***` wherever a page would show it.
  @Test func pagesAreRedacted() async throws {
    try await Self.withServer(environment: ["DW_SERVE_TEST_API_TOKEN": "raw_accounts"]) { server, _, _ in
      let page = try await HTTP.get(server.port, "/")
      #expect(page.status == 200)
      #expect(!page.body.contains("raw_accounts"))
      #expect(page.body.contains("acme.raw_customers was renamed to ***"))
      let preview = try await HTTP.get(server.port, "/preview?change=c073c62f3ab&template=%7Bstreet%7D")
      #expect(preview.status == 200 && !preview.body.contains("raw_accounts"))
    }
  }

  @Test func incidentsAndTheirPostmortems() async throws {
    try await FixCommandTests.withAcmeCopy { project, warehouse in
      let hostile = "<img src=x onerror=alert(1)>"
      let report = DriftReport(
        project: "acme", warehouse: "sqlite", schemas: ["raw"], sourcesChecked: 1, changes: [],
        blastRadius: BlastRadius(), nodes: [:])
      let incident = Incident(
        id: "inc-20260217140012-abc123", project: "acme", warehouse: "sqlite", fingerprint: "f",
        report: report,
        fix: nil, ddlEvents: [],
        timeline: [
          TimelineEntry(.ddl, at: Timestamp(millisecondsSinceEpoch: 1_771_336_800_000), detail: hostile),
          TimelineEntry(.detected, at: Timestamp(millisecondsSinceEpoch: 1_771_336_801_200)),
          TimelineEntry(.alertDelivered, at: Timestamp(millisecondsSinceEpoch: 1_771_336_802_000)),
        ])
      try FileManager.default.createDirectory(
        atPath: project + "/.driftwatch", withIntermediateDirectories: true)
      try await SQLiteIncidentStore(path: project + "/.driftwatch/state.db").save(incident, enqueue: [])
      let server = try await ServeProcess.start(["--project", project, "--warehouse", "sqlite:\(warehouse)"])
      defer { server.stop() }
      let list = try await HTTP.get(server.port, "/incidents")
      #expect(list.status == 200)
      #expect(list.body.contains("href=\"/incidents/inc-20260217140012-abc123\""))
      #expect(list.body.contains("<td>1200 ms</td><td>2000 ms</td>"), "detection and notification latency")
      let page = try await HTTP.get(server.port, "/incidents/inc-20260217140012-abc123")
      #expect(page.status == 200)
      #expect(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"))
      #expect(!page.body.contains(hostile))
      #expect(page.body.contains("<h3>Postmortem"))
      let download = try await HTTP.get(server.port, "/incidents/inc-20260217140012-abc123/postmortem.md")
      #expect(download.status == 200)
      #expect(download.header("Content-Disposition")?.hasPrefix("attachment;") == true)
      let cli = try await CLI.run(["postmortem", "inc-20260217140012-abc123", "--project", project])
      #expect(download.body == cli.stdout, "the download is the CLI's postmortem")
      let absent = try await HTTP.get(server.port, "/incidents/inc-nope")
      #expect(absent.status == 404)
      #expect(Self.errorLine(absent.body) == "no incident inc-nope: see the incident list")
    }
  }

  /// A snapshot taken from the page (a background job), the backend's migration, a check from the page:
  /// the data now proves the split, and the preview shows each sampled row's old value rebuilt.
  @Test func aSnapshotFromThePageBecomesEvidence() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let project = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: project)
    let server = try await ServeProcess.start(["--project", project, "--warehouse", "sqlite:\(warehouse)"])
    defer { server.stop() }
    let port = server.port
    let first = try await HTTP.get(port, "/")
    #expect(first.body.contains("id=\"verdict\" class=\"good\">no breaking drift"))
    let csrf = try #require(HTTP.csrf(first.body))

    func waitForJob() async throws -> String {
      var page = try await HTTP.get(port, "/").body
      for _ in 0..<600 where page.contains("id=\"progress\"") {
        // While it runs the page says what it is doing and reloads itself.
        #expect(page.contains("http-equiv=\"refresh\""))
        try await Task.sleep(for: .milliseconds(50))
        page = try await HTTP.get(port, "/").body
      }
      return page
    }
    #expect(try await HTTP.post(port, "/snapshot", form: [("csrf", csrf)]).status == 302)
    let snapped = try await waitForJob()
    let notice = try #require(Self.noticeLine(snapped), "\(Self.errorLine(snapped) ?? "")")
    #expect(
      notice.hasPrefix("snapshot ") && notice.hasSuffix("checked again: no breaking drift"), "\(notice)")

    let database = try await SQLiteDatabase.open(at: warehouse)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()
    #expect(try await HTTP.post(port, "/check", form: [("csrf", csrf)]).status == 302)
    let checked = try await waitForJob()
    #expect(
      Self.noticeLine(checked) == "checked again: 6 breaking changes", "\(Self.errorLine(checked) ?? "")")
    #expect(checked.contains("evidence from snapshot "))
    // Proven by the data: the split needs no human; what the tiers mean still does.
    #expect(checked.contains("data-kind=\"split_template\" data-status=\"proven\""))
    #expect(checked.contains("Questions (1 open)"))
    #expect(checked.contains("rebuilds 8 of 8 sampled rows exactly"))
    #expect(checked.contains("old value (snapshot)"))
  }

  // MARK: Bad input

  @Test func badInvocationsAreOneLineAndExit2() async throws {
    try await FixCommandTests.withAcmeCopy { project, warehouse in
      let base = ["serve", "--project", project, "--warehouse", "sqlite:\(warehouse)"]
      let cases: [([String], [String: String], String)] = [
        (["--http", "0.0.0.0:0"], [:], "is not a loopback address: pass --token-env NAME"),
        (["--token-env", "DW_SERVE_UNSET_VARIABLE"], [:], "that environment variable is not set"),
        (["--token-env", "DW_SERVE_SHORT"], ["DW_SERVE_SHORT": "short"], "shorter than 16 characters"),
        (["--http", "localhost:http"], [:], "expected HOST:PORT"),
        (["--http", "127.0.0.1:70000"], [:], "expected HOST:PORT"),
      ]
      for (extra, environment, message) in cases {
        let result = try await CLI.run(base + extra, environment: environment)
        #expect(result.status == 2, "\(extra)")
        #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
      }
      let missing = try await CLI.run([
        "serve", "--project", project, "--warehouse", "sqlite:\(project)/nope.db", "--http", "127.0.0.1:0",
      ])
      #expect(missing.status == 2)
      #expect(missing.stderr.hasPrefix("driftwatch: ") && missing.stderr.split(separator: "\n").count == 1)
    }
  }
}
