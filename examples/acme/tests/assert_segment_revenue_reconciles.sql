-- Segment revenue on the VP Sales dashboard must add up to order-level revenue.
-- Returns a row (= failure) when the two totals differ by more than a cent.

with by_segment as (
    select sum(revenue) as total from {{ ref('revenue_by_segment') }}
),

by_order as (
    select sum(recognized_revenue) as total from {{ ref('fct_orders') }}
)

select
    by_segment.total as segment_total,
    by_order.total as order_total
from by_segment
cross join by_order
where abs(coalesce(by_segment.total, 0) - coalesce(by_order.total, 0)) > 0.01
