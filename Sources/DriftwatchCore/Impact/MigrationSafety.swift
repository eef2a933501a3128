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

/// Refusals found once the server was asked how it reads strings (`standard_conforming_strings` off): the
/// adapter throws it before running anything; the command names the file.
public struct MigrationRefusals: Error, Sendable, Hashable {
  public var refusals: [MigrationRefusal]
  public init(_ refusals: [MigrationRefusal]) { self.refusals = refusals }
}

/// Decides, before anything runs, whether every statement of a migration can run inside one transaction
/// that is then rolled back. Keyword detection on tokens (`SQLTokenizer`): comments never trigger a
/// refusal, and transaction keywords in string literals and quoted identifiers do not either.
///
/// This is the first, friendlier layer, not the guarantee: a lexical check cannot see SQL that is built at
/// run time. The guarantee is structural (PostgreSQL: `PostgresRoleCheck` refuses a role that could act
/// outside the transaction; SQLite: the copy, and an authorizer that denies `ATTACH`). What it refuses:
/// - statements that cannot run in a transaction or end it (`COMMIT`, `VACUUM`, `CREATE INDEX CONCURRENTLY`…);
/// - every token — word, quoted identifier (`"lo_export"`, `U&"lo\005fexport"`), string (`'…'`, `E'…'`
///   decoded), dollar body (`$tag$…$tag$`), at any nesting — that contains the name of a function acting
///   outside the transaction (`lo_export`, `dblink…`, `pg_terminate_backend`, replication slots, …) or of a
///   setting that changes how strings are read (`standard_conforming_strings`, `backslash_quote`,
///   `escape_string_warning`);
/// - `COPY … PROGRAM` / `COPY … TO 'file'` at the top level, and `TO PROGRAM` / `FROM PROGRAM` anywhere in
///   code held by strings and bodies (`DO`, `CREATE FUNCTION`, `EXECUTE '…'`, `query_to_xml('…')`).
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
  /// `standardConformingStrings`: as the server reads `'…'` strings (false: backslash escapes, as in `E'…'`).
  public static func refusals(
    in statements: [SQLStatement], dialect: SQLDialect, standardConformingStrings: Bool = true
  ) -> [MigrationRefusal] {
    statements.flatMap { statement in
      refusals(
        in: SQLTokenizer.tokens(
          in: statement.text, firstLine: statement.line, dialect: dialect,
          standardConformingStrings: standardConformingStrings),
        dialect: dialect, standardConformingStrings: standardConformingStrings)
    }
  }

  static func refusals(in tokens: [SQLToken], dialect: SQLDialect, standardConformingStrings: Bool)
    -> [MigrationRefusal]
  {
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
    found += escapes(
      in: tokens, dialect: dialect, standardConformingStrings: standardConformingStrings, depth: 0)
    let words = tokens.filter { $0.kind == .word }
    guard let first = words.first else { return found.sorted { $0.line < $1.line } }
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
        let inner = SQLTokenizer.tokens(
          in: body.text, firstLine: body.bodyLine, dialect: dialect,
          standardConformingStrings: standardConformingStrings)
        if let control = inner.first(where: { $0.isWord("COMMIT") || $0.isWord("ROLLBACK") }) {
          refuse(
            "the DO block runs \(control.upper), which cannot run inside driftwatch's transaction; "
              + "move the transaction control out of the block",
            at: control)
        }
      }
    case "LOAD" where dialect == .postgres:
      refuse(
        "LOAD loads a shared library into the database server's process, which no rollback undoes; keep it "
          + "out of the migration you check")
    case "ATTACH", "DETACH":
      refuse(
        "\(first.upper) opens or closes another database file, outside the copy driftwatch migrates; "
          + "keep it out of the migration you check")
    default:
      break
    }
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

  /// A name that acts outside the transaction (or changes how the server reads strings) and why.
  struct Escape: Sendable {
    var name: String
    var isSetting = false
    var why: String
  }

  static let writesFiles = "writes a file on the database server, which no rollback undoes"
  static let readsFiles = "reads the database server's files, which the report would then show"
  static let actsOnServer = "acts on the database server itself, which no rollback undoes"

  /// PostgreSQL: matched in lowercase, as a substring of any token.
  static let postgresEscapes: [Escape] = [
    Escape(
      name: "dblink",
      why: "runs sql on another connection, outside driftwatch's transaction, so its effects would persist"),
    Escape(name: "lo_export", why: writesFiles),
    Escape(name: "pg_file_write", why: writesFiles),
    Escape(name: "pg_file_rename", why: writesFiles),
    Escape(name: "pg_file_unlink", why: writesFiles),
    Escape(name: "pg_file_sync", why: writesFiles),
    Escape(name: "lo_import", why: readsFiles),
    Escape(name: "pg_read_file", why: readsFiles),
    Escape(name: "pg_read_binary_file", why: readsFiles),
    Escape(name: "pg_ls_dir", why: readsFiles),
    Escape(name: "pg_terminate_backend", why: "ends another session, which no rollback undoes"),
    Escape(name: "pg_cancel_backend", why: "cancels another session's query, which no rollback undoes"),
    Escape(name: "pg_reload_conf", why: actsOnServer),
    Escape(name: "pg_rotate_logfile", why: actsOnServer),
    Escape(name: "pg_promote", why: actsOnServer),
    Escape(name: "pg_switch_wal", why: actsOnServer),
    Escape(name: "pg_create_restore_point", why: actsOnServer),
    Escape(name: "pg_backup_start", why: actsOnServer),
    Escape(name: "pg_start_backup", why: actsOnServer),
    Escape(name: "pg_log_backend_memory_contexts", why: actsOnServer),
    Escape(
      name: "replication_slot",
      why: "creates, moves or drops a replication slot, which persists whatever the transaction does"),
    Escape(
      name: "replication_origin",
      why: "creates or drops a replication origin, which persists whatever the transaction does"),
    Escape(name: "standard_conforming_strings", isSetting: true, why: changesLexing),
    Escape(name: "backslash_quote", isSetting: true, why: changesLexing),
    Escape(name: "escape_string_warning", isSetting: true, why: changesLexing),
  ]

  static let changesLexing =
    "changes how the server reads string literals, so driftwatch's check would read the migration "
    + "differently from the server (the server's own setting is used)"

  /// SQLite: functions that reach files outside the copy, when a build has them.
  static let sqliteEscapes: [Escape] = [
    Escape(name: "load_extension", why: "loads native code into the process, outside the copy"),
    Escape(name: "fts3_tokenizer", why: "can load native code into the process, outside the copy"),
    Escape(name: "writefile", why: "writes a file outside the copy"),
    Escape(name: "readfile", why: "reads a file outside the copy"),
  ]

  /// The first escape whose name `text` contains (lowercased), with the name as written where a word or
  /// quoted name starts with it (`dblink_exec`).
  static func escape(containedIn text: String, dialect: SQLDialect) -> (name: String, escape: Escape)? {
    let lower = text.lowercased()
    for escape in dialect == .sqlite ? sqliteEscapes : postgresEscapes where lower.contains(escape.name) {
      // A family (`dblink_exec`, `pg_create_logical_replication_slot`) is named as written.
      let isFamily = escape.name == "dblink" || escape.name.hasPrefix("replication_")
      let isIdentifier = lower.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
      return (isFamily && isIdentifier ? lower : escape.name, escape)
    }
    return nil
  }

  static func reason(_ found: (name: String, escape: Escape), inside: Bool) -> String {
    let name = found.escape.isSetting ? found.name : "\(found.name)()"
    let location = inside ? " (named inside a string or body, which can be run as sql)" : ""
    return "\(name)\(location) \(found.escape.why); keep it out of the migration you check"
  }

  /// How deep strings inside bodies inside strings are looked into.
  static let maximumNesting = 8

  /// Names that act outside the transaction, in any token; strings and bodies are read as the code they
  /// may hold, to `maximumNesting` levels, and their content searched as text beyond that.
  private static func escapes(
    in tokens: [SQLToken], dialect: SQLDialect, standardConformingStrings: Bool, depth: Int
  ) -> [MigrationRefusal] {
    var found: [MigrationRefusal] = []
    for token in tokens {
      switch token.kind {
      case .word, .quotedIdentifier:
        if let match = escape(containedIn: token.text, dialect: dialect) {
          found.append(MigrationRefusal(line: token.line, reason: reason(match, inside: depth > 0)))
        }
      case .string, .dollarBody:
        var inner: [MigrationRefusal] = []
        if depth < maximumNesting {
          let code = SQLTokenizer.tokens(
            in: token.text, firstLine: token.bodyLine, dialect: dialect,
            standardConformingStrings: standardConformingStrings, metaCommands: false)
          inner += escapes(
            in: code, dialect: dialect, standardConformingStrings: standardConformingStrings, depth: depth + 1
          )
          if dialect == .postgres { inner += programs(in: code) }
        }
        if inner.isEmpty, let match = escape(containedIn: token.text, dialect: dialect) {
          inner.append(MigrationRefusal(line: token.line, reason: reason(match, inside: true)))
        }
        found += inner
      default:
        break
      }
    }
    return found
  }

  /// In code held by a string or body: `COPY … TO 'file'` and `TO PROGRAM` / `FROM PROGRAM` anywhere
  /// (`EXECUTE 'COPY t ' || 'TO PROGRAM …'` splits the COPY from its target).
  private static func programs(in code: [SQLToken]) -> [MigrationRefusal] {
    var found: [MigrationRefusal] = []
    let refuse: (String, SQLToken?) -> Void = { reason, token in
      found.append(MigrationRefusal(line: token?.line ?? code.first?.line ?? 1, reason: reason))
    }
    var inCopy = false
    for (index, token) in code.enumerated() {
      if token.text == ";" {
        inCopy = false
      } else if token.isWord("COPY") {
        inCopy = true
        let statement = [token] + code[(index + 1)...].prefix { $0.text != ";" }
        refusalForCopy(tokens: statement, refuse: refuse)
      } else if !inCopy, token.isWord("PROGRAM"), index > 0,
        code[index - 1].isWord("TO") || code[index - 1].isWord("FROM")
      {
        refuse(
          "\(code[index - 1].upper) PROGRAM inside a string or body runs a shell command on the database "
            + "server when that code runs, which no rollback undoes; keep it out of the migration you check",
          token)
      }
    }
    return found
  }
}
