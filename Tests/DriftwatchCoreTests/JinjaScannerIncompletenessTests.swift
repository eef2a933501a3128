import DriftwatchCore
import Testing

/// What the scan reports beyond literal refs: other calls, conditional refs, unreadable configs, bound names.
@Suite struct JinjaScannerIncompletenessTests {
  @Test func callsOfMacrosAndFunctionsAreListedWithTheirLines() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ simple_cte([('a', 'model_a'), ('b', 'model_b')]) }}
      select {{ dbt_utils.star(from=ref('orders')) }}
      {{ adapter.dispatch('my_macro', 'my_pkg')(1) }}
      {{ var('x') | replace('a', 'b') | lower }}
      {% if x is divisibleby(3) and not (y) %}{% endif %}
      {% macro helper(a, b=none) %}{{ a }}{% endmacro %}
      """)
    #expect(scan.calls.map(\.name) == ["simple_cte", "dbt_utils.star", "adapter.dispatch", "var"])
    #expect(scan.calls.map(\.line) == [1, 2, 3, 4])
    let dispatch = try #require(scan.calls.first { $0.name == "adapter.dispatch" })
    #expect(dispatch.dispatchName == "my_macro")
    #expect(dispatch.dispatchNamespace == "my_pkg")
    // The literal ref inside a macro's arguments is still found.
    #expect(scan.refs.map(\.name) == ["orders"])
    #expect(Set(scan.boundNames).isSuperset(of: ["helper", "a", "b"]))
  }

  @Test func setAndForBindNames() throws {
    let scan = try JinjaScanner.scan(
      """
      {% set cols = adapter.get_columns_in_relation(ref('a')) %}
      {% for c, d in items %}{% do cols.append(c) %}{% endfor %}
      """)
    #expect(Set(scan.boundNames).isSuperset(of: ["cols", "c", "d"]))
    #expect(scan.calls.map(\.name) == ["adapter.get_columns_in_relation", "cols.append"])
  }

  @Test func refsUnderAConditionThatIsNotLiteralAreConditional() throws {
    let scan = try JinjaScanner.scan(
      """
      {% if target.name == 'prod' %}
      select * from {{ ref('a') }}
      {% else %}
      select * from {{ ref('b') }}
      {% endif %}
      {% if true %}{{ ref('c') }}{% endif %}
      {{ ref('d') if var('x') else source('s', 't') }}
      {{ ref('e') }}
      """)
    // Both branches are still followed (a superset of dbt's edges) …
    #expect(scan.refs.map(\.name) == ["a", "b", "c", "d", "e"])
    // … and the calls whose branch dbt may not take are listed.
    #expect(scan.conditionalCalls.map(\.function) == ["ref", "ref", "ref", "source"])
    #expect(scan.conditionalCalls.map(\.line) == [2, 4, 7, 7])
  }

  @Test func nestedConditionsEndWithTheirEndif() throws {
    let scan = try JinjaScanner.scan(
      """
      {% if execute %}{% if true %}{{ ref('a') }}{% endif %}{{ ref('b') }}{% endif %}
      {{ ref('c') }}
      """)
    #expect(scan.conditionalCalls.map(\.line) == [1, 1])
    #expect(scan.refs.count == 3)
  }

  @Test func configsThatAreNotLiteralSayWhat() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ config({"tags": ["finance"]}) }}
      {{ config(enabled=is_adapter('bigquery'), materialized='table') }}
      {{ config(tags=var('tags'), materialized=var('m')) }}
      {{ config(enabled=false, schema=var('s')) }}
      """)
    #expect(
      scan.configs.map(\.unreadable) == [
        ["a positional argument"], ["enabled"], ["tags", "materialized"], [],
      ])
    #expect(scan.configs[1].materialized == "table")
    #expect(scan.enabled == false)
  }

  @Test func literalProjectsHaveNoUnknowns() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ config(materialized='view', tags=['a']) }}
      {%- set segments = ['premium', 'standard'] -%}
      select {% for s in segments %}{{ s }},{% endfor %} * from {{ ref('orders') }}
      {# {{ ghost() }} #}
      where x = '{{ not_a_call() }}'
      """)
    #expect(scan.conditionalCalls.isEmpty)
    #expect(scan.dynamicCalls.isEmpty)
    #expect(scan.configs.allSatisfy { $0.unreadable.isEmpty })
    // `not_a_call()` sits in SQL text, outside any `{{ }}`… but inside quotes in SQL, which Jinja renders: it is
    // a call. The comment's is not.
    #expect(scan.calls.map(\.name) == ["not_a_call"])
  }
}
