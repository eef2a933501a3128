{#- Every schema listed in connector_union_schemas that has the table, unioned; by default the one source
    table, reached through source() with the source name from a var. -#}
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
{%- else %}
select * from {{ source(var('connector_source_name', 'crm'), table_name) }}
{%- endif %}
{%- endmacro %}
