{{ simple_cte([('orders', 'stg_orders')]) }}
select * from orders
