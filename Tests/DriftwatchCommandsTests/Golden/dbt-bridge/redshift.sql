-- introspect
select s.schema_name, null, null, null, null, null, null, null
from svv_all_schemas s where s.schema_name in ('App"Data', 'app"data', 'APP"DATA')
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as varchar), c.data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from svv_columns c
join svv_tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
where c.table_schema in ('App"Data', 'app"data', 'APP"DATA')

-- introspect
select s.schema_name, null, null, null, null, null, null, null
from svv_all_schemas s where s.schema_name in ('raw', 'RAW')
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as varchar), c.data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from svv_columns c
join svv_tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
where c.table_schema in ('raw', 'RAW')

-- profile
select '0' as part, cast(count(*) as varchar(max)) as n, cast(count("account_tier") as varchar(max)) as nn,
  cast(count(distinct cast("account_tier" as varchar(max))) as varchar(max)) as d,
  cast(min("account_tier") as varchar(max)) as lo, cast(max("account_tier") as varchar(max)) as hi,
  cast(cast(avg(length(cast("account_tier" as varchar(max)))) as double precision) as varchar(max)) as avg_len,
  cast(null as varchar(max)) as v, cast(null as varchar(max)) as c
from "analytics_db"."raw"."raw_accounts"
union all
select * from (
  select '1' as part, cast(null as varchar(max)) as n, cast(null as varchar(max)) as nn, cast(null as varchar(max)) as d, cast(null as varchar(max)) as lo, cast(null as varchar(max)) as hi, cast(null as varchar(max)) as avg_len, cast("account_tier" as varchar(max)) as v, cast(count(*) as varchar(max)) as c
  from "analytics_db"."raw"."raw_accounts" where "account_tier" is not null
  group by cast("account_tier" as varchar(max)) order by count(*) desc, cast("account_tier" as varchar(max)) limit 50
) top_values
union all
select * from (
  select '2' as part, cast(null as varchar(max)) as n, cast(null as varchar(max)) as nn, cast(null as varchar(max)) as d, cast(null as varchar(max)) as lo, cast(null as varchar(max)) as hi, cast(null as varchar(max)) as avg_len, left(translate(cast("account_tier" as varchar(max)), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 32) as v, cast(count(*) as varchar(max)) as c
  from "analytics_db"."raw"."raw_accounts" where "account_tier" is not null
  group by left(translate(cast("account_tier" as varchar(max)), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 32) order by count(*) desc, left(translate(cast("account_tier" as varchar(max)), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 32) limit 50
) top_shapes

-- profile
select '0' as part, cast(count(*) as varchar(max)) as n, cast(count("payload") as varchar(max)) as nn,
  cast(count(distinct cast("payload" as varchar(max))) as varchar(max)) as d,
  cast(min(cast("payload" as varchar(max))) as varchar(max)) as lo, cast(max(cast("payload" as varchar(max))) as varchar(max)) as hi,
  cast(cast(avg(length(cast("payload" as varchar(max)))) as double precision) as varchar(max)) as avg_len,
  cast(null as varchar(max)) as v, cast(null as varchar(max)) as c
from "raw"."we`ird""table"
union all
select * from (
  select '1' as part, cast(null as varchar(max)) as n, cast(null as varchar(max)) as nn, cast(null as varchar(max)) as d, cast(null as varchar(max)) as lo, cast(null as varchar(max)) as hi, cast(null as varchar(max)) as avg_len, cast("payload" as varchar(max)) as v, cast(count(*) as varchar(max)) as c
  from "raw"."we`ird""table" where "payload" is not null
  group by cast("payload" as varchar(max)) order by count(*) desc, cast("payload" as varchar(max)) limit 50
) top_values

-- sample
select cast("account_id" as varchar(max)), cast("account_tier" as varchar(max)), cast("street" as varchar(max))
from "analytics_db"."raw"."raw_accounts"
where "account_id" is not null
order by md5(cast("account_id" as varchar(max))), 1
limit 1000

-- rows
select cast("account_id" as varchar(max)), cast("account_tier" as varchar(max)), cast("street" as varchar(max))
from "analytics_db"."raw"."raw_accounts"
where cast("account_id" as varchar(max)) in ('1', 'o\'brien\\', 'a\nb')

