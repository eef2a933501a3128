{% if target.name == 'prod' %}
select * from {{ ref('stg_a') }}
{% else %}
select * from {{ ref('stg_b') }}
{% endif %}
