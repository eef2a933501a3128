#!/usr/bin/env python3
"""Generate examples/acme/warehouse/seed.sql: the acme app's raw tables.

Deterministic (fixed seed), standard library only. The output is portable SQL:
it runs unchanged on SQLite (python3 -c "import sqlite3; ...executescript(...)")
and on PostgreSQL (psql with search_path set to the `raw` schema). Table names
are unqualified on purpose so the same file loads into either engine.

Usage:
    python3 generate.py            # writes seed.sql next to this file
    python3 generate.py -o out.sql

Shape of the data (the state of the warehouse the morning of 2026-02-17,
before the backend's users -> accounts migration):

    raw_customers   1,250 rows   one per app user; address is a single string
                                 "123 Main St, Springfield, IL 62701"
    raw_orders      3,000 rows   every order references an existing customer
    raw_payments   ~3,500 rows   one or more payments per paid order
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random

SEED = 20260217
CUSTOMER_COUNT = 1250
ORDER_COUNT = 3000
BATCH_SIZE = 500  # SQLite caps multi-row VALUES at 500 terms by default.

EPOCH_CUSTOMERS = dt.datetime(2023, 1, 1, 0, 0, 0)
END_CUSTOMERS = dt.datetime(2025, 12, 31, 23, 59, 59)
END_ORDERS = dt.datetime(2026, 2, 16, 23, 59, 59)

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy",
    "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret", "Priya", "Wei",
    "Aisha", "Mateo", "Sofia", "Liam", "Olivia", "Noah", "Emma", "Hiroshi",
    "Fatima", "Lucas", "Chloe", "Ethan", "Amara", "Diego", "Ingrid", "Kwame",
    "José", "Zoë", "Renée", "Björn",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Patel",
    "Nguyen", "Kim", "Chen", "Okafor", "Schmidt", "Rossi", "Tanaka", "Kowalski",
    "O'Brien", "O'Connor", "D'Angelo", "Van der Berg", "Müller", "Núñez",
]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "fastmail.com"]

# (city, state, zip prefix) - addresses are formatted "street, city, ST 12345".
CITIES = [
    ("Springfield", "IL", "627"), ("Chicago", "IL", "606"), ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"), ("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"),
    ("San Diego", "CA", "921"), ("Austin", "TX", "787"), ("Houston", "TX", "770"),
    ("Dallas", "TX", "752"), ("Seattle", "WA", "981"), ("Portland", "OR", "972"),
    ("Denver", "CO", "802"), ("Phoenix", "AZ", "850"), ("Boston", "MA", "021"),
    ("Atlanta", "GA", "303"), ("Miami", "FL", "331"), ("Orlando", "FL", "328"),
    ("Minneapolis", "MN", "554"), ("Salt Lake City", "UT", "841"), ("Nashville", "TN", "372"),
    ("Columbus", "OH", "432"), ("Philadelphia", "PA", "191"), ("Pittsburgh", "PA", "152"),
    ("Raleigh", "NC", "276"), ("Kansas City", "MO", "641"), ("Madison", "WI", "537"),
    ("Ann Arbor", "MI", "481"), ("Boise", "ID", "837"), ("Albuquerque", "NM", "871"),
]
STREET_NAMES = [
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lake Shore Dr", "Park Ave", "2nd St", "3rd Ave", "Highland Rd", "Sunset Blvd",
    "Broadway", "Market St", "Church St", "Mill Rd", "River Rd", "Hillcrest Dr", "Lincoln Way",
]

SEGMENTS = [("premium", 20), ("standard", 50), ("basic", 30)]
COUNTRIES = [("US", 78), ("CA", 8), ("GB", 6), ("DE", 3), ("AU", 2), ("MX", 2), ("IE", 1)]
# How many orders a customer of each segment tends to place, relative to basic.
SEGMENT_ORDER_WEIGHT = {"premium": 3.5, "standard": 2.2, "basic": 1.2}
# Order value range in cents per segment.
SEGMENT_ORDER_CENTS = {"premium": (8_000, 90_000), "standard": (2_500, 35_000), "basic": (900, 12_000)}
ORDER_STATUSES = [("completed", 70), ("shipped", 10), ("placed", 5), ("returned", 8), ("cancelled", 7)]
PAYMENT_METHODS = [("credit_card", 58), ("paypal", 17), ("bank_transfer", 15), ("gift_card", 10)]


def weighted(rng: random.Random, pairs):
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def random_moment(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randint(0, span))


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_timestamp(value: dt.datetime) -> str:
    return "'" + value.strftime("%Y-%m-%d %H:%M:%S") + "'"


def sql_date(value: dt.date) -> str:
    return "'" + value.strftime("%Y-%m-%d") + "'"


def sql_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def email_local(name: str) -> str:
    cleaned = []
    for ch in name.lower():
        if ch.isascii() and ch.isalnum():
            cleaned.append(ch)
        elif ch == " ":
            cleaned.append(".")
        elif not ch.isascii():
            cleaned.append({"é": "e", "ë": "e", "ö": "o", "ü": "u", "ú": "u", "ñ": "n"}.get(ch, ""))
    return "".join(cleaned)


def generate_customers(rng: random.Random):
    moments = sorted(random_moment(rng, EPOCH_CUSTOMERS, END_CUSTOMERS) for _ in range(CUSTOMER_COUNT))
    seen_emails: set[str] = set()
    customers = []
    for customer_id, created_at in enumerate(moments, start=1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        local = f"{email_local(first)}.{email_local(last)}"
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        suffix = 2
        while email in seen_emails:
            email = f"{local}{suffix}@{email.split('@')[1]}"
            suffix += 1
        seen_emails.add(email)
        city, state, zip_prefix = rng.choice(CITIES)
        street = f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)}"
        if rng.random() < 0.12:
            street += f" Apt {rng.randint(1, 40)}"
        postal_code = f"{zip_prefix}{rng.randint(0, 99):02d}"
        customers.append(
            {
                "customer_id": customer_id,
                "name": f"{first} {last}",
                "email": email,
                "address": f"{street}, {city}, {state} {postal_code}",
                "customer_segment": weighted(rng, SEGMENTS),
                "country": weighted(rng, COUNTRIES),
                "created_at": created_at,
            }
        )
    return customers


def generate_orders(rng: random.Random, customers):
    weights = [SEGMENT_ORDER_WEIGHT[c["customer_segment"]] for c in customers]
    drafts = []
    for _ in range(ORDER_COUNT):
        customer = rng.choices(customers, weights=weights, k=1)[0]
        created_at = random_moment(rng, customer["created_at"], END_ORDERS)
        low, high = SEGMENT_ORDER_CENTS[customer["customer_segment"]]
        drafts.append(
            {
                "customer_id": customer["customer_id"],
                "order_date": created_at.date(),
                "status": weighted(rng, ORDER_STATUSES),
                "order_total_cents": rng.randint(low, high),
                "created_at": created_at,
            }
        )
    drafts.sort(key=lambda order: order["created_at"])
    for order_id, order in enumerate(drafts, start=1):
        order["order_id"] = order_id
    return drafts


def generate_payments(rng: random.Random, orders):
    drafts = []
    for order in orders:
        status = order["status"]
        if status == "cancelled" or (status == "placed" and rng.random() < 0.5):
            continue  # cancelled orders and half of the fresh ones are unpaid
        roll = rng.random()
        parts = 3 if roll < 0.02 else 2 if roll < 0.26 else 1
        total = order["order_total_cents"]
        amounts = []
        remaining = total
        for index in range(parts - 1):
            share = rng.randint(remaining // 5, remaining // 2)
            amounts.append(share)
            remaining -= share
        amounts.append(remaining)
        paid_at = order["created_at"]
        for index, cents in enumerate(amounts):
            paid_at = paid_at + dt.timedelta(seconds=rng.randint(30, 3 * 3600))
            method = "gift_card" if index == 0 and parts > 1 and rng.random() < 0.6 else weighted(rng, PAYMENT_METHODS)
            drafts.append({"order_id": order["order_id"], "payment_method": method, "amount_cents": cents, "paid_at": paid_at})
    drafts.sort(key=lambda payment: (payment["paid_at"], payment["order_id"]))
    for payment_id, payment in enumerate(drafts, start=1):
        payment["payment_id"] = payment_id
    return drafts


def insert_batches(table: str, columns, rows):
    header = f"INSERT INTO {table} ({', '.join(columns)}) VALUES\n"
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        yield header + ",\n".join("(" + ", ".join(row) + ")" for row in batch) + ";\n"


def render(customers, orders, payments) -> str:
    out = [
        "-- acme raw warehouse tables as of 2026-02-17, before the users -> accounts migration.\n",
        "-- GENERATED by generate.py (seed %d); do not edit by hand, re-run the generator.\n" % SEED,
        "-- Portable: loads unchanged into SQLite and into PostgreSQL (set search_path to raw).\n",
        f"-- raw_customers: {len(customers)} rows, raw_orders: {len(orders)} rows, raw_payments: {len(payments)} rows.\n",
        "\n",
        "CREATE TABLE raw_customers (\n"
        "    customer_id integer primary key,\n"
        "    name text,\n"
        "    email text,\n"
        "    address text,\n"
        "    customer_segment text,\n"
        "    country text,\n"
        "    created_at timestamp\n"
        ");\n\n",
        "CREATE TABLE raw_orders (\n"
        "    order_id integer primary key,\n"
        "    customer_id integer,\n"
        "    order_date date,\n"
        "    status text,\n"
        "    order_total numeric(12,2),\n"
        "    created_at timestamp\n"
        ");\n\n",
        "CREATE TABLE raw_payments (\n"
        "    payment_id integer primary key,\n"
        "    order_id integer,\n"
        "    payment_method text,\n"
        "    amount numeric(12,2),\n"
        "    paid_at timestamp\n"
        ");\n\n",
    ]
    customer_rows = [
        [
            str(c["customer_id"]),
            sql_text(c["name"]),
            sql_text(c["email"]),
            sql_text(c["address"]),
            sql_text(c["customer_segment"]),
            sql_text(c["country"]),
            sql_timestamp(c["created_at"]),
        ]
        for c in customers
    ]
    order_rows = [
        [
            str(o["order_id"]),
            str(o["customer_id"]),
            sql_date(o["order_date"]),
            sql_text(o["status"]),
            sql_cents(o["order_total_cents"]),
            sql_timestamp(o["created_at"]),
        ]
        for o in orders
    ]
    payment_rows = [
        [
            str(p["payment_id"]),
            str(p["order_id"]),
            sql_text(p["payment_method"]),
            sql_cents(p["amount_cents"]),
            sql_timestamp(p["paid_at"]),
        ]
        for p in payments
    ]
    tables = [
        ("raw_customers", ["customer_id", "name", "email", "address", "customer_segment", "country", "created_at"], customer_rows),
        ("raw_orders", ["order_id", "customer_id", "order_date", "status", "order_total", "created_at"], order_rows),
        ("raw_payments", ["payment_id", "order_id", "payment_method", "amount", "paid_at"], payment_rows),
    ]
    for table, columns, rows in tables:
        out.extend(insert_batches(table, columns, rows))
        out.append("\n")
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_output = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed.sql")
    parser.add_argument("-o", "--output", default=default_output, help="where to write the SQL (default: seed.sql here)")
    args = parser.parse_args()

    rng = random.Random(SEED)
    customers = generate_customers(rng)
    orders = generate_orders(rng, customers)
    payments = generate_payments(rng, orders)
    sql = render(customers, orders, payments)
    with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(sql)
    print(f"wrote {args.output}: {len(customers)} customers, {len(orders)} orders, {len(payments)} payments")


if __name__ == "__main__":
    main()
