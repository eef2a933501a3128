select c.*, o.order_count from {{ ref('stg_customers') }} c
left join (select customer_id, count(*) as order_count from {{ ref('orders') }} group by 1) o using (customer_id)
