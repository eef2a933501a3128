{{ simple_cte([('v', 'm_var')]) }}
select * from v where false
