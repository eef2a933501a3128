{% if var('load_source_data', false) %}
select * from {{ ref('raw_codes') }}
{% else %}
select 1 as code
{% endif %}
