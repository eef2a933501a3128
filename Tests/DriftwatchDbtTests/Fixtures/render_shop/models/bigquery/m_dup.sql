{{ config(enabled=is_adapter('bigquery')) }}
select * from {{ ref('stg_a') }}
