select customer_segment, count(*) from {{ ref('stg_customers') }} group by 1
