import DriftwatchCore
import DriftwatchReports
import Testing

@Suite("impact analysis")
struct ImpactAnalysisTests {
  static let customers = DriftFixtures.table(
    "raw_customers", DriftFixtures.customerColumns, keys: ["customer_id"])

  static let migration = """
    -- users become accounts
    CREATE TABLE raw_accounts (
        account_id integer primary key,
        name text, email text, street text, city text, state_code text, postal_code text,
        account_tier text, country_code text, created_at timestamp
    );

    INSERT INTO raw_accounts SELECT customer_id, name FROM raw_customers;

    DROP TABLE raw_customers;
    """

  @Test func changesAreAttributedToTheStatementsThatMadeThem() {
    let project = DriftFixtures.customersProject()
    let statements = SQLScript.statements(in: Self.migration)
    let trial = MigrationTrial(
      before: DriftFixtures.live([Self.customers, DriftFixtures.ordersTable]),
      after: DriftFixtures.live([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable]))
    let report = ImpactAnalysis.report(
      project: project, migration: "m.sql", statements: statements, dialect: .postgres, trial: trial,
      warehouse: "memory")
    #expect(report.breaking)
    #expect(report.preexisting.isEmpty)
    let table = report.drift.changes.first { $0.kind == .tableRenamed }
    // CREATE (new name) and DROP (old name) both name the table once: the later one, the DROP, wins.
    #expect(table.flatMap { report.lines[$0.id] } == 10)
    // The INSERT names old and new tables but is not a schema statement.
    for change in report.drift.changes where change.kind == .columnRenamed || change.kind == .columnSplit {
      #expect(report.lines[change.id] == 2, "\(change.kind) \(change.from ?? "")")
    }
  }

  @Test func alterStatementsPinTheirOwnColumn() {
    let project = DriftFixtures.customersProject()
    let migration = """
      ALTER TABLE raw_customers RENAME COLUMN country TO country_code;
      ALTER TABLE raw_customers ADD COLUMN note text;
      ALTER TABLE raw_customers
        RENAME COLUMN email TO email_address;
      """
    var renamed = DriftFixtures.customerColumns
    renamed[2].0 = "email_address"
    renamed[5].0 = "country_code"
    renamed.append(("note", "text"))
    let trial = MigrationTrial(
      before: DriftFixtures.live([Self.customers, DriftFixtures.ordersTable]),
      after: DriftFixtures.live([
        DriftFixtures.table("raw_customers", renamed, keys: ["customer_id"]), DriftFixtures.ordersTable,
      ]))
    let report = ImpactAnalysis.report(
      project: project, migration: "m.sql", statements: SQLScript.statements(in: migration),
      dialect: .postgres,
      trial: trial, warehouse: "memory")
    func line(of column: String) -> Int? {
      report.drift.changes.first { $0.to?.names.contains(column) == true }.flatMap { report.lines[$0.id] }
    }
    #expect(report.drift.changes.count == 3, "\(report.drift.changes.map(\.kind))")
    #expect(line(of: "country_code") == 1)
    #expect(line(of: "note") == 2)
    #expect(line(of: "email_address") == 3)
  }

  @Test func driftThatWasAlreadyThereIsNotBlamedOnTheMigration() {
    let project = DriftFixtures.customersProject()
    // raw_orders already lacks customer_id before the migration; the migration only adds a column.
    let brokenOrders = DriftFixtures.table("raw_orders", [("order_id", "integer")], keys: ["order_id"])
    var withNote = DriftFixtures.customerColumns
    withNote.append(("note", "text"))
    let trial = MigrationTrial(
      before: DriftFixtures.live([Self.customers, brokenOrders]),
      after: DriftFixtures.live([
        DriftFixtures.table("raw_customers", withNote, keys: ["customer_id"]), brokenOrders,
      ]))
    let report = ImpactAnalysis.report(
      project: project, migration: "m.sql",
      statements: SQLScript.statements(in: "ALTER TABLE raw_customers ADD COLUMN note text;"),
      dialect: .postgres, trial: trial, warehouse: "memory")
    #expect(!report.breaking)
    #expect(report.drift.changes.map(\.kind) == [.columnAdded])
    #expect(report.preexisting.map(\.kind) == [.columnMissing])
    #expect(report.drift.blastRadius.isEmpty)

    let renderer = ImpactReportRenderer(toolVersion: "test")
    #expect(renderer.text(report).contains("✓ safe for shop"))
    #expect(renderer.text(report).contains("1 change(s) were already there before this migration"))
    #expect(
      renderer.github(report).hasPrefix("::notice file=m.sql,line=1,title=driftwatch%3A column_added::"))
  }

  @Test func githubEscaping() {
    let project = DriftFixtures.customersProject()
    let report = ImpactAnalysis.report(
      project: project, migration: "./db/100%, done:.sql",
      statements: SQLScript.statements(in: "DROP TABLE raw_customers;"), dialect: .postgres,
      trial: MigrationTrial(
        before: DriftFixtures.live([Self.customers, DriftFixtures.ordersTable]),
        after: DriftFixtures.live([DriftFixtures.ordersTable])),
      warehouse: "memory")
    let output = ImpactReportRenderer(toolVersion: "test").github(report)
    #expect(
      output.hasPrefix(
        "::error file=db/100%25%2C done%3A.sql,line=1,title=driftwatch%3A table_missing::shop.raw_customers is missing — breaks"
      ), "\(output)")
  }
}
