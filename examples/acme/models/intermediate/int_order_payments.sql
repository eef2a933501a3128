-- Orders with what was actually captured against them.
-- Payments-side only: no customer attributes here, finance reuses it.

with orders as (

    select * from {{ ref('stg_orders') }}

),

payments as (

    select
        order_id,
        count(*) as payment_count,
        sum(amount) as amount_paid,
        min(paid_at) as first_paid_at
    from {{ ref('stg_payments') }}
    group by order_id

)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.order_total,
    coalesce(payments.payment_count, 0) as payment_count,
    cast(coalesce(payments.amount_paid, 0) as numeric(12, 2)) as amount_paid,
    payments.first_paid_at
from orders
left join payments
    on orders.order_id = payments.order_id
