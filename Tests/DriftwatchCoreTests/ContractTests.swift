import DriftwatchCore
import Testing

/// The contract is what the models read: declared columns, the baseline snapshot's columns, and the columns
/// the readers' SQL reads (issue 15, items 0 and 3).
@Suite("contract: what the models read")
struct ContractTests {
  /// jaffle-shop's shape: sources that declare no columns, staging models that rename through aliases.
  static let ordersSource = SourceTable(
    uniqueID: "source.jaffle.ecom.raw_orders", packageName: "jaffle", sourceName: "ecom", name: "raw_orders",
    schema: "raw")
  static let storesSource = SourceTable(
    uniqueID: "source.jaffle.ecom.raw_stores", packageName: "jaffle", sourceName: "ecom", name: "raw_stores",
    schema: "raw")
  static let stgOrdersSQL = """
    with

    source as (

        select * from {{ source('ecom', 'raw_orders') }}

    ),

    renamed as (

        select

            ----------  ids
            id as order_id,
            store_id as location_id,
            customer as customer_id,

            ---------- numerics
            subtotal as subtotal_cents,
            tax_paid as tax_paid_cents,
            order_total as order_total_cents,
            {{ cents_to_dollars('subtotal') }} as subtotal,
            {{ cents_to_dollars('tax_paid') }} as tax_paid,
            {{ cents_to_dollars('order_total') }} as order_total,

            ---------- timestamps
            {{ dbt.date_trunc('day','ordered_at') }} as ordered_at

        from source

    )

    select * from renamed
    """
  static let stgLocationsSQL = """
    with source as (select * from {{ source('ecom', 'raw_stores') }}),
    renamed as (
        select id as location_id, name as location_name, tax_rate,
            {{ dbt.date_trunc('day', 'opened_at') }} as opened_date
        from source
    )
    select * from renamed
    """

  static func project(extraNodes: [GraphNode] = []) -> ProjectGraph {
    let stgOrders = GraphNode(
      uniqueID: "model.jaffle.stg_orders", resourceType: .model, name: "stg_orders", packageName: "jaffle",
      dependsOn: [ordersSource.uniqueID], rawCode: stgOrdersSQL)
    let stgLocations = GraphNode(
      uniqueID: "model.jaffle.stg_locations", resourceType: .model, name: "stg_locations",
      packageName: "jaffle", dependsOn: [storesSource.uniqueID], rawCode: stgLocationsSQL)
    let orders = GraphNode(
      uniqueID: "model.jaffle.orders", resourceType: .model, name: "orders", packageName: "jaffle",
      dependsOn: [stgOrders.uniqueID, stgLocations.uniqueID],
      rawCode:
        "select o.*, l.location_name from {{ ref('stg_orders') }} o join {{ ref('stg_locations') }} l using (location_id)"
    )
    return ProjectGraph(
      projectName: "jaffle", sources: [ordersSource, storesSource],
      nodes: [stgOrders, stgLocations, orders] + extraNodes)
  }

  static let orderColumns: [(String, String)] = [
    ("id", "text"), ("customer", "text"), ("ordered_at", "timestamp"), ("store_id", "text"),
    ("subtotal", "integer"), ("tax_paid", "integer"), ("order_total", "integer"),
  ]
  static let storeColumns: [(String, String)] = [
    ("id", "text"), ("name", "text"), ("opened_at", "timestamp"), ("tax_rate", "double precision"),
  ]

  static func live(orders: [(String, String)], stores: [(String, String)] = storeColumns) -> LiveSchema {
    LiveSchema(
      inspected: [SchemaRef(schema: "raw")],
      tables: [DriftFixtures.table("raw_orders", orders), DriftFixtures.table("raw_stores", stores)])
  }

  static func renamed(_ columns: [(String, String)], _ old: String, _ new: String) -> [(String, String)] {
    columns.map { $0.0 == old ? (new, $0.1) : $0 }
  }

  @Test func unchangedProjectWithoutDeclaredColumnsHasNoDrift() {
    // Aliases (order_id, location_id, customer_id, …) and CTE names are not columns the source lacks.
    let changes = DriftEngine(project: Self.project()).diff(live: Self.live(orders: Self.orderColumns))
    #expect(changes.isEmpty, "\(changes.map { "\($0.kind) \($0.from ?? "")" })")
  }

  @Test func renameOfAnUndeclaredColumnAModelReadsIsFoundAndBreaking() throws {
    let live = Self.live(orders: Self.renamed(Self.orderColumns, "customer", "customer_id"))
    let report = DriftEngine(project: Self.project()).report(live: live, warehouse: "memory")
    let rename = try #require(report.changes.first)
    #expect(report.changes.count == 1)
    #expect(rename.kind == .columnRenamed)
    #expect(rename.from == "customer")
    #expect(rename.to == .one("customer_id"))
    #expect(rename.breaking)
    #expect(report.breaking)
    #expect(rename.blastRadius.models == ["model.jaffle.orders", "model.jaffle.stg_orders"])
    #expect(rename.evidence.contains { $0.hasPrefix("stg_orders reads customer from this source alone") })
    #expect(rename.evidence.contains { $0.contains("differ only by 'id'") })
    #expect(rename.evidence.contains("read by stg_orders"))
    #expect(rename.evidenceKinds == [.name])
  }

  @Test func dropOfAnUndeclaredColumnAModelReadsIsMissingAndBreaking() throws {
    let live = Self.live(orders: Self.orderColumns.filter { $0.0 != "store_id" })
    let changes = DriftEngine(project: Self.project()).diff(live: live)
    let missing = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(missing.kind == .columnMissing)
    #expect(missing.from == "store_id")
    #expect(missing.breaking)
    // Inferred from the SQL, not observed in a declaration or a snapshot: said, and not certain.
    #expect(missing.confidence == 0.9)
    #expect(missing.evidence.contains("raw.raw_orders has no column store_id and none takes its place"))
  }

  @Test func aReaderOfSeveralRelationsClaimsNoColumnOfThisSource() {
    // `amount` could come from either parent: no claim from this reader.
    let joined = GraphNode(
      uniqueID: "model.jaffle.order_payments", resourceType: .model, name: "order_payments",
      packageName: "jaffle", dependsOn: [Self.ordersSource.uniqueID, "model.jaffle.stg_payments"],
      rawCode:
        "select o.id, p.amount from {{ source('ecom','raw_orders') }} o join {{ ref('stg_payments') }} p on p.order_id = o.id"
    )
    let changes = DriftEngine(project: Self.project(extraNodes: [joined])).diff(
      live: Self.live(orders: Self.orderColumns))
    #expect(changes.isEmpty)
  }

  @Test func typeChangeAgainstTheSnapshotIsReportedWithoutADeclaredType() throws {
    let baseline = Self.live(orders: Self.orderColumns)
    let live = Self.live(orders: Self.orderColumns.map { $0.0 == "subtotal" ? ("subtotal", "text") : $0 })
    let changes = DriftEngine(project: Self.project()).diff(live: live, baseline: baseline)
    let change = try #require(changes.first)
    #expect(changes.count == 1)
    #expect(change.kind == .columnTypeChanged)
    #expect(change.from == "integer")
    #expect(change.to == .one("text"))
    #expect(change.breaking)
    #expect(change.evidence.first == "the baseline snapshot recorded integer, the warehouse says text")
  }

  @Test func withASnapshotEveryRecordedColumnCounts() throws {
    // opened_at is read only inside Jinja (invisible to the SQL): the snapshot still knows it was there.
    let baseline = Self.live(orders: Self.orderColumns)
    let live = Self.live(
      orders: Self.orderColumns,
      stores: Self.storeColumns.filter { $0.0 != "opened_at" } + [("manager", "text")])
    let changes = DriftEngine(project: Self.project()).diff(live: live, baseline: baseline)
    let missing = try #require(changes.first { $0.kind == .columnMissing })
    #expect(missing.from == "opened_at")
    #expect(
      missing.evidence.first == "the baseline snapshot recorded opened_at (the yml does not declare it)")
    let added = try #require(changes.first { $0.kind == .columnAdded })
    #expect(added.to == .one("manager"))
    #expect(added.evidence == ["raw.raw_stores.manager (text) is new since the baseline snapshot"])
    // Unchanged columns that nothing declares are not reported.
    #expect(changes.count == 2)
  }

  @Test func columnsAreAlignedByPhysicalOrderNotTheYmlOrder() throws {
    // The yml lists its columns alphabetically; the table's order puts `label` between id and amount.
    let source = SourceTable(
      uniqueID: "source.shop.crm.deals", packageName: "shop", sourceName: "crm", name: "deals", schema: "raw",
      columns: ["amount", "created_at", "id", "label"].map { DeclaredColumn(name: $0) })
    let reader = GraphNode(
      uniqueID: "model.shop.stg_deals", resourceType: .model, name: "stg_deals", packageName: "shop",
      dependsOn: [source.uniqueID], rawCode: "select * from {{ source('crm', 'deals') }}")
    let project = ProjectGraph(projectName: "shop", sources: [source], nodes: [reader])
    let before: [(String, String)] = [
      ("id", "integer"), ("label", "text"), ("amount", "integer"), ("created_at", "timestamp"),
    ]
    let after = before.map { $0.0 == "label" ? ("title", "text") : $0 }
    let live = LiveSchema(
      inspected: [SchemaRef(schema: "raw")], tables: [DriftFixtures.table("deals", after)])
    let baseline = LiveSchema(
      inspected: [SchemaRef(schema: "raw")], tables: [DriftFixtures.table("deals", before)])
    for schema in [nil, baseline] {
      let changes = DriftEngine(project: project).diff(live: live, baseline: schema)
      let missing = try #require(changes.first { $0.kind == .columnMissing })
      #expect(missing.from == "label")
      // Same place in the table: a hint (no name evidence), which the yml's order hid.
      #expect(missing.possibleRename == "title")
      #expect(missing.evidenceKinds?.contains(.position) == true)
    }
  }

  @Test func anAliasDefinedInASubqueryIsNotAColumnTheSourceLacks() {
    // The shape `fix` drafts: the outer select reads names the inner one maps back (defined after, textually).
    let references = ColumnReferences(
      sql: """
        select customer_id, name, country
        from (select account_id as customer_id, name, country_code as country from {{ source('a', 'b') }}) as t
        """)
    #expect(references.names == ["account_id", "name", "country_code"])
    #expect(ColumnReferences(sql: "select customer as customer from t").names == ["customer"])
  }

  @Test func columnReferencesSeparateReadsFromAliasesAndRelations() {
    let references = ColumnReferences(
      sql: """
        with base as (select * from {{ source('a', 'b') }} as src),
        typed as (
          select cast(amount as numeric(10, 2)) as amount_usd, created_at::timestamp with time zone as created,
            extract(year from created_at) as y, coalesce(note, 'none') note_text, "Quoted Col",
            case when status = 'x' then 1 else 0 end flag, b.kind
          from base b
          where deleted is not distinct from false
        )
        select amount_usd, created, y from typed
        """)
    #expect(references.names == ["amount", "created_at", "note", "quoted col", "status", "kind", "deleted"])
  }
}

/// impact knows the warehouse's own dependencies (issue 15, item 4).
@Suite("warehouse dependencies")
struct WarehouseDependencyTests {
  /// orders declares `note`; `stg_orders`' SQL reads only id (as the project has it now), but the view dbt
  /// built in the warehouse reads `note`.
  static let source = DriftFixtures.source("orders", columns: [("id", "integer"), ("note", "text")])
  static let project = ProjectGraph(
    projectName: "shop", sources: [source],
    nodes: [
      DriftFixtures.model(
        "stg_orders", reads: [source.uniqueID], sql: "select id from {{ source('shop','orders') }}"),
      DriftFixtures.model("daily", reads: ["model.shop.stg_orders"]),
    ])
  static let before = DriftFixtures.live([
    DriftFixtures.table("orders", [("id", "integer"), ("note", "text")])
  ])
  static let after = DriftFixtures.live([DriftFixtures.table("orders", [("id", "integer")])])
  static let view = WarehouseDependency(
    dependent: TableRef(schema: SchemaRef(schema: "analytics"), name: "stg_orders"), kind: "view",
    table: TableRef(schema: SchemaRef(schema: "raw"), name: "orders"), column: "note")

  func report(dependencies: [WarehouseDependency]) -> ImpactReport {
    var trial = MigrationTrial(before: Self.before, after: Self.after)
    trial.dependencies = dependencies
    return ImpactAnalysis.report(
      project: Self.project, migration: "m.sql",
      statements: SQLScript.statements(in: "ALTER TABLE orders DROP COLUMN note CASCADE;"),
      dialect: .postgres,
      trial: trial, warehouse: "memory")
  }

  @Test func aChangeADbtViewDependsOnIsBreaking() throws {
    // Without the warehouse's dependencies the project's SQL says nobody reads note.
    #expect(!report(dependencies: []).breaking)
    let report = report(dependencies: [Self.view])
    #expect(report.breaking)
    let change = try #require(report.drift.changes.first { $0.kind == .columnMissing })
    #expect(change.breaking)
    #expect(
      change.evidence.contains(
        "a dbt view reads this column: model.shop.stg_orders (analytics.stg_orders, from the warehouse's dependencies)"
      ))
    #expect(change.blastRadius.models == ["model.shop.daily", "model.shop.stg_orders"])
  }

  @Test func aViewThatIsNoDbtNodeIsNamedButNotBreaking() throws {
    var other = Self.view
    other.dependent.name = "legacy_report"
    let report = report(dependencies: [other])
    #expect(!report.breaking)
    let change = try #require(report.drift.changes.first { $0.kind == .columnMissing })
    #expect(
      change.evidence.contains(
        "view analytics.legacy_report reads this column in the warehouse (no dbt node of that name)"))
  }

  @Test func aRefusedDropNamesTheDbtView() {
    let failure = MigrationStatementFailure(line: 3, message: "cannot drop", dependencies: [Self.view])
    #expect(
      WarehouseDependencies.explanation(for: failure, project: Self.project)
        == "a dbt view reads this column: model.shop.stg_orders (analytics.stg_orders reads column orders.note)"
    )
    #expect(
      WarehouseDependencies.explanation(
        for: MigrationStatementFailure(line: 3, message: "cannot drop"), project: Self.project) == nil)
  }
}

/// `snapshot` records every column of the watched tables and says which it could not sample, and why.
@Suite("snapshot plan records every column")
struct SnapshotPlanContractTests {
  @Test func everyColumnIsRecordedAndUnkeyedTablesAreNamed() throws {
    let declared = DriftFixtures.source("customers", columns: [("id", "integer")])
    let undeclared = DriftFixtures.source("events", columns: [])
    let project = ProjectGraph(
      projectName: "shop", sources: [declared, undeclared],
      nodes: [
        DriftFixtures.test("unique_customers_id", on: [declared.uniqueID], column: "id", kind: "unique")
      ])
    let live = DriftFixtures.live([
      DriftFixtures.table("customers", [("id", "integer"), ("name", "text"), ("email", "text")]),
      DriftFixtures.table("events", [("at", "timestamp"), ("kind", "text")]),
    ])
    let plan = SnapshotPlan.make(project: project, live: live)
    #expect(
      plan.columns.map { "\($0.table).\($0.column)" } == [
        "customers.id", "customers.name", "customers.email", "events.at", "events.kind",
      ])
    let sample = try #require(plan.samples.first { $0.sourceID == declared.uniqueID })
    #expect(sample.key == "id")
    #expect(sample.columns == ["name", "email"])
    #expect(plan.unsampled.map(\.sourceID) == [undeclared.uniqueID])
    #expect(plan.unsampled.first?.reason == "no unique test on a column and no primary or unique key")
  }
}
