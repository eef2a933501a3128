with base as (
    select * from {{ ref('stg_crm__stages_tmp') }}
),

fields as (
    select
        {{ fill_missing_columns(adapter.get_columns_in_relation(ref('stg_crm__stages_tmp')), stages_columns()) }}
    from base
)

select * from fields
