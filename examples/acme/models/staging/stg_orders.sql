-- One row per order.

with source as (

    select
        order_id,
        customer_id,
        order_date,
        status,
        order_total,
        created_at
    from {{ source('acme', 'raw_orders') }}

)

select
    cast(order_id as integer) as order_id,
    cast(customer_id as integer) as customer_id,
    cast(order_date as date) as order_date,
    lower(status) as status,
    cast(order_total as numeric(12, 2)) as order_total,
    cast(created_at as timestamp) as order_created_at
from source
