import DriftwatchCore
import DriftwatchSQLite
import Foundation
import Testing

@testable import DriftwatchCommands

/// `driftwatch fix` as a user runs it, on the SQLite warehouse: output pinned, bad input refused, writes all
/// or nothing, questions asked on a terminal.
@Suite("fix command")
struct FixCommandTests {
  /// A writable copy of examples/acme and the migrated SQLite warehouse.
  static func withAcmeCopy(_ body: (String, String) async throws -> Void) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let project = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: project)
    try await body(project, warehouse)
  }

  static let answers = """
    version: 1
    decisions:
      c073c62f3ab:
        template: "{street}, {city}, {state_code} {postal_code}"
      c27aa5b39e8:
        accept: true
      c94df8081eb:
        mapping: {premium: gold, standard: silver, basic: bronze}
    """

  @Test(arguments: [("text", "txt"), ("json", "json"), ("markdown", "md")])
  func draftPinned(format: String, ext: String) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: true)
    let result = try await CLI.run([
      "fix", "--project", CLI.acme, "--warehouse", "sqlite:\(warehouse)", "--format", format,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    try golden.check(result.stdout, named: "acme-fix.\(ext)")
    if format == "text" {
      #expect(result.stdout.contains("3 open questions"))
      #expect(result.stdout.contains("decisions template"))
    }
  }

  @Test func decisionsTemplateRoundTrips() async throws {
    try await Self.withAcmeCopy { project, warehouse in
      // The printed template, with the blanks filled in, is a valid decisions file.
      let draft = try await CLI.run(["fix", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      let template = String(draft.stdout[draft.stdout.range(of: "version: 1\n")!.lowerBound...])
      let filled =
        template
        .replacingOccurrences(of: "\"premium\":  #", with: "\"premium\": gold  #")
        .replacingOccurrences(of: "\"standard\":  #", with: "\"standard\": silver  #")
        .replacingOccurrences(of: "\"basic\":  #", with: "\"basic\": bronze  #")
        // No data: the separators are unknown (?), and the human writes them.
        .replacingOccurrences(
          of: "{street}?{city}?{state_code}?{postal_code}",
          with: "{street}, {city}, {state_code} {postal_code}")
      let path = project + "/../decisions.yml"
      try filled.write(toFile: path, atomically: true, encoding: .utf8)
      let write = try await CLI.run([
        "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--decisions", path, "--write",
      ])
      #expect(write.status == 0, "\(write.stderr)")
      let sql = try CLI.read(project + "/models/staging/stg_customers.sql")
      #expect(sql.contains("when 'gold' then 'premium'"))
      #expect(sql.contains("street || ', ' || city || ', ' || state_code || ' ' || postal_code as address"))
      // After the fix the project matches the warehouse again.
      let check = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
      #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
  }

  @Test func withASnapshotOnlyMeaningIsAsked() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    let project = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: project)
    let snapshot = try await CLI.run(["snapshot", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
    #expect(snapshot.status == 0, "\(snapshot.stderr)")
    let database = try await SQLiteDatabase.open(at: warehouse)
    try await database.execute(script: try CLI.read(Acme.sqliteMigration))
    try await database.close()

    let draft = try await CLI.run([
      "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--format", "json",
    ])
    #expect(draft.status == 0, "\(draft.stderr)")
    let questions = try CLI.json(draft.stdout)["questions"] as? [[String: Any]] ?? []
    let open = questions.filter { $0["status"] as? String == "open" }
    #expect(
      open.map { $0["kind"] as? String } == ["value_mapping"], "only what values mean is asked: \(questions)")
    #expect(open.first?["proposal"] as? String == "standard → silver, basic → bronze, premium → gold")
    #expect(
      questions.contains { $0["kind"] as? String == "split_template" && $0["status"] as? String == "proven" })

    let id = open.first?["change_id"] as? String ?? ""
    let decisions = scratch.file("decisions.yml")
    try "version: 1\ndecisions:\n  \(id):\n    accept: true\n".write(
      toFile: decisions, atomically: true, encoding: .utf8)
    let write = try await CLI.run([
      "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--decisions", decisions, "--write",
    ])
    #expect(write.status == 0, "\(write.stderr)")
    let sql = try CLI.read(project + "/models/staging/stg_customers.sql")
    #expect(sql.contains("when 'gold' then 'premium'"))
    let check = try await CLI.run(["check", "--project", project, "--warehouse", "sqlite:\(warehouse)"])
    #expect(check.status == 0, "\(check.stdout)")
  }

  @Test func badDecisionsAreInputErrors() async throws {
    try await Self.withAcmeCopy { project, warehouse in
      let before = try CLI.read(project + "/models/staging/stg_customers.sql")
      let cases: [(String?, String)] = [
        (nil, "decisions file not found"),
        ("version: 1\ndecisions:\n  c94df8081eb: [oops\n", "invalid yaml"),
        ("version: 2\n", "unsupported decisions version"),
        ("version: 1\ndecisions:\n  c0000000000:\n    accept: true\n", "not a change of this check"),
        ("version: 1\ndecisions:\n  nope:\n    accept: true\n", "is not a change id"),
        ("version: 1\ndecisions:\n  c94df8081eb:\n    colour: blue\n", "unknown key 'colour'"),
        ("version: 1\ndecisions:\n  c073c62f3ab:\n    template: \"{street} {zip}\"\n", "names column 'zip'"),
        ("version: 1\ndecisions:\n  c94df8081eb:\n    accept: maybe\n", "must be true or false"),
      ]
      for (index, (content, message)) in cases.enumerated() {
        let path = project + "/../decisions-\(index).yml"
        if let content { try content.write(toFile: path, atomically: true, encoding: .utf8) }
        let result = try await CLI.run([
          "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--decisions", path, "--write",
        ])
        #expect(result.status == 2, "case \(index)")
        #expect(result.stderr.contains(message), "case \(index): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
      }
      #expect(try CLI.read(project + "/models/staging/stg_customers.sql") == before)
      let usage = try await CLI.run([
        "fix", "--project", project, "--warehouse", "sqlite:\(warehouse)", "--threshold", "2",
      ])
      #expect(usage.status == 2)
    }
  }

  @Test func asksOnATerminal() async throws {
    try await Self.withAcmeCopy { project, warehouse in
      // script(1) gives driftwatch a terminal; the answers come in on it, in the order of the questions.
      let answers = "{street}, {city}, {state_code} {postal_code}\ny\ngold\nsilver\nbronze\n"
      let executable = try CLI.executable.path
      let command =
        "\(executable) fix --project '\(project)' --warehouse 'sqlite:\(warehouse)' --write --format json"
      let result = try await CLI.run(
        executable: URL(fileURLWithPath: "/bin/sh"),
        ["-c", "printf '%s' \"$ANSWERS\" | script -qec \"$COMMAND\" /dev/null"],
        environment: ["ANSWERS": answers, "COMMAND": command])
      #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stdout.contains("premium →"))
      let sql = try CLI.read(project + "/models/staging/stg_customers.sql")
      #expect(sql.contains("when 'silver' then 'standard'"))
      #expect(sql.contains("state_code || ' ' || postal_code"))
    }
  }

  @Test func writesAllOrNothingAndRefusesChangedFiles() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try "a\n".write(toFile: scratch.file("a.sql"), atomically: true, encoding: .utf8)
    try "b\n".write(toFile: scratch.file("b.sql"), atomically: true, encoding: .utf8)
    let transaction = FileTransaction(root: scratch.path)
    // b.sql changed since it was read: nothing is written, a.sql included.
    #expect(throws: FileTransaction.Conflict.self) {
      try transaction.commit([
        DraftedFile(path: "a.sql", original: "a\n", content: "A\n", reason: ""),
        DraftedFile(path: "b.sql", original: "old b\n", content: "B\n", reason: ""),
      ])
    }
    #expect(try CLI.read(scratch.file("a.sql")) == "a\n")
    // A target that cannot be written (a directory stands where the file goes): everything rolled back.
    try FileManager.default.createDirectory(
      atPath: scratch.file("dir.sql"), withIntermediateDirectories: true)
    try "x\n".write(toFile: scratch.file("dir.sql/keep"), atomically: true, encoding: .utf8)
    #expect(throws: FileTransaction.Conflict.self) {
      try transaction.commit([
        DraftedFile(path: "a.sql", original: "a\n", content: "A\n", reason: ""),
        DraftedFile(path: "new/c.sql", original: nil, content: "C\n", reason: ""),
        DraftedFile(path: "dir.sql", original: nil, content: "D\n", reason: ""),
      ])
    }
    #expect(try CLI.read(scratch.file("a.sql")) == "a\n")
    #expect(!FileManager.default.fileExists(atPath: scratch.file("new")))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter {
      $0.hasPrefix(".driftwatch-")
    }
    #expect(leftovers.isEmpty)
    // The happy path keeps file modes.
    try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: scratch.file("b.sql"))
    try transaction.commit([
      DraftedFile(path: "a.sql", original: "a\n", content: "A\n", reason: ""),
      DraftedFile(path: "b.sql", original: "b\n", content: "B\n", reason: ""),
      DraftedFile(path: "tests/c.sql", original: nil, content: "C\n", reason: ""),
    ])
    #expect(try CLI.read(scratch.file("a.sql")) == "A\n")
    #expect(try CLI.read(scratch.file("tests/c.sql")) == "C\n")
    let mode =
      try FileManager.default.attributesOfItem(atPath: scratch.file("b.sql"))[.posixPermissions] as? Int
    #expect(mode == 0o640)
  }
}
