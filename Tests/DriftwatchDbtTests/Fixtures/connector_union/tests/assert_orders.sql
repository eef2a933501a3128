select * from {{ ref('orders') }} where id is null
