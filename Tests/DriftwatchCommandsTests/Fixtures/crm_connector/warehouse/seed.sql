-- The CRM's tables before the upstream change.
create schema crm_raw;
create table crm_raw.deals (deal_id integer primary key, owner_id integer not null, amount numeric(12, 2) not null);
insert into crm_raw.deals
select i, 1 + i % 4, round((100 + i * 37.5)::numeric, 2) from generate_series(1, 40) as i;
create table crm_raw.stage_event (deal_id integer not null, stage text not null, changed_at timestamp not null);
insert into crm_raw.stage_event
select i, 'open', timestamp '2026-01-01' + i * interval '1 hour' from generate_series(1, 40) as i;
insert into crm_raw.stage_event
select i, case when i % 3 = 0 then 'won' else 'lost' end, timestamp '2026-02-01' + i * interval '1 hour'
from generate_series(1, 40) as i where i % 2 = 0;
