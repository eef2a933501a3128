-- Cash captured per day and payment method. Finance reconciles this against
-- the processor's settlement reports; it deliberately touches no customer data.

select
    cast(paid_at as date) as payment_date,
    payment_method,
    count(*) as payment_count,
    count(distinct order_id) as order_count,
    cast(sum(amount) as numeric(12, 2)) as amount_captured
from {{ ref('stg_payments') }}
group by 1, 2
