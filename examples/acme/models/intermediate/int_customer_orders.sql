-- One row per order, with the customer's segment and country attached.
-- Revenue rule (agreed with finance, 2024-Q3): only shipped and completed
-- orders count, at the amount actually captured.

with orders as (

    select * from {{ ref('int_order_payments') }}

),

customers as (

    select
        customer_id,
        customer_segment,
        country,
        customer_created_at
    from {{ ref('stg_customers') }}

)

select
    orders.order_id,
    orders.customer_id,
    customers.customer_segment,
    customers.country,
    customers.customer_created_at,
    orders.order_date,
    orders.status,
    orders.order_total,
    orders.payment_count,
    orders.amount_paid,
    cast(
        case when orders.status in ('shipped', 'completed') then orders.amount_paid else 0 end
        as numeric(12, 2)
    ) as recognized_revenue
from orders
inner join customers
    on orders.customer_id = customers.customer_id
