import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// Readers compiled as dbt compiles them: the manifest's `compiled_code`, or the project's files rendered
/// with the compile-time context against the live schema.
@Suite struct ReaderCompilationTests {
  /// The connector-style package the PostgreSQL + dbt proof uses (Tests/DriftwatchCommandsTests/Fixtures).
  static let connectorShop = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("DriftwatchCommandsTests/Fixtures/connector_shop")
    .path

  /// The connector's raw tables after the upstream drift: amount dropped, label renamed, owner_id text.
  static let drifted = LiveSchema(
    inspected: [SchemaRef(schema: "raw")],
    tables: [
      LiveTable(
        schema: SchemaRef(schema: "raw"), name: "deals",
        columns: [
          LiveColumn(name: "deal_id", dataType: "integer", position: 1),
          LiveColumn(name: "stage_id", dataType: "integer", position: 2),
          LiveColumn(name: "owner_id", dataType: "text", position: 3),
        ]),
      LiveTable(
        schema: SchemaRef(schema: "raw"), name: "stages",
        columns: [
          LiveColumn(name: "stage_id", dataType: "integer", position: 1),
          LiveColumn(name: "stage_label", dataType: "text", position: 2),
          LiveColumn(name: "probability", dataType: "integer", position: 3),
        ]),
    ])

  static func compiled(_ project: ProjectGraph, _ live: LiveSchema) -> ProjectGraph {
    project.compilingReaders(
      of: Set(project.sources.keys), live: live, lineage: LineageGraph(project: project))
  }

  @Test func manifestCompiledCodeIsKept() throws {
    let project = try TemporaryProject([
      "manifest.json": """
      {"metadata": {"project_name": "p"},
       "nodes": {
         "model.p.a": {"resource_type": "model", "name": "a", "package_name": "p",
                       "depends_on": {"nodes": ["source.p.app.users"]}, "raw_code": "{{ union_source('users') }}",
                       "compiled_code": "select * from \\"app\\".\\"users\\""},
         "model.p.b": {"resource_type": "model", "name": "b", "package_name": "p",
                       "depends_on": {"nodes": ["model.p.a"]}, "raw_code": "select 1"},
         "seed.p.s": {"resource_type": "seed", "name": "s", "package_name": "p", "compiled_code": "x"}
       },
       "sources": {
         "source.p.app.users": {"name": "users", "source_name": "app", "package_name": "p",
                       "schema": "app", "identifier": "users"}
       }}
      """
    ])
    defer { project.remove() }
    let graph = try ManifestReader.read(path: project.path("manifest.json"))
    #expect(
      graph.nodes["model.p.a"]?.compiled
        == CompiledReader(sql: #"select * from "app"."users""#, status: .compiled))
    #expect(graph.nodes["model.p.a"]?.columnUsage?.readsEverything == true)
    // After `dbt parse` there is no compiled code: the raw SQL is what is known.
    #expect(graph.nodes["model.p.b"]?.compiled == nil)
    #expect(graph.nodes["seed.p.s"]?.compiled == nil)
    // Lineage leaves the SQL out, compiled code too.
    let lean = try ManifestReader.read(
      path: project.path("manifest.json"), options: ManifestReadOptions(includeSQL: false))
    #expect(lean.nodes["model.p.a"]?.compiled == nil)
    // A manifest's graph has nothing to render with.
    #expect(graph.readerCompiler?.compiler == nil)
  }

  @Test func connectorReadersCompiledAgainstTheLiveSchema() throws {
    // The union macro asks the adapter whether the source's table exists: with a target, as dbt parses.
    let project = try DbtProjectReader.read(
      projectDirectory: Self.connectorShop,
      options: DbtReadOptions(
        environment: [:], target: ["name": "dev", "type": "postgres", "schema": "analytics"]))
    #expect(project.incomplete.isEmpty, "\(project.incomplete)")
    let graph = Self.compiled(project, Self.drifted)
    // The union macro's `_tmp` model: `select *` from the source its var names.
    let tmp = graph.nodes["model.connector_shop.stg_crm__stages_tmp"]?.compiled
    #expect(tmp?.status == .compiled)
    #expect(tmp?.sql?.contains(#"select * from "raw"."stages""#) == true)
    #expect(tmp.flatMap(\.sql).map { ColumnUsage(sql: $0).readsEverything } == true)
    // The staging model compares its column list with the `_tmp` model's columns (the source's, live).
    let stages = graph.nodes["model.connector_shop.stg_crm__stages"]?.compiled
    #expect(stages?.status == .compiled, "\(stages?.reason ?? "")")
    #expect(stages?.againstLiveSchema == true)
    let stagesSQL = stages?.sql ?? ""
    #expect(ColumnUsage.selectsNull(as: "label", in: stagesSQL), "\(stagesSQL)")
    #expect(!ColumnUsage.selectsNull(as: "probability", in: stagesSQL))
    let deals = graph.nodes["model.connector_shop.stg_crm__deals"]?.compiled?.sql ?? ""
    #expect(ColumnUsage.selectsNull(as: "amount", in: deals), "\(deals)")
    #expect(!ColumnUsage.selectsNull(as: "owner_id", in: deals))
    // Before the drift nothing is NULL.
    let before = LiveSchema(
      inspected: [SchemaRef(schema: "raw")],
      tables: [
        LiveTable(
          schema: SchemaRef(schema: "raw"), name: "stages",
          columns: ["stage_id", "label", "probability"].enumerated().map {
            LiveColumn(name: $1, dataType: "text", position: $0 + 1)
          })
      ])
    let clean =
      Self.compiled(project, before).nodes["model.connector_shop.stg_crm__stages"]?.compiled?.sql ?? ""
    #expect(!ColumnUsage.selectsNull(as: "label", in: clean), "\(clean)")
    #expect(clean.contains(#""label" as "label""#), "\(clean)")
  }

  /// A connector's `_tmp` model: `select * from {{ var('issue') }}`, the var holding `{{ source(…) }}`.
  @Test func aVarHoldingSourceGivesTheEdge() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": """
      name: p
      version: '1'
      config-version: 2
      vars:
        p:
          issue: "{{ source('github', 'issue') }}"
      """,
      "models/sources.yml": """
      version: 2
      sources:
        - name: github
          schema: raw
          tables:
            - name: issue
      """,
      "models/stg_issue_tmp.sql": "select *\nfrom {{ var('issue') }}",
      "models/plain.sql": "select {{ var('limit', 3) }} as n",
    ])
    defer { project.remove() }
    let graph = try DbtProjectReader.read(
      projectDirectory: project.directory, options: DbtReadOptions(environment: [:]))
    #expect(graph.nodes["model.p.stg_issue_tmp"]?.dependsOn == ["source.p.github.issue"])
    #expect(graph.nodes["model.p.plain"]?.dependsOn == [])
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    let compiled = Self.compiled(
      graph,
      LiveSchema(
        inspected: [SchemaRef(schema: "raw")],
        tables: [
          LiveTable(
            schema: SchemaRef(schema: "raw"), name: "issue",
            columns: [LiveColumn(name: "id", dataType: "integer", position: 1)])
        ]))
    #expect(compiled.nodes["model.p.stg_issue_tmp"]?.compiled?.sql == "select *\nfrom \"raw\".\"issue\"")
  }

  @Test func runQueryIsApproximateAndAnUnknownMacroIsUnrendered() throws {
    let project = try TemporaryProject([
      "dbt_project.yml": "name: p\nversion: '1'\nconfig-version: 2\n",
      "models/sources.yml": """
      version: 2
      sources:
        - name: app
          schema: raw
          tables:
            - name: users
      """,
      "models/by_query.sql": """
      {% set rows = run_query("select distinct kind from raw.users") %}
      select id{% for row in rows %}, {{ row[0] }}{% endfor %} from {{ source('app', 'users') }}
      """,
      "models/unknown.sql": "select {{ not_installed.columns() }} from {{ source('app', 'users') }}",
      "models/missing_table.sql": """
      select {{ adapter.get_columns_in_relation(source('app', 'users')) | length }} from {{ source('app', 'users') }}
      """,
    ])
    defer { project.remove() }
    let graph = Self.compiled(
      try DbtProjectReader.read(
        projectDirectory: project.directory, options: DbtReadOptions(environment: [:])),
      LiveSchema(inspected: [SchemaRef(schema: "raw")], tables: []))
    let byQuery = graph.nodes["model.p.by_query"]?.compiled
    #expect(byQuery?.status == .approximate)
    #expect(byQuery?.reason?.contains("run_query(…) needs a real query") == true)
    let unknown = graph.nodes["model.p.unknown"]?.compiled
    #expect(unknown?.status == .unrendered)
    #expect(unknown?.reason?.contains("not_installed.columns(…)") == true, "\(unknown?.reason ?? "")")
    #expect(graph.nodes["model.p.unknown"]?.columnUsage == nil)
    // The table is not in the warehouse: its columns are not known, never an empty list.
    let missing = graph.nodes["model.p.missing_table"]?.compiled
    #expect(missing?.status == .unrendered)
    #expect(missing?.reason?.contains("are not known") == true, "\(missing?.reason ?? "")")
  }
}
