-- 0001_users_to_accounts (SQLite)
--
-- Same change as 0001_users_to_accounts.postgres.sql, for the SQLite copy of
-- the warehouse (SQLite has no split_part, so the address is split with
-- instr/substr in two steps).
--   raw_customers               -> raw_accounts
--   customer_id                 -> account_id
--   address ("123 Main St, Springfield, IL 62701")
--                               -> street, city, state_code, postal_code
--   customer_segment            -> account_tier  (premium -> gold, standard -> silver, basic -> bronze)
--   country                     -> country_code  (same ISO-2 values)
-- Every row is copied:
--   street || ', ' || city || ', ' || state_code || ' ' || postal_code  =  old address.
--
-- Run with:
--   python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read())" \
--       warehouse.db 0001_users_to_accounts.sqlite.sql

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
    street,
    city,
    substr(state_zip, 1, instr(state_zip, ' ') - 1),       -- 'IL'
    substr(state_zip, instr(state_zip, ' ') + 1),          -- '62701'
    CASE customer_segment
        WHEN 'premium' THEN 'gold'
        WHEN 'standard' THEN 'silver'
        WHEN 'basic' THEN 'bronze'
        ELSE customer_segment
    END,
    country,
    created_at
FROM (
    SELECT
        customer_id, name, email, customer_segment, country, created_at, street,
        substr(after_street, 1, instr(after_street, ', ') - 1) AS city,      -- 'Springfield'
        substr(after_street, instr(after_street, ', ') + 2) AS state_zip     -- 'IL 62701'
    FROM (
        SELECT
            customer_id, name, email, customer_segment, country, created_at,
            substr(address, 1, instr(address, ', ') - 1) AS street,          -- '123 Main St'
            substr(address, instr(address, ', ') + 2) AS after_street        -- 'Springfield, IL 62701'
        FROM raw_customers
    ) AS split_street
) AS split_city
ORDER BY customer_id;

-- The app reads raw_accounts now; the old table goes.
DROP TABLE raw_customers;
