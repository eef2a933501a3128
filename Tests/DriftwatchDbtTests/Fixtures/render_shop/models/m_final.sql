{{ config(tags=["nightly"] if target.name == 'prod' else ["daily"]) }}
select * from {{ ref('m_dup') }}, {{ ref('m_cte') }}, {{ ref('m_target') }}, {{ ref('m_dispatch') }}
