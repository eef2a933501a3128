{{ config({"tags": ["nightly"], "materialized": "table"}) }}
{{ config(tags="finance") }}
select * from {{ ref('stg_a') }}
