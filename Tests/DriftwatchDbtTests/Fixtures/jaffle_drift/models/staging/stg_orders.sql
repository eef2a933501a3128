{%- set amount_column = "amount" -%}
{% set customers_query %}
  select customer_id from {{
      ref(
        "stg_customers"
      )
  }}
{% endset %}
-- depends_on: {{ ref( 'stg_customers' ) }}
select
    o.order_id,
    o.user_id as customer_id,
    o.{{ amount_column }} as amount,
    '}}' as not_a_delimiter
from {{ source("acme" , "raw_orders") }} as o
