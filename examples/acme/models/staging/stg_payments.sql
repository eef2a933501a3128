-- One row per captured payment.

with source as (

    select
        payment_id,
        order_id,
        payment_method,
        amount,
        paid_at
    from {{ source('acme', 'raw_payments') }}

)

select
    cast(payment_id as integer) as payment_id,
    cast(order_id as integer) as order_id,
    payment_method,
    cast(amount as numeric(12, 2)) as amount,
    cast(paid_at as timestamp) as paid_at
from source
