-- The raw tables of the jaffle_nocolumns fixture. Portable: loads into SQLite and into PostgreSQL (with the
-- search path set to raw). raw_events is in the sources' schema and no source declares it.
CREATE TABLE raw_customers (
    id text primary key,
    name text
);

CREATE TABLE raw_orders (
    id text primary key,
    customer text,
    ordered_at timestamp,
    store_id text,
    subtotal integer,
    tax_paid integer,
    order_total integer
);

CREATE TABLE raw_stores (
    id text,
    name text,
    opened_at timestamp,
    tax_rate double precision
);

CREATE TABLE raw_events (
    id integer primary key,
    kind text
);

INSERT INTO raw_customers VALUES ('c1', 'Ada'), ('c2', 'Grace'), ('c3', 'Edsger');
INSERT INTO raw_stores VALUES ('s1', 'Philadelphia', '2016-09-01 00:00:00', 0.06);
INSERT INTO raw_orders VALUES
    ('o1', 'c1', '2016-09-01 10:00:00', 's1', 700, 42, 742),
    ('o2', 'c2', '2016-09-02 11:00:00', 's1', 1200, 72, 1272),
    ('o3', 'c1', '2016-09-03 12:00:00', 's1', 300, 18, 318),
    ('o4', 'c3', '2016-09-04 13:00:00', 's1', 950, 57, 1007);
INSERT INTO raw_events VALUES (1, 'signup');
