select
    orders.order_id,
    orders.customer_id,
    orders.location_id,
    orders.order_total,
    orders.ordered_at
from {{ ref('stg_orders') }} as orders
