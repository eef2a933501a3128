{%- set segments = ['premium', 'standard', 'basic'] -%}
select
    d.customer_id,
    {% for s in segments %}
    sum(case when d.customer_segment = '{{ s }}' then f.amount end) as {{ s }}_revenue,
    {% endfor %}
    count(*) as orders
from {{ ref('fct_orders') }} as f
join {{ ref("dim_customers") }} as d using (customer_id)
left join {{ ref('country_codes') }} as cc on cc.code = d.country_code
group by 1
