select * from {{ source('app', 'events') }}
