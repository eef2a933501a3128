select * from {{ ref('helper_calendar') }}
