/// driftwatch's own small dbt project: macros run with `dbt run-operation` through the user's dbt and profile.
/// Written to a private temporary directory at run time. Every macro reads its request from
/// `driftwatch_request()` (a file the bridge writes per step: JSON whose strings have every Jinja-significant
/// character escaped, so it is data to Jinja, never a template) and prints one line, `DRIFTWATCH_RESULT:` and
/// the JSON of its answer. SQL is dispatched per adapter (`adapter.dispatch(…, 'driftwatch_bridge')`, so
/// redshift falls back to postgres and databricks to spark where no macro of their own exists); identifiers go
/// through `driftwatch_quote` (the adapter's quote, its quote character doubled or escaped first), values
/// through `driftwatch_literal`. Nothing writes: every statement is a SELECT.
enum BridgeMacros {
  static let projectName = "driftwatch_bridge"
  static let marker = "DRIFTWATCH_RESULT:"

  static func projectFile(profile: String) -> String {
    """
    name: driftwatch_bridge
    version: "1.0.0"
    config-version: 2
    profile: \(jsonString(profile))
    macro-paths: ["macros"]
    model-paths: ["models"]
    seed-paths: []
    test-paths: []
    analysis-paths: []
    snapshot-paths: []

    """
  }

  /// The request macro: `body` is JSON with Jinja-significant characters escaped (`BridgeRequest.encoded`).
  static func requestFile(_ body: String) -> String {
    "{% macro driftwatch_request() %}{% set text %}" + body
      + "{% endset %}{{ return(fromjson(text)) }}{% endmacro %}\n"
  }

  /// A YAML/JSON double-quoted string (profile names are the user's, but still quoted).
  static func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  static let macros = #"""
    {#- driftwatch bridge macros. Read-only: every statement is a SELECT. -#}

    {% macro driftwatch_emit(payload) %}
      {% do print('DRIFTWATCH_RESULT:' ~ tojson(payload)) %}
    {% endmacro %}

    {% macro driftwatch_cells(table) %}
      {%- set out = [] -%}
      {%- for row in table.rows -%}
        {%- set cells = [] -%}
        {%- for value in row.values() -%}
          {%- do cells.append(none if value is none else (value | string)) -%}
        {%- endfor -%}
        {%- do out.append(cells) -%}
      {%- endfor -%}
      {{ return(out) }}
    {% endmacro %}

    {# ---------- quoting and literals ---------- #}

    {% macro driftwatch_quote(name) %}{{ return(adapter.dispatch('driftwatch_quote', 'driftwatch_bridge')(name)) }}{% endmacro %}
    {% macro default__driftwatch_quote(name) %}{{ return(adapter.quote(name | replace('"', '""'))) }}{% endmacro %}
    {% macro bigquery__driftwatch_quote(name) %}{{ return(adapter.quote(name | replace('\\', '\\\\') | replace('`', '\\`'))) }}{% endmacro %}
    {% macro spark__driftwatch_quote(name) %}{{ return(adapter.quote(name | replace('`', '``'))) }}{% endmacro %}

    {#- A database (catalog, project) name. Snowflake folds unquoted names to uppercase and profiles name the
        database in either case: a plain name stays unquoted there. -#}
    {% macro driftwatch_database(name) %}{{ return(adapter.dispatch('driftwatch_database', 'driftwatch_bridge')(name)) }}{% endmacro %}
    {% macro default__driftwatch_database(name) %}{{ return(driftwatch_quote(name)) }}{% endmacro %}
    {% macro snowflake__driftwatch_database(name) -%}
      {{ return(name if (name | replace('_', '')).isalnum() and not name[0].isdigit() else driftwatch_quote(name)) }}
    {%- endmacro %}

    {% macro driftwatch_literal(value) %}{{ return(adapter.dispatch('driftwatch_literal', 'driftwatch_bridge')(value)) }}{% endmacro %}
    {% macro default__driftwatch_literal(value) %}{{ return("'" ~ (value | replace("'", "''")) ~ "'") }}{% endmacro %}
    {% macro driftwatch_backslash_literal(value) -%}
      {%- set escaped = value | replace('\\', '\\\\') | replace("'", "\\'") | replace('\n', '\\n') | replace('\r', '\\r') | replace('\t', '\\t') -%}
      {{ return("'" ~ escaped ~ "'") }}
    {%- endmacro %}
    {% macro bigquery__driftwatch_literal(value) %}{{ return(driftwatch_backslash_literal(value)) }}{% endmacro %}
    {% macro snowflake__driftwatch_literal(value) %}{{ return(driftwatch_backslash_literal(value)) }}{% endmacro %}
    {% macro spark__driftwatch_literal(value) %}{{ return(driftwatch_backslash_literal(value)) }}{% endmacro %}
    {% macro redshift__driftwatch_literal(value) %}{{ return(driftwatch_backslash_literal(value)) }}{% endmacro %}

    {% macro driftwatch_literals(values) -%}
      {%- set out = [] -%}
      {%- for value in values -%}{%- do out.append(driftwatch_literal(value)) -%}{%- endfor -%}
      {{ return(out | join(', ')) }}
    {%- endmacro %}

    {% macro driftwatch_relation(ref) -%}
      {%- set parts = [] -%}
      {%- if ref.database is not none -%}{%- do parts.append(driftwatch_database(ref.database)) -%}{%- endif -%}
      {%- do parts.append(driftwatch_quote(ref.schema)) -%}
      {%- do parts.append(driftwatch_quote(ref.table)) -%}
      {{ return(parts | join('.')) }}
    {%- endmacro %}

    {# ---------- expressions ---------- #}

    {% macro driftwatch_text(expr) %}{{ return(adapter.dispatch('driftwatch_text', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_text(expr) %}{{ return('cast(' ~ expr ~ ' as varchar)') }}{% endmacro %}
    {% macro postgres__driftwatch_text(expr) %}{{ return('(' ~ expr ~ ')::text') }}{% endmacro %}
    {% macro redshift__driftwatch_text(expr) %}{{ return('cast(' ~ expr ~ ' as varchar(max))') }}{% endmacro %}
    {% macro bigquery__driftwatch_text(expr) %}{{ return('cast(' ~ expr ~ ' as string)') }}{% endmacro %}
    {% macro spark__driftwatch_text(expr) %}{{ return('cast(' ~ expr ~ ' as string)') }}{% endmacro %}

    {#- A column's values as text. A complex value (BigQuery's ARRAY, STRUCT, JSON, GEOGRAPHY, RANGE), which
        BigQuery cannot CAST to STRING, is its JSON there; every other adapter casts it. -#}
    {% macro driftwatch_column_text(name, complex) %}{{ return(adapter.dispatch('driftwatch_column_text', 'driftwatch_bridge')(name, complex)) }}{% endmacro %}
    {% macro default__driftwatch_column_text(name, complex) %}{{ return(driftwatch_text(driftwatch_quote(name))) }}{% endmacro %}
    {% macro bigquery__driftwatch_column_text(name, complex) -%}
      {{ return(('to_json_string(' ~ driftwatch_quote(name) ~ ')') if complex else driftwatch_text(driftwatch_quote(name))) }}
    {%- endmacro %}

    {% macro driftwatch_float(expr) %}{{ return(adapter.dispatch('driftwatch_float', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as double)') }}{% endmacro %}
    {% macro postgres__driftwatch_float(expr) %}{{ return('(' ~ expr ~ ')::float8') }}{% endmacro %}
    {% macro redshift__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as double precision)') }}{% endmacro %}
    {% macro bigquery__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as float64)') }}{% endmacro %}

    {% macro driftwatch_hash(expr) %}{{ return(adapter.dispatch('driftwatch_hash', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_hash(expr) %}{{ return('md5(' ~ expr ~ ')') }}{% endmacro %}
    {% macro bigquery__driftwatch_hash(expr) %}{{ return('to_hex(md5(' ~ expr ~ '))') }}{% endmacro %}
    {% macro trino__driftwatch_hash(expr) %}{{ return('lower(to_hex(md5(to_utf8(' ~ expr ~ '))))') }}{% endmacro %}

    {# ---------- introspection: every relation and column of the schemas, in one statement ---------- #}

    {% macro driftwatch_introspect() %}
      {%- set request = driftwatch_request() -%}
      {%- set counter = [] -%}
      {%- set out = [] -%}
      {%- for group in request.groups -%}
        {%- set sql = adapter.dispatch('driftwatch_introspect_sql', 'driftwatch_bridge')(group) -%}
        {%- if sql is none -%}
          {%- do out.append(adapter.dispatch('driftwatch_introspect_rows', 'driftwatch_bridge')(group, counter)) -%}
        {%- else -%}
          {%- do out.append(driftwatch_cells(driftwatch_run(sql, counter))) -%}
        {%- endif -%}
      {%- endfor -%}
      {% do driftwatch_emit({'database': (target.database if target.database is defined else none), 'groups': out, 'statements': counter | length}) %}
    {% endmacro %}

    {#- columns: schema, relation, kind (table | view), column, position, data type, not null (1/0), key (1/0).
        A row with no relation marks a schema that exists. -#}
    {% macro default__driftwatch_introspect_sql(request) -%}
      {%- set database = request.database if request.database is not none else target.database -%}
      {%- set catalog = driftwatch_database(database) ~ '.' if database else '' -%}
      {%- set names = driftwatch_literals(request.schemas) -%}
      {% set sql %}
    select s.schema_name, null, null, null, null, null, null, null
    from {{ catalog }}information_schema.schemata s
    where s.schema_name in ({{ names }})
    union all
    select c.table_schema, c.table_name,
      case when t.table_type like '%VIEW%' then 'view' else 'table' end,
      c.column_name, {{ driftwatch_text('c.ordinal_position') }}, c.data_type,
      case when c.is_nullable = 'NO' then '1' else '0' end, '0'
    from {{ catalog }}information_schema.columns c
    join {{ catalog }}information_schema.tables t
      on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema in ({{ names }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- PostgreSQL: the native driver's own catalog query (pg_catalog, keys from a hash join). -#}
    {% macro postgres__driftwatch_introspect_sql(request) -%}
      {% set sql %}
    with keys as (
      select k.conrelid as relid, unnest(k.conkey) as attnum
      from pg_catalog.pg_constraint k where k.contype = 'p'
      union
      select i.indrelid, i.indkey[0] from pg_catalog.pg_index i
      where i.indisunique and i.indisvalid and i.indnkeyatts = 1 and i.indpred is null
    )
    select n.nspname::text, c.relname::text,
      case when c.relkind in ('v', 'm') then 'view' when c.relkind is null then null else 'table' end,
      a.attname::text, a.attnum::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
      case when a.attnotnull then '1' else '0' end,
      case when k.relid is not null then '1' else '0' end
    from pg_catalog.pg_namespace n
    left join pg_catalog.pg_class c
      on c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
    left join pg_catalog.pg_attribute a
      on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join keys k on k.relid = c.oid and k.attnum = a.attnum
    where n.nspname::text in ({{ driftwatch_literals(request.schemas) }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- Redshift: svv_columns also lists late-binding views and external tables. -#}
    {% macro redshift__driftwatch_introspect_sql(request) -%}
      {%- set names = driftwatch_literals(request.schemas) -%}
      {% set sql %}
    select s.schema_name, null, null, null, null, null, null, null
    from svv_all_schemas s where s.schema_name in ({{ names }})
    union all
    select c.table_schema, c.table_name,
      case when t.table_type like '%VIEW%' then 'view' else 'table' end,
      c.column_name, cast(c.ordinal_position as varchar), c.data_type,
      case when c.is_nullable = 'NO' then '1' else '0' end, '0'
    from svv_columns c
    join svv_tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema in ({{ names }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- DuckDB: information_schema of the target's catalog, with primary keys and one-column unique keys. -#}
    {% macro duckdb__driftwatch_introspect_sql(request) -%}
      {%- set database = request.database if request.database is not none else target.database -%}
      {%- set names = driftwatch_literals(request.schemas) -%}
      {% set sql %}
    with keys as (
      select database_name, schema_name, table_name, constraint_column_names[1] as column_name
      from duckdb_constraints()
      where constraint_type = 'PRIMARY KEY'
        or (constraint_type = 'UNIQUE' and len(constraint_column_names) = 1)
    )
    select s.schema_name, null, null, null, null, null, null, null
    from information_schema.schemata s
    where s.catalog_name = {{ driftwatch_literal(database) }} and s.schema_name in ({{ names }})
    union all
    select c.table_schema, c.table_name,
      case when t.table_type like '%VIEW%' then 'view' else 'table' end,
      c.column_name, cast(c.ordinal_position as varchar), c.data_type,
      case when c.is_nullable = 'NO' then '1' else '0' end,
      case when exists (
        select 1 from keys k where k.database_name = c.table_catalog and k.schema_name = c.table_schema
          and k.table_name = c.table_name and k.column_name = c.column_name
      ) then '1' else '0' end
    from information_schema.columns c
    join information_schema.tables t
      on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_catalog = {{ driftwatch_literal(database) }} and c.table_schema in ({{ names }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- BigQuery: INFORMATION_SCHEMA views need a dataset (or region) qualifier, and a missing dataset fails the
        query: the datasets that exist come from the adapter's list (an API call, no SQL), then one statement
        over their COLUMNS and TABLES views. -#}
    {% macro bigquery__driftwatch_introspect_sql(request) -%}
      {%- set project = request.database if request.database is not none else target.database -%}
      {%- set existing = adapter.list_schemas(project) -%}
      {%- set parts = [] -%}
      {%- for dataset in request.schemas if dataset in existing -%}
        {%- set prefix = driftwatch_database(project) ~ '.' ~ driftwatch_quote(dataset) ~ '.INFORMATION_SCHEMA' -%}
        {% set part %}
    select {{ driftwatch_literal(dataset) }}, cast(null as string), cast(null as string), cast(null as string),
      cast(null as string), cast(null as string), cast(null as string), cast(null as string)
    union all
    select c.table_schema, c.table_name,
      case when t.table_type like '%VIEW%' then 'view' else 'table' end,
      c.column_name, cast(c.ordinal_position as string), c.data_type,
      case when c.is_nullable = 'NO' then '1' else '0' end, '0'
    from {{ prefix }}.COLUMNS c
    join {{ prefix }}.TABLES t on t.table_name = c.table_name
        {% endset %}
        {%- do parts.append(part) -%}
      {%- endfor -%}
      {%- if parts | length == 0 -%}
        {{ return('select cast(null as string) from unnest([1]) where false') }}
      {%- endif -%}
      {{ return(parts | join('union all')) }}
    {%- endmacro %}

    {#- Databricks with Unity Catalog: the catalog's information_schema; hive_metastore has none (spark's way). -#}
    {% macro databricks__driftwatch_introspect_sql(request) -%}
      {%- set database = request.database if request.database is not none else (target.database if target.database is defined else none) -%}
      {%- if database is none or database == 'hive_metastore' -%}{{ return(none) }}{%- endif -%}
      {%- set catalog = driftwatch_database(database) -%}
      {%- set names = driftwatch_literals(request.schemas) -%}
      {% set sql %}
    select s.schema_name, null, null, null, null, null, null, null
    from {{ catalog }}.information_schema.schemata s
    where s.schema_name in ({{ names }})
    union all
    select c.table_schema, c.table_name,
      case when t.table_type like '%VIEW%' then 'view' else 'table' end,
      c.column_name, cast(c.ordinal_position as string), c.full_data_type,
      case when c.is_nullable = 'NO' then '1' else '0' end, '0'
    from {{ catalog }}.information_schema.columns c
    join {{ catalog }}.information_schema.tables t
      on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema in ({{ names }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- Spark (and Databricks' hive_metastore): no information_schema; the adapter lists relations and columns. -#}
    {% macro spark__driftwatch_introspect_sql(request) %}{{ return(none) }}{% endmacro %}
    {% macro default__driftwatch_introspect_rows(request, counter) %}{{ return([]) }}{% endmacro %}
    {#- The metastore's names ignore case (`show schemas like` too): each schema is read once, under the name
        the metastore gives it, whichever of the asked spellings found it. Relations from `show tables` (views
        included; `show views` tells them apart), columns from the adapter (`describe table extended`). -#}
    {% macro spark__driftwatch_introspect_rows(request, counter) -%}
      {%- set rows = [] -%}
      {%- set seen = [] -%}
      {%- set prefix = driftwatch_database(request.database) ~ '.' if request.database is not none else '' -%}
      {%- for asked in request.schemas -%}
        {%- set found = [] -%}
        {%- for row in driftwatch_run('show schemas like ' ~ driftwatch_literal(asked), counter).rows -%}
          {%- if (row[0] | string | lower) == (asked | lower) -%}{%- do found.append(row[0] | string) -%}{%- endif -%}
        {%- endfor -%}
        {%- if found | length > 0 and found[0] not in seen -%}
          {%- set schema = found[0] -%}
          {%- do seen.append(schema) -%}
          {%- do rows.append([schema, none, none, none, none, none, none, none]) -%}
          {%- set qualified = prefix ~ driftwatch_quote(schema) -%}
          {%- set views = [] -%}
          {%- for row in driftwatch_run('show views in ' ~ qualified, counter).rows -%}{%- do views.append(row[1] | string) -%}{%- endfor -%}
          {%- for row in driftwatch_run('show tables in ' ~ qualified, counter).rows if not row[2] -%}
            {%- set name = row[1] | string -%}
            {%- set kind = 'view' if name in views else 'table' -%}
            {%- set relation = api.Relation.create(database=request.database, schema=schema, identifier=name, type=kind) -%}
            {%- do counter.append(1) -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
              {%- do rows.append([schema, name, kind, column.name, (loop.index | string), column.data_type, '0', '0']) -%}
            {%- endfor -%}
          {%- endfor -%}
        {%- endif -%}
      {%- endfor -%}
      {{ return(rows) }}
    {%- endmacro %}

    {# ---------- profiles: one statement per table, as the native drivers ---------- #}

    {#- run_query, counted in `counter` (a list: one item per statement), so that every step says how many
        statements it ran. -#}
    {% macro driftwatch_run(sql, counter) %}
      {%- do counter.append(1) -%}
      {{ return(run_query(sql)) }}
    {% endmacro %}

    {#- `expr` ordered bytewise, as `ColumnProfile.ranked` orders ties (PostgreSQL orders text by the
        database's collation otherwise). -#}
    {% macro driftwatch_bytewise(expr) %}{{ return(adapter.dispatch('driftwatch_bytewise', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_bytewise(expr) %}{{ return(expr) }}{% endmacro %}
    {% macro postgres__driftwatch_bytewise(expr) %}{{ return(expr ~ ' collate "C"') }}{% endmacro %}
    {% macro redshift__driftwatch_bytewise(expr) %}{{ return(expr) }}{% endmacro %}

    {#- `s` with every one of `characters` removed. -#}
    {% macro driftwatch_strip(s, characters) -%}
      {%- set out = [s] -%}
      {%- for character in characters -%}
        {%- do out.append('replace(' ~ out[-1] ~ ', ' ~ driftwatch_literal(character) ~ ", '')") -%}
      {%- endfor -%}
      {{ return(out[-1]) }}
    {%- endmacro %}

    {#- The class of a shape: the rules of `ShapeClass.sqlCase` in driftwatch, in SQL every adapter runs (NULL
        for a NULL value, which UNPIVOT then leaves out). -#}
    {% macro driftwatch_shape_class(s) -%}
      {%- set unsigned = "(case when substr(" ~ s ~ ", 1, 1) = '-' then substr(" ~ s ~ ", 2) else " ~ s ~ " end)" -%}
      {% set sql -%}
    case when {{ s }} is null then null
      when {{ s }} = '' then 'empty'
      when {{ s }} like '%_@_%._%' and {{ s }} not like '% %' and {{ s }} not like '%.' and {{ s }} not like '%@.%' then 'email'
      when substr({{ s }}, 1, 7) = 'aaaa://' or substr({{ s }}, 1, 8) = 'aaaaa://' then 'url'
      when length({{ s }}) = 36 and {{ driftwatch_strip(s, ['9', 'a', 'A', '-']) }} = '' and substr({{ s }}, 9, 1) = '-'
        and substr({{ s }}, 14, 1) = '-' and substr({{ s }}, 19, 1) = '-' and substr({{ s }}, 24, 1) = '-' then 'uuid'
      when {{ s }} = '9999-99-99' then 'date'
      when substr({{ s }}, 1, 10) = '9999-99-99' and substr({{ s }}, 12, 5) = '99:99' then 'timestamp'
      when {{ unsigned }} <> '' and replace({{ unsigned }}, '9', '') in ('', '.') and substr({{ unsigned }}, 1, 1) = '9'
        and substr({{ unsigned }}, length({{ unsigned }}), 1) = '9' then 'number'
      when {{ driftwatch_strip(s, ['9', '-', ' ', '(', ')', '+', '.']) }} = '' and replace({{ s }}, '9', '') <> {{ s }} then 'digits'
      when substr({{ s }}, 1, 1) = 'A' and replace({{ s }}, '9', '') = {{ s }} and replace({{ s }}, 'AA', '') = {{ s }}
        and {{ driftwatch_strip(s, ['a', 'A', ' ', '-', "'"]) }} = '' then 'title_case'
      when {{ driftwatch_strip(s, ['a', ' ', '_', '-']) }} = '' and replace({{ s }}, 'a', '') <> {{ s }} then 'lowercase'
      when {{ driftwatch_strip(s, ['A', ' ', '_', '-']) }} = '' and replace({{ s }}, 'A', '') <> {{ s }} then 'uppercase'
      else 'other' end
      {%- endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- Rows (i, v): for each of `names` (columns of the one-row-per-input `query`, all text), its name and its
        value, NULL values left out. One read of `query`. -#}
    {% macro driftwatch_unpivot(query, names) %}{{ return(adapter.dispatch('driftwatch_unpivot', 'driftwatch_bridge')(query, names)) }}{% endmacro %}
    {% macro default__driftwatch_unpivot(query, names) -%}
      {%- set branches = [] -%}
      {%- for name in names -%}
        {%- do branches.append("select '" ~ name ~ "' as i, " ~ name ~ " as v from q where " ~ name ~ " is not null") -%}
      {%- endfor -%}
      {{ return('with q as (' ~ query ~ ')\n' ~ (branches | join('\nunion all\n'))) }}
    {%- endmacro %}
    {% macro postgres__driftwatch_unpivot(query, names) -%}
      {%- set pairs = [] -%}
      {%- for name in names -%}{%- do pairs.append("('" ~ name ~ "', q." ~ name ~ ")") -%}{%- endfor -%}
      {{ return('select u.i, u.v from (' ~ query ~ ') q\ncross join lateral (values ' ~ (pairs | join(', ')) ~ ') as u(i, v) where u.v is not null') }}
    {%- endmacro %}
    {% macro duckdb__driftwatch_unpivot(query, names) %}{{ return(postgres__driftwatch_unpivot(query, names)) }}{% endmacro %}
    {#- UNPIVOT leaves NULL values out by default; the names come back as the warehouse spells them. -#}
    {% macro driftwatch_unpivot_operator(query, names) -%}
      {{ return('select lower(i) as i, v from (' ~ query ~ ') q\nunpivot (v for i in (' ~ (names | join(', ')) ~ '))') }}
    {%- endmacro %}
    {% macro redshift__driftwatch_unpivot(query, names) %}{{ return(driftwatch_unpivot_operator(query, names)) }}{% endmacro %}
    {% macro snowflake__driftwatch_unpivot(query, names) %}{{ return(driftwatch_unpivot_operator(query, names)) }}{% endmacro %}
    {% macro bigquery__driftwatch_unpivot(query, names) %}{{ return(driftwatch_unpivot_operator(query, names)) }}{% endmacro %}
    {% macro spark__driftwatch_unpivot(query, names) %}{{ return(driftwatch_unpivot_operator(query, names)) }}{% endmacro %}
    {% macro trino__driftwatch_unpivot(query, names) -%}
      {%- set labels = [] -%}{%- set values = [] -%}
      {%- for name in names -%}{%- do labels.append("'" ~ name ~ "'") -%}{%- do values.append('q.' ~ name) -%}{%- endfor -%}
      {{ return('select u.i, u.v from (' ~ query ~ ') q\ncross join unnest(array[' ~ (labels | join(', ')) ~ '], array[' ~ (values | join(', ')) ~ ']) as u(i, v) where u.v is not null') }}
    {%- endmacro %}

    {#- A repeatable sample of about `percent` % of a table, after its name (none: the adapter cannot). -#}
    {% macro driftwatch_tablesample(percent) %}{{ return(adapter.dispatch('driftwatch_tablesample', 'driftwatch_bridge')(percent)) }}{% endmacro %}
    {% macro default__driftwatch_tablesample(percent) %}{{ return(none) }}{% endmacro %}
    {% macro postgres__driftwatch_tablesample(percent) %}{{ return(' tablesample system (' ~ percent ~ ') repeatable (0)') }}{% endmacro %}
    {% macro redshift__driftwatch_tablesample(percent) %}{{ return(none) }}{% endmacro %}
    {% macro snowflake__driftwatch_tablesample(percent) %}{{ return(' sample system (' ~ percent ~ ') seed (0)') }}{% endmacro %}
    {% macro bigquery__driftwatch_tablesample(percent) %}{{ return(' tablesample system (' ~ percent ~ ' percent)') }}{% endmacro %}
    {% macro spark__driftwatch_tablesample(percent) %}{{ return(' tablesample (' ~ percent ~ ' percent) repeatable (1)') }}{% endmacro %}
    {% macro duckdb__driftwatch_tablesample(percent) %}{{ return(' tablesample ' ~ percent ~ '% (system, 0)') }}{% endmacro %}
    {% macro trino__driftwatch_tablesample(percent) %}{{ return(' tablesample system (' ~ percent ~ ')') }}{% endmacro %}

    {#- The tables' estimated rows, in one statement, for the adapters that can sample (none: read every
        table whole). Rows: schema, table, rows[, column, null fraction, distinct (PostgreSQL's statistics)]. -#}
    {% macro driftwatch_estimates_sql(tables) %}{{ return(adapter.dispatch('driftwatch_estimates_sql', 'driftwatch_bridge')(tables)) }}{% endmacro %}
    {% macro default__driftwatch_estimates_sql(tables) %}{{ return(none) }}{% endmacro %}
    {% macro redshift__driftwatch_estimates_sql(tables) %}{{ return(none) }}{% endmacro %}
    {% macro trino__driftwatch_estimates_sql(tables) %}{{ return(none) }}{% endmacro %}
    {% macro postgres__driftwatch_estimates_sql(tables) -%}
      {%- set wanted = [] -%}
      {%- for table in tables -%}
        {%- do wanted.append('(n.nspname = ' ~ driftwatch_literal(table.schema) ~ ' and c.relname = ' ~ driftwatch_literal(table.table) ~ ')') -%}
      {%- endfor -%}
      {% set sql %}
    select n.nspname::text, c.relname::text, c.reltuples::float8::text, s.attname::text, s.null_frac::float8::text,
      s.n_distinct::float8::text
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    left join pg_catalog.pg_stats s on s.schemaname = n.nspname and s.tablename = c.relname
    where {{ wanted | join('\n      or ') }}
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}
    {% macro duckdb__driftwatch_estimates_sql(tables) -%}
      {%- set wanted = [] -%}
      {%- for table in tables -%}
        {%- set database = driftwatch_literal(table.database) if table.database is not none else 'current_database()' -%}
        {%- do wanted.append('(database_name = ' ~ database ~ ' and schema_name = ' ~ driftwatch_literal(table.schema) ~ ' and table_name = ' ~ driftwatch_literal(table.table) ~ ')') -%}
      {%- endfor -%}
      {{ return('select schema_name, table_name, cast(estimated_size as varchar) from duckdb_tables()\nwhere ' ~ (wanted | join('\n  or '))) }}
    {%- endmacro %}
    {#- Snowflake's information_schema keeps row counts; one select per database. -#}
    {% macro snowflake__driftwatch_estimates_sql(tables) -%}
      {%- set groups = {} -%}
      {%- for table in tables -%}
        {%- set key = table.database if table.database is not none else '' -%}
        {%- do groups.setdefault(key, []).append('(table_schema = ' ~ driftwatch_literal(table.schema) ~ ' and table_name = ' ~ driftwatch_literal(table.table) ~ ')') -%}
      {%- endfor -%}
      {%- set selects = [] -%}
      {%- for database in groups | sort -%}
        {%- set catalog = (driftwatch_database(database) ~ '.') if database != '' else '' -%}
        {%- do selects.append('select table_schema, table_name, cast(row_count as varchar) from ' ~ catalog ~ 'information_schema.tables\nwhere row_count is not null and (' ~ (groups[database] | join(' or ')) ~ ')') -%}
      {%- endfor -%}
      {{ return(selects | join('\nunion all\n')) }}
    {%- endmacro %}
    {#- BigQuery keeps row counts in each dataset's __TABLES__; one select per dataset. -#}
    {% macro bigquery__driftwatch_estimates_sql(tables) -%}
      {%- set groups = {} -%}
      {%- for table in tables -%}
        {%- set prefix = (driftwatch_database(table.database) ~ '.') if table.database is not none else '' -%}
        {%- do groups.setdefault(prefix ~ driftwatch_quote(table.schema), []).append(driftwatch_literal(table.table)) -%}
      {%- endfor -%}
      {%- set selects = [] -%}
      {%- for dataset in groups | sort -%}
        {%- do selects.append('select dataset_id, table_id, cast(row_count as string) from ' ~ dataset ~ '.__TABLES__ where table_id in (' ~ (groups[dataset] | join(', ')) ~ ')') -%}
      {%- endfor -%}
      {{ return(selects | join('\nunion all\n')) }}
    {%- endmacro %}
    {#- Spark and Databricks keep no row counts in a catalog query: one count per table, in one statement. -#}
    {% macro spark__driftwatch_estimates_sql(tables) -%}
      {%- set selects = [] -%}
      {%- for table in tables -%}
        {%- do selects.append('select ' ~ driftwatch_literal(table.schema) ~ ', ' ~ driftwatch_literal(table.table) ~ ', cast(count(*) as string) from ' ~ driftwatch_relation(table)) -%}
      {%- endfor -%}
      {{ return(selects | join('\nunion all\n')) }}
    {%- endmacro %}

    {#- The percentage of a table of `rows` estimated rows to sample to read about `budget` rows, or none to
        read it whole: `TableEstimate.samplePercent` in driftwatch. -#}
    {% macro driftwatch_sample_percent(rows, budget) -%}
      {%- if rows is none or budget <= 0 or rows <= 2 * budget -%}{{ return(none) }}{%- endif -%}
      {%- set percent = [0.01, [100.0, 100.0 * budget / rows] | min] | max -%}
      {{ return(((percent * 1000000 + 0.5) | int) / 1000000) }}
    {%- endmacro %}

    {#- One statement per table: the aggregates (part 0: `n` rows; per column i `nn`i non-null, `lo`i/`hi`i
        min/max as text in the type's own order when orderable, `len`i average length, `mag`i average absolute
        value of numeric columns) from one read, and the cells (part 1) from another: every non-null value of
        every column as text (`v`i) and, for strings, its whole shape (`t`i), counted once per distinct value or
        shape; then each distinct shape gives its cut shape (`s`i) and its class (`k`i: the class is computed
        once per distinct shape, not per row); each one's `top_k` most frequent kept (ties bytewise) with how
        many distinct there are (`d`). -#}
    {% macro driftwatch_profile_sql(table, percent, request) -%}
      {%- set sample = driftwatch_tablesample(percent) if percent is not none else none -%}
      {%- set source = driftwatch_relation(table) ~ (sample if sample is not none else '') -%}
      {%- set k = [request.top_k | int, 1] | max -%}
      {%- set aggregates = [driftwatch_text('count(*)') ~ ' as n'] -%}
      {%- set aggregate_names = ['n'] -%}
      {%- set texts = [] -%}
      {%- set cell_names = [] -%}
      {%- for column in table.columns -%}
        {%- set i = loop.index0 | string -%}
        {%- set raw = driftwatch_quote(column.column) -%}
        {%- set value = driftwatch_column_text(column.column, column.get('complex', false)) -%}
        {%- set ordered = raw if column.orderable else value -%}
        {%- do aggregates.append(driftwatch_text('count(' ~ raw ~ ')') ~ ' as nn' ~ i) -%}
        {%- do aggregates.append(driftwatch_text('min(' ~ ordered ~ ')') ~ ' as lo' ~ i) -%}
        {%- do aggregates.append(driftwatch_text('max(' ~ ordered ~ ')') ~ ' as hi' ~ i) -%}
        {%- do aggregates.append(driftwatch_text(driftwatch_float('avg(length(' ~ value ~ '))')) ~ ' as len' ~ i) -%}
        {%- do aggregate_names.extend(['nn' ~ i, 'lo' ~ i, 'hi' ~ i, 'len' ~ i]) -%}
        {%- if column.numeric -%}
          {%- do aggregates.append(driftwatch_text(driftwatch_float('avg(abs(' ~ raw ~ '))')) ~ ' as mag' ~ i) -%}
          {%- do aggregate_names.append('mag' ~ i) -%}
        {%- endif -%}
        {%- do texts.append(value ~ ' as v' ~ i) -%}
        {%- do cell_names.append('v' ~ i) -%}
        {%- if column.string -%}
          {%- do texts.append('translate(' ~ value ~ ', ' ~ driftwatch_literal(request.shape_from) ~ ', ' ~ driftwatch_literal(request.shape_to) ~ ') as t' ~ i) -%}
          {%- do cell_names.append('t' ~ i) -%}
        {%- endif -%}
      {%- endfor -%}
      {%- set none_text = driftwatch_text('null') -%}
      {%- set aggregate_query = 'select ' ~ (aggregates | join(',\n  ')) ~ '\nfrom ' ~ source -%}
      {%- set cell_query = 'select ' ~ (texts | join(',\n  ')) ~ '\nfrom ' ~ source -%}
      {% set sql %}
    select '0' as part, a.i, a.v, {{ none_text }} as c, {{ none_text }} as d
    from (
    {{ driftwatch_unpivot(aggregate_query, aggregate_names) }}
    ) a
    union all
    select '1' as part, r.i, r.v, {{ driftwatch_text('r.c') }} as c, {{ driftwatch_text('r.d') }} as d
    from (
      select g.i, g.v, g.c, count(*) over (partition by g.i) as d,
        row_number() over (partition by g.i order by g.c desc, {{ driftwatch_bytewise('g.v') }}) as r
      from (
        select w.i, w.v, sum(w.c) as c
        from (
          select
            case when substr(dv.i, 1, 1) = 'v' then dv.i when m.x = 1 then 's' || substr(dv.i, 2) else 'k' || substr(dv.i, 2) end as i,
            case when substr(dv.i, 1, 1) = 'v' then dv.v when m.x = 1 then substr(dv.v, 1, {{ request.shape_length | int }})
              else {{ driftwatch_shape_class('dv.v') }} end as v,
            dv.c
          from (
            select u.i, u.v, count(*) as c
            from (
    {{ driftwatch_unpivot(cell_query, cell_names) }}
            ) u
            group by u.i, u.v
          ) dv
          cross join (select 1 as x union all select 2 as x) m
          where m.x = 1 or substr(dv.i, 1, 1) = 't'
        ) w
        group by w.i, w.v
      ) g
    ) r
    where r.r <= {{ k }}
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {#- The tables' estimates (`driftwatch_estimates_sql`) by schema and table. -#}
    {% macro driftwatch_estimates(tables, budget, counter) -%}
      {%- set estimates = {} -%}
      {%- set sql = driftwatch_estimates_sql(tables) if budget > 0 else none -%}
      {%- if sql is not none -%}
        {%- for row in driftwatch_cells(driftwatch_run(sql, counter)) -%}
          {%- set table = estimates.setdefault(row[0], {}).setdefault(row[1], {'rows': none, 'statistics': []}) -%}
          {%- if row[2] is not none -%}{%- do table.update({'rows': row[2] | float}) -%}{%- endif -%}
          {%- if row | length > 5 and row[3] is not none and row[4] is not none and row[5] is not none -%}
            {%- do table.statistics.append([row[3], row[4] | float, row[5] | float]) -%}
          {%- endif -%}
        {%- endfor -%}
      {%- endif -%}
      {{ return(estimates) }}
    {%- endmacro %}

    {% macro driftwatch_profile() %}
      {%- set request = driftwatch_request() -%}
      {%- set counter = [] -%}
      {%- set budget = request.row_budget | float -%}
      {%- set estimates = driftwatch_estimates(request.tables, budget, counter) -%}
      {%- set out = [] -%}
      {%- for table in request.tables -%}
        {%- set estimate = (estimates.get(table.schema) or {}).get(table.table) -%}
        {%- set rows = estimate.rows if estimate is not none else none -%}
        {%- set percent = driftwatch_sample_percent(rows, budget) if driftwatch_tablesample(1) is not none else none -%}
        {%- set cells = driftwatch_cells(driftwatch_run(driftwatch_profile_sql(table, percent, request), counter)) -%}
        {%- do out.append({'percent': percent, 'rows': rows, 'statistics': (estimate.statistics if estimate is not none else []), 'cells': cells}) -%}
      {%- endfor -%}
      {% do driftwatch_emit({'profiles': out, 'statements': counter | length}) %}
    {% endmacro %}

    {# ---------- keyed samples and live rows by key ---------- #}

    {% macro driftwatch_select_list(target) -%}
      {%- set complex = target.get('complex_columns') or [] -%}
      {%- set names = [driftwatch_column_text(target.key, target.key in complex)] -%}
      {%- for column in target.columns -%}{%- do names.append(driftwatch_column_text(column, column in complex)) -%}{%- endfor -%}
      {{ return(names | join(', ')) }}
    {%- endmacro %}

    {#- The same rows every run while they exist: ordered by the md5 of the key as text. -#}
    {#- A large table (the bridge sends the `percent` its profile step's estimate gives) is ordered from a
        repeatable sample of it, as the native driver does. -#}
    {% macro driftwatch_sample_sql(target, request) -%}
      {%- set key = driftwatch_quote(target.key) -%}
      {%- set percent = target.get('percent') -%}
      {%- set sample = driftwatch_tablesample(percent) if percent is not none else none -%}
      {% set sql %}
    select {{ driftwatch_select_list(target) }}
    from {{ driftwatch_relation(target) }}{{ sample if sample is not none else '' }}
    where {{ key }} is not null
    order by {{ driftwatch_hash(driftwatch_text(key)) }}, 1
    limit {{ request.limit | int }}
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {% macro driftwatch_sample() %}
      {%- set request = driftwatch_request() -%}
      {%- set counter = [] -%}
      {%- set out = [] -%}
      {%- for target in request.targets -%}
        {%- do out.append(driftwatch_cells(driftwatch_run(driftwatch_sample_sql(target, request), counter))) -%}
      {%- endfor -%}
      {% do driftwatch_emit({'samples': out, 'statements': counter | length}) %}
    {% endmacro %}

    {% macro driftwatch_rows_sql(target) -%}
      {% set sql %}
    select {{ driftwatch_select_list(target) }}
    from {{ driftwatch_relation(target) }}
    where {{ driftwatch_text(driftwatch_quote(target.key)) }} in ({{ driftwatch_literals(target['keys']) }})
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {% macro driftwatch_rows() %}
      {%- set request = driftwatch_request() -%}
      {%- set counter = [] -%}
      {%- set out = [] -%}
      {%- for target in request.targets -%}
        {%- if target['keys'] | length == 0 -%}
          {%- do out.append([]) -%}
        {%- else -%}
          {%- do out.append(driftwatch_cells(driftwatch_run(driftwatch_rows_sql(target), counter))) -%}
        {%- endif -%}
      {%- endfor -%}
      {% do driftwatch_emit({'rows': out, 'statements': counter | length}) %}
    {% endmacro %}

    {#- The SQL a step would run, without running it (golden files and `--print-sql`). -#}
    {% macro driftwatch_plan() %}
      {%- set request = driftwatch_request() -%}
      {%- set out = [] -%}
      {%- if request.step == 'introspect' -%}
        {%- for group in request.groups -%}
          {%- do out.append(adapter.dispatch('driftwatch_introspect_sql', 'driftwatch_bridge')(group)) -%}
        {%- endfor -%}
      {%- elif request.step == 'profile' -%}
        {%- set estimates = driftwatch_estimates_sql(request.tables) -%}
        {%- if estimates is not none -%}{%- do out.append(estimates) -%}{%- endif -%}
        {%- for table in request.tables -%}
          {%- set percent = table.get('plan_percent') if driftwatch_tablesample(1) is not none else none -%}
          {%- do out.append(driftwatch_profile_sql(table, percent, request)) -%}
        {%- endfor -%}
      {%- elif request.step == 'sample' -%}
        {%- for target in request.targets -%}{%- do out.append(driftwatch_sample_sql(target, request)) -%}{%- endfor -%}
      {%- elif request.step == 'rows' -%}
        {%- for target in request.targets -%}{%- do out.append(driftwatch_rows_sql(target)) -%}{%- endfor -%}
      {%- endif -%}
      {% do driftwatch_emit({'sql': out}) %}
    {% endmacro %}
    """#
}
