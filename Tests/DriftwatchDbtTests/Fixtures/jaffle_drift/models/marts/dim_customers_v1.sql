select customer_id, customer_segment, address, country
from {{ ref('stg_customers') }}
