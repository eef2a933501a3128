select * from {{ source('billing', 'invoices') }}
