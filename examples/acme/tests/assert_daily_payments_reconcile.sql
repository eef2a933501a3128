-- Finance's daily cash table must account for every captured payment.

with daily as (
    select sum(amount_captured) as total, sum(payment_count) as payments
    from {{ ref('fct_daily_payments') }}
),

captured as (
    select sum(amount) as total, count(*) as payments
    from {{ ref('stg_payments') }}
)

select daily.total, captured.total, daily.payments, captured.payments
from daily
cross join captured
where daily.total <> captured.total
   or daily.payments <> captured.payments
