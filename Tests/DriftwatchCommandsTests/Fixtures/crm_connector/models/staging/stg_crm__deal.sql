-- Reads crm.deal only through the union macro, as connector packages do.
{{ crm_union(['deal'], ['deal_id', 'owner_id', 'amount']) }}
