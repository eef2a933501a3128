import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// What the project reader cannot evaluate is never silent: each pattern of the "Jinja programs" issue marks
/// the nodes it affects incomplete, with the file, line and construct; literal projects stay exact.
@Suite struct IncompletenessReaderTests {
  private let projectFile = TemporaryProject.minimalProjectFile

  private func read(_ files: [String: String], environment: [String: String] = [:]) throws -> ProjectGraph {
    let project = try TemporaryProject(files)
    defer { project.remove() }
    // What the scan marks (rendering, which settles most of it, is tested in IncompleteRenderingTests).
    var options = DbtReadOptions(environment: environment)
    options.renderIncomplete = false
    return try DbtProjectReader.read(projectDirectory: project.directory, options: options)
  }

  private func kinds(_ graph: ProjectGraph, _ id: String) -> [Incompleteness.Kind] {
    graph.incompleteness(of: id).map(\.kind)
  }

  private let base = "select 1 as id\n"

  @Test func refsThroughAProjectMacroFedAListOfTuples() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "macros/simple_cte.sql": """
      {% macro simple_cte(tuple_list) %}
      with {% for cte_ref in tuple_list %}{{ cte_ref[0] }} as (select * from {{ ref(cte_ref[1]) }})
      {%- if not loop.last -%},{%- endif -%}{% endfor %}
      {% endmacro %}
      """,
      "models/model_a.sql": base,
      "models/b.sql": "{{ simple_cte([('a', 'model_a')]) }}\nselect * from a\n",
    ])
    let reasons = graph.incompleteness(of: "model.shop.b")
    #expect(reasons.map(\.kind) == [.macroCall])
    let reason = try #require(reasons.first)
    #expect(reason.file == "models/b.sql")
    #expect(reason.line == 1)
    #expect(reason.construct == "simple_cte")
    #expect(reason.effects.contains(.missingEdges))
    #expect(reason.detail?.hasPrefix("macros/simple_cte.sql:2 calls ref()") == true)
    // The edge itself is still unknown to the scan (the engine will find it): only marked.
    #expect(graph.nodes["model.shop.b"]?.dependsOn == [])
    #expect(graph.incomplete["model.shop.model_a"] == nil)
    #expect(IncompletenessSummary.lines(graph).first?.contains("models/b.sql:1") == true)
  }

  @Test func refsInsideAPackageMacroReachedThroughDispatch() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "dbt_packages/helpers/dbt_project.yml": "name: helpers\nversion: '1.0'\nconfig-version: 2\n",
      "dbt_packages/helpers/macros/orders.sql": """
      {% macro orders_relation() %}{{ return(adapter.dispatch('orders_relation', 'helpers')()) }}{% endmacro %}
      {% macro default__orders_relation() %}{{ ref('model_a') }}{% endmacro %}
      {% macro harmless() %}{{ adapter.quote('x') }}{{ dbt.current_timestamp() }}{% endmacro %}
      """,
      "models/model_a.sql": base,
      "models/b.sql": "select * from {{ helpers.orders_relation() }}\n",
      "models/c.sql": "select {{ helpers.harmless() }} from {{ ref('model_a') }}\n",
    ])
    #expect(kinds(graph, "model.shop.b") == [.macroCall])
    #expect(graph.incompleteness(of: "model.shop.b").first?.detail?.contains("orders.sql:2") == true)
    // A macro whose body (and what it dispatches to) calls no ref/source/config leaves the model exact.
    #expect(graph.incomplete["model.shop.c"] == nil)
  }

  @Test func unknownMacrosAreIncompleteButBuiltinsAreNot() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/a.sql": """
      {{ config(materialized='incremental') }}
      select {{ dbt.date_trunc('month', 'x') }}, {{ var('v', 1) }}, '{{ env_var('HOME', '') }}'
      from {{ this }} {% if is_incremental() %}where 1 = 1{% endif %}
      {{ log('hi') }} {{ adapter.quote('y') | lower }}
      """,
      "models/b.sql": "select * from {{ not_installed.some_macro() }}\n",
    ])
    #expect(graph.incomplete["model.shop.a"] == nil)
    let reason = try #require(graph.incompleteness(of: "model.shop.b").first)
    #expect(reason.kind == .unknownCall)
    #expect(reason.construct == "not_installed.some_macro(…)")
  }

  @Test func refOfAVar() throws {
    let graph = try read([
      "dbt_project.yml": projectFile + "\nvars:\n  upstream: model_a\n",
      "models/model_a.sql": base,
      "models/b.sql": "select * from {{ ref(var('upstream')) }}\n",
    ])
    let reason = try #require(graph.incompleteness(of: "model.shop.b").first)
    #expect(reason.kind == .dynamicCall)
    #expect(reason.construct == "ref(…)")
    #expect(reason.effects == [.missingEdges])
  }

  @Test func configWithADictOfTags() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/a.sql": "{{ config({\"tags\": [\"finance\"]}) }}\nselect 1\n",
    ])
    let reason = try #require(graph.incompleteness(of: "model.shop.a").first)
    #expect(reason.kind == .dynamicConfig)
    #expect(reason.effects == [.config])
  }

  @Test func enabledByAnAdapterCheckKeepsOneOfTwoNamesakes() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/bigquery/orders.sql": "{{ config(enabled=is_adapter('bigquery')) }}\nselect 1\n",
      "models/postgres/orders.sql": "{{ config(enabled=is_adapter('postgres')) }}\nselect 2\n",
    ])
    // No duplicate-model error: one is kept, marked.
    let kept = try #require(graph.nodes["model.shop.orders"])
    #expect(kept.filePath == "models/bigquery/orders.sql")
    #expect(kinds(graph, "model.shop.orders").contains(.dynamicConfig))
    #expect(kinds(graph, "model.shop.orders").contains(.ambiguousEnabled))
  }

  @Test func bothBranchesOfATargetConditionAreMarked() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/a.sql": base,
      "models/b.sql": base,
      "models/c.sql": """
      {% if target.name == 'prod' %}select * from {{ ref('a') }}
      {% else %}select * from {{ ref('b') }}{% endif %}
      """,
    ])
    #expect(graph.nodes["model.shop.c"]?.dependsOn.sorted() == ["model.shop.a", "model.shop.b"])
    let reason = try #require(graph.incompleteness(of: "model.shop.c").first)
    #expect(reason.kind == .conditionalCall)
    #expect(reason.effects == [.extraEdges])
    #expect(reason.line == 1)
  }

  @Test func jinjaStatementsInASourceDatabaseMakeItIncompleteNotAnError() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/_sources.yml": """
      sources:
        - name: app
          database: "{% if target.type != 'spark' %}raw{% endif %}"
          tables:
            - name: users
      """,
    ])
    let source = try #require(graph.sources["source.shop.app.users"])
    #expect(source.schema == "app")
    let reason = try #require(graph.incompleteness(of: "source.shop.app.users").first)
    #expect(reason.kind == .unrenderedField)
    #expect(reason.construct == "database:")
    #expect(reason.file == "models/_sources.yml")
    #expect(reason.line == 3)
    #expect(reason.effects == [.location])
  }

  @Test func jinjaInProjectEnabledIsRenderedWhenItCanBeAndMarkedWhenNot() throws {
    // As dbt 1.11 renders dbt_project.yml: a var's default (the project's own vars are not known yet then).
    let renderable = try read([
      "dbt_project.yml": projectFile
        + "\nvars:\n  legacy_on: true\nmodels:\n  shop:\n    legacy:\n"
        + "      +enabled: \"{{ var('legacy_on', false) }}\"\n",
      "models/legacy/old.sql": base,
      "models/new.sql": base,
    ])
    #expect(renderable.nodes["model.shop.old"] == nil)
    #expect(renderable.incomplete.isEmpty)
    // Jinja that reads the target while no target is known: incomplete. (Without a default and without
    // --vars, a var fails as in dbt: YAMLRenderingTests.)
    let unrenderable = try read([
      "dbt_project.yml": projectFile
        + "\nmodels:\n  shop:\n    legacy:\n      +enabled: \"{{ target.name == 'prod' }}\"\n",
      "models/legacy/old.sql": base,
      "models/new.sql": base,
    ])
    let reason = try #require(unrenderable.incompleteness(of: "model.shop.old").first)
    #expect(reason.kind == .projectConfig)
    #expect(reason.file == "dbt_project.yml")
    #expect(reason.line == 8)
    #expect(unrenderable.incomplete["model.shop.new"] == nil)
  }

  @Test func jinjaInAPropertiesEnabledIsRenderedWithVarsOrMarked() throws {
    let graph = try read([
      "dbt_project.yml": projectFile + "\nvars:\n  old_on: false\n",
      "models/old.sql": base,
      "models/maybe.sql": base,
      "models/schema.yml": """
      models:
        - name: old
          config:
            enabled: "{{ var('old_on') }}"
        - name: maybe
          config:
            enabled: "{{ target.name == 'prod' }}"
      """,
    ])
    #expect(graph.nodes["model.shop.old"] == nil)
    let reason = try #require(graph.incompleteness(of: "model.shop.maybe").first)
    #expect(reason.kind == .dynamicConfig)
    #expect(reason.place == "models/schema.yml:7")
  }

  @Test func aDuplicateYAMLKeyIsAWarningAndTheLastOneWins() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/a.sql": base,
      "models/schema.yml": "models:\n  - name: a\n    config:\n      tags: [first]\n      tags: [second]\n",
    ])
    #expect(graph.nodes["model.shop.a"]?.tags == ["second"])
    #expect(graph.incomplete.isEmpty)
    #expect(graph.warnings.map(\.place) == ["models/schema.yml:5"])
    #expect(graph.warnings.first?.message.contains("duplicate key `tags`") == true)
  }

  @Test func aPythonModelIsIncomplete() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "models/a.sql": base,
      "models/scores.py": "def model(dbt, session):\n    return dbt.ref('a')\n",
    ])
    #expect(graph.nodes["model.shop.scores"]?.dependsOn == ["model.shop.a"])
    #expect(kinds(graph, "model.shop.scores") == [.pythonModel])
  }

  @Test func aLiteralProjectWithHarmlessMacrosStaysExact() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "macros/cents.sql": "{% macro cents(col) %}({{ col }} * 100)::bigint{% endmacro %}\n",
      "models/_sources.yml": "sources:\n  - name: raw\n    schema: \"{{ env_var('RAW', 'raw') }}\"\n"
        + "    tables:\n      - name: orders\n",
      "models/stg.sql": """
      {{ config(materialized='view', tags=['staging']) }}
      {%- set cols = ['id', 'amount'] -%}
      select {% for c in cols %}{{ c }}, {% endfor %}{{ cents('amount') }} as cents
      from {{ source('raw', 'orders') }}
      {% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}
      """,
      "models/fct.sql": "select * from {{ ref('stg') }}\n",
    ])
    #expect(graph.incomplete.isEmpty)
    #expect(graph.warnings.isEmpty)
    #expect(IncompletenessSummary.lines(graph).isEmpty)
  }

  @Test func theExampleProjectsStayExact() throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let acme = try DbtProjectReader.read(
      projectDirectory: repository.appendingPathComponent("examples/acme").path)
    #expect(acme.incomplete.isEmpty, "\(IncompletenessSummary.lines(acme))")
    #expect(acme.warnings.isEmpty)
    // The jaffle fixture's only unknown is its Python model.
    let jaffle = try DbtProjectReader.read(projectDirectory: Fixtures.jaffleDrift)
    #expect(
      jaffle.incomplete.keys.sorted() == ["model.jaffle_drift.customer_scores"],
      "\(IncompletenessSummary.lines(jaffle))")
  }
}
