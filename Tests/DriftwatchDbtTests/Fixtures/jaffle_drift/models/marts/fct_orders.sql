{{
    config(
        materialized = 'incremental',
        unique_key = 'order_id'
    )
}}
select o.*, c.customer_segment
from {{ ref('stg_orders') }} as o
left join {{ ref('dim_customers', v=1) }} as c using (customer_id)
{% if is_incremental() %}
where o.order_id > (select max(order_id) from {{ this }})
{% endif %}
