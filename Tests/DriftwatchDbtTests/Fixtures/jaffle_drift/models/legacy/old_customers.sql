select * from {{ ref('another_missing_model') }}
