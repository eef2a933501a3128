select * from {{ connector.extra_relation() }}
