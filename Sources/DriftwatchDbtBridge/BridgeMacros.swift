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

    {% macro driftwatch_float(expr) %}{{ return(adapter.dispatch('driftwatch_float', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as double)') }}{% endmacro %}
    {% macro postgres__driftwatch_float(expr) %}{{ return('(' ~ expr ~ ')::float8') }}{% endmacro %}
    {% macro redshift__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as double precision)') }}{% endmacro %}
    {% macro bigquery__driftwatch_float(expr) %}{{ return('cast(' ~ expr ~ ' as float64)') }}{% endmacro %}

    {% macro driftwatch_hash(expr) %}{{ return(adapter.dispatch('driftwatch_hash', 'driftwatch_bridge')(expr)) }}{% endmacro %}
    {% macro default__driftwatch_hash(expr) %}{{ return('md5(' ~ expr ~ ')') }}{% endmacro %}
    {% macro bigquery__driftwatch_hash(expr) %}{{ return('to_hex(md5(' ~ expr ~ '))') }}{% endmacro %}
    {% macro trino__driftwatch_hash(expr) %}{{ return('lower(to_hex(md5(to_utf8(' ~ expr ~ '))))') }}{% endmacro %}

    {% macro driftwatch_shape(expr, request) %}{{ return(adapter.dispatch('driftwatch_shape', 'driftwatch_bridge')(expr, request)) }}{% endmacro %}
    {% macro default__driftwatch_shape(expr, request) -%}
      {{ return('substr(translate(' ~ expr ~ ', ' ~ driftwatch_literal(request.shape_from) ~ ', ' ~ driftwatch_literal(request.shape_to) ~ '), 1, ' ~ request.shape_length ~ ')') }}
    {%- endmacro %}
    {% macro postgres__driftwatch_shape(expr, request) -%}
      {{ return('left(translate(' ~ expr ~ ', ' ~ driftwatch_literal(request.shape_from) ~ ', ' ~ driftwatch_literal(request.shape_to) ~ '), ' ~ request.shape_length ~ ')') }}
    {%- endmacro %}

    {# ---------- introspection: every relation and column of the schemas, in one statement ---------- #}

    {% macro driftwatch_introspect() %}
      {%- set request = driftwatch_request() -%}
      {%- set out = [] -%}
      {%- for group in request.groups -%}
        {%- set sql = adapter.dispatch('driftwatch_introspect_sql', 'driftwatch_bridge')(group) -%}
        {%- if sql is none -%}
          {%- do out.append(adapter.dispatch('driftwatch_introspect_rows', 'driftwatch_bridge')(group)) -%}
        {%- else -%}
          {%- do out.append(driftwatch_cells(run_query(sql))) -%}
        {%- endif -%}
      {%- endfor -%}
      {% do driftwatch_emit({'database': (target.database if target.database is defined else none), 'groups': out}) %}
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
    {% macro default__driftwatch_introspect_rows(request) %}{{ return([]) }}{% endmacro %}
    {#- The metastore's names ignore case (`show schemas like` too): each schema is read once, under the name
        the metastore gives it, whichever of the asked spellings found it. Relations from `show tables` (views
        included; `show views` tells them apart), columns from the adapter (`describe table extended`). -#}
    {% macro spark__driftwatch_introspect_rows(request) -%}
      {%- set rows = [] -%}
      {%- set seen = [] -%}
      {%- set prefix = driftwatch_database(request.database) ~ '.' if request.database is not none else '' -%}
      {%- for asked in request.schemas -%}
        {%- set found = [] -%}
        {%- for row in run_query('show schemas like ' ~ driftwatch_literal(asked)).rows -%}
          {%- if (row[0] | string | lower) == (asked | lower) -%}{%- do found.append(row[0] | string) -%}{%- endif -%}
        {%- endfor -%}
        {%- if found | length > 0 and found[0] not in seen -%}
          {%- set schema = found[0] -%}
          {%- do seen.append(schema) -%}
          {%- do rows.append([schema, none, none, none, none, none, none, none]) -%}
          {%- set qualified = prefix ~ driftwatch_quote(schema) -%}
          {%- set views = [] -%}
          {%- for row in run_query('show views in ' ~ qualified).rows -%}{%- do views.append(row[1] | string) -%}{%- endfor -%}
          {%- for row in run_query('show tables in ' ~ qualified).rows if not row[2] -%}
            {%- set name = row[1] | string -%}
            {%- set kind = 'view' if name in views else 'table' -%}
            {%- set relation = api.Relation.create(database=request.database, schema=schema, identifier=name, type=kind) -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
              {%- do rows.append([schema, name, kind, column.name, (loop.index | string), column.data_type, '0', '0']) -%}
            {%- endfor -%}
          {%- endfor -%}
        {%- endif -%}
      {%- endfor -%}
      {{ return(rows) }}
    {%- endmacro %}

    {# ---------- profiles: one statement per column, as the native drivers ---------- #}

    {#- Part 0: rows, non-null rows, distinct values, min, max, average length; part 1: the top values; part 2:
        the top shapes (strings only). Values compared as text. -#}
    {% macro driftwatch_profile_sql(column, request) -%}
      {%- set relation = driftwatch_relation(column) -%}
      {%- set raw = driftwatch_quote(column.column) -%}
      {%- set value = driftwatch_text(raw) -%}
      {%- set ordered = raw if column.orderable else value -%}
      {%- set k = request.top_k | int -%}
      {%- set none_text = driftwatch_text('null') -%}
      {%- set nulls = none_text ~ ' as n, ' ~ none_text ~ ' as nn, ' ~ none_text ~ ' as d, ' ~ none_text ~ ' as lo, ' ~ none_text ~ ' as hi, ' ~ none_text ~ ' as avg_len' -%}
      {% set sql %}
    select '0' as part, {{ driftwatch_text('count(*)') }} as n, {{ driftwatch_text('count(' ~ raw ~ ')') }} as nn,
      {{ driftwatch_text('count(distinct ' ~ value ~ ')') }} as d,
      {{ driftwatch_text('min(' ~ ordered ~ ')') }} as lo, {{ driftwatch_text('max(' ~ ordered ~ ')') }} as hi,
      {{ driftwatch_text(driftwatch_float('avg(length(' ~ value ~ '))')) }} as avg_len,
      {{ none_text }} as v, {{ none_text }} as c
    from {{ relation }}
    union all
    select * from (
      select '1' as part, {{ nulls }}, {{ value }} as v, {{ driftwatch_text('count(*)') }} as c
      from {{ relation }} where {{ raw }} is not null
      group by {{ value }} order by count(*) desc, {{ value }} limit {{ k }}
    ) top_values
    {%- if column.string %}
    union all
    select * from (
      select '2' as part, {{ nulls }}, {{ driftwatch_shape(value, request) }} as v, {{ driftwatch_text('count(*)') }} as c
      from {{ relation }} where {{ raw }} is not null
      group by {{ driftwatch_shape(value, request) }} order by count(*) desc, {{ driftwatch_shape(value, request) }} limit {{ k }}
    ) top_shapes
    {%- endif %}
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {% macro driftwatch_profile() %}
      {%- set request = driftwatch_request() -%}
      {%- set out = [] -%}
      {%- for column in request.columns -%}
        {%- do out.append(driftwatch_cells(run_query(driftwatch_profile_sql(column, request)))) -%}
      {%- endfor -%}
      {% do driftwatch_emit({'profiles': out}) %}
    {% endmacro %}

    {# ---------- keyed samples and live rows by key ---------- #}

    {% macro driftwatch_select_list(target) -%}
      {%- set names = [driftwatch_text(driftwatch_quote(target.key))] -%}
      {%- for column in target.columns -%}{%- do names.append(driftwatch_text(driftwatch_quote(column))) -%}{%- endfor -%}
      {{ return(names | join(', ')) }}
    {%- endmacro %}

    {#- The same rows every run while they exist: ordered by the md5 of the key as text. -#}
    {% macro driftwatch_sample_sql(target, request) -%}
      {%- set key = driftwatch_quote(target.key) -%}
      {% set sql %}
    select {{ driftwatch_select_list(target) }}
    from {{ driftwatch_relation(target) }}
    where {{ key }} is not null
    order by {{ driftwatch_hash(driftwatch_text(key)) }}, 1
    limit {{ request.limit | int }}
      {% endset %}
      {{ return(sql) }}
    {%- endmacro %}

    {% macro driftwatch_sample() %}
      {%- set request = driftwatch_request() -%}
      {%- set out = [] -%}
      {%- for target in request.targets -%}
        {%- do out.append(driftwatch_cells(run_query(driftwatch_sample_sql(target, request)))) -%}
      {%- endfor -%}
      {% do driftwatch_emit({'samples': out}) %}
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
      {%- set out = [] -%}
      {%- for target in request.targets -%}
        {%- if target['keys'] | length == 0 -%}
          {%- do out.append([]) -%}
        {%- else -%}
          {%- do out.append(driftwatch_cells(run_query(driftwatch_rows_sql(target)))) -%}
        {%- endif -%}
      {%- endfor -%}
      {% do driftwatch_emit({'rows': out}) %}
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
        {%- for column in request.columns -%}{%- do out.append(driftwatch_profile_sql(column, request)) -%}{%- endfor -%}
      {%- elif request.step == 'sample' -%}
        {%- for target in request.targets -%}{%- do out.append(driftwatch_sample_sql(target, request)) -%}{%- endfor -%}
      {%- elif request.step == 'rows' -%}
        {%- for target in request.targets -%}{%- do out.append(driftwatch_rows_sql(target)) -%}{%- endfor -%}
      {%- endif -%}
      {% do driftwatch_emit({'sql': out}) %}
    {% endmacro %}
    """#
}
