{#- Selects each wanted column; one the relation lacks becomes a typed NULL, so the model keeps its shape. -#}
{% macro fill_missing_columns(relation_columns, wanted) -%}
{%- set present = relation_columns | map(attribute='name') | map('lower') | list -%}
{%- for column in wanted %}
    {% if column.name | lower in present -%}
    {{ adapter.quote(column.name) }}
    {%- else -%}
    cast(null as {{ column.datatype }})
    {%- endif %} as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
{%- endfor %}
{%- endmacro %}
