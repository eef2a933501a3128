-- introspect
select s.schema_name, null, null, null, null, null, null, null
from `analytics_db`.information_schema.schemata s
where s.schema_name in ('App"Data', 'app"data', 'APP"DATA')
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as string), c.full_data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from `analytics_db`.information_schema.columns c
join `analytics_db`.information_schema.tables t
  on t.table_schema = c.table_schema and t.table_name = c.table_name
where c.table_schema in ('App"Data', 'app"data', 'APP"DATA')

-- introspect
select s.schema_name, null, null, null, null, null, null, null
from `analytics_db`.information_schema.schemata s
where s.schema_name in ('raw', 'RAW')
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as string), c.full_data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from `analytics_db`.information_schema.columns c
join `analytics_db`.information_schema.tables t
  on t.table_schema = c.table_schema and t.table_name = c.table_name
where c.table_schema in ('raw', 'RAW')

-- profile
select '0' as part, cast(count(*) as string) as n, cast(count(`account_tier`) as string) as nn,
  cast(count(distinct cast(`account_tier` as string)) as string) as d,
  cast(min(`account_tier`) as string) as lo, cast(max(`account_tier`) as string) as hi,
  cast(cast(avg(length(cast(`account_tier` as string))) as double) as string) as avg_len,
  cast(null as string) as v, cast(null as string) as c
from `analytics_db`.`raw`.`raw_accounts`
union all
select * from (
  select '1' as part, cast(null as string) as n, cast(null as string) as nn, cast(null as string) as d, cast(null as string) as lo, cast(null as string) as hi, cast(null as string) as avg_len, cast(`account_tier` as string) as v, cast(count(*) as string) as c
  from `analytics_db`.`raw`.`raw_accounts` where `account_tier` is not null
  group by cast(`account_tier` as string) order by count(*) desc, cast(`account_tier` as string) limit 50
) top_values
union all
select * from (
  select '2' as part, cast(null as string) as n, cast(null as string) as nn, cast(null as string) as d, cast(null as string) as lo, cast(null as string) as hi, cast(null as string) as avg_len, substr(translate(cast(`account_tier` as string), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 1, 32) as v, cast(count(*) as string) as c
  from `analytics_db`.`raw`.`raw_accounts` where `account_tier` is not null
  group by substr(translate(cast(`account_tier` as string), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 1, 32) order by count(*) desc, substr(translate(cast(`account_tier` as string), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA'), 1, 32) limit 50
) top_shapes

-- profile
select '0' as part, cast(count(*) as string) as n, cast(count(`payload`) as string) as nn,
  cast(count(distinct cast(`payload` as string)) as string) as d,
  cast(min(cast(`payload` as string)) as string) as lo, cast(max(cast(`payload` as string)) as string) as hi,
  cast(cast(avg(length(cast(`payload` as string))) as double) as string) as avg_len,
  cast(null as string) as v, cast(null as string) as c
from `raw`.`we``ird"table`
union all
select * from (
  select '1' as part, cast(null as string) as n, cast(null as string) as nn, cast(null as string) as d, cast(null as string) as lo, cast(null as string) as hi, cast(null as string) as avg_len, cast(`payload` as string) as v, cast(count(*) as string) as c
  from `raw`.`we``ird"table` where `payload` is not null
  group by cast(`payload` as string) order by count(*) desc, cast(`payload` as string) limit 50
) top_values

-- sample
select cast(`account_id` as string), cast(`account_tier` as string), cast(`street` as string)
from `analytics_db`.`raw`.`raw_accounts`
where `account_id` is not null
order by md5(cast(`account_id` as string)), 1
limit 1000

-- rows
select cast(`account_id` as string), cast(`account_tier` as string), cast(`street` as string)
from `analytics_db`.`raw`.`raw_accounts`
where cast(`account_id` as string) in ('1', 'o\'brien\\', 'a\nb')

