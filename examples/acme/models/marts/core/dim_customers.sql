-- The customer dimension every dashboard joins to. One row per customer,
-- including customers who never ordered.

with customers as (

    select * from {{ ref('stg_customers') }}

),

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}

)

select
    customers.customer_id,
    customers.customer_name,
    customers.email,
    customers.customer_segment,
    customers.country,
    -- Sales territories are by billing state: 'street, city, ST 12345' -> 'ST'.
    split_part(split_part(customers.address, ', ', 3), ' ', 1) as billing_state,
    customers.customer_created_at,
    order_summary.first_order_date,
    order_summary.most_recent_order_date,
    coalesce(order_summary.order_count, 0) as order_count,
    coalesce(order_summary.revenue_order_count, 0) as revenue_order_count,
    cast(coalesce(order_summary.lifetime_revenue, 0) as numeric(12, 2)) as lifetime_revenue
from customers
left join order_summary
    on customers.customer_id = order_summary.customer_id
