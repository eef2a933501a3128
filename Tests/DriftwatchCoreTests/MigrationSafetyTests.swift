import DriftwatchCore
import Testing

/// A migration and what driftwatch impact must say about it before running anything.
struct RefusalCase: Sendable, CustomTestStringConvertible {
  var name: String
  var sql: String
  var dialect: SQLDialect = .postgres
  var line: Int
  var mentions: String

  var testDescription: String { name }
}

@Suite("migration safety")
struct MigrationSafetyTests {
  static let refused: [RefusalCase] = [
    RefusalCase(
      name: "BEGIN in the middle", sql: "CREATE TABLE a (x int);\nBEGIN;\nCREATE TABLE b (x int);", line: 2,
      mentions: "BEGIN"),
    RefusalCase(
      name: "START TRANSACTION", sql: "CREATE TABLE a (x int);\n\nSTART TRANSACTION;", line: 3,
      mentions: "START TRANSACTION"),
    RefusalCase(
      name: "COMMIT in the middle", sql: "CREATE TABLE a (x int);\nCOMMIT;\nDROP TABLE b;", line: 2,
      mentions: "COMMIT would end the transaction"),
    RefusalCase(name: "END", sql: "create table a (x int);\nend;\ndrop table b;", line: 2, mentions: "END"),
    RefusalCase(name: "ABORT", sql: "abort;", line: 1, mentions: "ABORT"),
    RefusalCase(
      name: "ROLLBACK", sql: "CREATE TABLE a (x int);\nROLLBACK;", line: 2, mentions: "ROLLBACK would end"),
    RefusalCase(name: "ROLLBACK PREPARED", sql: "ROLLBACK PREPARED 'x';", line: 1, mentions: "ROLLBACK"),
    RefusalCase(
      name: "PREPARE TRANSACTION", sql: "CREATE TABLE a (x int);\nPREPARE TRANSACTION 'x';", line: 2,
      mentions: "PREPARE TRANSACTION"),
    RefusalCase(
      name: "COMMIT PREPARED", sql: "COMMIT PREPARED 'x';", line: 1, mentions: "COMMIT"),
    RefusalCase(
      name: "CREATE INDEX CONCURRENTLY",
      sql: "ALTER TABLE t ADD c int;\nCREATE INDEX CONCURRENTLY i ON t (c);",
      line: 2, mentions: "CREATE INDEX CONCURRENTLY cannot run inside a transaction"),
    RefusalCase(
      name: "CREATE UNIQUE INDEX CONCURRENTLY over two lines",
      sql: "CREATE UNIQUE INDEX\n  CONCURRENTLY IF NOT EXISTS i ON t (c);", line: 2, mentions: "CONCURRENTLY"),
    RefusalCase(
      name: "DROP INDEX CONCURRENTLY", sql: "DROP INDEX CONCURRENTLY i;", line: 1,
      mentions: "DROP INDEX CONCURRENTLY"),
    RefusalCase(
      name: "REINDEX TABLE CONCURRENTLY", sql: "REINDEX TABLE CONCURRENTLY t;", line: 1,
      mentions: "REINDEX … CONCURRENTLY"),
    RefusalCase(
      name: "REINDEX DATABASE", sql: "REINDEX DATABASE app;", line: 1, mentions: "REINDEX DATABASE"),
    RefusalCase(
      name: "DETACH PARTITION CONCURRENTLY", sql: "ALTER TABLE t DETACH PARTITION t_2020 CONCURRENTLY;",
      line: 1, mentions: "DETACH PARTITION"),
    RefusalCase(name: "VACUUM", sql: "DELETE FROM t;\nVACUUM t;", line: 2, mentions: "VACUUM"),
    RefusalCase(
      name: "VACUUM on sqlite", sql: "VACUUM INTO '/tmp/x.db';", dialect: .sqlite, line: 1, mentions: "VACUUM"
    ),
    RefusalCase(name: "CLUSTER without a table", sql: "CLUSTER;", line: 1, mentions: "CLUSTER"),
    RefusalCase(
      name: "CREATE DATABASE", sql: "CREATE DATABASE scratch;", line: 1, mentions: "CREATE DATABASE"),
    RefusalCase(name: "DROP DATABASE", sql: "DROP DATABASE scratch;", line: 1, mentions: "DROP DATABASE"),
    RefusalCase(
      name: "ALTER DATABASE SET TABLESPACE", sql: "ALTER DATABASE app SET TABLESPACE fast;", line: 1,
      mentions: "SET TABLESPACE"),
    RefusalCase(
      name: "CREATE TABLESPACE", sql: "CREATE TABLESPACE fast LOCATION '/ssd';", line: 1,
      mentions: "CREATE TABLESPACE"),
    RefusalCase(
      name: "DROP TABLESPACE", sql: "DROP TABLESPACE fast;", line: 1, mentions: "DROP TABLESPACE"),
    RefusalCase(
      name: "ALTER SYSTEM", sql: "ALTER SYSTEM SET work_mem = '1GB';", line: 1, mentions: "ALTER SYSTEM"),
    RefusalCase(
      name: "CREATE SUBSCRIPTION",
      sql: "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p;", line: 1, mentions: "SUBSCRIPTION"),
    RefusalCase(name: "DISCARD ALL", sql: "DISCARD ALL;", line: 1, mentions: "DISCARD ALL"),
    RefusalCase(
      name: "COPY FROM PROGRAM", sql: "COPY t FROM PROGRAM 'curl http://x';", line: 1,
      mentions: "FROM PROGRAM runs a shell command"),
    RefusalCase(
      name: "COPY (query) TO PROGRAM",
      sql: "COPY (SELECT * FROM t WHERE a IN (SELECT 1)) TO PROGRAM 'gzip > /tmp/x';", line: 1,
      mentions: "TO PROGRAM"),
    RefusalCase(
      name: "COPY TO a server file", sql: "COPY t (a, b) TO '/tmp/out.csv' WITH (FORMAT csv);", line: 1,
      mentions: "writes a file on the database server"),
    RefusalCase(
      name: "COPY FROM STDIN (psql data)", sql: "COPY t FROM stdin;", line: 1, mentions: "streams rows"),
    RefusalCase(
      name: "psql meta-command", sql: "CREATE TABLE a (x int);\n\\connect other\nCREATE TABLE b (x int);",
      line: 2, mentions: "psql meta-command '\\connect'"),
    RefusalCase(
      name: "psql \\i include", sql: "\\i other.sql", line: 1, mentions: "psql meta-command '\\i'"),
    RefusalCase(
      name: "DO block that commits",
      sql: """
        CREATE TABLE a (x int);
        DO $$
        BEGIN
          INSERT INTO a VALUES (1);
          COMMIT;
        END
        $$;
        """, line: 5, mentions: "the DO block runs COMMIT"),
    RefusalCase(
      name: "DO block with a tagged body that rolls back",
      sql: "DO $body$ BEGIN\n  ROLLBACK;\nEND $body$ LANGUAGE plpgsql;", line: 2, mentions: "ROLLBACK"),
    RefusalCase(
      name: "dblink_exec", sql: "SELECT dblink_exec('dbname=app', 'DROP TABLE t');", line: 1,
      mentions: "dblink_exec() runs sql on another connection"),
    RefusalCase(
      name: "dblink inside a DO block",
      sql: "DO $$\nBEGIN\n  PERFORM dblink('dbname=app', 'select 1');\nEND $$;", line: 3, mentions: "dblink()"
    ),
    RefusalCase(
      name: "lo_export", sql: "SELECT lo_export(16409, '/tmp/x');", line: 1, mentions: "lo_export()"),
    RefusalCase(
      name: "sqlite BEGIN TRANSACTION in the middle",
      sql: "CREATE TABLE a (x);\nBEGIN TRANSACTION;\nCREATE TABLE b (x);", dialect: .sqlite, line: 2,
      mentions: "BEGIN"),
    RefusalCase(
      name: "COMMIT before trailing settings, without a BEGIN",
      sql: "CREATE TABLE a (x int);\nCOMMIT;\nSET search_path = public;", line: 2, mentions: "COMMIT"),
    RefusalCase(
      name: "sqlite END TRANSACTION", sql: "CREATE TABLE a (x);\nEND TRANSACTION;", dialect: .sqlite, line: 2,
      mentions: "END"),
    RefusalCase(
      name: "sqlite ATTACH", sql: "ATTACH DATABASE 'prod.db' AS prod;", dialect: .sqlite, line: 1,
      mentions: "ATTACH opens or closes another database file"),
    RefusalCase(name: "sqlite DETACH", sql: "DETACH prod;", dialect: .sqlite, line: 1, mentions: "DETACH"),
    // The escapes of the security review: quoted names, code in bodies and strings, the string setting.
    RefusalCase(
      name: "quoted lo_export", sql: "SELECT \"lo_export\"(1, '/tmp/x');", line: 1, mentions: "lo_export()"),
    RefusalCase(
      name: "schema-qualified quoted lo_export", sql: "SELECT \"pg_catalog\".\"lo_export\"(1, '/tmp/x');",
      line: 1, mentions: "lo_export() writes a file"),
    RefusalCase(
      name: "unicode-escaped name", sql: "SELECT U&\"lo\\005fexport\"(1, '/tmp/x');", line: 1,
      mentions: "lo_export()"),
    RefusalCase(
      name: "unicode-escaped name with UESCAPE", sql: "SELECT U&\"lo!005fexport\" UESCAPE '!' (1, '/tmp/x');",
      line: 1, mentions: "lo_export()"),
    RefusalCase(
      name: "DO block EXECUTEs COPY TO PROGRAM",
      sql: "DO $$\nBEGIN\n  EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch /tmp/x''';\nEND $$;", line: 3,
      mentions: "COPY … TO PROGRAM runs a shell command"),
    RefusalCase(
      name: "COPY TO PROGRAM split over concatenated strings",
      sql: "DO $$ BEGIN EXECUTE 'COPY t ' || 'TO PROGRAM ''touch /tmp/x'''; END $$;", line: 1,
      mentions: "TO PROGRAM inside a string or body"),
    RefusalCase(
      name: "COPY TO PROGRAM in a CREATE FUNCTION body",
      sql: "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n"
        + "  COPY (SELECT 1) TO PROGRAM 'touch /tmp/x';\nEND $body$;", line: 3, mentions: "TO PROGRAM"),
    RefusalCase(
      name: "lo_export in a BEGIN ATOMIC body",
      sql: "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT lo_export(1, '/tmp/x'); END;",
      line: 1, mentions: "lo_export()"),
    RefusalCase(
      name: "a COPY … FROM PROGRAM held in a string (query_to_xml runs strings)",
      sql: "SELECT query_to_xml('COPY t FROM PROGRAM ''id''', true, true, '');", line: 1,
      mentions: "COPY … FROM PROGRAM"),
    RefusalCase(
      name: "hex escape in an E string", sql: "DO E'BEGIN PERFORM lo\\x5fexport(1, ''/tmp/x''); END';",
      line: 1,
      mentions: "lo_export()"),
    RefusalCase(
      name: "SET standard_conforming_strings", sql: "SET standard_conforming_strings = off;", line: 1,
      mentions: "standard_conforming_strings changes how the server reads string literals"),
    RefusalCase(
      name: "set_config of backslash_quote", sql: "SELECT set_config('backslash_quote', 'on', false);",
      line: 1,
      mentions: "backslash_quote"),
    RefusalCase(
      name: "pg_terminate_backend", sql: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;", line: 1,
      mentions: "pg_terminate_backend() ends another session"),
    RefusalCase(
      name: "replication slot", sql: "SELECT pg_create_physical_replication_slot('s');", line: 1,
      mentions: "pg_create_physical_replication_slot() creates, moves or drops a replication slot"),
    RefusalCase(
      name: "quoted dblink_exec inside a function",
      sql: "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT \"dblink_exec\"('x', 'y') $$;",
      line: 1,
      mentions: "dblink_exec() (named inside a string or body, which can be run as sql) runs sql"),
    RefusalCase(name: "LOAD", sql: "LOAD 'auto_explain';", line: 1, mentions: "LOAD loads a shared library"),
    RefusalCase(
      name: "sqlite load_extension", sql: "SELECT load_extension('x');", dialect: .sqlite, line: 1,
      mentions: "load_extension()"),
  ]

  /// With the setting off, as the server then reads them, '…' strings honour backslash escapes.
  @Test func stringsAreReadAsTheServerReadsThem() {
    let statements = SQLScript.statements(in: "SELECT 'lo\\137export';")
    #expect(MigrationSafety.refusals(in: statements, dialect: .postgres).isEmpty)
    let off = MigrationSafety.refusals(in: statements, dialect: .postgres, standardConformingStrings: false)
    #expect(off.first?.reason.hasPrefix("lo_export() (named inside a string or body") == true, "\(off)")
    // The crafted string of the review: one string when read with the setting on; code when off.
    let crafted = "SELECT 'x\\'', lo_export(1, $$/tmp/x$$) --'"
    #expect(SQLTokenizer.tokens(in: crafted).map(\.kind) == [.word, .string])
    let escaping = SQLTokenizer.tokens(in: crafted, standardConformingStrings: false)
    #expect(escaping.map(\.text).prefix(4) == ["SELECT", "x'", ",", "lo_export"])
    // Read with the setting on, the name inside the string is still refused.
    #expect(!MigrationSafety.refusals(in: [SQLStatement(text: crafted, line: 1)], dialect: .postgres).isEmpty)
  }

  @Test(arguments: refused)
  func refuses(_ example: RefusalCase) {
    let statements = MigrationSafety.removingTransactionWrapper(
      SQLScript.statements(in: example.sql, dialect: example.dialect), dialect: example.dialect)
    let refusals = MigrationSafety.refusals(in: statements, dialect: example.dialect)
    #expect(refusals.count == 1, "\(refusals)")
    #expect(refusals.first?.line == example.line)
    #expect(refusals.first?.reason.contains(example.mentions) == true, "\(refusals.first?.reason ?? "")")
  }

  /// Keywords in comments, strings, quoted identifiers and function bodies are not statements.
  static let allowed: [RefusalCase] = [
    RefusalCase(
      name: "a whole-file BEGIN … COMMIT wrapper",
      sql: "BEGIN;\nALTER TABLE t RENAME TO u;\nCOMMIT;", line: 0, mentions: ""),
    RefusalCase(
      name: "sqlite's table rebuild: pragmas around BEGIN … COMMIT",
      sql:
        "PRAGMA foreign_keys=off;\nBEGIN TRANSACTION;\nCREATE TABLE b (x);\nCOMMIT;\nPRAGMA foreign_keys=on;",
      dialect: .sqlite, line: 0, mentions: ""),
    RefusalCase(
      name: "SET before a wrapped file",
      sql: "SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE t ADD c int;\nCOMMIT;", line: 0, mentions: ""),
    RefusalCase(
      name: "keywords in comments",
      sql:
        "-- COMMIT; VACUUM; CREATE INDEX CONCURRENTLY\n/* ROLLBACK; \\connect x */\nALTER TABLE t ADD c int;",
      line: 0, mentions: ""),
    RefusalCase(
      name: "keywords in strings and quoted identifiers",
      sql: "INSERT INTO log VALUES ('COMMIT; VACUUM', E'it\\'s \\\\ ok');\n"
        + "CREATE TABLE \"vacuum\" (\"commit\" int);",
      line: 0, mentions: ""),
    RefusalCase(
      name: "savepoints stay inside the transaction",
      sql: "SAVEPOINT s;\nALTER TABLE t ADD c int;\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;", line: 0,
      mentions: ""),
    RefusalCase(
      name: "a function whose body commits is created, not run",
      sql: "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;", line: 0, mentions: ""),
    RefusalCase(
      name: "plain CREATE INDEX and REFRESH … CONCURRENTLY",
      sql: "CREATE INDEX i ON t (concurrently_seen);\nREFRESH MATERIALIZED VIEW CONCURRENTLY mv;", line: 0,
      mentions: ""),
    RefusalCase(
      name: "COPY FROM a server file is read inside the transaction",
      sql: "COPY t FROM '/data/t.csv' WITH (FORMAT csv);", line: 0, mentions: ""),
    RefusalCase(
      name: "sqlite trigger with BEGIN … END",
      sql: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; END;", dialect: .sqlite, line: 0,
      mentions: ""),
    RefusalCase(
      name: "a DO block without transaction control",
      sql: "DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD c int'; END $$;", line: 0, mentions: ""),
  ]

  @Test(arguments: allowed)
  func allows(_ example: RefusalCase) {
    let statements = MigrationSafety.removingTransactionWrapper(
      SQLScript.statements(in: example.sql, dialect: example.dialect), dialect: example.dialect)
    #expect(MigrationSafety.refusals(in: statements, dialect: example.dialect).isEmpty)
  }

  @Test func everyRefusalOfAFileIsFoundInOrder() {
    let sql = "VACUUM;\nCREATE TABLE a (x int);\nCOMMIT;\nDROP DATABASE x;"
    let refusals = MigrationSafety.refusals(in: SQLScript.statements(in: sql), dialect: .postgres)
    #expect(refusals.map(\.line) == [1, 3, 4])
    let error = MigrationError.refused(file: "m.sql", refusals)
    #expect(error.message.hasPrefix("m.sql:1: refused: VACUUM cannot run inside a transaction"))
    #expect(error.message.hasSuffix("nothing was run (and 2 more refused statement(s))"))
  }
}

@Suite("sql tokenizer")
struct SQLTokenizerTests {
  @Test func wordsStringsAndLines() {
    let tokens = SQLTokenizer.tokens(
      in: "ALTER TABLE \"Raw\".users -- c\n  RENAME TO 'x''y' /* b\n */ $1 $tag$ a;\n b $tag$ E'\\n'",
      firstLine: 10)
    #expect(
      tokens.map(\.kind) == [
        .word, .word, .quotedIdentifier, .punctuation, .word, .word, .word, .string, .punctuation,
        .dollarBody,
        .string,
      ])
    #expect(tokens[2].text == "Raw")
    #expect(tokens[2].identifier == "Raw")
    #expect(tokens[4].identifier == "users")
    #expect(tokens[5].line == 11)
    #expect(tokens[7].text == "x'y")
    #expect(tokens[8].text == "$1")
    #expect(tokens[9].text == " a;\n b ")
    #expect(tokens[9].line == 12)
    #expect(tokens[10].text == "\n")
    #expect(tokens[10].line == 13)
  }

  @Test func sqliteQuotes() {
    let tokens = SQLTokenizer.tokens(in: "SELECT [a b], `c`, $x FROM t", dialect: .sqlite)
    #expect(tokens.filter { $0.kind == .quotedIdentifier }.map(\.text) == ["a b", "c"])
  }

  @Test func metaCommandRunsToTheEndOfTheLine() {
    let tokens = SQLTokenizer.tokens(in: "SELECT 1 \\gset\nSELECT 2")
    #expect(tokens.filter { $0.kind == .metaCommand }.map(\.text) == ["\\gset"])
    #expect(tokens.last?.line == 2)
  }
}

/// SplitMix64: the same inputs on every run.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Random token soups with a dangerous name written in any quoting the server still reads as that name
/// (every one must be refused), and random mutations of the escape migrations (none may crash or hang).
@Suite("migration safety fuzz")
struct MigrationSafetyFuzzTests {
  static let names = [
    "lo_export", "lo_import", "dblink_exec", "dblink", "dblink_connect", "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_file_write", "pg_reload_conf", "pg_rotate_logfile", "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot", "standard_conforming_strings", "backslash_quote",
  ]

  /// Complete tokens: no comment starters, no lone quotes, so the name is never hidden from the server.
  static let vocabulary = [
    "SELECT", "FROM", "t", "raw.t", "(", ")", ",", ";", "1", "42", "'text'", "'it''s'", "\"Ident\"",
    "$$ body $$",
    "$q$ x; y $q$", "E'a\\nb'", "=", "+", "*", "AS", "CREATE", "FUNCTION", "TABLE", "ALTER", "INSERT", "INTO",
    "VALUES", "DO", "BEGIN", "END", "EXECUTE", "PERFORM", "COMMIT", "SET", "TO", "ON", "U&'caf\\00e9'",
  ]

  static let escapeMigrations = [
    "SELECT \"lo_export\"(lo_from_bytea(0, 'x'::bytea), '/tmp/x');",
    "DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch /tmp/x'''; END $$;",
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $b$ BEGIN COPY (SELECT 1) TO PROGRAM 'id'; END $b$;\nSELECT f();",
    "SET standard_conforming_strings = off;\nSELECT 'x\\'', lo_export(lo_from_bytea(0, $$p$$::bytea), $$/tmp/x$$) --'\n;",
    "SELECT \"dblink_exec\"('dbname=app', 'CREATE TABLE public.t (x int)');",
    "SELECT pg_terminate_backend(12345);",
    "SELECT pg_create_physical_replication_slot('s');",
  ]

  /// `name` written the `style`-th way.
  static func written(_ name: String, style: Int) -> String {
    let unicode = name.replacingOccurrences(of: "_", with: "\\005F")
    switch style % 11 {
    case 0: return name
    case 1: return name.uppercased()
    case 2: return "\"\(name)\""
    case 3: return "\"pg_catalog\".\"\(name)\""
    case 4: return "U&\"\(unicode)\""
    case 5: return "U&\"\(unicode.replacingOccurrences(of: "\\", with: "!"))\" UESCAPE '!'"
    case 6: return "'SELECT \(name)(1)'"
    case 7: return "E'SELECT \(name.replacingOccurrences(of: "_", with: "\\x5f"))(1)'"
    case 8: return "$fn$ BEGIN EXECUTE 'SELECT \"\(name)\"(1)'; END $fn$"
    case 9: return "'EXECUTE ''SELECT U&\"\(unicode)\"(1)'''"
    default: return "$a$ EXECUTE $b$ SELECT \(name)(1) $b$ $a$"
    }
  }

  static func refusals(_ sql: String, _ dialect: SQLDialect = .postgres) -> [MigrationRefusal] {
    MigrationSafety.refusals(in: SQLScript.statements(in: sql, dialect: dialect), dialect: dialect)
  }

  @Test func fuzz() {
    var random = SeededGenerator(state: 0x5EC_1A7C)
    let clock = ContinuousClock()
    var inputs = 0
    var slowest = Duration.zero

    // 1. Token soups with a name in some quoting: always refused.
    for _ in 0..<330 {
      var soup = (0..<Int.random(in: 0...24, using: &random)).map { _ in
        Self.vocabulary.randomElement(using: &random) ?? ";"
      }
      let name = Self.names.randomElement(using: &random) ?? "lo_export"
      let style = Int.random(in: 0..<11, using: &random)
      soup.insert(Self.written(name, style: style), at: Int.random(in: 0...soup.count, using: &random))
      let sql = soup.joined(separator: Bool.random(using: &random) ? " " : "\n")
      let started = clock.now
      let found = Self.refusals(sql)
      slowest = max(slowest, clock.now - started)
      inputs += 1
      #expect(!found.isEmpty, "not refused: \(sql)")
    }

    // 2. Mutations of the escape migrations (bytes deleted, inserted, repeated): never a crash or a hang.
    let insertions = [
      "'", "\"", "$", "$x$", "\\", "-", "--", "/*", "*/", "/", ";", "(", ")", "E", "U&", "e'", "\n", "é",
      "\u{0}",
      "UESCAPE", "''", "\\'", "BEGIN ATOMIC", "END",
    ]
    for index in 0..<330 {
      var text = Array(Self.escapeMigrations[index % Self.escapeMigrations.count])
      for _ in 0..<Int.random(in: 1...6, using: &random) {
        let at = Int.random(in: 0...text.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0:
          let end = min(text.count, at + Int.random(in: 1...8, using: &random))
          text.removeSubrange(at..<end)
        case 1:
          text.insert(contentsOf: insertions.randomElement(using: &random) ?? "'", at: at)
        default:
          let end = min(text.count, at + Int.random(in: 1...12, using: &random))
          text.insert(contentsOf: Array(text[at..<end]), at: at)
        }
      }
      let sql = String(text)
      for dialect in [SQLDialect.postgres, .sqlite] {
        let started = clock.now
        let first = Self.refusals(sql, dialect)
        slowest = max(slowest, clock.now - started)
        #expect(first == Self.refusals(sql, dialect), "not deterministic: \(sql)")
        _ = MigrationSafety.refusals(
          in: SQLScript.statements(in: sql), dialect: .postgres, standardConformingStrings: false)
        inputs += 1
      }
    }
    #expect(inputs == 330 + 660)
    #expect(slowest < .seconds(1), "the slowest input took \(slowest)")
  }
}
