{{ simple_cte([('a', 'stg_a'), ('b', 'stg_b')]) }}
select * from a join b using (id)
