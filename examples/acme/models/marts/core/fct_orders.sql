-- Order fact table: one row per order, with segment/country for slicing.

select
    order_id,
    customer_id,
    order_date,
    status,
    customer_segment,
    country,
    payment_count,
    cast(order_total as numeric(12, 2)) as order_total,
    cast(amount_paid as numeric(12, 2)) as amount_paid,
    cast(recognized_revenue as numeric(12, 2)) as recognized_revenue
from {{ ref('int_customer_orders') }}
