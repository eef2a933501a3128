select d.deal_id, d.amount, s.label as stage, d.owner_id
from {{ ref('stg_crm__deals') }} as d
join {{ ref('stg_crm__stages') }} as s on s.stage_id = d.stage_id
where s.label is not null
