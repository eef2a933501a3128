-- Lifetime value per customer, banded for the account-management book.

select
    customer_id,
    customer_name,
    customer_segment,
    country,
    billing_state,
    order_count,
    revenue_order_count,
    lifetime_revenue,
    cast(
        case when revenue_order_count > 0 then lifetime_revenue / revenue_order_count else 0 end
        as numeric(12, 2)
    ) as avg_order_value,
    case
        when lifetime_revenue >= 2000 then 'high'
        when lifetime_revenue >= 500 then 'medium'
        when lifetime_revenue > 0 then 'low'
        else 'none'
    end as ltv_band,
    most_recent_order_date
from {{ ref('dim_customers') }}
