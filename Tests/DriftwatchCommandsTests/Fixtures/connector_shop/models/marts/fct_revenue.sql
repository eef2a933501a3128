select stage_id, sum(amount) as revenue, count(*) as deals
from {{ ref('stg_crm__deals') }}
group by stage_id
