-- Upstream renames the raw column that stg_orders reads.
ALTER TABLE raw_orders RENAME COLUMN customer TO customer_id;
