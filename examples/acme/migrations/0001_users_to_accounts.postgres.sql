-- 0001_users_to_accounts (PostgreSQL)
--
-- Backend refactor, shipped 2026-02-17 ~14:00: the app's "users" become "accounts".
--   raw_customers               -> raw_accounts
--   customer_id                 -> account_id
--   address ("123 Main St, Springfield, IL 62701")
--                               -> street, city, state_code, postal_code
--   customer_segment            -> account_tier  (premium -> gold, standard -> silver, basic -> bronze)
--   country                     -> country_code  (same ISO-2 values)
-- name, email and created_at are unchanged. Every row is copied; nothing is lost:
--   street || ', ' || city || ', ' || state_code || ' ' || postal_code  =  old address.
--
-- Table names are unqualified: run with search_path set to the raw schema, e.g.
--   PGOPTIONS='-c search_path=raw' psql -v ON_ERROR_STOP=1 --single-transaction -d acme -f 0001_users_to_accounts.postgres.sql
-- No BEGIN/COMMIT inside: the runner wraps the file in one transaction
-- (psql --single-transaction, driftwatch's pre-deploy check, a migration tool).

CREATE TABLE raw_accounts (
    account_id integer primary key,
    name text,
    email text,
    street text,
    city text,
    state_code text,
    postal_code text,
    account_tier text,
    country_code text,
    created_at timestamp
);

INSERT INTO raw_accounts (
    account_id, name, email, street, city, state_code, postal_code, account_tier, country_code, created_at
)
SELECT
    customer_id,
    name,
    email,
    split_part(address, ', ', 1),                          -- '123 Main St'
    split_part(address, ', ', 2),                          -- 'Springfield'
    split_part(split_part(address, ', ', 3), ' ', 1),      -- 'IL'
    split_part(split_part(address, ', ', 3), ' ', 2),      -- '62701'
    CASE customer_segment
        WHEN 'premium' THEN 'gold'
        WHEN 'standard' THEN 'silver'
        WHEN 'basic' THEN 'bronze'
        ELSE customer_segment
    END,
    country,
    created_at
FROM raw_customers
ORDER BY customer_id;

-- "Backwards compatible": the app was switched to raw_accounts before this
-- deploy, so nothing in the app reads raw_customers any more.
-- CASCADE also drops whatever else was built on top of the table in this
-- database (the analytics team's views, which nobody on the backend knew about).
DROP TABLE raw_customers CASCADE;
