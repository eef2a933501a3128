-- singular test: revenue can't be negative
select * from {{ ref('customer_revenue') }} where orders < 0
union all
select null from {{ source('acme', 'raw_orders') }} where amount < 0
