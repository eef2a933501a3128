-- introspect
select 'App"Data', cast(null as string), cast(null as string), cast(null as string),
  cast(null as string), cast(null as string), cast(null as string), cast(null as string)
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as string), c.data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from `analytics_db`.`App"Data`.INFORMATION_SCHEMA.COLUMNS c
join `analytics_db`.`App"Data`.INFORMATION_SCHEMA.TABLES t on t.table_name = c.table_name

-- introspect
select 'raw', cast(null as string), cast(null as string), cast(null as string),
  cast(null as string), cast(null as string), cast(null as string), cast(null as string)
union all
select c.table_schema, c.table_name,
  case when t.table_type like '%VIEW%' then 'view' else 'table' end,
  c.column_name, cast(c.ordinal_position as string), c.data_type,
  case when c.is_nullable = 'NO' then '1' else '0' end, '0'
from `analytics_db`.`raw`.INFORMATION_SCHEMA.COLUMNS c
join `analytics_db`.`raw`.INFORMATION_SCHEMA.TABLES t on t.table_name = c.table_name

-- profile
select dataset_id, table_id, cast(row_count as string) from `analytics_db`.`raw`.__TABLES__ where table_id in ('raw_accounts')
union all
select dataset_id, table_id, cast(row_count as string) from `raw`.__TABLES__ where table_id in ('we`ird"table')

-- profile
select '0' as part, a.i, a.v, cast(null as string) as c, cast(null as string) as d
from (
select lower(i) as i, v from (select cast(count(*) as string) as n,
  cast(count(`account_tier`) as string) as nn0,
  cast(min(`account_tier`) as string) as lo0,
  cast(max(`account_tier`) as string) as hi0,
  cast(cast(avg(length(cast(`account_tier` as string))) as float64) as string) as len0,
  cast(count(`balance`) as string) as nn1,
  cast(min(`balance`) as string) as lo1,
  cast(max(`balance`) as string) as hi1,
  cast(cast(avg(length(cast(`balance` as string))) as float64) as string) as len1,
  cast(cast(avg(abs(`balance`)) as float64) as string) as mag1
from `analytics_db`.`raw`.`raw_accounts`) q
unpivot (v for i in (n, nn0, lo0, hi0, len0, nn1, lo1, hi1, len1, mag1))
) a
union all
select '1' as part, r.i, r.v, cast(r.c as string) as c, cast(r.d as string) as d
from (
  select g.i, g.v, g.c, count(*) over (partition by g.i) as d,
    row_number() over (partition by g.i order by g.c desc, g.v) as r
  from (
    select w.i, w.v, sum(w.c) as c
    from (
      select
        case when substr(dv.i, 1, 1) = 'v' then dv.i when m.x = 1 then 's' || substr(dv.i, 2) else 'k' || substr(dv.i, 2) end as i,
        case when substr(dv.i, 1, 1) = 'v' then dv.v when m.x = 1 then substr(dv.v, 1, 32)
          else case when dv.v is null then null
  when dv.v = '' then 'empty'
  when dv.v like '%_@_%._%' and dv.v not like '% %' and dv.v not like '%.' and dv.v not like '%@.%' then 'email'
  when substr(dv.v, 1, 7) = 'aaaa://' or substr(dv.v, 1, 8) = 'aaaaa://' then 'url'
  when length(dv.v) = 36 and replace(replace(replace(replace(dv.v, '9', ''), 'a', ''), 'A', ''), '-', '') = '' and substr(dv.v, 9, 1) = '-'
    and substr(dv.v, 14, 1) = '-' and substr(dv.v, 19, 1) = '-' and substr(dv.v, 24, 1) = '-' then 'uuid'
  when dv.v = '9999-99-99' then 'date'
  when substr(dv.v, 1, 10) = '9999-99-99' and substr(dv.v, 12, 5) = '99:99' then 'timestamp'
  when (case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end) <> '' and replace((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), '9', '') in ('', '.') and substr((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), 1, 1) = '9'
    and substr((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), length((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end)), 1) = '9' then 'number'
  when replace(replace(replace(replace(replace(replace(replace(dv.v, '9', ''), '-', ''), ' ', ''), '(', ''), ')', ''), '+', ''), '.', '') = '' and replace(dv.v, '9', '') <> dv.v then 'digits'
  when substr(dv.v, 1, 1) = 'A' and replace(dv.v, '9', '') = dv.v and replace(dv.v, 'AA', '') = dv.v
    and replace(replace(replace(replace(replace(dv.v, 'a', ''), 'A', ''), ' ', ''), '-', ''), '\'', '') = '' then 'title_case'
  when replace(replace(replace(replace(dv.v, 'a', ''), ' ', ''), '_', ''), '-', '') = '' and replace(dv.v, 'a', '') <> dv.v then 'lowercase'
  when replace(replace(replace(replace(dv.v, 'A', ''), ' ', ''), '_', ''), '-', '') = '' and replace(dv.v, 'A', '') <> dv.v then 'uppercase'
  else 'other' end end as v,
        dv.c
      from (
        select u.i, u.v, count(*) as c
        from (
select lower(i) as i, v from (select cast(`account_tier` as string) as v0,
  translate(cast(`account_tier` as string), '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999aaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAAAAAAAAAAAAAAAAAA') as t0,
  cast(`balance` as string) as v1
from `analytics_db`.`raw`.`raw_accounts`) q
unpivot (v for i in (v0, t0, v1))
        ) u
        group by u.i, u.v
      ) dv
      cross join (select 1 as x union all select 2 as x) m
      where m.x = 1 or substr(dv.i, 1, 1) = 't'
    ) w
    group by w.i, w.v
  ) g
) r
where r.r <= 50

-- profile
select '0' as part, a.i, a.v, cast(null as string) as c, cast(null as string) as d
from (
select lower(i) as i, v from (select cast(count(*) as string) as n,
  cast(count(`pay'load`) as string) as nn0,
  cast(min(to_json_string(`pay'load`)) as string) as lo0,
  cast(max(to_json_string(`pay'load`)) as string) as hi0,
  cast(cast(avg(length(to_json_string(`pay'load`))) as float64) as string) as len0
from `raw`.`we\`ird"table` tablesample system (2.5 percent)) q
unpivot (v for i in (n, nn0, lo0, hi0, len0))
) a
union all
select '1' as part, r.i, r.v, cast(r.c as string) as c, cast(r.d as string) as d
from (
  select g.i, g.v, g.c, count(*) over (partition by g.i) as d,
    row_number() over (partition by g.i order by g.c desc, g.v) as r
  from (
    select w.i, w.v, sum(w.c) as c
    from (
      select
        case when substr(dv.i, 1, 1) = 'v' then dv.i when m.x = 1 then 's' || substr(dv.i, 2) else 'k' || substr(dv.i, 2) end as i,
        case when substr(dv.i, 1, 1) = 'v' then dv.v when m.x = 1 then substr(dv.v, 1, 32)
          else case when dv.v is null then null
  when dv.v = '' then 'empty'
  when dv.v like '%_@_%._%' and dv.v not like '% %' and dv.v not like '%.' and dv.v not like '%@.%' then 'email'
  when substr(dv.v, 1, 7) = 'aaaa://' or substr(dv.v, 1, 8) = 'aaaaa://' then 'url'
  when length(dv.v) = 36 and replace(replace(replace(replace(dv.v, '9', ''), 'a', ''), 'A', ''), '-', '') = '' and substr(dv.v, 9, 1) = '-'
    and substr(dv.v, 14, 1) = '-' and substr(dv.v, 19, 1) = '-' and substr(dv.v, 24, 1) = '-' then 'uuid'
  when dv.v = '9999-99-99' then 'date'
  when substr(dv.v, 1, 10) = '9999-99-99' and substr(dv.v, 12, 5) = '99:99' then 'timestamp'
  when (case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end) <> '' and replace((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), '9', '') in ('', '.') and substr((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), 1, 1) = '9'
    and substr((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end), length((case when substr(dv.v, 1, 1) = '-' then substr(dv.v, 2) else dv.v end)), 1) = '9' then 'number'
  when replace(replace(replace(replace(replace(replace(replace(dv.v, '9', ''), '-', ''), ' ', ''), '(', ''), ')', ''), '+', ''), '.', '') = '' and replace(dv.v, '9', '') <> dv.v then 'digits'
  when substr(dv.v, 1, 1) = 'A' and replace(dv.v, '9', '') = dv.v and replace(dv.v, 'AA', '') = dv.v
    and replace(replace(replace(replace(replace(dv.v, 'a', ''), 'A', ''), ' ', ''), '-', ''), '\'', '') = '' then 'title_case'
  when replace(replace(replace(replace(dv.v, 'a', ''), ' ', ''), '_', ''), '-', '') = '' and replace(dv.v, 'a', '') <> dv.v then 'lowercase'
  when replace(replace(replace(replace(dv.v, 'A', ''), ' ', ''), '_', ''), '-', '') = '' and replace(dv.v, 'A', '') <> dv.v then 'uppercase'
  else 'other' end end as v,
        dv.c
      from (
        select u.i, u.v, count(*) as c
        from (
select lower(i) as i, v from (select to_json_string(`pay'load`) as v0
from `raw`.`we\`ird"table` tablesample system (2.5 percent)) q
unpivot (v for i in (v0))
        ) u
        group by u.i, u.v
      ) dv
      cross join (select 1 as x union all select 2 as x) m
      where m.x = 1 or substr(dv.i, 1, 1) = 't'
    ) w
    group by w.i, w.v
  ) g
) r
where r.r <= 50

-- sample
select cast(`account_id` as string), cast(`account_tier` as string), cast(`street` as string)
from `analytics_db`.`raw`.`raw_accounts`
where `account_id` is not null
order by to_hex(md5(cast(`account_id` as string))), 1
limit 1000

-- sample
select cast(`account_id` as string), cast(`account_tier` as string), to_json_string(`street`)
from `analytics_db`.`raw`.`raw_accounts` tablesample system (2.5 percent)
where `account_id` is not null
order by to_hex(md5(cast(`account_id` as string))), 1
limit 1000

-- rows
select cast(`account_id` as string), cast(`account_tier` as string), cast(`street` as string)
from `analytics_db`.`raw`.`raw_accounts`
where cast(`account_id` as string) in ('1', 'o\'brien\\', 'a\nb')

