-- Reads crm.stage_event through the macro too: it counts events and never reads the stage.
select deal_id, count(*) as events
from ({{ crm_union(['stage_event'], ['deal_id']) }}) as events
group by deal_id
