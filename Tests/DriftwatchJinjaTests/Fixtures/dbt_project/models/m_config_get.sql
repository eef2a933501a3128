{% if config.get('materialized') == 'incremental' %}
select * from {{ ref('stg_a') }}
{% else %}
select * from {{ ref('stg_c') }}
{% endif %}
