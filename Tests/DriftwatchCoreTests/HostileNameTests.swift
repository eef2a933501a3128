import DriftwatchCore
import DriftwatchReports
import DriftwatchTestSupport
import Foundation
import Testing

/// Names an attacker can give a table or a column in the warehouse, through the fix drafter and every
/// renderer: no file outside the project, no Jinja of theirs in a drafted file, SQL and YAML that read back
/// as the same name, no control character of theirs on a terminal, no markup of theirs in Slack or markdown.
@Suite("hostile names")
struct HostileNameTests {
  static func fixture(
    table: String = "raw_members", key: String = "member_id", extra: String = "referrer",
    type: String = "text", values: [String] = ["FREE", "PRO"]
  ) -> HostileFixture {
    HostileFixture(table: table, key: key, extra: extra, type: type, values: values)
  }

  static func draft(_ fixture: HostileFixture, dialect: SQLDialect = .postgres) throws -> FixDraft {
    try FixDrafter(
      project: fixture.project, report: fixture.report, live: fixture.live, dialect: dialect,
      files: HostileFixture.files, decisions: fixture.decisions
    ).draft()
  }

  static func content(_ draft: FixDraft, _ suffix: String) -> String {
    draft.files.first { $0.path.hasSuffix(suffix) }?.content ?? ""
  }

  // MARK: Files

  @Test(arguments: ["x/../../../../tmp/trav", "../../etc/passwd", "..", "/abs", "a/b", "tab\tle", "日本"])
  func aTableNameNeverMakesAPathOutsideTheProject(table: String) throws {
    let draft = try Self.draft(Self.fixture(table: table))
    let contract = try #require(draft.files.first { $0.path.hasPrefix("tests/") })
    #expect(ProjectRelativePath.isContained(contract.path), "\(contract.path)")
    let name = String(contract.path.dropFirst("tests/".count))
    #expect(!name.contains("/") && name.hasPrefix("assert_schema_contract_") && name.hasSuffix(".sql"))
    #expect(name.unicodeScalars.allSatisfy { $0.isASCII && !TextEscape.isControl($0) }, "\(name)")
    for file in draft.files { #expect(ProjectRelativePath.isContained(file.path), "\(file.path)") }
  }

  @Test func safeFileNamesAreReadableAndKeepNamesApart() {
    #expect(SafeFileName.component("raw_accounts") == "raw_accounts")
    #expect(SafeFileName.component("") == nil)
    let dotted = SafeFileName.component("a.b") ?? ""
    let underscored = SafeFileName.component("a_b") ?? ""
    #expect(dotted.hasPrefix("a_b_") && dotted != underscored, "two names that read the same keep apart")
    let long = SafeFileName.component(String(repeating: "x", count: 500)) ?? ""
    #expect(long.count == 64 + 9)
    for name in ["..", ".", "../..", "/", "a/../../b"] {
      let component = SafeFileName.component(name) ?? ""
      #expect(!component.contains("/") && component != ".." && component != ".", "\(name) → \(component)")
    }
    #expect(!ProjectRelativePath.isContained("tests/../../x.sql"))
    #expect(!ProjectRelativePath.isContained("/tmp/x.sql"))
    #expect(ProjectRelativePath.isContained("tests/assert_schema_contract_x.sql"))
  }

  // MARK: Jinja

  @Test func aNameHoldingJinjaIsRefusedWithOneLine() {
    let injection = "t2')}}{{run_query('drop table x')}}{{source('inj','t2"
    for fixture in [
      Self.fixture(table: injection), Self.fixture(key: "k{% do run_query('x') %}"),
      Self.fixture(extra: "{# x #}\n"), Self.fixture(type: "text{{x}}"),
      Self.fixture(values: ["{{ x }}", "b"]),
    ] {
      do {
        let draft = try Self.draft(fixture)
        Issue.record("drafted \(draft.files.map(\.path)) for \(fixture.hostile)")
      } catch let error as InputError {
        #expect(error.message.contains("jinja delimiter"), "\(error.message)")
        #expect(!error.message.unicodeScalars.contains { TextEscape.isControl($0) }, "one line")
      } catch {
        Issue.record("unexpected \(error)")
      }
    }
  }

  @Test(arguments: [SQLDialect.postgres, .sqlite, .bigquery, .snowflake])
  func quotesAndBackslashesInATableNameAreJinjaStringLiterals(dialect: SQLDialect) throws {
    let table = "o'brien \\ \"x\" é"
    let draft = try Self.draft(Self.fixture(table: table), dialect: dialect)
    for suffix in ["stg_users.sql", ".sql"] {
      let sql = Self.content(draft, suffix)
      let scan = try JinjaScanner.scan(sql)
      #expect(scan.sources.map(\.sourceName) == Array(repeating: "app", count: scan.sources.count))
      // The source keeps its name: the table's name is only its identifier, in the yml.
      #expect(!scan.sources.isEmpty && scan.sources.allSatisfy { $0.tableName == "raw_users" }, "\(sql)")
    }
    #expect(Self.content(draft, "src_app.yml").contains("identifier: \(YAMLEscape.scalar(table))\n"))
    let contract = try #require(draft.files.first { $0.path.hasPrefix("tests/") }?.content)
    // The relation's names (its identifier is the table's) go into SQL string literals through a filter
    // that escapes their quotes.
    #expect(contract.contains("{{ source('app', 'raw_users').identifier | replace("), "\(contract)")
  }

  @Test func aQuoteAloneNeedsNoEscape() throws {
    let draft = try Self.draft(Self.fixture(table: "o'brien"))
    #expect(Self.content(draft, "stg_users.sql").contains("{{ source('app', 'raw_users') }}"))
    let yml = Self.content(draft, "src_app.yml")
    #expect(yml.contains("identifier: \"o'brien\""))
  }

  @Test func aNewlineInAColumnNameStaysInsideItsIdentifier() throws {
    let draft = try Self.draft(Self.fixture(key: "new\nline", extra: "bell\u{07}\r"))
    let model = Self.content(draft, "stg_users.sql")
    // No name's newline or control character is in the template's text: dbt's Jinja would re-read it.
    let templateText = model.split(separator: "\n").joined()
    #expect(!templateText.unicodeScalars.contains { TextEscape.isControl($0) && $0 != "\n" }, "\(model)")
    let rendered = DraftedJinja.renderingStringPieces(model)
    let body = rendered.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.contains("{{ source(") }.joined(separator: "\n")
    let identifiers = DraftedJinja.quotedIdentifiers(body)
    #expect(identifiers.contains("new\nline"), "\(identifiers)")
    #expect(identifiers.contains("bell\u{07}\r"), "\(identifiers)")
  }

  // MARK: YAML

  @Test func yamlValuesAreEscapedOnOneLine() throws {
    let draft = try Self.draft(
      Self.fixture(table: "t: x # y", key: "k\"\\\n", extra: "e\u{2028}\u{85}", values: ["a\nb", "yes"]))
    let yml = Self.content(draft, "src_app.yml")
    #expect(yml.contains("identifier: \"t: x # y\""))
    #expect(yml.contains("- name: \"k\\\"\\\\\\n\""))
    #expect(yml.contains("- name: \"e\\L\\x85\""))
    #expect(yml.contains("values: [\"a\\nb\", \"yes\"]"))
    // Comments stay comments: the name's line breaks are shown, not made.
    for line in yml.split(separator: "\n") where line.contains("# driftwatch") {
      #expect(line.trimmingCharacters(in: .whitespaces).hasPrefix("# driftwatch"))
    }
    #expect(!yml.unicodeScalars.contains { TextEscape.isInvisibleControl($0) && $0 != "\n" })
  }

  // MARK: Outputs

  static let escape = "col\u{1B}]0;pwned\u{07}\u{9B}2J"

  @Test func controlCharactersNeverReachTheTerminal() throws {
    let fixture = Self.fixture(table: "t\u{1B}[2Jx", key: Self.escape, extra: "e\u{202E}gnp.exe\nnext")
    let report = fixture.report
    let renderer = DriftReportRenderer(color: false, toolVersion: "test")
    for output in [
      renderer.text(report), renderer.markdown(report),
      FixRenderer(toolVersion: "test").render(try Self.draft(fixture), report: report, as: .text),
      FixRenderer(toolVersion: "test").render(try Self.draft(fixture), report: report, as: .markdown),
      ImpactReportRenderer(toolVersion: "test").text(
        ImpactReport(migration: "m\u{1B}.sql", dialect: .postgres, statementCount: 1, drift: report)),
      ImpactReportRenderer(toolVersion: "test").github(
        ImpactReport(migration: "m\n::error::x.sql", dialect: .postgres, statementCount: 1, drift: report)),
    ] {
      let raw = output.unicodeScalars.filter { TextEscape.isInvisibleControl($0) && $0 != "\n" }
      #expect(raw.isEmpty, "\(raw.map { String($0.value, radix: 16) }) in\n\(output)")
    }
    let text = renderer.text(report)
    #expect(text.contains("\\x1b]0;pwned\\x07"), "shown, escaped")
    // A newline in a name does not start a line of its own.
    #expect(!text.split(separator: "\n").contains { $0.hasPrefix("next") })
    let github = ImpactReportRenderer(toolVersion: "test").github(
      ImpactReport(migration: "m\n::error::x.sql", dialect: .postgres, statementCount: 1, drift: report))
    #expect(
      github.split(separator: "\n").allSatisfy { $0.hasPrefix("::") || $0.hasPrefix("driftwatch impact:") })
    #expect(!github.contains("\n::error::x"))
  }

  @Test func coloursStayWhatTheRendererWrites() {
    let report = Self.fixture(key: "k\u{1B}[31mred", extra: "e\u{1B}[0m").report
    let plain = DriftReportRenderer(color: false, toolVersion: "t").text(report)
    let coloured = DriftReportRenderer(color: true, toolVersion: "t").text(report)
    var stripped = coloured
    for style in ["\u{1B}[0m", "\u{1B}[1m", "\u{1B}[2m", "\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m"] {
      stripped = stripped.replacingOccurrences(of: style, with: "")
    }
    #expect(stripped == plain)
  }

  @Test func slackMrkdwnCannotMentionOrLink() throws {
    let fixture = Self.fixture(
      table: "<!channel> & <https://evil.example|click>", key: "`code`", extra: "<@U123>")
    let incident = Incident(
      id: "inc-1", project: "shop", warehouse: "postgres://x/<!here>", fingerprint: "f",
      report: fixture.report, fix: nil, ddlEvents: [], timeline: [])
    #expect(incident.dashboards == ["<@U123>"], "the exposure's label is the hostile name")
    let body = AlertRenderer(fixCommand: "driftwatch fix --project <x>").slack(incident)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    var texts: [String] = [json["text"] as? String ?? ""]
    func collect(_ value: Any) {
      if let object = value as? [String: Any] {
        if let text = object["text"] as? String { texts.append(text) }
        for member in object.values { collect(member) }
      } else if let array = value as? [Any] {
        for member in array { collect(member) }
      }
    }
    collect(json["blocks"] ?? [])
    for text in texts {
      #expect(!text.contains("<") && !text.contains(">"), "\(text)")
      let ampersands = text.components(separatedBy: "&").dropFirst()
      #expect(
        ampersands.allSatisfy { $0.hasPrefix("amp;") || $0.hasPrefix("lt;") || $0.hasPrefix("gt;") },
        "\(text)")
    }
    #expect(texts.contains { $0.contains("&lt;!channel&gt;") })
  }

  @Test func markdownCarriesNoHTMLOrLinksFromNames() throws {
    let fixture = Self.fixture(extra: "<img src=x onerror=alert(1)>![t](https://evil.example/p.png)")
    var report = fixture.report
    report.changes[0].evidence.append("see [here](https://evil.example) <script>")
    let outputs = [
      DriftReportRenderer(toolVersion: "t").markdown(report),
      ImpactReportRenderer(toolVersion: "t").markdown(
        ImpactReport(migration: "m.sql", dialect: .postgres, statementCount: 1, drift: report)),
      PostmortemRenderer().render(
        Incident(
          id: "inc-1", project: "shop", warehouse: "w", fingerprint: "f", report: report,
          fix: try Self.draft(fixture), ddlEvents: [], timeline: [])),
    ]
    let allowed = [
      "<details>", "</details>", "<summary>", "</summary>", "<code>", "</code>", "<sub>", "</sub>",
    ]
    for output in outputs {
      // Code spans show their text as it is: what matters is outside them.
      var rest = output.split(separator: "`", omittingEmptySubsequences: false).enumerated()
        .filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: " ")
      for tag in allowed { rest = rest.replacingOccurrences(of: tag, with: "") }
      #expect(!rest.contains("<img") && !rest.contains("<script"), "\(output)")
      // An escaped `\]` is text, not the end of a link's label.
      rest = rest.replacingOccurrences(of: "\\]", with: "")
      #expect(!rest.contains("](https://evil"), "no link or image from a name:\n\(output)")
    }
  }
}
