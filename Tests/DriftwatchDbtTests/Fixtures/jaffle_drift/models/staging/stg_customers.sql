{#- a jinja comment that mentions {{ ref('ghost_in_comment') }} -#}
{{- config(materialized='view', tags=["staging", 'pii']) -}}

with source as (
    select * from {{ source('acme', 'raw_customers') }}
),
{% raw %}
-- {{ ref('ghost_in_raw') }} is documentation, not a dependency
{% endraw %}
renamed as (
    select
        user_id as customer_id,
        customer_segment,
        address,
        country
    from source
)
select * from renamed
