{% set tables = ['raw.orders', 'raw.payments'] %}
{% for t in tables %}
select * from {{ raw_table(t) }}{% if not loop.last %} union all{% endif %}
{% endfor %}
