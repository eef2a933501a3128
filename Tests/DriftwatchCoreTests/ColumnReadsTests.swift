import DriftwatchCore
import Testing

/// Which columns a reader reads: from the SQL dbt runs when it is known, never "reads nothing" when the
/// SQL is not readable, and a column a reader now fills with NULL is breaking.
@Suite("column reads")
struct ColumnReadsTests {
  static let deals = DriftFixtures.source(
    "deals", columns: [("deal_id", ""), ("stage_id", ""), ("amount", "")], sourceName: "crm")
  static let stages = DriftFixtures.source(
    "stages", columns: [("stage_id", ""), ("label", ""), ("probability", "")], sourceName: "crm")

  static func compiled(_ node: GraphNode, _ sql: String?, _ status: CompiledReader.Status = .compiled)
    -> GraphNode
  {
    var node = node
    node.compiled = CompiledReader(
      sql: sql, status: status, reason: status == .compiled ? nil : "models/x.sql:3: why",
      againstLiveSchema: true)
    return node
  }

  static func liveDeals(_ columns: [String] = ["deal_id", "stage_id"]) -> LiveTable {
    DriftFixtures.table("deals", columns.map { ($0, "integer") })
  }

  static func report(_ project: ProjectGraph, _ tables: [LiveTable]) -> DriftReport {
    DriftEngine(project: project).report(
      live: LiveSchema(inspected: [SchemaRef(schema: "raw")], tables: tables), warehouse: "memory")
  }

  static func change(_ report: DriftReport, from column: String) -> DriftChange? {
    report.changes.first { $0.from == column && !$0.kind.isTableLevel }
  }

  @Test func aMacroCallInRawSQLReadsEveryColumn() {
    let usage = ColumnUsage(
      sql: """
        select {{ fill_missing_columns(adapter.get_columns_in_relation(ref('tmp')), deals_columns()) }}
        from {{ ref('tmp') }}
        """)
    #expect(usage.readsEverything)
    #expect(usage.reads(column: "amount"))
    #expect(usage.unreadableCall == "fill_missing_columns(…)")
    // dbt's cross-database helpers and ref/source/var print expressions, not column lists; the names passed
    // to them as strings count as read.
    let helpers = ColumnUsage(
      sql: "select {{ dbt.date_trunc('day', 'created_at') }} as d, {{ var('x') }} from {{ source('a', 'b') }}"
    )
    #expect(!helpers.readsEverything)
    #expect(helpers.reads(column: "created_at"))
    #expect(!helpers.reads(column: "amount"))
    #expect(helpers.unreadableCall == nil)
  }

  @Test func aUnionMacroReaderIsBreakingFromItsRawSQL() {
    // A `_tmp` model whose whole SQL is a union macro call: its raw SQL names no column.
    let tmp = DriftFixtures.model(
      "stg_deals_tmp", reads: [Self.deals.uniqueID], sql: "{{ union_source('deals') }}")
    let project = ProjectGraph(projectName: "shop", sources: [Self.deals], nodes: [tmp])
    let report = Self.report(project, [Self.liveDeals()])
    let amount = Self.change(report, from: "amount")
    #expect(amount?.breaking == true)
    #expect(amount?.blastRadius.models == [tmp.uniqueID])
    #expect(report.columnReads?.map(\.node) == [tmp.uniqueID])
    #expect(report.columnReads?.first?.status == .rawMacro)
  }

  @Test func compiledSQLDecidesOverRawSQL() {
    // Raw SQL that stars every column except amount; its compiled SQL names the columns it really reads.
    let reader = Self.compiled(
      DriftFixtures.model(
        "stg_deals", reads: [Self.deals.uniqueID],
        sql:
          "select {{ dbt_utils.star(source('crm', 'deals'), except=['amount']) }} from {{ source('crm', 'deals') }}"
      ),
      #"select "deal_id", "stage_id" from "raw"."deals""#)
    var project = ProjectGraph(projectName: "shop", sources: [Self.deals], nodes: [reader])
    #expect(Self.change(Self.report(project, [Self.liveDeals()]), from: "amount")?.breaking == false)
    // And a union macro compiled to `select *` reads amount.
    project.nodes[reader.uniqueID]?.compiled?.sql = #"select * from "raw"."deals""#
    #expect(Self.change(Self.report(project, [Self.liveDeals()]), from: "amount")?.breaking == true)
  }

  @Test func anUnrenderedReaderReadsEveryColumnAndIsNamed() {
    let reader = Self.compiled(
      DriftFixtures.model(
        "stg_deals", reads: [Self.deals.uniqueID], sql: "select deal_id from {{ source('crm', 'deals') }}"),
      nil, .unrendered)
    let report = Self.report(
      ProjectGraph(projectName: "shop", sources: [Self.deals], nodes: [reader]), [Self.liveDeals()])
    #expect(Self.change(report, from: "amount")?.breaking == true)
    #expect(
      report.columnReads == [
        ColumnReadNote(
          node: reader.uniqueID, status: .unrendered,
          reason: "models/x.sql:3: why; counted as reading every column")
      ])
  }

  /// source → `_tmp` (select *) → staging (fills absent columns with NULL) → two marts → a dashboard.
  static func silentNullProject(stagingRaw: String = "{{ fill_missing_columns(cols, stages_columns()) }}")
    -> ProjectGraph
  {
    let tmp = compiled(
      DriftFixtures.model("stg_stages_tmp", reads: [stages.uniqueID], sql: "{{ union_source('stages') }}"),
      #"select * from "raw"."stages""#)
    let staging = compiled(
      DriftFixtures.model("stg_stages", reads: [tmp.uniqueID], sql: stagingRaw),
      #"""
      with base as (select * from "analytics"."stg_stages_tmp"),
      fields as (select "stage_id" as "stage_id", cast(null as text) as "label", "probability" as "probability" from base)
      select * from fields
      """#)
    let pipeline = DriftFixtures.model(
      "fct_pipeline", reads: [staging.uniqueID],
      sql: "select s.label as stage from {{ ref('stg_stages') }} as s")
    let funnel = DriftFixtures.model(
      "fct_funnel", reads: [pipeline.uniqueID], sql: "select * from {{ ref('fct_pipeline') }}")
    let odds = DriftFixtures.model(
      "fct_odds", reads: [staging.uniqueID], sql: "select stage_id, probability from {{ ref('stg_stages') }}")
    return ProjectGraph(
      projectName: "shop", sources: [stages],
      nodes: [
        tmp, staging, pipeline, funnel, odds,
        DriftFixtures.exposure("pipeline_dashboard", on: [pipeline.uniqueID]),
      ])
  }

  @Test func aColumnFilledWithNullIsBreakingWithWhatReadsIt() {
    let report = Self.report(
      Self.silentNullProject(),
      [
        DriftFixtures.table(
          "stages", [("stage_id", "integer"), ("stage_label", "text"), ("probability", "integer")])
      ])
    let label = Self.change(report, from: "label")
    #expect(label?.breaking == true)
    #expect(
      label?.silentNulls == [
        SilentNull(
          node: "model.shop.stg_stages", column: "label",
          readBy: BlastRadius(
            models: ["model.shop.fct_funnel", "model.shop.fct_pipeline"],
            exposures: ["exposure.shop.pipeline_dashboard"]))
      ])
    #expect(
      label?.evidence.contains(
        "silently NULL in model.shop.stg_stages.label (its compiled SQL selects NULL in the column's place; "
          + "dbt stays green), read by 2 models (fct_funnel, fct_pipeline) and 1 dashboard (pipeline_dashboard)"
      )
        == true)
    // fct_odds reads the staging model but not label: its values do not go NULL.
    #expect(label?.silentNulls?.first?.readBy.models.contains("model.shop.fct_odds") == false)
    #expect(report.blastRadius.exposures == ["exposure.shop.pipeline_dashboard"])
  }

  @Test func aNullColumnIsFollowedUnderItsAlias() {
    // The staging model renames the filled column (`label as stage_name`); the mart reads stage_name.
    var project = Self.silentNullProject()
    project.nodes["model.shop.stg_stages"]?.compiled?.sql = #"""
      with fields as (select "stage_id", cast(null as text) as "label" from "analytics"."stg_stages_tmp")
      select stage_id, label as stage_name from fields
      """#
    project.nodes["model.shop.fct_pipeline"]?.rawCode = "select stage_name from {{ ref('stg_stages') }}"
    let report = Self.report(
      project,
      [
        DriftFixtures.table(
          "stages", [("stage_id", "integer"), ("stage_label", "text"), ("probability", "integer")])
      ])
    let silent = Self.change(report, from: "label")?.silentNulls?.first
    #expect(silent?.aliases == ["stage_name"])
    #expect(silent?.readBy.models == ["model.shop.fct_funnel", "model.shop.fct_pipeline"])
    #expect(
      Self.change(report, from: "label")?.evidence.contains {
        $0.hasPrefix("silently NULL in model.shop.stg_stages.label (as stage_name)")
      }
        == true)
  }

  @Test func aliasShapes() {
    #expect(
      ColumnUsage.aliases(
        of: "id", in: "select id as issue_id, cast(closed_at as timestamp) as closed_at from t") == [
          "issue_id"
        ])
    #expect(
      ColumnUsage.aliases(of: "closed_at", in: "select cast(closed_at as timestamp) as closed_ts from t") == [
        "closed_ts"
      ])
    #expect(ColumnUsage.aliases(of: "id", in: "select id, name from t where id is not null").isEmpty)
  }

  @Test func namesInsideAStringPassedToAMacroAreRead() {
    let usage = ColumnUsage(
      sql: "select {{ dbt.datediff('orders.created_at', 'orders.closed_at', 'day') }} from x")
    #expect(usage.reads(column: "created_at"))
    #expect(usage.reads(column: "closed_at"))
    #expect(!usage.reads(column: "amount"))
  }

  @Test func nullWrittenInTheModelItselfIsNotSilent() {
    let report = Self.report(
      Self.silentNullProject(stagingRaw: "select stage_id, cast(null as text) as label, probability from x"),
      [
        DriftFixtures.table(
          "stages", [("stage_id", "integer"), ("stage_label", "text"), ("probability", "integer")])
      ])
    #expect(Self.change(report, from: "label")?.silentNulls == nil)
  }

  @Test func selectsNullShapes() {
    #expect(ColumnUsage.selectsNull(as: "label", in: #"select cast(null as text) as "label" from t"#))
    #expect(ColumnUsage.selectsNull(as: "Label", in: "select a, null as label from t"))
    #expect(ColumnUsage.selectsNull(as: "label", in: "select a, null::varchar(10) as label, b from t"))
    #expect(
      ColumnUsage.selectsNull(as: "amount", in: "select a, cast(null as numeric(28, 6)) as amount from t"))
    #expect(!ColumnUsage.selectsNull(as: "label", in: "select coalesce(x, null) as label from t"))
    #expect(!ColumnUsage.selectsNull(as: "label", in: "select cast(x as text) as label from t"))
    #expect(!ColumnUsage.selectsNull(as: "label", in: "select null as other, label from t"))
    #expect(!ColumnUsage.selectsNull(as: "label", in: "select 'null as label' as x from t"))
  }
}
