select * from {{ var('upstream') }} join {{ ref(var('plain')) }} using (id)
