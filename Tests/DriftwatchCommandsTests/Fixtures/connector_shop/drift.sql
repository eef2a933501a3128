-- What the connector ships upstream: owners renamed to owner_records, amount dropped (two marts read it),
-- label renamed with its data, owner_id from integer to text. The views dbt built on these tables are
-- dropped first (dbt rebuilds them).
drop schema if exists analytics cascade;
alter table raw.deals drop column amount;
alter table raw.stages rename column label to stage_label;
alter table raw.deals alter column owner_id type text using owner_id::text;
alter table raw.owners rename to owner_records;
