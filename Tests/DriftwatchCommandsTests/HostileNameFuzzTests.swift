import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import DriftwatchTestSupport
import Foundation
import Testing

@testable import DriftwatchCommands

/// Random hostile names (fixed seed) through the fix drafter, the file writer, the project reader and every
/// renderer, with the invariants that must hold whatever the name: every written path inside the project,
/// no Jinja of the name's in a drafted file, names that read back the same from the drafted YAML, SQL and
/// Jinja, no raw control character in a text, markdown or Slack output, no Slack markup from a name.
@Suite("hostile names, fuzzed")
struct HostileNameFuzzTests {
  static let seed: UInt64 = 0x5EC_F12
  static let inputs = 300

  struct Tally {
    var tried = 0
    var refused = 0
    var written = 0
    var rendering = Duration.zero
    var writing = Duration.zero
  }

  @Test func randomHostileNamesKeepEveryInvariant() throws {
    var names = HostileNames(seed: Self.seed)
    var tally = Tally()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let sandbox = scratch.file("sandbox")
    try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
    while tally.tried < Self.inputs {
      // One fixture in four may hold Jinja anywhere (the drafter must refuse it); the others hold every
      // other kind of hostile character, and must be drafted, written and read back.
      let jinja = tally.tried % 4 == 0
      let fixture = HostileFixture(
        table: names.name(jinja: jinja), key: names.name(jinja: jinja), extra: names.name(jinja: jinja),
        type: names.name(jinja: jinja), values: [names.name(jinja: jinja), names.name(jinja: jinja)])
      guard fixture.isCoherent else { continue }
      tally.tried += 1
      let label = "input \(tally.tried): \(fixture.hostile.map { String(reflecting: $0) })"
      try Self.check(fixture, in: sandbox, index: tally.tried, label: label, tally: &tally)
    }
    print(
      "hostile-name fuzz: \(tally.tried) inputs (seed \(Self.seed)), \(tally.refused) refused for Jinja, "
        + "\(tally.written) written and read back; renderers \(tally.rendering), write + read \(tally.writing)"
    )
    #expect(tally.tried == Self.inputs)
    #expect(tally.refused > 0 && tally.written > 0, "both paths are exercised")
  }

  static func check(
    _ fixture: HostileFixture, in sandbox: String, index: Int, label: String, tally: inout Tally
  ) throws {
    let clock = ContinuousClock()
    let start = clock.now
    renderers(fixture, label: label)
    tally.rendering += clock.now - start
    let draft: FixDraft
    do {
      draft = try FixDrafter(
        project: fixture.project, report: fixture.report, live: fixture.live, dialect: .postgres,
        files: HostileFixture.files, decisions: fixture.decisions
      ).draft()
    } catch {
      #expect(HostileNames.holdsJinja(fixture.hostile), "refused only for Jinja: \(error.message) \(label)")
      #expect(!error.message.unicodeScalars.contains(where: TextEscape.isControl), "one line: \(label)")
      tally.refused += 1
      return
    }
    #expect(!HostileNames.holdsJinja(fixture.hostile), "a Jinja delimiter was drafted: \(label)")
    #expect(draft.openQuestions.isEmpty, "\(label)")

    // Paths: relative, inside, the contract test's name readable ASCII.
    for file in draft.files {
      #expect(ProjectRelativePath.isContained(file.path), "\(file.path) \(label)")
    }
    let contract = draft.files.first { $0.path.hasPrefix("tests/") }
    let contractName = contract.map { String($0.path.dropFirst("tests/".count)) } ?? ""
    #expect(
      contractName.hasPrefix("assert_schema_contract_") && contractName.hasSuffix(".sql")
        && contractName.unicodeScalars.allSatisfy {
          ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
            || $0 == "-" || $0 == "."
        }, "\(contractName) \(label)")

    // Jinja and SQL: the source call keeps the source's name (the table is its identifier, in the yml); the
    // name's quoted identifiers and literals
    // read back as the names and values; no `{{` but driftwatch's own.
    let model = draft.files.first { $0.path == "models/stg_users.sql" }?.content ?? ""
    for sql in [model, contract?.content ?? ""] {
      let scan = try JinjaScanner.scan(sql)
      #expect(
        !scan.sources.isEmpty
          && scan.sources.allSatisfy { $0.sourceName == "app" && $0.tableName == "raw_users" },
        "\(scan.sources) \(label)")
      let rendered = DraftedJinja.renderingStringPieces(sql)
      let opened = rendered.components(separatedBy: "{{").count - 1
      let calls = rendered.components(separatedBy: "{{ source(").count - 1
      #expect(opened == calls, "only source() calls are left as Jinja: \(label)\n\(sql)")
      #expect(!rendered.contains("{%") && !rendered.contains("{#"), "\(label)")
    }
    let body = DraftedJinja.renderingStringPieces(model).split(
      separator: "\n", omittingEmptySubsequences: false
    )
    .filter { !$0.contains("{{ source(") }.joined(separator: "\n")
    let identifiers = DraftedJinja.quotedIdentifiers(body)
    for column in [fixture.key, fixture.extra] where !isBare(column) {
      #expect(identifiers.contains(column), "\(String(reflecting: column)) in \(identifiers) \(label)")
    }

    // Written into a copy of the project: nothing appears outside it.
    let writing = clock.now
    defer { tally.writing += clock.now - writing }
    let root = sandbox + "/p\(index)"
    try FileManager.default.createDirectory(atPath: root + "/models", withIntermediateDirectories: true)
    for (path, content) in HostileFixture.files {
      try content.write(toFile: root + "/" + path, atomically: true, encoding: .utf8)
    }
    try FileTransaction(root: root).commit(draft.files)
    let outside = try FileManager.default.contentsOfDirectory(atPath: sandbox)
    #expect(outside == ["p\(index)"], "written outside the project: \(outside) \(label)")
    let inside = try FileManager.default.subpathsOfDirectory(atPath: root).filter { path in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        && !isDirectory.boolValue
    }
    #expect(
      Set(inside) == Set(HostileFixture.files.keys).union(draft.files.map(\.path)), "\(inside) \(label)")

    // YAML: the project reader reads the drafted yml back as the same names, types and values.
    let project = try DbtProjectReader.read(projectDirectory: root)
    let sources = Array(project.sources.values)
    #expect(sources.map(\.name) == ["raw_users"], "\(label)")
    #expect(sources.map(\.identifier) == [fixture.table], "the identifier reads back as the table \(label)")
    let columns = sources.first?.columns ?? []
    #expect(
      Set(columns.map(\.name)) == [fixture.key, "plan", fixture.extra],
      "\(columns.map(\.name).map { String(reflecting: $0) }) \(label)")
    #expect(columns.first { $0.name == fixture.extra }?.dataType == fixture.type, "\(label)")
    let accepted = project.nodes.values.compactMap { $0.test?.acceptedValues }
    #expect(accepted == [fixture.values], "\(accepted) \(label)")
    try FileManager.default.removeItem(atPath: root)
    tally.written += 1
  }

  static func isBare(_ name: String) -> Bool {
    !name.isEmpty
      && name.unicodeScalars.enumerated().allSatisfy { index, scalar in
        ("a"..."z").contains(scalar) || scalar == "_" || (index > 0 && ("0"..."9").contains(scalar))
      }
  }

  /// Every renderer over a report full of the names: no raw control character (but newlines between lines,
  /// and the text renderer's own colours), no Slack markup, one GitHub command per line.
  static func renderers(_ fixture: HostileFixture, label: String) {
    let report = fixture.report
    let impact = ImpactReport(
      migration: "migrations/\(fixture.table).sql", dialect: .postgres, statementCount: 1, drift: report,
      lines: Dictionary(uniqueKeysWithValues: report.changes.map { ($0.id, 3) }))
    let draft = try? FixDrafter(
      project: fixture.project, report: report, live: fixture.live, dialect: .postgres,
      files: HostileFixture.files, decisions: fixture.decisions
    ).draft()
    let incident = Incident(
      id: "inc-1", project: "shop", warehouse: report.warehouse, fingerprint: "f", report: report, fix: draft,
      ddlEvents: [DDLEvent(event: "ddl_command_end", tag: "ALTER TABLE", identity: "raw.\(fixture.table)")],
      timeline: [TimelineEntry(.ddl, at: Timestamp(millisecondsSinceEpoch: 0), detail: fixture.extra)])
    let drift = DriftReportRenderer(color: false, toolVersion: "t")
    let impacts = ImpactReportRenderer(toolVersion: "t")
    let fixes = FixRenderer(toolVersion: "t")
    var outputs: [(String, String)] = [
      ("text", drift.text(report)), ("markdown", drift.markdown(report)),
      ("impact text", impacts.text(impact)), ("impact markdown", impacts.markdown(impact)),
      ("github", impacts.github(impact)), ("postmortem", PostmortemRenderer().render(incident)),
    ]
    if let draft {
      outputs += [
        ("fix text", fixes.render(draft, report: report, as: .text)),
        ("fix markdown", fixes.render(draft, report: report, as: .markdown)),
      ]
    }
    for (name, output) in outputs {
      let raw = output.unicodeScalars.filter { TextEscape.isInvisibleControl($0) && $0 != "\n" }
      #expect(raw.isEmpty, "\(name): \(raw.map { String($0.value, radix: 16) }) \(label)")
    }
    // Colour: the same text, with the renderer's styles only.
    var coloured = DriftReportRenderer(color: true, toolVersion: "t").text(report)
    for style in OutputEscape.styles { coloured = coloured.replacingOccurrences(of: style, with: "") }
    #expect(coloured == drift.text(report), "\(label)")
    // GitHub: one workflow command per change, then the summary line; nothing else starts a line.
    let github = impacts.github(impact).split(separator: "\n")
    #expect(github.count == report.changes.count + 1, "\(label)")
    #expect(
      github.dropLast().allSatisfy { $0.hasPrefix("::error ") || $0.hasPrefix("::notice ") }, "\(label)")
    // Slack: every text without raw controls, `<`, `>`, and with `&` only as an entity.
    let body = AlertRenderer(fixCommand: "driftwatch fix --project .").slack(incident)
    guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
      Issue.record("slack body is not JSON: \(label)")
      return
    }
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
      #expect(!text.unicodeScalars.contains { TextEscape.isInvisibleControl($0) && $0 != "\n" }, "\(label)")
      #expect(!text.contains("<") && !text.contains(">"), "\(text) \(label)")
      // Each `&` starts an entity (the last may be cut short where Slack's length limit cut the text).
      let ampersands = Array(text.components(separatedBy: "&").dropFirst())
      for (offset, rest) in ampersands.enumerated() {
        let entity = rest.hasPrefix("amp;") || rest.hasPrefix("lt;") || rest.hasPrefix("gt;")
        let cut =
          offset == ampersands.count - 1 && ["", "a", "am", "amp", "l", "lt", "g", "gt"].contains(rest)
        #expect(entity || cut, "\(text) \(label)")
      }
    }
  }
}
