select id as order_id, customer as customer_id, 1.0 as order_total, current_date as ordered_at
from {{ source('ecom', 'raw_orders') }}
