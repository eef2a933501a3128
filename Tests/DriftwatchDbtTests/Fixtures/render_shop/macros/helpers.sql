{%- macro simple_cte(tuple_list) -%}
WITH{% for cte_ref in tuple_list %} {{ cte_ref[0] }} AS (
    SELECT * FROM {{ ref(cte_ref[1]) }}
){%- if not loop.last -%},{%- endif -%}
{%- endfor -%}
{%- endmacro -%}

{% macro is_adapter(adapter='default') %}
  {{ return(target.type == adapter) }}
{% endmacro %}

{% macro raw_table(name) %}
  {%- set parts = name.split('.') -%}
  {{ return(source(parts[0], parts[1])) }}
{% endmacro %}

{% macro staged(name) %}{{ ref('stg_' ~ name) }}{% endmacro %}

{# The root project is searched first: this one wins over money's. #}
{% macro postgres__pick() %}{{ return('stg_c') }}{% endmacro %}
