-- Revenue per pricing segment. The VP Sales dashboard's headline tiles.

select
    customer_segment,
    count(distinct customer_id) as ordering_customers,
    count(*) as order_count,
    cast(sum(order_total) as numeric(12, 2)) as gross_order_value,
    cast(sum(recognized_revenue) as numeric(12, 2)) as revenue,
    cast(
        sum(recognized_revenue) / nullif(sum(case when recognized_revenue > 0 then 1 else 0 end), 0)
        as numeric(12, 2)
    ) as avg_order_value
from {{ ref('fct_orders') }}
group by customer_segment
