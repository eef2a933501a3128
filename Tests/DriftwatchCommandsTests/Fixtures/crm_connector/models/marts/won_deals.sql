select deal_id, owner_id, amount
from {{ ref('fct_deals') }}
where stage = 'won'
