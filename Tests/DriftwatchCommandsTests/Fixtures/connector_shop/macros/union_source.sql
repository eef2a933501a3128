{#- Every schema listed in connector_union_schemas that has the table, unioned; by default the one source
    table, reached through source() with the source name from a var (no rows when it is not there). -#}
{% macro union_source(table_name) -%}
{%- set relations = [] -%}
{%- for schema in var('connector_union_schemas', []) -%}
  {%- set found = adapter.get_relation(database=none, schema=schema, identifier=table_name) -%}
  {%- if found is not none -%}{%- do relations.append(found) -%}{%- endif -%}
{%- endfor -%}
{%- if relations | length > 0 -%}
  {%- for relation in relations %}
select * from {{ relation }}{% if not loop.last %} union all{% endif %}
  {%- endfor %}
{%- else -%}
  {#- A table the warehouse does not have yet gives no rows rather than an error, as connectors do. -#}
  {%- set declared = source(var('connector_source_name', 'crm'), table_name) -%}
  {%- if adapter.get_relation(database=declared.database, schema=declared.schema, identifier=declared.identifier) is not none %}
select * from {{ declared }}
  {%- else %}
select cast(null as integer) as _no_rows limit 0
  {%- endif %}
{%- endif %}
{%- endmacro %}
