import DriftwatchCore
import Testing

@Suite("SQLScript.statements")
struct SQLScriptTests {
  private func texts(_ sql: String, _ dialect: SQLDialect = .postgres) -> [String] {
    SQLScript.statements(in: sql, dialect: dialect).map(\.text)
  }

  @Test func splitsOnSemicolonsAndKeepsStartLines() {
    let sql = """
      CREATE TABLE a (id int);

      -- a comment line
      INSERT INTO a VALUES (1);
      INSERT INTO a
        VALUES (2)
      """
    let statements = SQLScript.statements(in: sql)
    #expect(
      statements == [
        SQLStatement(text: "CREATE TABLE a (id int)", line: 1),
        SQLStatement(text: "INSERT INTO a VALUES (1)", line: 4),
        SQLStatement(text: "INSERT INTO a\n  VALUES (2)", line: 5),
      ])
  }

  @Test func dropsEmptyStatements() {
    #expect(texts(";;  ;\n-- only a comment\n/* and another */;\n") == [])
    #expect(texts("") == [])
    #expect(texts("SELECT 1;;;SELECT 2;") == ["SELECT 1", "SELECT 2"])
  }

  @Test func singleQuotedStringsWithDoubledQuotes() {
    let statements = SQLScript.statements(in: "INSERT INTO t VALUES ('a;b', 'it''s; fine');\nSELECT 2;")
    #expect(statements.map(\.text) == ["INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 2"])
    #expect(statements.map(\.line) == [1, 2])
  }

  @Test func multiLineStringsCountLines() {
    let statements = SQLScript.statements(in: "INSERT INTO t VALUES ('line1;\nline2;\nline3');\nSELECT 1;")
    #expect(statements.count == 2)
    #expect(statements.last == SQLStatement(text: "SELECT 1", line: 4))
  }

  @Test func escapeStringsHonourBackslashes() {
    #expect(texts(#"SELECT E'it\'s; ok'; SELECT 'x\';"#) == [#"SELECT E'it\'s; ok'"#, #"SELECT 'x\'"#])
    // A word ending in e before a quote is not an escape-string prefix.
    #expect(texts(#"SELECT some'a\'; SELECT 2;"#) == [#"SELECT some'a\'"#, "SELECT 2"])
  }

  @Test func doubleQuotedIdentifiers() {
    #expect(
      texts(#"CREATE TABLE "we;ird ""name""" (x int); SELECT 1"#)
        == [#"CREATE TABLE "we;ird ""name""" (x int)"#, "SELECT 1"])
  }

  @Test func lineCommentsHideSemicolons() {
    let statements = SQLScript.statements(in: "SELECT 1 -- not; the end\n, 2;\n-- trailing; comment\n")
    #expect(statements == [SQLStatement(text: "SELECT 1 -- not; the end\n, 2", line: 1)])
  }

  @Test func blockCommentsNestInPostgres() {
    let sql = "/* outer /* inner; */ still; comment */ SELECT 1;\nSELECT /* ; */ 2;"
    let statements = SQLScript.statements(in: sql)
    #expect(statements.map(\.text) == ["SELECT 1", "SELECT /* ; */ 2"])
    #expect(statements.map(\.line) == [1, 2])
  }

  @Test func blockCommentsDoNotNestInSQLite() {
    let sql = "/* outer /* inner */ SELECT 1; SELECT 2;"
    #expect(texts(sql, .sqlite) == ["SELECT 1", "SELECT 2"])
  }

  @Test func multiLineCommentsCountLines() {
    let statements = SQLScript.statements(in: "/* one\ntwo\nthree */\n\nSELECT 1;")
    #expect(statements == [SQLStatement(text: "SELECT 1", line: 5)])
  }

  @Test func dollarQuotedBodies() {
    let sql = """
      CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN
        RETURN 1;
      END;
      $$;
      CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;$$;b' $body$;
      SELECT $1, a$b$c FROM t;
      SELECT 3;
      """
    let statements = SQLScript.statements(in: sql)
    #expect(statements.count == 4)
    #expect(statements.map(\.line) == [1, 6, 7, 8])
    #expect(statements[0].text.hasSuffix("END;\n$$"))
    #expect(
      statements[1].text == "CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;$$;b' $body$")
    #expect(statements[2].text == "SELECT $1, a$b$c FROM t")
  }

  @Test func dollarSignsArePlainInSQLite() {
    #expect(texts("SELECT $a; SELECT 2;", .sqlite) == ["SELECT $a", "SELECT 2"])
  }

  @Test func sqliteTriggerBodies() {
    let sql = """
      CREATE TRIGGER audit AFTER UPDATE ON t
      BEGIN
        INSERT INTO log VALUES (CASE WHEN new.x > 1 THEN 'big' ELSE 'small' END);
        UPDATE t SET seen = 1;
      END;
      SELECT 1;
      """
    let statements = SQLScript.statements(in: sql, dialect: .sqlite)
    #expect(statements.count == 2)
    #expect(statements[0].text.hasPrefix("CREATE TRIGGER audit"))
    #expect(statements[0].text.hasSuffix("END"))
    #expect(statements[1] == SQLStatement(text: "SELECT 1", line: 6))
  }

  @Test func beginAtomicBodies() {
    let sql =
      "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;\nSELECT 1;"
    #expect(
      texts(sql) == [
        "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", "SELECT 1",
      ])
  }

  @Test func transactionStatementsOutsideBlocksStillSplit() {
    #expect(texts("BEGIN; CREATE TABLE t (x int); COMMIT;") == ["BEGIN", "CREATE TABLE t (x int)", "COMMIT"])
  }

  @Test func unterminatedStringRunsToEnd() {
    let statements = SQLScript.statements(in: "SELECT 1;\nSELECT 'oops; SELECT 2;")
    #expect(
      statements == [
        SQLStatement(text: "SELECT 1", line: 1), SQLStatement(text: "SELECT 'oops; SELECT 2;", line: 2),
      ])
  }

  @Test func unicodeIsKept() {
    #expect(
      texts("INSERT INTO t VALUES ('café; ünïcode'); SELECT 'ok';") == [
        "INSERT INTO t VALUES ('café; ünïcode')", "SELECT 'ok'",
      ])
  }

  @Test func crlfLineEndings() {
    let statements = SQLScript.statements(in: "SELECT 1;\r\n\r\nSELECT 2;\r\n")
    #expect(statements == [SQLStatement(text: "SELECT 1", line: 1), SQLStatement(text: "SELECT 2", line: 3)])
  }

  @Test func transactionWrapperRemoval() {
    let wrapped = SQLScript.statements(
      in: "BEGIN;\nCREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\nCOMMIT;")
    #expect(
      SQLScript.removingTransactionWrapper(wrapped).map(\.text) == [
        "CREATE TABLE t (x int)", "INSERT INTO t VALUES (1)",
      ])
    let startCommit = SQLScript.statements(in: "START TRANSACTION; SELECT 1; END TRANSACTION;")
    #expect(SQLScript.removingTransactionWrapper(startCommit).map(\.text) == ["SELECT 1"])
    let unwrapped = SQLScript.statements(in: "BEGIN; SELECT 1;")
    #expect(SQLScript.removingTransactionWrapper(unwrapped) == unwrapped)
    let rollback = SQLScript.statements(in: "BEGIN; SELECT 1; ROLLBACK;")
    #expect(SQLScript.removingTransactionWrapper(rollback) == rollback)
  }
}
