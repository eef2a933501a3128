select
    customers.customer_id,
    customers.customer_name,
    count(orders.order_id) as count_lifetime_orders
from {{ ref('stg_customers') }} as customers
left join {{ ref('orders') }} as orders on orders.customer_id = customers.customer_id
group by customers.customer_id, customers.customer_name
