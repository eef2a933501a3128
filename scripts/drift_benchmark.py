#!/usr/bin/env python3
"""Drift benchmark: generated schema and data drift scenarios, scored against the real `driftwatch`.

Each scenario is a small dbt project (dbt_project.yml, a sources yml, one staging model per table that reads
its columns) and a SQLite warehouse with realistic rows (keys, names, e-mails, amounts, enums, dates). The
baseline is written, `driftwatch snapshot` records it, the drift is applied, and `driftwatch check` runs twice:
schema-only (`--no-snapshot`) and with the snapshot. Every scenario carries the changes it expects in each mode.

Scoring (docs/benchmarks.md, "Drift benchmark", says the same):

* An *expected change* is (kind, source, target): `target` is the old table for table changes (and the new
  one for `table_renamed`), the column for column changes (old → new name for renames, old → the set of new
  names for splits, the unordered pair for a swap). It is *recalled* when the report holds a change of that kind
  and target. A `column_missing` expected with a hint (`possible_rename`) is recalled when the report says
  `column_missing` with that hint.
* A *claim* is a reported change of an inferred kind: `table_renamed`, `column_renamed`, `column_split`,
  `values_remapped`, `columns_swapped`, `null_rate_changed`, `scale_changed`, `value_shape_changed`,
  `distinct_count_changed`, at its confidence; and every `possible_rename` hint on a `column_missing`, a
  rename claim below 0.5 (its bin is "hint"). Observed facts (`table_missing`, `table_added`,
  `column_missing`, `column_added`, `column_type_changed`, `accepted_values_violated`) are not claims; one
  that is not expected is counted as an *unexpected fact* and printed (not a target).
* A claim is *right* when an expected change of the same kind and target exists in that mode. A hint is right
  when a rename (or hint) of that column to that column is expected. So a missing + added pair where a rename
  was expected is a miss (recall), not a wrong claim; a rename where missing + added was expected is a wrong
  claim at its confidence.
* Targets: recall >= 0.95; no wrong claim at confidence >= 0.5; in every confidence bin (0.5-0.6, ..., 0.9-1.0)
  with at least `MIN_BIN` claims, the share right is within 0.1 of the mean confidence of its claims (both
  ways: under-confidence is a miss too). The "<0.5" and "hint" rows are printed, not judged.

Python 3.11 standard library only. Usage:

    scripts/drift_benchmark.py --size small|full --seed N --driftwatch .build/debug/driftwatch [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

ROWS = 120
MIN_BIN = 5
CLAIM_KINDS = {
    "table_renamed", "column_renamed", "column_split", "values_remapped", "columns_swapped",
    "null_rate_changed", "scale_changed", "value_shape_changed", "distinct_count_changed",
}
BINS = [(0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0001)]

# --------------------------------------------------------------------------------------------------------------
# Vocabularies: several domains, each a source with tables whose columns have a role that says how to fill them.

DOMAINS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "shop": {
        "orders": [
            ("order_id", "integer", "key"), ("customer_id", "integer", "fk"), ("ordered_at", "date", "date"),
            ("status", "text", "enum:placed,shipped,delivered,returned"), ("total_amount", "numeric", "amount"),
            ("currency", "text", "enum:usd,eur,gbp"), ("shipping_address", "text", "address"),
        ],
        "customers": [
            ("customer_id", "integer", "key"), ("full_name", "text", "person"), ("email", "text", "email"),
            ("country_code", "text", "country"), ("created_at", "date", "date"), ("phone", "text", "phone"),
        ],
    },
    "crm": {
        "accounts": [
            ("account_id", "integer", "key"), ("account_name", "text", "company"),
            ("industry", "text", "enum:retail,finance,health,energy"), ("owner_email", "text", "email"),
            ("annual_revenue", "numeric", "amount"), ("signed_on", "date", "date"),
        ],
        "contacts": [
            ("contact_id", "integer", "key"), ("account_id", "integer", "fk"), ("contact_name", "text", "person"),
            ("contact_email", "text", "email"), ("job_title", "text", "enum:ceo,cto,buyer,engineer"),
            ("last_contacted_at", "date", "date"), ("mailing_address", "text", "address"),
        ],
    },
    "billing": {
        "invoices": [
            ("invoice_id", "integer", "key"), ("customer_id", "integer", "fk"), ("issued_on", "date", "date"),
            ("due_on", "date", "date"), ("amount_due", "numeric", "amount"),
            ("invoice_status", "text", "enum:draft,open,paid,void"), ("billing_email", "text", "email"),
        ],
        "payments": [
            ("payment_id", "integer", "key"), ("invoice_id", "integer", "fk"), ("paid_at", "date", "date"),
            ("amount_paid", "numeric", "amount"), ("payment_method", "text", "enum:card,bank_transfer,wallet"),
            ("payer_name", "text", "person"),
        ],
    },
    "events": {
        "page_views": [
            ("event_id", "integer", "key"), ("user_id", "integer", "fk"), ("occurred_at", "date", "date"),
            ("page_path", "text", "path"), ("device_type", "text", "enum:desktop,mobile,tablet"),
            ("duration_ms", "integer", "count"), ("visitor_email", "text", "email"),
        ],
        "signups": [
            ("signup_id", "integer", "key"), ("user_email", "text", "email"), ("display_name", "text", "person"),
            ("plan", "text", "enum:free,pro,team"), ("signed_up_at", "date", "date"),
            ("referral_code", "text", "code"),
        ],
    },
    "hr": {
        "employees": [
            ("employee_id", "integer", "key"), ("full_name", "text", "person"), ("work_email", "text", "email"),
            ("department", "text", "enum:sales,engineering,finance,support"), ("salary", "numeric", "amount"),
            ("hired_on", "date", "date"), ("manager_id", "integer", "fk"), ("home_address", "text", "address"),
        ],
        "timesheets": [
            ("timesheet_id", "integer", "key"), ("employee_id", "integer", "fk"), ("worked_on", "date", "date"),
            ("hours_logged", "numeric", "amount"), ("project_code", "text", "code"),
            ("approver_name", "text", "person"),
        ],
    },
    "support": {
        "tickets": [
            ("ticket_id", "integer", "key"), ("requester_email", "text", "email"),
            ("priority", "text", "enum:low,normal,high,urgent"), ("opened_at", "date", "date"),
            ("assignee_id", "integer", "fk"), ("channel", "text", "enum:email,chat,phone"),
            ("requester_name", "text", "person"), ("handle_seconds", "integer", "count"),
        ],
        "agents": [
            ("agent_id", "integer", "key"), ("agent_name", "text", "person"), ("agent_email", "text", "email"),
            ("team", "text", "enum:tier1,tier2,billing"), ("started_on", "date", "date"),
        ],
    },
    "logistics": {
        "shipments": [
            ("shipment_id", "integer", "key"), ("order_id", "integer", "fk"),
            ("carrier", "text", "enum:ups,dhl,fedex,usps"), ("shipped_on", "date", "date"),
            ("weight_grams", "integer", "count"), ("destination_address", "text", "address"),
            ("tracking_code", "text", "code"), ("freight_cost", "numeric", "amount"),
        ],
        "warehouses": [
            ("warehouse_id", "integer", "key"), ("warehouse_name", "text", "company"),
            ("manager_email", "text", "email"), ("opened_on", "date", "date"), ("region", "text", "enum:north,south,east,west"),
        ],
    },
}

FIRST = ["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena", "Milo", "Nora"]
LAST = ["Lee", "Moss", "Nash", "Ortiz", "Park", "Quinn", "Reyes", "Stone", "Tran", "Usher", "Vance", "Wolfe"]
CITIES = ["Austin", "Boston", "Denver", "Fresno", "Omaha", "Tulsa", "Reno", "Salem", "Tacoma", "Toledo"]
STREETS = ["Oak St", "Elm Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Birch Way"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka", "Tyrell"]
COUNTRIES = ["US", "DE", "FR", "GB", "NL", "ES", "IT", "CA"]
PATHS = ["/", "/pricing", "/docs", "/blog", "/signup", "/login", "/cart", "/checkout"]


def value(role: str, row: int, rng: random.Random) -> object:
    """A realistic value for `role` on row `row` (1-based)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if role == "key":
        return row
    if role == "fk":
        return rng.randint(1, 400)
    if role == "date":
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if role == "amount":
        return round(rng.uniform(5, 900), 2)
    if role == "count":
        return rng.randint(100, 90_000)
    if role == "person":
        return f"{first} {last}"
    if role == "email":
        return f"{first.lower()}.{last.lower()}{row}@example.com"
    if role == "company":
        return f"{rng.choice(COMPANIES)} {rng.choice(['Inc', 'Ltd', 'GmbH', 'LLC'])}"
    if role == "country":
        return rng.choice(COUNTRIES)
    if role == "phone":
        return f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if role == "address":
        return f"{rng.randint(1, 999)} {rng.choice(STREETS)}, {rng.choice(CITIES)} {rng.randint(10000, 99999)}"
    if role == "path":
        return rng.choice(PATHS)
    if role == "code":
        return f"{rng.choice('ABCDEFGH')}{rng.choice('KLMNPQR')}-{rng.randint(1000, 9999)}"
    if role.startswith("enum:"):
        return rng.choice(role[5:].split(","))
    raise ValueError(role)


# --------------------------------------------------------------------------------------------------------------
# Tables as data: the baseline and the drifted warehouse are lists of these.


@dataclass
class Column:
    name: str
    type: str
    role: str
    values: list


@dataclass
class Table:
    name: str
    columns: list[Column]

    def col(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def index(self, name: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.name == name)

    def copy(self) -> "Table":
        return Table(self.name, [Column(c.name, c.type, c.role, list(c.values)) for c in self.columns])


def build_table(name: str, spec: list[tuple[str, str, str]], rng: random.Random) -> Table:
    columns = [Column(n, t, r, [value(r, row, rng) for row in range(1, ROWS + 1)]) for n, t, r in spec]
    return Table(name, columns)


@dataclass
class Expect:
    kind: str
    source: str
    target: object  # str, (from, to), (from, frozenset), frozenset pair
    modes: frozenset = frozenset({"schema", "snapshot"})
    hint: str | None = None  # for column_missing: the expected possible_rename


@dataclass
class Scenario:
    name: str
    kind: str
    domain: str
    baseline: list[Table]
    drifted: list[Table]
    expects: list[Expect] = field(default_factory=list)
    # `table.column` the sources yml does not declare (the staging model still reads them).
    undeclared: set = field(default_factory=set)


BOTH = frozenset({"schema", "snapshot"})
SNAP = frozenset({"snapshot"})
SCHEMA = frozenset({"schema"})


# --------------------------------------------------------------------------------------------------------------
# Name transformations for true renames (generic, per word shape; none is a trap's transformation).


def renamed_name(name: str, table: str, rng: random.Random) -> str:
    words = name.split("_")
    singular = table[:-1] if table.endswith("s") else table
    options = []
    if words[-1] in ("at",):
        options += ["_".join(words[:-1] + ["timestamp"]), "_".join(words[:-1] + ["ts"])]
    if words[-1] == "on":
        options += ["_".join(words[:-1] + ["date"]), "_".join(words[:-1] + ["dt"])]
    if words[-1] == "email":
        options += [name + "_address", "_".join(words[:-1] + ["mail"]) if len(words) > 1 else "email_addr"]
    if words[-1] == "amount" or "amount" in words:
        options += [name.replace("amount", "amt"), name + "_value"]
    if words[-1] == "name":
        options += [name + "_text", "_".join(words[:-1] + ["nm"]) if len(words) > 1 else "display_name"]
    if words[-1] == "id":
        options += ["_".join(words[:-1] + ["key"]), "_".join(words[:-1] + ["ref"])]
    if words[-1] == "code":
        options += [name.replace("code", "cd"), name + "_value"]
    if len(words) == 1:
        options += [f"{singular}_{name}"]
    if len(words) > 1 and words[0] == singular:
        options += ["_".join(words[1:])]
    options += [name + "_v2", "".join(w if i == 0 else w.capitalize() for i, w in enumerate(words)) + "Value"]
    return rng.choice(options)


def camel(name: str) -> str:
    words = name.split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


# Words that name another event or party: the unrelated column a trap adds shares a word with the one dropped.
OTHER_EVENT = {"at": ["cancelled", "archived", "refunded", "escalated"], "on": ["closed", "expired", "audited"]}
OTHER_PARTY = ["backup", "personal", "marketing", "escalation", "legacy"]


# --------------------------------------------------------------------------------------------------------------
# Scenario templates. Each takes (domain, rng) and returns a Scenario; `src` is the source name.


def pick_table(domain: str, rng: random.Random, needs: list[str]) -> tuple[str, list]:
    tables = [(t, spec) for t, spec in DOMAINS[domain].items() if all(any(r.startswith(n) for _, _, r in spec) for n in needs)]
    return rng.choice(tables)


def base(domain: str, rng: random.Random) -> list[Table]:
    return [build_table(t, spec, rng) for t, spec in DOMAINS[domain].items()]


def pick_col(table: Table, rng: random.Random, role_prefix: str, exclude: tuple = ()) -> Column:
    cands = [c for c in table.columns if c.role.startswith(role_prefix) and c.name not in exclude]
    return rng.choice(cands)


def scenario(kind: str, domain: str, rng: random.Random, needs: list[str]):
    tables = base(domain, rng)
    tname, _ = pick_table(domain, rng, needs)
    drifted = [t.copy() for t in tables]
    table = next(t for t in drifted if t.name == tname)
    return Scenario("", kind, domain, tables, drifted), table


def s_table_missing(domain, rng):
    sc, table = scenario("table_missing", domain, rng, [])
    sc.drifted.remove(table)
    sc.expects.append(Expect("table_missing", f"{domain}.{table.name}", table.name))
    return sc


def s_table_renamed(domain, rng):
    sc, table = scenario("table_renamed", domain, rng, [])
    old = table.name
    table.name = rng.choice([f"{domain}_{old}", f"{old}_v2", f"raw_{old}", f"{old}_current"])
    sc.expects.append(Expect("table_renamed", f"{domain}.{old}", (old, table.name)))
    return sc


def s_table_added(domain, rng):
    sc, _ = scenario("table_added", domain, rng, [])
    name = rng.choice(["audit_log", "feature_flags", "sync_state", "exchange_rates"])
    sc.drifted.append(build_table(name, [("id", "integer", "key"), ("label", "text", "code"), ("noted_on", "date", "date")], rng))
    sc.expects.append(Expect("table_added", domain, name))
    return sc


def s_column_missing(domain, rng):
    sc, table = scenario("column_missing", domain, rng, [])
    col = rng.choice(table.columns[1:])
    table.columns.remove(col)
    sc.expects.append(Expect("column_missing", f"{domain}.{table.name}", col.name))
    return sc


def s_column_added(domain, rng):
    sc, table = scenario("column_added", domain, rng, [])
    name = rng.choice(["discount_rate", "is_test", "external_ref", "source_system", "notes"])
    role = {"discount_rate": "amount", "is_test": "count", "external_ref": "code", "source_system": "enum:web,api,import", "notes": "path"}[name]
    typ = {"amount": "numeric", "count": "integer"}.get(role, "text")
    table.columns.insert(rng.randint(1, len(table.columns)), Column(name, typ, role, [value(role, r, rng) for r in range(1, ROWS + 1)]))
    sc.expects.append(Expect("column_added", f"{domain}.{table.name}", name))
    return sc


def s_column_renamed(domain, rng):
    sc, table = scenario("column_renamed", domain, rng, [])
    col = rng.choice(table.columns[1:])
    old = col.name
    col.name = renamed_name(old, table.name, rng)
    sc.expects.append(Expect("column_renamed", f"{domain}.{table.name}", (old, col.name)))
    return sc


def s_rename_no_name_evidence(domain, rng):
    """A rename the names do not show (`notes` -> `remarks` style): a hint without data, a rename with it."""
    sc, table = scenario("column_renamed", domain, rng, ["person"])
    col = pick_col(table, rng, "person")
    old = col.name
    # A new name that shares no word with the old one (`contact_name` -> `contact` would be name evidence).
    words = set(old.split("_"))
    col.name = rng.choice([n for n in ["contact", "holder", "signatory", "party"] if n not in words])
    src = f"{domain}.{table.name}"
    sc.expects.append(Expect("column_missing", src, old, SCHEMA, hint=col.name))
    sc.expects.append(Expect("column_added", src, col.name, SCHEMA))
    sc.expects.append(Expect("column_renamed", src, (old, col.name), SNAP))
    sc.name = "rename_without_name_evidence"
    return sc


def s_camel_case(domain, rng):
    sc, table = scenario("camel_case_api", domain, rng, [])
    src = f"{domain}.{table.name}"
    for col in table.columns:
        new = camel(col.name)
        if new != col.name:
            sc.expects.append(Expect("column_renamed", src, (col.name, new)))
            col.name = new
    return sc


def s_column_split(domain, rng):
    tables = base(domain, rng)
    drifted = [t.copy() for t in tables]
    cands = [(t, c) for t in drifted for c in t.columns if c.role in ("person", "address")]
    table, col = rng.choice(cands)
    i = table.index(col.name)
    prefix = col.name.rsplit("_", 1)[0] + "_" if "_" in col.name else ""
    if col.role == "person":
        parts = [s.split(" ", 1) for s in col.values]
        stem = prefix if prefix not in ("full_",) else ""
        names = [f"{stem}first_name", f"{stem}last_name"]
        new = [Column(names[0], "text", "person", [p[0] for p in parts]), Column(names[1], "text", "person", [p[1] for p in parts])]
    else:
        streets = [v.split(", ")[0] for v in col.values]
        rest = [v.split(", ")[1] for v in col.values]
        names = [f"{prefix}street", f"{prefix}city", f"{prefix}postal_code"]
        new = [Column(names[0], "text", "address", streets), Column(names[1], "text", "address", [r.rsplit(" ", 1)[0] for r in rest]),
               Column(names[2], "text", "address", [r.rsplit(" ", 1)[1] for r in rest])]
    table.columns[i:i + 1] = new
    sc = Scenario("", "column_split", domain, tables, drifted)
    sc.expects.append(Expect("column_split", f"{domain}.{table.name}", (col.name, frozenset(names))))
    return sc


def s_type_changed(domain, rng):
    sc, table = scenario("column_type_changed", domain, rng, [])
    col = rng.choice([c for c in table.columns[1:] if c.type in ("integer", "numeric", "date")])
    col.type = "text" if col.type != "text" else "integer"
    col.values = [str(v) for v in col.values]
    sc.expects.append(Expect("column_type_changed", f"{domain}.{table.name}", col.name))
    return sc


def s_values_remapped(domain, rng):
    sc, table = scenario("values_remapped", domain, rng, ["enum"])
    col = pick_col(table, rng, "enum")
    old = col.role[5:].split(",")
    suffix = rng.choice(["_v2", "_new", "_2025"])
    style = rng.choice(["upper", "suffix", "code"])
    mapping = {v: (v.upper() if style == "upper" else v + suffix if style == "suffix" else f"{v[:3]}_{i + 1}") for i, v in enumerate(old)}
    col.values = [mapping[v] for v in col.values]
    sc.expects.append(Expect("values_remapped", f"{domain}.{table.name}", col.name))
    return sc


def s_new_enum_value(domain, rng):
    sc, table = scenario("new_enum_value", domain, rng, ["enum"])
    col = pick_col(table, rng, "enum")
    extra = rng.choice(["unknown", "other", "pending_review", "legacy"])
    col.values = [extra if r % 7 == 0 else v for r, v in enumerate(col.values)]
    sc.expects.append(Expect("accepted_values_violated", f"{domain}.{table.name}", col.name))
    return sc


def s_swapped(domain, rng):
    sc, table = scenario("columns_swapped", domain, rng, ["person", "email"])
    a, b = pick_col(table, rng, "person"), pick_col(table, rng, "email")
    a.values, b.values = b.values, a.values
    sc.expects.append(Expect("columns_swapped", f"{domain}.{table.name}", frozenset({a.name, b.name}), SNAP))
    return sc


def s_null_rate(domain, rng):
    sc, table = scenario("null_rate_changed", domain, rng, [])
    col = rng.choice([c for c in table.columns[1:] if not c.role.startswith("enum")])
    all_null = rng.random() < 0.5
    col.values = [None if all_null or r % 2 == 0 else v for r, v in enumerate(col.values)]
    sc.expects.append(Expect("null_rate_changed", f"{domain}.{table.name}", col.name, SNAP))
    return sc


def s_scale(domain, rng):
    sc, table = scenario("scale_changed", domain, rng, ["amount"])
    col = pick_col(table, rng, "amount")
    factor = rng.choice([100, 0.01, 1000])
    col.values = [round(v * factor, 4) for v in col.values]
    sc.expects.append(Expect("scale_changed", f"{domain}.{table.name}", col.name, SNAP))
    sc.name = "unit_change"
    return sc


def s_shape(domain, rng):
    sc, table = scenario("value_shape_changed", domain, rng, ["email"])
    col = pick_col(table, rng, "email")
    kind = rng.choice(["phone", "code", "person"])
    col.values = [value(kind, r, rng) for r in range(1, ROWS + 1)]
    sc.expects.append(Expect("value_shape_changed", f"{domain}.{table.name}", col.name, SNAP))
    return sc


def s_distinct(domain, rng):
    sc, table = scenario("distinct_count_changed", domain, rng, ["fk"])
    col = pick_col(table, rng, "fk")
    col.values = [1 + r % 3 for r in range(ROWS)]
    sc.expects.append(Expect("distinct_count_changed", f"{domain}.{table.name}", col.name, SNAP))
    return sc


def s_remap_undeclared(domain, rng):
    """Some values of an enumeration the yml does not declare (so no accepted_values test) are replaced
    (`completed` -> `complete`); the staging model reads it. Only the baseline snapshot's values show it."""
    sc, table = scenario("values_remapped_undeclared", domain, rng, ["enum"])
    col = pick_col(table, rng, "enum")
    sc.undeclared.add(f"{table.name}.{col.name}")
    old = col.role[5:].split(",")
    changed = rng.sample(old, rng.randint(1, max(1, len(old) - 1)))
    style = rng.choice(["upper", "suffix", "short"])
    mapping = {v: (v.upper() if style == "upper" else v + "_v2" if style == "suffix" else v[:-1] + "x") for v in changed}
    col.values = [mapping.get(v, v) for v in col.values]
    sc.expects.append(Expect("values_remapped", f"{domain}.{table.name}", col.name, SNAP))
    return sc


def s_split_appended(domain, rng):
    """A split done by a migration: the parts are added at the end of the table, the old column dropped."""
    sc = s_column_split(domain, rng)
    expect = sc.expects[0]
    table = next(t for t in sc.drifted if t.name == expect.source.split(".", 1)[1])
    parts = [c for c in table.columns if c.name in expect.target[1]]
    table.columns = [c for c in table.columns if c.name not in expect.target[1]] + parts
    sc.kind = "column_split_appended"
    return sc


# Traps ---------------------------------------------------------------------------------------------------------


def t_rolling_days(domain, rng):
    """A table that keeps the last seven days, as text: a day leaves, a day comes. No remap, no drift."""
    sc, table = scenario("trap_rolling_days", domain, rng, [])
    name = rng.choice(["event_day", "load_day", "partition_day"])
    start = rng.randint(1, 15)
    before = [f"2026-11-{start + r % 7:02d}" for r in range(ROWS)]
    after = [f"2026-11-{start + 1 + r % 7:02d}" for r in range(ROWS)]
    i = next(k for k, t in enumerate(sc.baseline) if t.name == table.name)
    sc.baseline[i].columns.append(Column(name, "text", "day", before))
    table.columns.append(Column(name, "text", "day", after))
    if rng.random() < 0.5:
        sc.undeclared.add(f"{table.name}.{name}")
    return sc




def t_unrelated_drop_add(domain, rng):
    """A column dropped and an unrelated one added in its place, sharing a word with it (`opened_at` gone,
    `escalated_at` new) or nothing at all; other data. Missing + added, never a rename."""
    sc, table = scenario("trap_unrelated_drop_add", domain, rng, ["date"])
    variant = rng.choice(["event", "party", "unrelated"])
    if variant == "event":
        col = pick_col(table, rng, "date")
        suffix = col.name.rsplit("_", 1)[-1]
        new_name = rng.choice(OTHER_EVENT.get(suffix, OTHER_EVENT["at"])) + "_" + suffix
        new_role = "date"
    elif variant == "party" and any(c.role == "email" for c in table.columns):
        col = pick_col(table, rng, "email")
        new_name = rng.choice(OTHER_PARTY) + "_email"
        new_role = "email"
    else:
        col = rng.choice(table.columns[1:])
        new_name = rng.choice(["nickname", "fax", "loyalty_tier_note", "legacy_flag"])
        new_role = "code"
    old = col.name
    src = f"{domain}.{table.name}"
    col.name = new_name
    rows = list(range(1, ROWS + 1))
    rng.shuffle(rows)
    col.values = [value(new_role, r, rng) for r in rows]
    col.role = new_role
    if new_role != "date":
        col.type = "text" if new_role != "date" else col.type
    sc.expects.append(Expect("column_missing", src, old))
    sc.expects.append(Expect("column_added", src, new_name))
    return sc


def t_rival_tables(domain, rng):
    """A table renamed while a rival new table with some of its columns appears beside it."""
    sc, table = scenario("trap_rival_new_tables", domain, rng, [])
    old = table.name
    table.name = f"{old}_current"
    rival_cols = [table.columns[0], table.columns[1]]
    rival = Table(f"{old}_archive_summary", [Column(c.name, c.type, c.role, [value(c.role, r, rng) for r in range(1, ROWS + 1)]) for c in rival_cols]
                  + [Column("archived_on", "date", "date", [value("date", r, rng) for r in range(1, ROWS + 1)])])
    sc.drifted.append(rival)
    sc.expects.append(Expect("table_renamed", f"{domain}.{old}", (old, table.name)))
    sc.expects.append(Expect("table_added", domain, rival.name))
    return sc


def t_two_tables_renamed(domain, rng):
    sc, _ = scenario("trap_two_tables_renamed", domain, rng, [])
    prefix = rng.choice(["app_", "prod_", "v2_"])
    for t in sc.drifted:
        old = t.name
        t.name = prefix + old
        sc.expects.append(Expect("table_renamed", f"{domain}.{old}", (old, t.name)))
    return sc


def t_reorder(domain, rng):
    sc, table = scenario("trap_reorder", domain, rng, [])
    rest = table.columns[1:]
    rng.shuffle(rest)
    table.columns[1:] = rest
    return sc


def t_schema_swap(domain, rng):
    """Two columns of one type change places in the table, each keeping its name and values: no drift."""
    sc, table = scenario("trap_swapped_positions", domain, rng, [])
    by_type: dict[str, list[int]] = {}
    for i, c in enumerate(table.columns[1:], 1):
        by_type.setdefault(c.type, []).append(i)
    i, j = rng.sample(max(by_type.values(), key=len), 2)
    table.columns[i], table.columns[j] = table.columns[j], table.columns[i]
    return sc


def t_loader_columns(domain, rng):
    sc, table = scenario("trap_loader_columns", domain, rng, [])
    src = f"{domain}.{table.name}"
    names = rng.choice([["_fivetran_synced", "_fivetran_deleted"], ["_airbyte_extracted_at", "_airbyte_raw_id"], ["_loaded_at"], ["_sdc_batched_at", "_sdc_sequence"]])
    for n in names:
        table.columns.append(Column(n, "text", "date", [value("date", r, rng) for r in range(1, ROWS + 1)]))
        sc.expects.append(Expect("column_added", src, n))
    return sc


def t_rename_data_changed(domain, rng):
    """Renamed and its values changed with it: an amount renamed and rescaled, or an enum renamed and remapped."""
    sc, table = scenario("trap_rename_data_changed", domain, rng, ["enum", "amount"])
    src = f"{domain}.{table.name}"
    if rng.random() < 0.5 and any(c.role == "amount" for c in table.columns):
        col = pick_col(table, rng, "amount")
        old = col.name
        col.name = old + rng.choice(["_cents", "_minor_units"])
        col.values = [round(v * 100) for v in col.values]
        sc.expects.append(Expect("column_renamed", src, (old, col.name)))
        sc.expects.append(Expect("scale_changed", src, old, SNAP))
    else:
        col = pick_col(table, rng, "enum")
        old = col.name
        col.name = renamed_name(old, table.name, rng)
        col.values = [v.upper() for v in col.values]
        sc.expects.append(Expect("column_renamed", src, (old, col.name)))
        sc.expects.append(Expect("values_remapped", src, old))
    return sc


def t_renamed_refuted(domain, rng):
    """A name-related column replaces one whose data it does not hold (`amount_due` gone, `amount_due_v2` new,
    other numbers): schema-only it reads as a rename; the data refutes it."""
    sc, table = scenario("trap_rename_refuted_by_data", domain, rng, [])
    col = rng.choice([c for c in table.columns[1:] if not c.role.startswith("enum")])
    old = col.name
    col.name = renamed_name(old, table.name, rng)
    rows = list(range(1, ROWS + 1))
    rng.shuffle(rows)
    col.values = [value(col.role, r, random.Random(rng.random())) for r in rows]
    src = f"{domain}.{table.name}"
    sc.expects.append(Expect("column_renamed", src, (old, col.name), SCHEMA))
    sc.expects.append(Expect("column_missing", src, old, SNAP))
    sc.expects.append(Expect("column_added", src, col.name, SNAP))
    return sc


TEMPLATES = [
    s_table_missing, s_table_renamed, s_table_added, s_column_missing, s_column_added, s_column_renamed,
    s_rename_no_name_evidence, s_camel_case, s_column_split, s_type_changed, s_values_remapped, s_new_enum_value,
    s_swapped, s_null_rate, s_scale, s_shape, s_distinct,
    t_unrelated_drop_add, t_rival_tables, t_two_tables_renamed, t_reorder, t_schema_swap, t_loader_columns,
    t_rename_data_changed, t_renamed_refuted, s_remap_undeclared, s_split_appended, t_rolling_days,
]


def generate(count: int, seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    domains = list(DOMAINS)
    scenarios = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        for _ in range(50):
            domain = domains[(i // len(TEMPLATES) + i) % len(domains)] if _ == 0 else rng.choice(domains)
            try:
                sc = template(domain, random.Random(rng.random()))
                break
            except (IndexError, ValueError, StopIteration):
                continue
        else:
            raise RuntimeError(f"template {template.__name__} fits no domain")
        sc.name = f"{i:03d}_{sc.name or sc.kind}_{domain}"
        scenarios.append(sc)
    return scenarios


# --------------------------------------------------------------------------------------------------------------
# Writing a scenario: the dbt project and the SQLite warehouse.


def yml_quote(text: str) -> str:
    return json.dumps(text)


def write_project(root: str, sc: Scenario) -> None:
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    with open(os.path.join(root, "dbt_project.yml"), "w") as f:
        f.write(f"name: bench_{sc.domain}\nversion: '1.0'\nprofile: bench\n")
    lines = ["version: 2", "sources:", f"  - name: {sc.domain}", "    schema: main", "    tables:"]
    for t in sc.baseline:
        lines += [f"      - name: {t.name}", "        columns:"]
        for c in t.columns:
            if f"{t.name}.{c.name}" in sc.undeclared:
                continue
            lines += [f"          - name: {c.name}", f"            data_type: {c.type}"]
            if c.role == "key":
                lines += ["            data_tests:", "              - unique", "              - not_null"]
            elif c.role.startswith("enum:"):
                values = ", ".join(yml_quote(v) for v in c.role[5:].split(","))
                lines += ["            data_tests:", "              - accepted_values:", "                  arguments:",
                          f"                    values: [{values}]"]
    with open(os.path.join(root, "models", f"src_{sc.domain}.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for t in sc.baseline:
        cols = ",\n    ".join(c.name for c in t.columns)
        with open(os.path.join(root, "models", f"stg_{sc.domain}__{t.name}.sql"), "w") as f:
            f.write(f"select\n    {cols}\nfrom {{{{ source('{sc.domain}', '{t.name}') }}}}\n")


def write_tables(path: str, tables: list[Table], replace: bool) -> None:
    db = sqlite3.connect(path)
    if replace:
        for (name,) in db.execute("select name from sqlite_master where type = 'table'").fetchall():
            db.execute(f'drop table "{name}"')
    for t in tables:
        cols = ", ".join(f'"{c.name}" {c.type}' + (" primary key" if c.role == "key" and i == 0 else "") for i, c in enumerate(t.columns))
        db.execute(f'create table "{t.name}" ({cols})')
        marks = ", ".join("?" for _ in t.columns)
        rows = list(zip(*[c.values for c in t.columns]))
        db.executemany(f'insert into "{t.name}" values ({marks})', rows)
    db.commit()
    db.close()


# --------------------------------------------------------------------------------------------------------------
# Running and scoring.


def run(driftwatch: str, args: list[str]) -> tuple[int, str, str]:
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run([driftwatch, *args], capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def target_of(change: dict) -> object:
    kind = change["kind"]
    if kind == "table_renamed":
        return (change["source"].split(".", 1)[1], (change.get("relation") or "").split(".")[-1])
    if kind in ("table_missing",):
        return change["source"].split(".", 1)[1]
    if kind == "table_added":
        return change["to"]
    if kind == "column_renamed":
        return (change["from"], change["to"])
    if kind == "column_split":
        return (change["from"], frozenset(change["to"]))
    if kind == "columns_swapped":
        return frozenset({change["from"], change["to"]})
    if kind == "column_added":
        return change["to"]
    if kind == "column_type_changed":
        return change.get("column")
    return change.get("from") or change.get("column")


def source_of(change: dict) -> str:
    return change["source"]


def norm(target: object) -> object:
    if isinstance(target, str):
        return target.lower()
    if isinstance(target, tuple):
        return tuple(norm(t) for t in target)
    if isinstance(target, frozenset):
        return frozenset(norm(t) for t in target)
    return target


def score_mode(sc: Scenario, mode: str, report: dict) -> dict:
    expects = [e for e in sc.expects if mode in e.modes]
    changes = report.get("changes", [])
    keys = [(c["kind"], source_of(c), norm(target_of(c))) for c in changes]
    found = []
    for e in expects:
        key = (e.kind, e.source, norm(e.target))
        hit = any(k == key for k in keys)
        if hit and e.hint is not None:
            hit = any((c["kind"], source_of(c), norm(target_of(c))) == key and (c.get("possible_rename") or "").lower() == e.hint.lower() for c in changes)
        found.append({"kind": e.kind, "source": e.source, "target": repr(e.target), "recalled": hit})
    expected_keys = {(e.kind, e.source, norm(e.target)) for e in expects}
    renames_expected = {(e.source, norm(e.target)) for e in expects if e.kind == "column_renamed"}
    renames_expected |= {(e.source, (norm(e.target), norm(e.hint))) for e in expects if e.hint}
    claims, facts = [], []
    for c, k in zip(changes, keys):
        if c["kind"] in CLAIM_KINDS:
            claims.append({"kind": c["kind"], "source": k[1], "target": repr(k[2]), "confidence": c["confidence"],
                           "right": k in expected_keys})
        elif k not in expected_keys:
            facts.append({"kind": c["kind"], "source": k[1], "target": repr(k[2])})
        if c["kind"] == "column_missing" and c.get("possible_rename"):
            pair = (k[1], (norm(c["from"]), norm(c["possible_rename"])))
            claims.append({"kind": "possible_rename", "source": k[1], "target": repr(pair[1]), "confidence": None,
                           "right": pair in renames_expected})
    return {"expected": found, "claims": claims, "unexpected_facts": facts}


def run_scenario(driftwatch: str, workdir: str, sc: Scenario) -> dict:
    root = os.path.join(workdir, sc.name)
    project = os.path.join(root, "project")
    db = os.path.join(root, "warehouse.db")
    os.makedirs(root)
    write_project(project, sc)
    write_tables(db, sc.baseline, replace=False)
    warehouse = f"sqlite:{db}"
    common = ["--project", project, "--warehouse", warehouse]
    status, out, err = run(driftwatch, ["snapshot", *common])
    if status != 0:
        return {"name": sc.name, "error": f"snapshot exited {status}: {err.strip()[:300]}"}
    status, out, err = run(driftwatch, ["check", *common, "--no-snapshot", "--format", "json"])
    if status not in (0, 1):
        return {"name": sc.name, "error": f"baseline check exited {status}: {err.strip()[:300]}"}
    baseline_changes = json.loads(out).get("changes", [])
    write_tables(db, sc.drifted, replace=True)
    result = {"name": sc.name, "kind": sc.kind, "domain": sc.domain, "modes": {}}
    if baseline_changes:
        result["baseline_changes"] = [c["kind"] for c in baseline_changes]
    for mode, extra in (("schema", ["--no-snapshot"]), ("snapshot", [])):
        status, out, err = run(driftwatch, ["check", *common, *extra, "--format", "json"])
        if status not in (0, 1):
            result["modes"][mode] = {"error": f"check exited {status}: {err.strip()[:300]}"}
            continue
        result["modes"][mode] = score_mode(sc, mode, json.loads(out))
    return result


def bin_of(confidence: float | None) -> str:
    if confidence is None:
        return "hint"
    if confidence < 0.5:
        return "<0.5"
    for low, high in BINS:
        if low <= confidence < high:
            return f"{low:.1f}-{min(high, 1.0):.1f}"
    return "0.9-1.0"


def summarize(results: list[dict]) -> dict:
    expected = recalled = 0
    wrong: list[dict] = []
    misses: list[dict] = []
    facts: list[dict] = []
    claims: list[dict] = []
    errors = [r for r in results if "error" in r]
    bins: dict[str, dict] = {}
    per_kind: dict[str, list[int]] = {}
    for r in results:
        if r.get("baseline_changes"):
            errors.append({"name": r["name"], "error": f"the baseline is not clean: {r['baseline_changes']}"})
        for mode, m in r.get("modes", {}).items():
            if "error" in m:
                errors.append({"name": r["name"], "mode": mode, "error": m["error"]})
                continue
            for e in m["expected"]:
                expected += 1
                recalled += e["recalled"]
                stats = per_kind.setdefault(e["kind"], [0, 0])
                stats[0] += 1
                stats[1] += e["recalled"]
                if not e["recalled"]:
                    misses.append({"scenario": r["name"], "mode": mode, **e})
            for c in m["claims"]:
                claims.append({"scenario": r["name"], "mode": mode, **c})
                b = bins.setdefault(bin_of(c["confidence"]), {"claims": 0, "right": 0, "confidence_sum": 0.0})
                b["claims"] += 1
                b["right"] += c["right"]
                b["confidence_sum"] += c["confidence"] if c["confidence"] is not None else 0
                if not c["right"] and c["confidence"] is not None and c["confidence"] >= 0.5:
                    wrong.append({"scenario": r["name"], "mode": mode, **c})
            for f in m["unexpected_facts"]:
                facts.append({"scenario": r["name"], "mode": mode, **f})
    table = []
    calibrated = True
    order = ["hint", "<0.5"] + [f"{lo:.1f}-{min(hi, 1.0):.1f}" for lo, hi in BINS]
    for name in order:
        if name not in bins:
            continue
        b = bins[name]
        share = b["right"] / b["claims"]
        mean = b["confidence_sum"] / b["claims"] if name != "hint" else None
        ok = True
        if mean is not None and name != "<0.5" and b["claims"] >= MIN_BIN:
            ok = abs(share - mean) <= 0.1
        calibrated &= ok
        table.append({"bin": name, "claims": b["claims"], "right": b["right"], "share_right": round(share, 3),
                      "mean_confidence": None if mean is None else round(mean, 3), "within_target": ok})
    recall = recalled / expected if expected else 1.0
    return {
        "scenarios": len(results), "expected_changes": expected, "recalled": recalled, "recall": round(recall, 4),
        "wrong_claims_at_or_above_0_5": len(wrong), "calibration": table, "calibrated": calibrated,
        "recall_by_kind": {k: {"expected": v[0], "recalled": v[1]} for k, v in sorted(per_kind.items())},
        "misses": misses, "wrong_claims": wrong, "claims": claims, "unexpected_facts": facts, "errors": errors,
        "targets_met": recall >= 0.95 and not wrong and calibrated and not errors,
    }


def print_table(summary: dict, args) -> None:
    print(f"drift benchmark: {summary['scenarios']} scenarios x 2 modes (schema-only, snapshot), seed {args.seed}")
    print(f"recall: {summary['recalled']}/{summary['expected_changes']} = {summary['recall']:.1%} (target >= 95%)")
    print(f"wrong claims at confidence >= 0.5: {summary['wrong_claims_at_or_above_0_5']} (target 0)")
    print("calibration (claims per confidence bin, share right; target: share right within 0.1 of the mean confidence):")
    print(f"  {'bin':<9} {'claims':>6} {'right':>6} {'share':>6} {'mean c':>7}")
    for row in summary["calibration"]:
        mean = "-" if row["mean_confidence"] is None else f"{row['mean_confidence']:.2f}"
        flag = "" if row["within_target"] else "  <- off"
        print(f"  {row['bin']:<9} {row['claims']:>6} {row['right']:>6} {row['share_right']:>6.2f} {mean:>7}{flag}")
    print("recall by kind:")
    for kind, v in summary["recall_by_kind"].items():
        print(f"  {kind:<26} {v['recalled']:>4}/{v['expected']}")
    for m in summary["misses"]:
        print(f"miss: {m['scenario']} [{m['mode']}] {m['kind']} {m['source']} {m['target']}")
    for w in summary["wrong_claims"]:
        print(f"wrong: {w['scenario']} [{w['mode']}] {w['kind']} {w['source']} {w['target']} at {w['confidence']}")
    for f in summary["unexpected_facts"]:
        print(f"unexpected fact: {f['scenario']} [{f['mode']}] {f['kind']} {f['source']} {f['target']}")
    for e in summary["errors"]:
        print(f"error: {e}")
    print("targets met" if summary["targets_met"] else "TARGETS MISSED")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["small", "full"], default="small")
    parser.add_argument("--count", type=int, help="scenarios (default: small 25, full 250)")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--driftwatch", default=".build/debug/driftwatch")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="write the scenarios into this directory and keep them")
    args = parser.parse_args()
    if not (os.path.isfile(args.driftwatch) and os.access(args.driftwatch, os.X_OK)):
        print(f"error: no driftwatch executable at {args.driftwatch}: build it (swift build) or pass --driftwatch", file=sys.stderr)
        return 2
    count = args.count or (len(TEMPLATES) if args.size == "small" else 10 * len(TEMPLATES))
    scenarios = generate(count, args.seed)
    workdir = args.keep or tempfile.mkdtemp(prefix="driftwatch-bench-")
    if args.keep:
        os.makedirs(workdir, exist_ok=True)
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda sc: run_scenario(args.driftwatch, workdir, sc), scenarios))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = summarize(results)
    summary["seed"] = args.seed
    summary["size"] = args.size
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print_table(summary, args)
    return 0 if summary["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
