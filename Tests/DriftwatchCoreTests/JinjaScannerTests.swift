import DriftwatchCore
import Testing

@Suite struct JinjaScannerTests {
  private func names(_ scan: JinjaScan) -> [String] {
    scan.refs.map { ref in
      [ref.package, ref.name].compactMap { $0 }.joined(separator: ".") + (ref.version.map { "@v\($0)" } ?? "")
    }
  }

  private func sourceNames(_ scan: JinjaScan) -> [String] {
    scan.sources.map { "\($0.sourceName).\($0.tableName)" }
  }

  @Test func findsRefsAndSourcesInExpressions() throws {
    let scan = try JinjaScanner.scan(
      """
      select * from {{ ref('orders') }}
      join {{ ref("customers") }} using (id)
      join {{ source('acme', 'raw_users') }} on true
      join {{ source("acme" , "raw_orders") }} on true
      """)
    #expect(names(scan) == ["orders", "customers"])
    #expect(sourceNames(scan) == ["acme.raw_users", "acme.raw_orders"])
    #expect(scan.refs.map(\.line) == [1, 2])
    #expect(scan.sources.map(\.line) == [3, 4])
  }

  @Test func packagesAndVersions() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ ref('utils', 'calendar') }}
      {{ ref('dim_customers', v=2) }}
      {{ ref('dim_customers', version='1') }}
      {{ ref("pkg", "m", version=3) }}
      {{ ref('m', v=None) }}
      """)
    #expect(names(scan) == ["utils.calendar", "dim_customers@v2", "dim_customers@v1", "pkg.m@v3", "m"])
  }

  @Test func commentsAndRawBlocksAreSkipped() throws {
    let scan = try JinjaScanner.scan(
      """
      {# {{ ref('in_comment') }} #}
      {#- multi
          line {{ ref('in_multiline_comment') }}
      -#}
      {% raw %}{{ ref('in_raw') }}{% endraw %}
      {%- raw -%}
        {{ source('raw', 'in_raw') }}
      {%- endraw -%}
      {%+ raw +%} {{ ref('in_raw_plus') }} {%+ endraw +%}
      select * from {{ ref('real') }}
      """)
    #expect(names(scan) == ["real"])
    #expect(scan.sources.isEmpty)
    #expect(scan.refs.first?.line == 10)
  }

  @Test func whitespaceControlAndMultilineCalls() throws {
    let scan = try JinjaScanner.scan(
      """
      {{- ref('a') -}}
      {%- set x = ref('b') -%}
      {{
          ref(
              "c"
          )
      }}
      {%+ if true +%}{{ source(
        'acme',
        'users'
      ) }}{% endif %}
      """)
    #expect(names(scan) == ["a", "b", "c"])
    #expect(scan.refs.map(\.line) == [1, 2, 4])
    #expect(sourceNames(scan) == ["acme.users"])
    #expect(scan.sources.first?.line == 8)
  }

  @Test func setBlocksAndBothBranchesOfIfCount() throws {
    let scan = try JinjaScanner.scan(
      """
      {% set query %}
        select * from {{ ref('inside_set_block') }}
      {% endset %}
      {% if target.name == 'prod' %}
        {{ ref('prod_branch') }}
      {% else %}
        {{ ref('dev_branch') }}
      {% endif %}
      """)
    #expect(names(scan) == ["inside_set_block", "prod_branch", "dev_branch"])
  }

  @Test func stringsAndLookalikesAreNotCalls() throws {
    let scan = try JinjaScanner.scan(
      """
      select '{{' as a, '}}' as b, 'ref(''x'')' as c
      {{ "ref('in_string')" }}
      {{ my_ref('nope') }} {{ href('no') }} {{ adapter.ref('no') }}
      {{ dbt_utils.star(from=ref('starred')) }}
      {{ {'a': {'b': ref('in_dict')}} }}
      {{ "a }} b" ~ ref('after_tricky_string') }}
      """)
    #expect(names(scan) == ["starred", "in_dict", "after_tricky_string"])
  }

  @Test func dynamicCallsAreReportedNotGuessed() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ ref(var('model_name')) }}
      {{ ref('a' ~ 'b') }}
      {{ source('acme') }}
      {{ ref('ok') }}
      """)
    #expect(names(scan) == ["ok"])
    #expect(scan.dynamicCalls.map(\.function) == ["ref", "ref", "source"])
    #expect(scan.dynamicCalls.map(\.line) == [1, 2, 3])
  }

  @Test func configCalls() throws {
    let scan = try JinjaScanner.scan(
      """
      {{ config(materialized='table', enabled=false, tags=['finance', "pii"]) }}
      {{
        config(
          materialized = "incremental",
          unique_key = 'id',
          post_hook = "grant select on {{ this }} to role reporter"
        )
      }}
      {{ config(tags='single') }}
      """)
    #expect(scan.enabled == false)
    #expect(scan.materialized == "incremental")
    #expect(scan.tags == ["finance", "pii", "single"])
    #expect(scan.configs.count == 3)
  }

  @Test func enabledTrueAndPythonCapitalisation() throws {
    #expect(try JinjaScanner.scan("{{ config(enabled=True) }}").enabled == true)
    #expect(try JinjaScanner.scan("{{ config(enabled=var('flag')) }}").enabled == nil)
    #expect(try JinjaScanner.scan("select 1").enabled == nil)
  }

  @Test func snapshotBlocksHaveNamesAndSpans() throws {
    let text = """
      {% snapshot orders_snapshot %}
      {{ config(unique_key='id', strategy='check', check_cols='all') }}
      select * from {{ source('shop', 'orders') }}
      {% endsnapshot %}
      {%- snapshot customers_snapshot -%}select * from {{ ref('stg_customers') }}{%- endsnapshot -%}
      """
    let scan = try JinjaScanner.scan(text)
    #expect(scan.blocks.map(\.name) == ["orders_snapshot", "customers_snapshot"])
    #expect(scan.blocks.map(\.line) == [1, 5])
    let bytes = Array(text.utf8)
    let first = try #require(scan.blocks.first)
    let end = try #require(first.contentEnd)
    let body = String(decoding: bytes[first.contentStart..<end], as: UTF8.self)
    #expect(body.hasPrefix("\n{{ config(unique_key='id'"))
    #expect(body.hasSuffix("orders') }}\n"))
  }

  @Test func unterminatedDelimitersGiveTheirLine() {
    #expect(throws: JinjaScanError(kind: .unterminatedExpression, line: 3)) {
      try JinjaScanner.scan("select 1\nfrom x\nwhere {{ ref('a')\n")
    }
    #expect(throws: JinjaScanError(kind: .unterminatedStatement, line: 2)) {
      try JinjaScanner.scan("select 1\n{% if x \n")
    }
    #expect(throws: JinjaScanError(kind: .unterminatedComment, line: 1)) {
      try JinjaScanner.scan("{# never closed")
    }
    #expect(throws: JinjaScanError(kind: .unterminatedRawBlock, line: 2)) {
      try JinjaScanner.scan("select\n{% raw %} {{ x }}")
    }
    #expect(throws: JinjaScanError(kind: .unterminatedString, line: 2)) {
      try JinjaScanner.scan("{{\n 'abc }}")
    }
  }

  @Test func errorMessagesSayWhatToDo() {
    let error = JinjaScanError(kind: .unterminatedExpression, line: 7)
    #expect(error.message == "unterminated `{{` opened on line 7: close it with `}}`")
    #expect(error.message == error.message.lowercased())
  }

  @Test func bareExpressionsFromYAML() throws {
    #expect(names(try JinjaScanner.scanExpression("ref('stg_customers')")) == ["stg_customers"])
    #expect(names(try JinjaScanner.scanExpression("ref('dim', v=1)")) == ["dim@v1"])
    #expect(sourceNames(try JinjaScanner.scanExpression("source('acme', 'users')")) == ["acme.users"])
    #expect(try JinjaScanner.scanExpression("metric('revenue')").refs.isEmpty)
  }

  @Test func pythonModels() throws {
    let scan = try JinjaScanner.scanPython(
      """
      # dbt.ref("in_comment") is not a dependency
      def model(dbt, session):
          dbt.config(materialized="table", enabled=False)
          a = dbt.ref("orders")
          b = dbt.ref('pkg', 'customers', v=2)
          c = dbt.source("acme", "users")
          doc = \"\"\"dbt.ref('in_docstring')\"\"\"
          s = "dbt.ref('in_string')"
          other.ref("not_dbt")
          return a
      """)
    #expect(names(scan) == ["orders", "pkg.customers@v2"])
    #expect(sourceNames(scan) == ["acme.users"])
    #expect(scan.enabled == false)
    #expect(scan.materialized == "table")
  }

  @Test func unicodeTextKeepsLinesAndNames() throws {
    let scan = try JinjaScanner.scan("-- café ☕\nselect 'é' from {{ ref('größe') }}")
    #expect(names(scan) == ["größe"])
    #expect(scan.refs.first?.line == 2)
  }

  /// Large and pathological input is scanned in one pass. Speed is measured by scripts/bench.py, not here;
  /// the time limit only catches a quadratic (or worse) regression, which would take minutes.
  @Test(.timeLimit(.minutes(1))) func linearOnLargeAndPathologicalInput() throws {
    // 20,000 models' worth of SQL in one text, and deeply nested unclosed calls.
    let model = "select * from {{ ref('orders') }} join {{ source('a', 'b') }} {# note #}\n"
    let big = String(repeating: model, count: 20_000)
    let scan = try JinjaScanner.scan(big)
    #expect(scan.refs.count == 20_000)
    #expect(scan.sources.count == 20_000)
    // Unbalanced parentheses swallow the `}}` (as in Jinja's lexer): an error, found in one pass.
    let nested = "{{ " + String(repeating: "ref(", count: 50_000) + " }}"
    #expect(throws: JinjaScanError(kind: .unterminatedExpression, line: 1)) {
      try JinjaScanner.scan(nested)
    }
    let closed =
      "{{ " + String(repeating: "ref(", count: 50_000) + String(repeating: ")", count: 50_000) + " }}"
    _ = try JinjaScanner.scan(closed)
  }
}
