{{ config(enabled=is_adapter('postgres'), tags=['pg']) }}
select * from {{ ref('stg_b') }}
