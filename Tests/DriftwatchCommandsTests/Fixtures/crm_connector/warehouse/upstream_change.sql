-- What the connector's next release ships: the deals table renamed, stage values upper-cased.
alter table crm_raw.deals rename to deal_records;
update crm_raw.stage_event set stage = upper(stage);
