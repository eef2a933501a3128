-- One row per customer, straight from the app's users table.
-- Downstream models read customers only through this model: if the app
-- changes raw_customers, this is the one file that has to adapt.

with source as (

    select
        customer_id,
        name,
        email,
        address,
        customer_segment,
        country,
        created_at
    from {{ source('acme', 'raw_customers') }}

),

renamed as (

    select
        cast(customer_id as integer) as customer_id,
        name as customer_name,
        lower(trim(email)) as email,
        address,
        customer_segment,
        upper(country) as country,
        cast(created_at as timestamp) as customer_created_at
    from source

)

select * from renamed
