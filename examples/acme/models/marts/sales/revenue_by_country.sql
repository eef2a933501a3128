-- Revenue per billing country (ISO-2).

select
    country,
    count(distinct customer_id) as ordering_customers,
    count(*) as order_count,
    cast(sum(recognized_revenue) as numeric(12, 2)) as revenue,
    cast(
        sum(case when customer_segment = 'premium' then recognized_revenue else 0 end)
        as numeric(12, 2)
    ) as premium_revenue
from {{ ref('fct_orders') }}
group by country
