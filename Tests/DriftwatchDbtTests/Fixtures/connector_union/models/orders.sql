select * from {{ ref('stg_connector__orders') }}
