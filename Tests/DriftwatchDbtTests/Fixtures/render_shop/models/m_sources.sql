{% set tables = ['raw.orders'] %}
{% for t in tables %}
select * from {{ raw_table(t) }} union all
{% endfor %}
select * from {{ money.payments() }}
