with last_stage as (
    select distinct on (deal_id) deal_id, stage
    from {{ ref('stg_crm__stage_event') }}
    order by deal_id, changed_at desc
)
select
    deal.deal_id,
    deal.owner_id,
    deal.amount,
    last_stage.stage,
    counts.events
from {{ ref('stg_crm__deal') }} as deal
left join last_stage on last_stage.deal_id = deal.deal_id
left join {{ ref('stg_crm__stage_event_counts') }} as counts on counts.deal_id = deal.deal_id
