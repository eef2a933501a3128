select * from {{ ref('disabled_model') }}
