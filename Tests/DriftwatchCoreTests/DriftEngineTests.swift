import DriftwatchCore
import DriftwatchReports
import Testing

@Suite("drift engine")
struct DriftEngineTests {
  let project = DriftFixtures.customersProject()

  func diff(_ tables: [LiveTable]) -> [DriftChange] {
    DriftEngine(project: project).diff(live: DriftFixtures.live(tables))
  }

  @Test func unchangedWarehouseHasNoDrift() {
    let customers = DriftFixtures.table("raw_customers", DriftFixtures.customerColumns, keys: ["customer_id"])
    #expect(diff([customers, DriftFixtures.ordersTable]).isEmpty)
  }

  @Test func seedMigrationIsOneTableRenameWithItsColumnChanges() throws {
    let changes = diff([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable])
    let rename = try #require(changes.first { $0.kind == .tableRenamed })
    #expect(rename.from == "raw_customers")
    #expect(rename.to == .one("raw_accounts"))
    #expect(rename.breaking)
    #expect(rename.confidence >= 0.7)
    #expect(!changes.contains { $0.kind == .tableMissing || $0.kind == .tableAdded })

    let columns = changes.filter { $0.parent == rename.id }
    let renames = Set(
      columns.filter { $0.kind == .columnRenamed }.map { "\($0.from ?? "")→\($0.to?.description ?? "")" })
    #expect(renames == ["customer_id→account_id", "customer_segment→account_tier", "country→country_code"])
    let split = try #require(columns.first { $0.kind == .columnSplit })
    #expect(split.from == "address")
    #expect(split.to == .many(["street", "city", "state_code", "postal_code"]))
    #expect(columns.allSatisfy { $0.kind != .columnMissing && $0.kind != .columnAdded })
    // The key rename is the surest; the segment → tier rename has no shared meaning word.
    let key = try #require(columns.first { $0.from == "customer_id" })
    let tier = try #require(columns.first { $0.from == "customer_segment" })
    #expect(key.confidence > tier.confidence)
    #expect(key.evidence.contains { $0.contains("both are keys") })
    #expect(key.evidence.contains { $0.contains("customer → account") })
  }

  @Test func blastRadiusFollowsTheGraphToTestsAndExposures() throws {
    let report = DriftEngine(project: project).report(
      live: DriftFixtures.live([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable]),
      warehouse: "memory")
    #expect(report.breaking)
    #expect(
      report.blastRadius.models == [
        "model.shop.dim_customers", "model.shop.segment_revenue", "model.shop.stg_customers",
      ])
    #expect(report.blastRadius.exposures == ["exposure.shop.revenue_dashboard"])
    // Eager: the relationships test has one parent in the radius; the orders-only test is untouched.
    #expect(report.blastRadius.tests.contains("test.shop.relationships_orders_customers"))
    #expect(report.blastRadius.tests.contains("test.shop.source_unique_customer_id"))
    #expect(!report.blastRadius.tests.contains("test.shop.not_null_stg_orders_order_id"))
    #expect(report.blastRadius.tests.count == 4)
  }

  @Test func missingTableWithNoCandidate() throws {
    let changes = diff([DriftFixtures.ordersTable])
    let missing = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(missing.kind == .tableMissing)
    #expect(missing.breaking)
    #expect(missing.confidence == 1)
  }

  @Test func unrelatedNewTableIsAnAdditionNotARename() {
    let unrelated = DriftFixtures.table("audit_log", [("event_id", "bigint"), ("payload", "jsonb")])
    let changes = diff([DriftFixtures.ordersTable, unrelated])
    #expect(Set(changes.map(\.kind)) == [.tableMissing, .tableAdded])
    #expect(changes.first { $0.kind == .tableAdded }?.breaking == false)
  }

  @Test func columnMissingIsBreakingOnlyWhenRead() throws {
    var columns = DriftFixtures.customerColumns
    columns.removeAll { $0.0 == "email" }
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    let missing = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(missing.kind == .columnMissing)
    #expect(missing.from == "email")
    #expect(missing.breaking)
    #expect(missing.blastRadius.tests.contains("test.shop.source_not_null_email"))
  }

  @Test func unreadColumnGoingIsNotBreaking() throws {
    let orders = DriftFixtures.source(
      "raw_orders", columns: [("order_id", "integer"), ("customer_id", "integer"), ("note", "text")])
    var project = project
    project.sources[orders.uniqueID] = orders
    let changes = DriftEngine(project: project).diff(
      live: DriftFixtures.live([
        DriftFixtures.table("raw_customers", DriftFixtures.customerColumns), DriftFixtures.ordersTable,
      ]))
    let missing = try #require(changes.first)
    #expect(missing.kind == .columnMissing)
    #expect(missing.from == "note")
    #expect(!missing.breaking)
  }

  /// PostgreSQL keeps "Email" and email apart: a table with both, whose "Email" is renamed, is a rename of
  /// "Email" — not two declared columns paired with the one live email, and nothing missed.
  @Test func columnsThatDifferOnlyInCaseArePairedByExactNameFirst() throws {
    let orders = DriftFixtures.source(
      "raw_orders",
      columns: [
        ("order_id", "integer"), ("customer_id", "integer"), ("Email", "text"), ("email", "text"),
        ("placed_at", "timestamp"),
      ])
    var project = project
    project.sources[orders.uniqueID] = orders
    func changes(_ columns: [(String, String)]) -> [DriftChange] {
      DriftEngine(project: project).diff(
        live: DriftFixtures.live([
          DriftFixtures.table("raw_customers", DriftFixtures.customerColumns),
          DriftFixtures.table("raw_orders", columns),
        ]))
    }
    #expect(
      changes([
        ("order_id", "integer"), ("customer_id", "integer"), ("Email", "text"), ("email", "text"),
        ("placed_at", "timestamp"),
      ]).isEmpty)
    let renamed = changes([
      ("order_id", "integer"), ("customer_id", "integer"), ("ContactEmail", "text"), ("email", "text"),
      ("placed_at", "timestamp"),
    ])
    #expect(renamed.count == 1, "\(renamed.map { "\($0.kind) \($0.from ?? "")" })")
    let change = try #require(renamed.first)
    #expect(change.from == "Email")
    #expect([.columnRenamed, .columnMissing].contains(change.kind))
    #expect(change.kind == .columnMissing ? true : change.to == .one("ContactEmail"))
    // A yml in lowercase against a warehouse that answers in uppercase still pairs by name.
    #expect(
      changes([
        ("ORDER_ID", "integer"), ("CUSTOMER_ID", "integer"), ("Email", "text"), ("EMAIL", "text"),
        ("PLACED_AT", "timestamp"),
      ]).isEmpty)
  }

  @Test func columnAddedIsNotBreaking() throws {
    let changes = diff([
      DriftFixtures.table("raw_customers", DriftFixtures.customerColumns + [("loyalty_points", "integer")]),
      DriftFixtures.ordersTable,
    ])
    let added = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(added.kind == .columnAdded)
    #expect(added.to == .one("loyalty_points"))
    #expect(!added.breaking)
  }

  /// Without a baseline a live column the yml does not declare is reported as new, unless a reader reads it:
  /// then it is part of the contract as it stands (jaffle_shop's sources declare only their keys).
  @Test func anUndeclaredColumnAReaderReadsIsNotNew() throws {
    let orders = DriftFixtures.source("raw_orders", columns: [("order_id", "integer")])
    let staging = DriftFixtures.model(
      "stg_orders", reads: [orders.uniqueID],
      sql: "select order_id, customer_id from {{ source('shop','raw_orders') }}")
    let project = ProjectGraph(projectName: "shop", sources: [orders], nodes: [staging])
    let changes = DriftEngine(project: project).diff(
      live: DriftFixtures.live([
        DriftFixtures.table(
          "raw_orders", [("order_id", "integer"), ("customer_id", "integer"), ("loaded_at", "timestamp")])
      ]))
    #expect(changes.map(\.kind) == [.columnAdded])
    #expect(changes.first?.to == .one("loaded_at"))
  }

  /// A column that only flows through `select *` is still news: nothing names it.
  @Test func anUndeclaredColumnOnlyAStarReadsIsStillNew() throws {
    let orders = DriftFixtures.source("raw_orders", columns: [("order_id", "integer")])
    let staging = DriftFixtures.model(
      "stg_orders", reads: [orders.uniqueID],
      sql: """
        with source as (select * from {{ source('shop','raw_orders') }})
        select order_id, customer_id from source
        """)
    let project = ProjectGraph(projectName: "shop", sources: [orders], nodes: [staging])
    let changes = DriftEngine(project: project).diff(
      live: DriftFixtures.live([
        DriftFixtures.table(
          "raw_orders", [("order_id", "integer"), ("customer_id", "integer"), ("loaded_at", "timestamp")])
      ]))
    #expect(changes.map(\.kind) == [.columnAdded])
    #expect(changes.first?.to == .one("loaded_at"))
  }

  /// A split done by a migration: the parts are added at the end of the table (ALTER TABLE … ADD COLUMN),
  /// the old column dropped. Found by `impact` on acme: `name` → `first_name` was called a rename at 0.67.
  @Test func aSplitWhosePartsWereAppendedIsASplitNotARename() throws {
    var columns = DriftFixtures.customerColumns
    columns.remove(at: 1)
    columns += [("first_name", "text"), ("last_name", "text")]
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    let split = try #require(changes.first { $0.kind == .columnSplit }, "\(changes.map(\.kind))")
    #expect(split.from == "name")
    #expect(split.to == .many(["first_name", "last_name"]))
    #expect(split.breaking)
    #expect(split.confidence <= 0.9)
    #expect(split.evidence.contains { $0.hasPrefix("added together at the end of the table") })
    #expect(changes.count == 1)
  }

  /// Traps: new columns that do not name a part (a loader's columns, `username`) make no split.
  @Test func appendedColumnsThatNameNoPartAreNoSplit() throws {
    var columns = DriftFixtures.customerColumns
    columns.remove(at: 1)
    columns += [("username", "text"), ("_loaded_at", "timestamp"), ("_sync_id", "text")]
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    #expect(!changes.contains { $0.kind == .columnSplit })
    #expect(changes.contains { $0.kind == .columnMissing && $0.from == "name" })
  }

  @Test func typeChangeAcrossFamiliesIsBreaking() throws {
    var columns = DriftFixtures.customerColumns
    columns[0] = ("customer_id", "character varying(36)")
    columns[6] = ("created_at", "timestamp without time zone")  // an alias of the declared type: no change
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    let change = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(change.kind == .columnTypeChanged)
    #expect(change.column == "customer_id")
    #expect(change.from == "integer")
    #expect(change.to == .one("character varying(36)"))
    #expect(change.breaking)
  }

  @Test func typeWideningIsReportedButNotBreaking() throws {
    var columns = DriftFixtures.customerColumns
    columns[0] = ("customer_id", "bigint")
    let change = try #require(
      diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable]).first)
    #expect(change.kind == .columnTypeChanged)
    #expect(!change.breaking)
  }

  @Test func inPlaceColumnRename() throws {
    var columns = DriftFixtures.customerColumns
    columns[5] = ("country_code", "text")
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    let rename = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(rename.kind == .columnRenamed)
    #expect(rename.from == "country")
    #expect(rename.to == .one("country_code"))
    #expect(rename.breaking)
    #expect(rename.parent == nil)
  }

  @Test func inPlaceSplitOfAName() throws {
    var columns = DriftFixtures.customerColumns
    columns.replaceSubrange(1...1, with: [("first_name", "text"), ("last_name", "text")])
    let changes = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable])
    let split = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(split.kind == .columnSplit)
    #expect(split.to == .many(["first_name", "last_name"]))
  }

  @Test func unrelatedColumnSwapIsMissingPlusAdded() {
    var columns = DriftFixtures.customerColumns
    columns[2] = ("loyalty_points", "integer")  // email gone, an integer with another meaning came
    let kinds = diff([DriftFixtures.table("raw_customers", columns), DriftFixtures.ordersTable]).map(\.kind)
    #expect(Set(kinds) == [.columnMissing, .columnAdded])
  }

  @Test func reorderedDeclarationsStillMatchByName() {
    let shuffled = DriftFixtures.table("raw_customers", DriftFixtures.customerColumns.reversed())
    #expect(diff([shuffled, DriftFixtures.ordersTable]).isEmpty)
  }

  @Test func twoEqualCandidatesLowerTheConfidence() throws {
    let events = DriftFixtures.source(
      "events", columns: [("event_id", "bigint"), ("payload", "jsonb"), ("occurred_at", "timestamp")])
    let reader = DriftFixtures.model("stg_events", reads: [events.uniqueID], sql: "select * from x")
    let project = ProjectGraph(projectName: "shop", sources: [events], nodes: [reader])
    let columns = [("event_id", "bigint"), ("payload", "jsonb"), ("occurred_at", "timestamp")]
    let changes = DriftEngine(project: project).diff(
      live: DriftFixtures.live([
        DriftFixtures.table("events_v2", columns), DriftFixtures.table("events_new", columns),
      ]))
    let rename = try #require(changes.first { $0.kind == .tableRenamed })
    #expect(rename.evidence.contains { $0.contains("nearly as good a match") })
    #expect(rename.confidence < 0.8)
    #expect(changes.filter { $0.kind == .tableAdded }.count == 1)
  }

  @Test func changeIDsAreStable() {
    let first = diff([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable]).map(\.id)
    let second = diff([DriftFixtures.migratedAccounts, DriftFixtures.ordersTable]).map(\.id)
    #expect(first == second)
    #expect(Set(first).count == first.count)
    #expect(first.allSatisfy { $0.count == 11 && $0.hasPrefix("c") })
  }

  @Test func schemaWithNoTablesSaysSo() throws {
    let change = try #require(diff([]).first { $0.from == "raw_customers" })
    #expect(change.evidence.contains { $0.contains("no tables visible") })
  }
}

@Suite("report rendering")
struct ReportRenderingTests {
  @Test func projectWithoutSourcesSaysSo() {
    let project = ProjectGraph(projectName: "empty", sources: [], nodes: [])
    let report = DriftEngine(project: project).report(
      live: LiveSchema(inspected: [], tables: []), warehouse: "memory")
    let text = DriftReportRenderer(toolVersion: "test").render(report, as: .text)
    #expect(text.contains("nothing to check"))
    #expect(!report.breaking)
  }

  @Test func nonBreakingAdditionsAreListedApart() {
    let project = DriftFixtures.customersProject()
    let customers = DriftFixtures.table(
      "raw_customers", DriftFixtures.customerColumns + [("loyalty_points", "integer")])
    let audit = DriftFixtures.table("audit_log", [("id", "bigint")])
    let report = DriftEngine(project: project).report(
      live: DriftFixtures.live([customers, DriftFixtures.ordersTable, audit]), warehouse: "memory")
    let text = DriftReportRenderer(toolVersion: "test").render(report, as: .text)
    #expect(text.contains("+ new column raw.raw_customers.loyalty_points"))
    #expect(text.contains("+ new table raw.audit_log"))
    #expect(text.contains("no breaking drift"))
    let markdown = DriftReportRenderer(toolVersion: "test").render(report, as: .markdown)
    #expect(markdown.contains("non-breaking drift"))
    #expect(!markdown.contains("```mermaid"))
  }

  @Test func versionedModelsStayApartInText() {
    let source = DriftFixtures.source("raw_customers", columns: DriftFixtures.customerColumns)
    let v1 = GraphNode(
      uniqueID: "model.shop.dim_customers.v1", resourceType: .model, name: "dim_customers",
      packageName: "shop",
      dependsOn: [source.uniqueID])
    let v2 = GraphNode(
      uniqueID: "model.shop.dim_customers.v2", resourceType: .model, name: "dim_customers",
      packageName: "shop",
      dependsOn: [source.uniqueID])
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [v1, v2])
    let report = DriftEngine(project: project).report(live: DriftFixtures.live([]), warehouse: "memory")
    let text = DriftReportRenderer(toolVersion: "test").render(report, as: .text)
    #expect(text.contains("dim_customers.v1, dim_customers.v2"))
    #expect(text.contains("blast radius: 2 models, 0 tests, 0 exposures"))
  }
}
