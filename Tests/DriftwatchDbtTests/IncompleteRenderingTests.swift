import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

/// The nodes the scan leaves incomplete are rendered as dbt parses them: what they record replaces what the scan
/// read and they become exact, or they stay incomplete with the engine's error (file, line, construct).
@Suite struct IncompleteRenderingTests {
  private let projectFile = TemporaryProject.minimalProjectFile
  private let devTarget = ["name": "dev", "type": "postgres", "schema": "analytics"]

  private func read(_ files: [String: String], target: [String: String] = [:]) throws -> ProjectGraph {
    let project = try TemporaryProject(files)
    defer { project.remove() }
    return try DbtProjectReader.read(
      projectDirectory: project.directory, options: DbtReadOptions(environment: [:], target: target))
  }

  private func parents(_ graph: ProjectGraph, _ id: String) -> Set<String> {
    Set(graph.nodes[id]?.dependsOn ?? [])
  }

  /// The fixture compared with `dbt ls` in RenderedLineageTests: with the profile's target, nothing is left
  /// incomplete, and the edges and tags are the ones dbt records.
  @Test func theFixtureIsExactWithItsProfilesTarget() throws {
    let directory = Fixtures.path("render_shop")
    let target = try ProfilesReader.targetAttributes(
      profilesDirectory: directory, projectDirectory: directory, profileName: nil, target: nil,
      environment: [:])
    #expect(target["name"] == "dev")
    #expect(target["type"] == "postgres")
    #expect(target["password"] == nil)
    #expect(target["user"] == "nobody")
    #expect(target["port"] == "5432")
    let graph = try DbtProjectReader.read(
      projectDirectory: directory, options: DbtReadOptions(environment: [:], target: target))
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    let shop = "model.render_shop."
    #expect(parents(graph, shop + "m_cte") == [shop + "stg_a", shop + "stg_b"])
    #expect(parents(graph, shop + "m_var_list") == [shop + "stg_a", shop + "stg_b"])
    #expect(parents(graph, shop + "m_var") == [shop + "stg_c", shop + "stg_b"])
    #expect(parents(graph, shop + "m_target") == [shop + "stg_b"])
    // money.pick dispatches to the root project's postgres__pick first.
    #expect(parents(graph, shop + "m_dispatch") == [shop + "stg_c"])
    #expect(
      parents(graph, shop + "m_sources") == [
        "source.render_shop.raw.orders", "source.render_shop.raw.payments",
      ])
    #expect(graph.nodes[shop + "m_tags"]?.tags == ["finance", "nightly"])
    #expect(graph.nodes[shop + "m_final"]?.tags == ["daily"])
    // The postgres duplicate is the enabled one.
    #expect(graph.nodes[shop + "m_dup"]?.filePath == "models/postgres/m_dup.sql")
    #expect(parents(graph, shop + "m_dup") == [shop + "stg_b"])
    #expect(parents(graph, "test.render_shop.assert_var_cte") == [shop + "m_var"])
  }

  /// A macro calling a sibling macro of its own file (Dune's spellbook: a model calls `master()`, which loops
  /// over a dict calling `by_contract()` beside it, which passes `source(project + '_' + chain, …)` to a third).
  /// The sibling is followed, so the model is rendered and gets every source dbt records — it used to be read
  /// as exact with no parents.
  @Test func macrosCallingSiblingMacrosOfTheirFileAreFollowed() throws {
    let files = [
      "dbt_project.yml": projectFile,
      "models/src.yml": """
      version: 2
      sources:
        - name: p_arb
          tables: [{name: A1_t1}, {name: A2_t1}]
      """,
      "macros/m.sql": """
      {% macro inner(rel, name) %}select '{{ name }}' from {{ rel }}{% endmacro %}
      {% macro by_contract(chain, project, contract) %}
        with x as ({{ inner(source(project + '_' + chain, contract + '_t1'), 'lit') }}) select * from x
      {% endmacro %}
      {% macro master(chain, project) %}
        {% set contracts = {"A1": {"version": "6.1"}, "A2": {"version": "6.2"}} %}
        {% for name, details in contracts.items() %}select * from ({{ by_contract(chain, project, name) }}){% endfor %}
      {% endmacro %}
      """,
      "models/m.sql": "{{ config(materialized='table') }}\n{{ master('arb', 'p') }}\n",
    ]
    let graph = try read(files, target: devTarget)
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    #expect(
      parents(graph, "model.shop.m") == ["source.shop.p_arb.A1_t1", "source.shop.p_arb.A2_t1"])
  }

  /// dbt renders a generic test's definition for each test of that name, so refs in its body are the test's
  /// parents too; definitions live in `tests/generic/` (read as macro files) or in macro files (Dune's spellbook:
  /// 109 `check_dex_aggregator_seed` tests depend on the seed their definition refs). A definition whose refs
  /// are not literal leaves its tests incomplete instead.
  @Test func genericTestDefinitionsAddTheirRefs() throws {
    var files = [
      "dbt_project.yml": projectFile,
      "seeds/expected.csv": "id\n1\n",
      "models/a.sql": "select 1 as id\n",
      "models/a.yml": """
      version: 2
      models:
        - name: a
          data_tests: [matches_seed]
          columns:
            - name: id
              data_tests: [unique, loose]
      """,
      "tests/generic/matches_seed.sql": """
      {% test matches_seed(model) %}
        {%- set expected = ref('expected') -%}
        select * from {{ model }} except select * from {{ expected }}
      {% endtest %}
      """,
      "macros/loose.sql": "{% test loose(model, column_name) %}select 1 from {{ model }}{% endtest %}\n",
    ]
    let graph = try read(files, target: devTarget)
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    let tests = graph.nodes.values.filter { $0.resourceType == .test }
    let matches = try #require(tests.first { $0.test?.testName == "matches_seed" })
    #expect(Set(matches.dependsOn) == ["model.shop.a", "seed.shop.expected"])
    let loose = try #require(tests.first { $0.test?.testName == "loose" })
    #expect(loose.dependsOn == ["model.shop.a"])

    files["tests/generic/matches_seed.sql"] = """
      {% test matches_seed(model) %}select * from {{ model }} except select * from {{ ref(var('seed')) }}{% endtest %}
      """
    let dynamic = try read(files, target: devTarget)
    let id = try #require(
      dynamic.nodes.values.first { $0.test?.testName == "matches_seed" }?.uniqueID)
    #expect(dynamic.incomplete[id]?.first?.kind == .macroCall, "\(dynamic.incomplete)")
  }

  /// A generic test's `config: enabled` holding Jinja is rendered as dbt renders yml (it was taken as enabled,
  /// silently); one driftwatch cannot evaluate keeps the test and marks it incomplete.
  @Test func aGenericTestsJinjaEnabledIsRenderedOrMarked() throws {
    func files(_ enabled: String) -> [String: String] {
      [
        "dbt_project.yml": projectFile + "\nvars:\n  run_slow_tests: false\n",
        "models/a.sql": "select 1 as id\n",
        "models/a.yml": """
        version: 2
        models:
          - name: a
            columns:
              - name: id
                data_tests:
                  - not_null
                  - unique:
                      config:
                        enabled: "\(enabled)"
        """,
      ]
    }
    func testNames(_ graph: ProjectGraph) -> Set<String> {
      Set(graph.nodes.values.compactMap { $0.resourceType == .test ? $0.test?.testName : nil })
    }
    let off = try read(files("{{ var('run_slow_tests', true) }}"), target: devTarget)
    #expect(testNames(off) == ["not_null"])
    #expect(off.incomplete.isEmpty, "\(off.incomplete)")
    let on = try read(files("{{ target.name == 'dev' }}"), target: devTarget)
    #expect(testNames(on) == ["not_null", "unique"])
    let unknown = try read(files("{{ some_macro() }}"), target: devTarget)
    let id = try #require(unknown.nodes.values.first { $0.test?.testName == "unique" }?.uniqueID)
    #expect(unknown.incomplete[id]?.first?.kind == .dynamicConfig, "\(unknown.incomplete)")
  }

  @Test func theTargetDecidesBranchesAndConfig() throws {
    let files = [
      "dbt_project.yml": projectFile,
      "models/a.sql": "select 1 as id\n",
      "models/b.sql": "select 1 as id\n",
      "models/m.sql": """
      {{ config(tags=['nightly'] if target.name == 'prod' else ['daily']) }}
      {% if target.name == 'prod' %}select * from {{ ref('a') }}{% else %}select * from {{ ref('b') }}{% endif %}
      """,
    ]
    var prod = devTarget
    prod["name"] = "prod"
    let dev = try read(files, target: devTarget)
    #expect(dev.incomplete.isEmpty)
    #expect(parents(dev, "model.shop.m") == ["model.shop.b"])
    #expect(dev.nodes["model.shop.m"]?.tags == ["daily"])
    let production = try read(files, target: prod)
    #expect(parents(production, "model.shop.m") == ["model.shop.a"])
    #expect(production.nodes["model.shop.m"]?.tags == ["nightly"])
  }

  @Test func withoutATargetANodeThatReadsItStaysIncomplete() throws {
    let graph = try read([
      "dbt_project.yml": projectFile,
      "macros/is_adapter.sql": "{% macro is_adapter(a) %}{{ return(target.type == a) }}{% endmacro %}",
      "models/a.sql": "select 1 as id\n",
      "models/bq.sql": "{{ config(enabled=is_adapter('bigquery')) }}\nselect * from {{ ref('a') }}\n",
      "models/cte.sql": "{% set m = 'a' %}\nselect * from {{ ref(m) }}\n",
    ])
    let reasons = graph.incompleteness(of: "model.shop.bq")
    #expect(reasons.map(\.kind) == [.renderFailed])
    #expect(reasons.first?.construct == "target")
    #expect(reasons.first?.file == "models/bq.sql")
    #expect(reasons.first?.reason.contains("no dbt target is known") == true)
    // A ref the scan could not read, rendered without reading the target: exact.
    #expect(graph.incompleteness(of: "model.shop.cte").isEmpty)
    #expect(parents(graph, "model.shop.cte") == ["model.shop.a"])
  }

  @Test func anUndefinedMacroOrAnUnsupportedConstructKeepsTheNodeIncompleteWithTheEnginesError() throws {
    let graph = try read(
      [
        "dbt_project.yml": projectFile,
        "macros/refs.sql": """
        {% macro star_of(m) %}
        {%- set cols = [] -%}
        {{ ref(m) | urlize }}
        {% endmacro %}
        """,
        "models/a.sql": "select 1 as id\n",
        "models/missing.sql": "select * from {{ dbt_utils.star(ref('a')) }}\n",
        "models/unsupported.sql": "select 1 as x\n{{ star_of('a') }}\n",
        "models/builtin.sql": "{% set m = 'a' %}\nselect {{ dbt.current_timestamp() }} from {{ ref(m) }}\n",
      ], target: devTarget)
    let missing = graph.incompleteness(of: "model.shop.missing")
    #expect(missing.map(\.kind) == [.renderFailed])
    #expect(missing.first?.construct == "dbt_utils.star(…)")
    #expect(missing.first?.file == "models/missing.sql")
    #expect(missing.first?.line == 1)
    let unsupported = graph.incompleteness(of: "model.shop.unsupported")
    #expect(unsupported.map(\.kind) == [.renderFailed])
    // The error is located in the macro file, at the filter.
    #expect(unsupported.first?.file == "macros/refs.sql")
    #expect(unsupported.first?.line == 3)
    #expect(unsupported.first?.reason.contains("urlize") == true)
    #expect(unsupported.first?.effects.contains(.missingEdges) == true)
    // A call of one of dbt's own macros records nothing: the node is exact.
    #expect(graph.incompleteness(of: "model.shop.builtin").isEmpty)
    #expect(parents(graph, "model.shop.builtin") == ["model.shop.a"])
  }

  @Test func varsOfThePackageScopeAndListsReachTheRender() throws {
    let graph = try read([
      "dbt_project.yml": projectFile + "\nvars:\n  upstream: a\n  shop:\n    many: [a, b]\n",
      "models/a.sql": "select 1 as id\n",
      "models/b.sql": "select 1 as id\n",
      "models/m.sql": """
      select * from {{ ref(var('upstream')) }}
      {% for x in var('many') %} join {{ ref(x) }} using (id){% endfor %}
      """,
    ])
    #expect(graph.incomplete.isEmpty, "\(graph.incomplete)")
    #expect(parents(graph, "model.shop.m") == ["model.shop.a", "model.shop.b"])
  }
}
