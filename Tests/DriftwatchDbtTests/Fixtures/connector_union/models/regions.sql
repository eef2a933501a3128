select * from {{ ref('countries') }}
