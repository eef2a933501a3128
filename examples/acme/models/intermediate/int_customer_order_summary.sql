-- Per-customer order history rollup. Customers with no orders are absent here;
-- dim_customers fills them in with zeros.

select
    customer_id,
    min(order_date) as first_order_date,
    max(order_date) as most_recent_order_date,
    count(*) as order_count,
    sum(case when recognized_revenue > 0 then 1 else 0 end) as revenue_order_count,
    cast(sum(recognized_revenue) as numeric(12, 2)) as lifetime_revenue
from {{ ref('int_customer_orders') }}
group by customer_id
