select id as customer_id, name from {{ source('ecom', 'raw_customers') }}
