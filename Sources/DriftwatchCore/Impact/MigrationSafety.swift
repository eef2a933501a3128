/// A statement `driftwatch impact` will not run: it cannot run inside a transaction, or it would act
/// outside the transaction that is rolled back afterwards.
public struct MigrationRefusal: Sendable, Hashable {
  /// 1-based line in the migration file of the offending keyword.
  public var line: Int
  /// What was found and what to do, lowercase, without the file name.
  public var reason: String

  public init(line: Int, reason: String) {
    self.line = line
    self.reason = reason
  }
}

/// Decides, before anything runs, whether every statement of a migration can run inside one transaction
/// that is then rolled back. Keyword detection on tokens (`SQLTokenizer`): comments, string literals and
/// quoted identifiers never trigger a refusal; the bodies of `DO` blocks are looked into.
///
/// A `BEGIN … COMMIT` (or `START TRANSACTION … END`) that wraps the whole file is not refused: it asks for
/// exactly the one transaction driftwatch provides. Strip it with `removingTransactionWrapper` before
/// calling `refusals`. `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` stay inside the transaction and are
/// allowed.
public enum MigrationSafety {
  /// `statements` without the `BEGIN … COMMIT` that wraps the whole file, also when session settings
  /// (`PRAGMA`, `SET`, `RESET`) come before or after it — SQLite's table-rebuild recipe is
  /// `PRAGMA foreign_keys=off; BEGIN; …; COMMIT; PRAGMA foreign_keys=on`. The settings stay, in place.
  public static func removingTransactionWrapper(_ statements: [SQLStatement], dialect: SQLDialect)
    -> [SQLStatement]
  {
    func isSetting(_ statement: SQLStatement) -> Bool {
      let first = SQLTokenizer.tokens(in: statement.text, dialect: dialect).first { $0.kind == .word }
      return ["PRAGMA", "SET", "RESET"].contains(first?.upper ?? "")
    }
    guard let start = statements.firstIndex(where: { !isSetting($0) }),
      let end = statements.lastIndex(where: { !isSetting($0) }), start < end
    else { return statements }
    let inner = SQLScript.removingTransactionWrapper(Array(statements[start...end]))
    guard inner.count == end - start - 1 else { return statements }
    return Array(statements[..<start]) + inner + Array(statements[(end + 1)...])
  }

  /// Every refusal, in file order. Empty when the migration can be tried.
  public static func refusals(in statements: [SQLStatement], dialect: SQLDialect) -> [MigrationRefusal] {
    statements.flatMap { statement in
      refusals(
        in: SQLTokenizer.tokens(in: statement.text, firstLine: statement.line, dialect: dialect),
        dialect: dialect, line: statement.line)
    }
  }

  static func refusals(in tokens: [SQLToken], dialect: SQLDialect, line: Int) -> [MigrationRefusal] {
    var found: [MigrationRefusal] = []
    for token in tokens where token.kind == .metaCommand {
      let command = token.text.split(separator: " ").first.map(String.init) ?? token.text
      found.append(
        MigrationRefusal(
          line: token.line,
          reason:
            "psql meta-command '\(command)' is not sql: driftwatch sends the statements to the server itself; "
            + "keep psql commands out of the migration file"))
    }
    let words = tokens.filter { $0.kind == .word }
    guard let first = words.first else { return found }
    let second = words.count > 1 ? words[1].upper : ""
    let keywords = words.prefix(8).map(\.upper)
    func refuse(_ reason: String, at token: SQLToken? = nil) {
      found.append(MigrationRefusal(line: (token ?? first).line, reason: reason))
    }
    let endsTransaction =
      "would end the transaction that driftwatch rolls back, so the rest of the migration would be "
      + "applied for real; remove it (the whole file already runs in one transaction)"

    switch first.upper {
    case "BEGIN",
      "START" where second == "TRANSACTION":
      refuse(
        "\(first.upper == "BEGIN" ? "BEGIN" : "START TRANSACTION") in the middle of the migration starts "
          + "a new transaction; remove it (a BEGIN … COMMIT around the whole file is fine)")
    case "COMMIT", "END", "ABORT":
      refuse("\(first.upper) \(endsTransaction)")
    case "ROLLBACK":
      let rest = keywords.dropFirst().filter { $0 != "WORK" && $0 != "TRANSACTION" }
      if rest.first != "TO" { refuse("ROLLBACK \(endsTransaction)") }
    case "PREPARE" where second == "TRANSACTION":
      refuse("PREPARE TRANSACTION \(endsTransaction)")
    case "VACUUM":
      refuse("VACUUM cannot run inside a transaction; leave maintenance out of the migration you check")
    case "CLUSTER" where words.count == 1 || (words.count == 2 && second == "VERBOSE"):
      refuse("CLUSTER without a table cannot run inside a transaction; name the table")
    case "CREATE", "DROP", "ALTER":
      refusalForDDL(words: words, keywords: keywords, dialect: dialect, refuse: refuse)
    case "REINDEX":
      if let concurrently = words.prefix(6).first(where: { $0.upper == "CONCURRENTLY" }) {
        refuse(
          "REINDEX … CONCURRENTLY cannot run inside a transaction; check the migration without it",
          at: concurrently)
      } else if keywords.contains("SYSTEM") || keywords.contains("DATABASE") {
        refuse("REINDEX DATABASE/SYSTEM cannot run inside a transaction; reindex tables one by one")
      }
    case "DISCARD" where second == "ALL":
      refuse("DISCARD ALL cannot run inside a transaction; remove it")
    case "COPY":
      refusalForCopy(tokens: tokens, refuse: refuse)
    case "DO":
      for body in tokens where body.kind == .dollarBody || body.kind == .string {
        let inner = SQLTokenizer.tokens(in: body.text, firstLine: body.bodyLine, dialect: dialect)
        if let control = inner.first(where: { $0.isWord("COMMIT") || $0.isWord("ROLLBACK") }) {
          refuse(
            "the DO block runs \(control.upper), which cannot run inside driftwatch's transaction; "
              + "move the transaction control out of the block",
            at: control)
        }
        found += escapes(in: inner)
      }
    case "ATTACH", "DETACH":
      refuse(
        "\(first.upper) opens or closes another database file, outside the copy driftwatch migrates; "
          + "keep it out of the migration you check")
    default:
      break
    }
    found += escapes(in: tokens)
    return found.sorted { $0.line < $1.line }
  }

  private static func refusalForDDL(
    words: [SQLToken], keywords: [String], dialect: SQLDialect, refuse: (String, SQLToken?) -> Void
  ) {
    let verb = keywords[0]
    let object = keywords.dropFirst().first { !["UNIQUE", "OR", "REPLACE"].contains($0) } ?? ""
    switch object {
    case "DATABASE" where verb != "ALTER":
      refuse(
        "\(verb) DATABASE cannot run inside a transaction and is not part of a schema migration; "
          + "keep it out of the file you check", nil)
    case "DATABASE" where keywords.contains("TABLESPACE"):
      refuse("ALTER DATABASE … SET TABLESPACE cannot run inside a transaction; keep it out of the file", nil)
    case "TABLESPACE" where verb != "ALTER":
      refuse("\(verb) TABLESPACE cannot run inside a transaction; keep it out of the file you check", nil)
    case "SYSTEM" where verb == "ALTER":
      refuse(
        "ALTER SYSTEM cannot run inside a transaction and changes the server's configuration; "
          + "keep it out of the migration", nil)
    case "SUBSCRIPTION":
      refuse(
        "\(verb) SUBSCRIPTION manages replication slots outside any transaction; keep it out of the "
          + "migration you check", nil)
    case "INDEX":
      // CREATE [UNIQUE] INDEX CONCURRENTLY …, DROP INDEX CONCURRENTLY …
      let head = words.prefix { !$0.isWord("ON") }.prefix(5)
      if let concurrently = head.first(where: { $0.upper == "CONCURRENTLY" }) {
        refuse(
          "\(verb) INDEX CONCURRENTLY cannot run inside a transaction; to check this migration, "
            + "write the statement without CONCURRENTLY (the resulting schema is the same)", concurrently)
      }
    case "TABLE" where verb == "ALTER":
      // ALTER TABLE … DETACH PARTITION … CONCURRENTLY
      if let detach = words.firstIndex(where: { $0.isWord("DETACH") }),
        let concurrently = words[detach...].first(where: { $0.isWord("CONCURRENTLY") })
      {
        refuse(
          "DETACH PARTITION … CONCURRENTLY cannot run inside a transaction; write it without CONCURRENTLY "
            + "to check the migration", concurrently)
      }
    default:
      break
    }
    _ = dialect
  }

  /// COPY … FROM PROGRAM / TO PROGRAM / TO 'file' / FROM STDIN / TO STDOUT.
  private static func refusalForCopy(tokens: [SQLToken], refuse: (String, SQLToken?) -> Void) {
    var depth = 0
    for (index, token) in tokens.enumerated() {
      if token.kind == .punctuation {
        if token.text == "(" { depth += 1 } else if token.text == ")" { depth -= 1 }
        continue
      }
      guard depth == 0, token.isWord("FROM") || token.isWord("TO") else { continue }
      let direction = token.upper
      guard index + 1 < tokens.count else { return }
      let target = tokens[index + 1]
      if target.isWord("PROGRAM") {
        refuse(
          "COPY … \(direction) PROGRAM runs a shell command on the database server, which no rollback undoes; "
            + "keep it out of the migration you check", target)
      } else if target.kind == .string, direction == "TO" {
        refuse(
          "COPY … TO '\(target.text)' writes a file on the database server, which no rollback undoes; "
            + "keep it out of the migration you check", target)
      } else if target.isWord("STDIN") || target.isWord("STDOUT") {
        refuse(
          "COPY … \(direction) \(target.upper) streams rows through psql, which driftwatch does not do; "
            + "load data with INSERT, or keep the data load out of the file you check", target)
      }
      return
    }
  }

  /// Calls that act outside the transaction wherever they appear: dblink runs SQL on another connection,
  /// lo_export and pg_file_write write server files.
  private static func escapes(in tokens: [SQLToken]) -> [MigrationRefusal] {
    var found: [MigrationRefusal] = []
    for (index, token) in tokens.enumerated() where token.kind == .word {
      let name = token.text.lowercased()
      guard index + 1 < tokens.count, tokens[index + 1].text == "(" else { continue }
      if name.hasPrefix("dblink") && name != "dblink_get_connections" {
        found.append(
          MigrationRefusal(
            line: token.line,
            reason:
              "\(name)() runs sql on another connection, outside driftwatch's transaction, so its effects "
              + "would persist; keep it out of the migration you check"))
      } else if name == "lo_export" || name == "pg_file_write" {
        found.append(
          MigrationRefusal(
            line: token.line,
            reason:
              "\(name)() writes a file on the database server, which no rollback undoes; keep it out of the "
              + "migration you check"))
      }
    }
    return found
  }
}
