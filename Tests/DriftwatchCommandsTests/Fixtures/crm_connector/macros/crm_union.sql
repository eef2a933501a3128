{#- The connector's union macro: one select per table, each read through source() by name. -#}
{% macro crm_union(table_names, columns) %}
{%- for table_name in table_names %}
select '{{ table_name }}' as _crm_table, {{ columns | join(', ') }}
from {{ source('crm', table_name) }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endmacro %}
