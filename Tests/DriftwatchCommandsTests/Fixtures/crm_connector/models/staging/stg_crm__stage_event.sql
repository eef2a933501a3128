select
    deal_id,
    stage,
    changed_at
from {{ source('crm', 'stage_event') }}
