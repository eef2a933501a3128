select * from {{ ref(var('upstream_model')) }} join {{ staged('b') }} using (id)
