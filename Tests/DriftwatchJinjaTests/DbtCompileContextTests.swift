import DriftwatchJinja
import Testing

/// dbt's compile-time context: introspection answered by a catalog of values, `execute` true, queries noted.
@Suite struct DbtCompileContextTests {
  /// A warehouse of one table, raw.deals (deal_id, amount).
  final class Catalog: DbtCompileCatalog {
    func source(_ sourceName: String, _ table: String) -> DbtRelation? {
      sourceName == "crm" && table == "deals"
        ? DbtRelation(database: nil, schema: "raw", identifier: "deals", nodeID: "source.p.crm.deals") : nil
    }
    func ref(_ ref: DbtRef) -> DbtRelation? { nil }
    func columns(in relation: DbtRelation, approximate: inout String?) throws -> [DbtColumnInfo] {
      guard relation.nodeID == "source.p.crm.deals" else {
        throw JinjaError(.raised, "the columns of \(relation.rendered) are not known")
      }
      return [
        DbtColumnInfo(name: "deal_id", dataType: "integer"),
        DbtColumnInfo(name: "amount", dataType: "numeric"),
      ]
    }
    func relation(database: String?, schema: String?, identifier: String) -> DbtRelation? {
      schema == "raw" && identifier == "deals"
        ? DbtRelation(database: nil, schema: "raw", identifier: "deals") : nil
    }
  }

  static let macros = """
    {% macro star(relation) -%}
    {%- if not execute -%}*{%- else -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
    {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- endif -%}
    {%- endmacro %}
    """

  static func render(_ text: String) throws -> (sql: String, context: DbtCompileContext) {
    var library = MacroLibrary()
    try library.add(source: macros, file: "macros/star.sql", package: "p")
    let context = DbtCompileContext(parse: DbtParseContext(rootProject: "p"), catalog: Catalog())
    let sql = try Template(text, file: "models/m.sql").render(
      provider: context, library: library, scope: context.macroScope)
    return (sql, context)
  }

  @Test func introspectionIsAnsweredFromTheCatalog() throws {
    let (sql, context) = try Self.render(
      "select {{ star(source('crm', 'deals')) }} from {{ source('crm', 'deals') }}")
    #expect(sql == #"select "deal_id", "amount" from "raw"."deals""#)
    #expect(context.approximations.isEmpty)
    #expect(
      context.parse.recorder.sources
        == Array(repeating: DbtSourceRef(source: "crm", table: "deals"), count: 2))
    let typed = try Self.render(
      """
      {%- for c in adapter.get_columns_in_relation(source('crm', 'deals')) -%}
      {{ c.column }}:{{ c.data_type }}:{{ c.is_number() }};
      {%- endfor -%}
      """)
    #expect(typed.sql == "deal_id:integer:True;amount:numeric:True;")
    let found = try Self.render(
      "{{ adapter.get_relation(database=none, schema='raw', identifier='deals') is not none }}"
        + "{{ adapter.get_relation(database=none, schema='raw', identifier='gone') is none }}")
    #expect(found.sql == "TrueTrue")
  }

  @Test func queriesAreApproximateAndUnknownColumnsFail() throws {
    let queried = try Self.render(
      "{% set rows = run_query('select 1') %}select {{ rows.rows | length }}{{ execute }}")
    #expect(queried.sql == "select 0True")
    #expect(queried.context.approximations == ["run_query(…) needs a real query"])
    #expect(throws: JinjaError.self) {
      _ = try Self.render(
        "{{ adapter.get_columns_in_relation(api.Relation.create(schema='raw', identifier='x')) }}")
    }
    #expect(throws: JinjaError.self) { _ = try Self.render("{{ source('crm', 'nope') }}") }
  }

  /// The tables the parse and compile contexts share: `flags` (with the command's `WHICH`), `builtins`, and the
  /// adapter's introspection methods (answered without a connection at parse, from the catalog or as an
  /// approximation at compile).
  @Test func sharedTablesAnswerPerCommand() throws {
    let probe = """
      {{ flags.WHICH }} {{ flags.FULL_REFRESH }} {{ flags.STORE_FAILURES }} {{ flags.EMPTY }} \
      {{ builtins.source('crm', 'deals') }} {{ builtins.config is not none }}
      """
    let compiled = try Self.render(probe)
    #expect(compiled.sql == #"compile False False False "raw"."deals" True"#)
    let parse = DbtParseContext(rootProject: "p")
    let parsed = try Template(probe, file: "models/m.sql").render(
      provider: parse, library: MacroLibrary(), scope: parse.macroScope)
    #expect(parsed.hasPrefix("parse False False False "))
    #expect(parse.recorder.sources == [DbtSourceRef(source: "crm", table: "deals")])

    // Each introspection method once (get_columns_in_table at parse only: this catalog knows the columns of its
    // source's relation only, not of one found by name).
    let calls = [
      "get_columns_in_relation(source('crm', 'deals')) | length",
      "get_missing_columns(source('crm', 'deals'), source('crm', 'deals')) | length",
      "list_relations_without_caching(none) | length", "list_schemas('db') | length",
      "get_relation(none, 'raw', 'deals') is none", "load_relation(source('crm', 'deals')) is none",
      "already_exists('raw', 'deals')", "check_schema_exists('db', 'raw')",
    ]
    let template = calls.map { "{{ adapter.\($0) }}" }.joined(separator: ",")
    let atParse = try Template(
      template + "{{ adapter.get_columns_in_table('raw', 'deals') | length }}",
      file: "models/m.sql"
    ).render(provider: parse, library: MacroLibrary(), scope: parse.macroScope)
    #expect(atParse == "0,0,0,0,True,True,None,None0")
    let atCompile = try Self.render(template)
    #expect(atCompile.sql == "2,0,0,0,False,False,True,True")
    #expect(
      atCompile.context.approximations == [
        "adapter.list_relations_without_caching(…) needs a real query",
        "adapter.list_schemas(…) needs a real query", "adapter.already_exists(…) needs a real query",
        "adapter.check_schema_exists(…) needs a real query",
      ])
  }
}
