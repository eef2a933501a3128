select owner_id, owner_name
from {{ ref('stg_crm__owners') }}
