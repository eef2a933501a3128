with base as (
    select * from {{ ref('stg_crm__owners_tmp') }}
),

fields as (
    select
        {{ fill_missing_columns(adapter.get_columns_in_relation(ref('stg_crm__owners_tmp')), owners_columns()) }}
    from base
)

select * from fields
