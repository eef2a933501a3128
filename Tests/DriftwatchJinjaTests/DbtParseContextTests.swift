import DriftwatchJinja
import Testing

/// dbt-shaped renders: the cases where reading projects as text lost lineage (the issue's list).
@Suite struct DbtParseContextTests {
  static let projectMacros = """
    {%- macro simple_cte(tuple_list) -%}
    WITH{% for cte_ref in tuple_list %} {{ cte_ref[0] }} AS (
        SELECT * FROM {{ ref(cte_ref[1]) }}
    ){%- if not loop.last -%},{%- endif -%}
    {%- endfor -%}
    {%- endmacro -%}

    {% macro is_adapter(adapter='default') %}
      {{ return(target.type == adapter) }}
    {% endmacro %}

    {% macro staged(name) %}{{ return(ref('stg_' ~ name)) }}{% endmacro %}

    {% macro sources_for(tables) %}
      {%- set rels = [] -%}
      {%- for t in tables -%}{% do rels.append(source('raw', t)) %}{%- endfor -%}
      {{ return(rels) }}
    {% endmacro %}
    """

  static func library(extra: [(String, String, String)] = []) throws -> MacroLibrary {
    var library = MacroLibrary()
    try library.add(source: projectMacros, file: "macros/helpers.sql", package: "shop")
    for (package, file, source) in extra { try library.add(source: source, file: file, package: package) }
    return library
  }

  static func context(
    target: [String: Value] = [
      "name": .string("dev"), "type": .string("postgres"), "schema": .string("analytics"),
    ],
    adapterTypes: [String] = ["postgres"], vars: DbtVars = DbtVars(), package: String? = nil,
    dispatch: [String: [String]] = [:], dependencies: Set<String> = []
  ) -> DbtParseContext {
    DbtParseContext(
      rootProject: "shop", package: package, adapterTypes: adapterTypes, target: target, vars: vars,
      environment: ["DBT_USER": "ci"], dispatchSearchOrder: dispatch, dependencies: dependencies)
  }

  @Test func simpleCteWithAListOfTuplesRecordsEveryRef() throws {
    let template = try Template(
      "{{ simple_cte([('a', 'model_a'), ('b', 'model_b')]) }}\nselect * from a join b using (id)",
      file: "models/m.sql")
    let ctx = Self.context()
    let output = try ctx.render(template, library: try Self.library())
    #expect(ctx.recorder.refs == [DbtRef(name: "model_a"), DbtRef(name: "model_b")])
    #expect(output.hasPrefix("WITH a AS ("))
  }

  @Test func refsAndSourcesInsideMacrosAreRecorded() throws {
    let template = try Template(
      "select * from {{ staged('orders') }}{% for r in sources_for(['a', 'b']) %} join {{ r }}{% endfor %}",
      file: "models/m.sql")
    let ctx = Self.context()
    _ = try ctx.render(template, library: try Self.library())
    #expect(ctx.recorder.refs == [DbtRef(name: "stg_orders")])
    #expect(
      ctx.recorder.sources == [
        DbtSourceRef(source: "raw", table: "a"), DbtSourceRef(source: "raw", table: "b"),
      ])
  }

  /// dbt_utils' `_is_relation` (called by `star`, `union_relations`, …) tests relations as Python mappings;
  /// Fivetran's staging `_tmp` models call `dbt_utils.star(source(...))` at parse.
  @Test func relationsAreMappingsWithTheirAdapterClassInMetadata() throws {
    let isRelation = """
      {% macro _is_relation(obj, macro) %}
        {%- if not (obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')) -%}
          {%- do exceptions.raise_compiler_error("Macro " ~ macro ~ " expected a Relation but received: " ~ obj) -%}
        {%- endif -%}
      {% endmacro %}
      """
    let library = try Self.library(extra: [("shop", "macros/rel.sql", isRelation)])
    let template = try Template(
      "{% do _is_relation(source('raw', 'a'), 'star') %}{{ source('raw', 'a').get('metadata')['type'] }}|"
        + "{{ api.Relation.create(schema='s', identifier='t').get('metadata')['type'] }}|{{ {'type': 'x'}.type }}|"
        + "{{ adapter.type() }}|{{ adapter.quote('q') }}|{{ this.get('nope', 'fallback') }}|{{ api.Relation.create(schema='s', identifier='t').include(database=false) }}|{{ 'x' is mapping }}",
      file: "models/m.sql")
    let output = try Self.context().render(template, library: library)
    #expect(output == "PostgresRelation|PostgresRelation|x|postgres|\"q\"|fallback|\"s\".\"t\"|False")
    let bad = try Template("{% do _is_relation('a string', 'star') %}", file: "models/n.sql")
    #expect(throws: JinjaError.self) { try Self.context().render(bad, library: library) }
  }

  /// Relation methods projects call on what `source()`/`ref()` return (Dune's spellbook overrides `source()`
  /// with `builtins.source(...).replace_path(database=...)` on Trino).
  @Test func relationMethodsMakeChangedCopies() throws {
    let template = try Template(
      "{% set r = api.Relation.create(database='d', schema='s', identifier='t') %}"
        + "{{ r.replace_path(database='delta_prod') }}|{{ r.include(database=false) }}|{{ r.without_identifier() }}|"
        + "{{ r.incorporate(path={'schema': 'x'}, type='view').render() }}|"
        + "{{ r.incorporate(path={'schema': 'x'}, type='view').is_view }}|{{ r }}",
      file: "models/m.sql")
    let output = try Self.context().render(template, library: MacroLibrary())
    #expect(
      output
        == #""delta_prod"."s"."t"|"s"."t"|"d"."s"|"d"."x"."t"|True|"d"."s"."t""#)
  }

  @Test func refForms() throws {
    let template = try Template(
      "{{ ref('a') }}{{ ref('pkg', 'b') }}{{ ref('c', v=2) }}{{ ref('d', version='3') }}{{ builtins.ref('e') }}"
    )
    let ctx = Self.context()
    _ = try ctx.render(template, library: MacroLibrary())
    #expect(
      ctx.recorder.refs == [
        DbtRef(name: "a"), DbtRef(package: "pkg", name: "b"), DbtRef(name: "c", version: "2"),
        DbtRef(name: "d", version: "3"), DbtRef(name: "e"),
      ])
  }

  @Test func configTagsFromADictAndKeywordsMerge() throws {
    let template = try Template(
      "{{ config({'tags': ['nightly'], 'materialized': 'table'}) }}{{ config(tags='finance', meta={'a': 1}) }}"
        + "{{ config(meta={'b': 2}, pre_hook='select 1') }}")
    let ctx = Self.context()
    let output = try ctx.render(template, library: MacroLibrary())
    #expect(output == "")
    #expect(ctx.recorder.configValue("tags")?.repr == "['nightly', 'finance']")
    #expect(ctx.recorder.configValue("materialized")?.stringValue == "table")
    #expect(ctx.recorder.configValue("meta")?.repr == "{'a': 1, 'b': 2}")
    #expect(ctx.recorder.configValue("pre-hook")?.repr == "['select 1']")
  }

  @Test func configEnabledFromAProjectMacroIsEvaluated() throws {
    let template = try Template(
      "{{ config(enabled=is_adapter('bigquery')) }}select 1", file: "models/bq_only.sql")
    let postgres = Self.context()
    _ = try postgres.render(template, library: try Self.library())
    #expect(postgres.recorder.configValue("enabled").map { sameValue($0, .bool(false)) } == true)

    let bigquery = Self.context(
      target: ["name": .string("dev"), "type": .string("bigquery")], adapterTypes: ["bigquery"])
    _ = try bigquery.render(template, library: try Self.library())
    #expect(bigquery.recorder.configValue("enabled").map { sameValue($0, .bool(true)) } == true)
  }

  @Test func configGetIsEmptyAtParseAsInDbt() throws {
    let template = try Template(
      "{% if config.get('materialized') == 'incremental' %}{{ ref('inc') }}{% else %}{{ ref('full') }}{% endif %}"
    )
    let ctx = Self.context()
    _ = try ctx.render(template, library: MacroLibrary())
    #expect(ctx.recorder.refs == [DbtRef(name: "full")])
  }

  @Test func onlyTheTargetBranchIsFollowed() throws {
    let template = try Template(
      "{% if target.name == 'prod' %}{{ ref('prod_orders') }}{% else %}{{ ref('dev_orders') }}{% endif %}")
    let dev = Self.context()
    _ = try dev.render(template, library: MacroLibrary())
    #expect(dev.recorder.refs == [DbtRef(name: "dev_orders")])
    let prod = Self.context(target: ["name": .string("prod"), "type": .string("postgres")])
    _ = try prod.render(template, library: MacroLibrary())
    #expect(prod.recorder.refs == [DbtRef(name: "prod_orders")])
  }

  @Test func jinjaInAYamlFieldRendersForTheTarget() throws {
    let field = try Template(
      "{% if target.type != 'spark' %}{{ var('stripe_database', target.database) }}{% endif %}",
      file: "models/stripe/src_stripe.yml")
    let target: [String: Value] = ["type": .string("postgres"), "database": .string("warehouse")]
    #expect(try Self.context(target: target).render(field, library: MacroLibrary()) == "warehouse")
    let spark: [String: Value] = ["type": .string("spark"), "database": .string("warehouse")]
    #expect(try Self.context(target: spark).render(field, library: MacroLibrary()) == "")
  }

  @Test func varsHoldingRefsAreRenderedAndRecorded() throws {
    let vars = DbtVars(
      rootVars: ["upstream": .string("{{ ref('stg_orders') }}"), "limit": .int(10)],
      cliVars: ["limit": .int(5)])
    let template = try Template(
      "select * from {{ var('upstream') }} limit {{ var('limit') }} {{ var('missing', 'dflt') }} {{ var('none') }}"
    )
    let ctx = Self.context(vars: vars)
    let output = try ctx.render(template, library: MacroLibrary())
    #expect(ctx.recorder.refs == [DbtRef(name: "stg_orders")])
    #expect(output.hasSuffix("limit 5 dflt None"))
  }

  @Test func varScopesFollowDbtPrecedence() {
    let vars = DbtVars(
      rootVars: ["x": .string("root"), "stripe": .dict([("x", .string("root-scoped"))])],
      packageVars: ["x": .string("package"), "y": .string("package-only")],
      cliVars: [:])
    #expect(vars.lookup("x", package: "stripe", rootProject: "shop")?.stringValue == "root-scoped")
    #expect(vars.lookup("x", package: "shop", rootProject: "shop")?.stringValue == "root")
    #expect(vars.lookup("y", package: "stripe", rootProject: "shop")?.stringValue == "package-only")
    #expect(vars.lookup("y", package: "shop", rootProject: "shop") == nil)
    let cli = DbtVars(rootVars: ["x": .string("root")], cliVars: ["x": .string("cli")])
    #expect(cli.lookup("x", package: "shop", rootProject: "shop")?.stringValue == "cli")
  }

  static let dispatchPackage = """
    {% macro cents(col) %}{{ return(adapter.dispatch('cents', 'money')(col)) }}{% endmacro %}
    {% macro default__cents(col) %}({{ col }} / 100){% endmacro %}
    {% macro postgres__cents(col) %}({{ col }}::numeric / 100){% endmacro %}
    """

  @Test func dispatchPrefersTheAdapterThenDefault() throws {
    let library = try Self.library(extra: [
      ("money", "dbt_packages/money/macros/cents.sql", Self.dispatchPackage)
    ])
    let template = try Template("{{ money.cents('amount') }}")
    let postgres = Self.context(dependencies: ["money"])
    #expect(try postgres.render(template, library: library) == "(amount::numeric / 100)")
    let snowflake = Self.context(
      target: ["type": .string("snowflake")], adapterTypes: ["snowflake"], dependencies: ["money"])
    #expect(try snowflake.render(template, library: library) == "(amount / 100)")
  }

  @Test func dispatchSearchesTheRootProjectFirstAndFollowsTheDispatchConfig() throws {
    let override = "{% macro default__cents(col) %}round({{ col }} / 100.0, 2){% endmacro %}"
    let library = try Self.library(extra: [
      ("money", "dbt_packages/money/macros/cents.sql", Self.dispatchPackage),
      ("shop", "macros/cents.sql", override),
    ])
    let template = try Template("{{ money.cents('amount') }}")
    // Installed namespace without a dispatch config: [root, namespace], every prefix within each package, so
    // the root's default__ wins over the package's postgres__ (dbt's loop: packages outside, prefixes inside).
    #expect(
      try Self.context(dependencies: ["money"]).render(template, library: library)
        == "round(amount / 100.0, 2)")
    let snowflake = Self.context(
      target: ["type": .string("snowflake")], adapterTypes: ["snowflake"], dependencies: ["money"])
    #expect(try snowflake.render(template, library: library) == "round(amount / 100.0, 2)")
    // A dispatch config naming only the package skips the root's override.
    let configured = Self.context(
      target: ["type": .string("snowflake")], adapterTypes: ["snowflake"], dispatch: ["money": ["money"]],
      dependencies: ["money"])
    #expect(try configured.render(template, library: library) == "(amount / 100)")
  }

  @Test func dispatchWithoutACandidateIsAnError() throws {
    let template = try Template("{{ adapter.dispatch('nothing_here', 'money')() }}", file: "models/x.sql")
    #expect {
      _ = try Self.context(dependencies: ["money"]).render(template, library: MacroLibrary())
    } throws: { error in
      guard let e = error as? JinjaError else { return false }
      return e.kind == .undefined && e.message.contains("'money.postgres__nothing_here'")
        && e.message.contains("'money.default__nothing_here'") && e.file == "models/x.sql" && e.line == 1
    }
  }

  @Test func packageMacrosAreReachedByNamespaceOnlyAndLocalPackageWins() throws {
    let utils = """
      {% macro star(cols) %}{{ dbt_utils._quote_all(cols) | join(', ') }}{% endmacro %}
      {% macro _quote_all(cols) %}{{ return(cols | map('tojson') | list) }}{% endmacro %}
      {% macro greet() %}utils{% endmacro %}
      """
    let library = try Self.library(extra: [
      ("dbt_utils", "dbt_packages/dbt_utils/macros/star.sql", utils),
      ("shop", "macros/greet.sql", "{% macro greet() %}root{% endmacro %}"),
    ])
    let template = try Template("{{ dbt_utils.star(['a', 'b']) }}|{{ star(['a']) }}|{{ greet() }}")
    #expect(try Self.context().render(template, library: library) == "\"a\", \"b\"||root")
    // Rendering a node of the dbt_utils package: its own macros come first.
    let inPackage = Self.context(package: "dbt_utils")
    #expect(try inPackage.render(template, library: library) == "\"a\", \"b\"|\"a\"|utils")
  }

  @Test func macrosOverrideContextMembersAndBuiltinsKeepThem() throws {
    let custom = "{% macro ref(name) %}{{ return(builtins.ref('custom_' ~ name)) }}{% endmacro %}"
    let library = try Self.library(extra: [("shop", "macros/ref.sql", custom)])
    let ctx = Self.context()
    _ = try ctx.render(try Template("{{ ref('orders') }}"), library: library)
    #expect(ctx.recorder.refs == [DbtRef(name: "custom_orders")])
  }

  @Test func parseTimeAnswers() throws {
    let template = try Template(
      """
      {{ execute }}|{{ is_incremental() }}|{{ run_query('select 1') }}|{{ run_query('x') is defined }}|\
      {% call statement('main', fetch_result=True) %}select 1{% endcall %}|{{ load_result('main') }}|\
      {{ adapter.get_columns_in_relation(this) }}|{{ adapter.quote('x') }}|{{ this }}|\
      {{ api.Relation.create(database='db', schema='s', identifier='t') }}|{{ env_var('DBT_USER') }}|\
      {{ env_var('NOPE', 'fallback') }}|{{ local_md5('abc') }}|{{ zip([1, 2], ['a', 'b']) }}|\
      {{ tojson({'b': 1, 'a': [1]}) }}|{{ fromjson('{"x": [1, 2.5, null]}') }}|{{ log('hi', info=True) }}|\
      {{ modules.datetime.datetime(2024, 3, 9, 4, 5).strftime('%Y-%m-%d %H:%M') }}|\
      {{ modules.re.sub('[^a-z]+', '_', 'a-b  c') }}|{{ modules.itertools.product([1, 2], ['x']) | list }}
      """)
    let ctx = DbtParseContext(
      rootProject: "shop", target: ["database": .string("wh"), "schema": .string("dev")],
      environment: ["DBT_USER": "ci"],
      this: DbtRelation(database: "wh", schema: "dev", identifier: "orders"))
    let output = try ctx.render(template, library: MacroLibrary())
    #expect(
      output.split(separator: "|", omittingEmptySubsequences: false).map(String.init) == [
        "False", "False", "", "False", "", "None", "[]", "\"x\"", "\"wh\".\"dev\".\"orders\"",
        "\"db\".\"s\".\"t\"",
        "ci", "fallback", "900150983cd24fb0d6963f7d28e17f72", "[(1, 'a'), (2, 'b')]",
        "{\"b\": 1, \"a\": [1]}",
        "{'x': [1, 2.5, None]}", "", "2024-03-09 04:05", "a_b_c", "[(1, 'x'), (2, 'x')]",
      ])
    #expect(ctx.recorder.logs == ["hi"])
    #expect(ctx.recorder.envVars == ["DBT_USER", "NOPE"])
  }

  @Test func missingEnvVarWithoutDefaultIsAnError() throws {
    let template = try Template("{{ env_var('NOT_SET') }}", file: "models/e.sql")
    #expect {
      _ = try Self.context().render(template, library: MacroLibrary())
    } throws: { error in
      (error as? JinjaError).map { $0.kind == .raised && $0.detail.contains("'NOT_SET'") && $0.line == 1 }
        ?? false
    }
  }

  @Test func raiseCompilerErrorNamesTheMacroFileAndLine() throws {
    let source = """
      {% macro check(x) %}
        {% if x is none %}
          {{ exceptions.raise_compiler_error('x is required') }}
        {% endif %}
      {% endmacro %}
      """
    let library = try Self.library(extra: [("shop", "macros/check.sql", source)])
    #expect {
      _ = try Self.context().render(
        try Template("\n{{ check(none) }}", file: "models/c.sql"), library: library)
    } throws: { error in
      guard let e = error as? JinjaError else { return false }
      return e.kind == .raised && e.detail == "x is required" && e.file == "macros/check.sql" && e.line == 3
    }
  }

  @Test func duplicateMacroInOnePackageIsRejected() throws {
    var library = MacroLibrary()
    try library.add(source: "{% macro a() %}{% endmacro %}", file: "macros/a.sql", package: "shop")
    #expect(throws: JinjaError.self) {
      try library.add(source: "{% macro a() %}{% endmacro %}", file: "macros/b.sql", package: "shop")
    }
    try library.add(source: "{% macro a() %}{% endmacro %}", file: "dbt_packages/p/a.sql", package: "p")
    #expect(library.macros(in: "p").map(\.name) == ["a"])
  }

  @Test func genericTestAndMaterializationBlocksDefineMacros() throws {
    var library = MacroLibrary()
    let names = try library.add(
      source: """
        {% test not_negative(model, column_name) %}select * from {{ model }} where {{ column_name }} < 0{% endtest %}
        {% materialization view2, adapter='postgres' %}{% endmaterialization %}
        {% docs orders %}The orders.{% enddocs %}
        """, file: "macros/t.sql", package: "shop")
    #expect(names == ["test_not_negative", "materialization_view2_postgres"])
  }

  @Test func snapshotBlocksRenderTheirBody() throws {
    let template = try Template(
      """
      {% snapshot orders_snapshot %}
      {{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}
      select * from {{ source('raw', 'orders') }}
      {% endsnapshot %}
      """, file: "snapshots/orders.sql")
    let ctx = Self.context()
    let output = try ctx.render(template, library: MacroLibrary())
    #expect(try ctx.render(try Template("{{ schema }}"), library: MacroLibrary()) == "analytics")
    #expect(output.contains("select * from"))
    #expect(ctx.recorder.sources == [DbtSourceRef(source: "raw", table: "orders")])
    #expect(ctx.recorder.configValue("unique_key")?.stringValue == "id")
  }

  @Test func compiledTemplatesRenderManyTimesIndependently() throws {
    let template = try Template("{% set l = [] %}{% do l.append(ref(target.name)) %}{{ l | length }}")
    let library = try Self.library()
    for i in 0..<3 {
      let ctx = Self.context(target: ["name": .string("m\(i)")])
      #expect(try ctx.render(template, library: library) == "1")
      #expect(ctx.recorder.refs == [DbtRef(name: "m\(i)")])
    }
  }
}

func sameValue(_ a: Value, _ b: Value) -> Bool { a.repr == b.repr && a.typeName == b.typeName }

@Suite struct DbtUndefinedCallTests {
  @Test func callsOfMissingMacrosRenderEmptyAndAreRecordedWithFileAndLine() throws {
    var library = MacroLibrary()
    try library.add(
      source: "{% macro star() %}*{% endmacro %}", file: "dbt_packages/u/macros/star.sql", package: "u")
    let template = try Template(
      "select {{ u.star() }}\n{{ dbt_utils.surrogate_key(['a']) }}{{ not_a_macro('x') }}{{ u.star() }}",
      file: "models/m.sql")
    let ctx = DbtParseContext(rootProject: "shop", dependencies: ["u"])
    #expect(try ctx.render(template, library: library) == "select *\n*")
    #expect(ctx.recorder.undefinedCalls.map(\.name) == ["dbt_utils.surrogate_key", "not_a_macro"])
    #expect(ctx.recorder.undefinedCalls.map(\.line) == [2, 2])
    #expect(ctx.recorder.undefinedCalls.allSatisfy { $0.file == "models/m.sql" })
  }
}

@Suite struct JinjaConcurrencyTests {
  /// A compiled template and library are shared by concurrent renders, each with its own context.
  @Test func oneTemplateRendersConcurrently() async throws {
    let template = try Template(
      "{% for i in range(n) %}{{ ref('m' ~ i) }}{% endfor %}{{ simple(n) }}", file: "models/m.sql")
    var library = MacroLibrary()
    try library.add(
      source: "{% macro simple(n) %}{{ n * 2 }}{% endmacro %}", file: "macros/s.sql", package: "p")
    let shared = library
    let results = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
      for n in 1...16 {
        group.addTask {
          let ctx = DbtParseContext(rootProject: "p", vars: DbtVars(rootVars: [:]))
          let output = try template.render(
            provider: Provider(ctx, n: n), library: shared, scope: ctx.macroScope)
          return (n, ctx.recorder.refs.count, output)
        }
      }
      var all: [(Int, Int, String)] = []
      for try await r in group { all.append(r) }
      return all
    }
    #expect(results.count == 16)
    for (n, refs, output) in results {
      #expect(refs == n)
      #expect(output == String(n * 2))
    }
  }

  /// `n` on top of a dbt context.
  final class Provider: ContextProvider {
    let base: DbtParseContext
    let n: Int
    init(_ base: DbtParseContext, n: Int) {
      self.base = base
      self.n = n
    }
    func value(named name: String, renderer: Renderer) -> Value? {
      name == "n" ? .int(n) : base.value(named: name, renderer: renderer)
    }
  }
}
