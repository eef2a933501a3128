-- Monthly acquisition cohorts (by first order month) and the revenue each
-- cohort brings in over the following months.

with customers as (

    select
        customer_id,
        customer_segment,
        {{ dbt.date_trunc('month', 'first_order_date') }} as cohort_month
    from {{ ref('dim_customers') }}
    where first_order_date is not null

),

orders as (

    select
        customer_id,
        {{ dbt.date_trunc('month', 'order_date') }} as order_month,
        recognized_revenue
    from {{ ref('fct_orders') }}

)

select
    cast(customers.cohort_month as date) as cohort_month,
    cast(orders.order_month as date) as order_month,
    {{ dbt.datediff('customers.cohort_month', 'orders.order_month', 'month') }} as months_since_first_order,
    count(distinct orders.customer_id) as active_customers,
    cast(sum(orders.recognized_revenue) as numeric(12, 2)) as revenue
from orders
inner join customers
    on orders.customer_id = customers.customer_id
group by 1, 2, 3
