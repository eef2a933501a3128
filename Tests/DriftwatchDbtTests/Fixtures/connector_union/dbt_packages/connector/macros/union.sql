{% macro union_connections(table_name) -%}
  {%- set relations = [] -%}
  {%- for connection in var('connector_connections') -%}
    {%- do relations.append(source(connection, table_name)) -%}
  {%- endfor -%}
  {{- return(adapter.dispatch('union_relations', 'connector')(relations)) -}}
{%- endmacro %}

{% macro default__union_relations(relations) -%}
  {%- for relation in relations %}
  select * from {{ relation }}{% if not loop.last %} union all{% endif %}
  {%- endfor %}
{%- endmacro %}

{% macro extra_relation() -%}
  {{- return(adapter.dispatch('extra_relation', 'connector')()) -}}
{%- endmacro %}

{% macro default__extra_relation() %}{{ ref('stg_connector__customers') }}{% endmacro %}

{% macro postgres__extra_relation() %}{{ ref('stg_connector__orders') }}{% endmacro %}
