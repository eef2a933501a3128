{% set pairs = [] %}
{% for m in var('cte_models') %}{% do pairs.append((m, m)) %}{% endfor %}
{{ simple_cte(pairs) }}
select * from stg_a
