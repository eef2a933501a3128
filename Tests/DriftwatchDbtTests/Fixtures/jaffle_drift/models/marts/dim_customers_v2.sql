{{ config(materialized="table") }}
select c.customer_id, c.customer_segment, c.country as country_code, cal.calendar_date as first_seen
from {{ ref('stg_customers') }} as c
cross join {{ ref('helpers', 'helper_calendar') }} as cal
