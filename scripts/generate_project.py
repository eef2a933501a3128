#!/usr/bin/env python3
"""Write a synthetic but realistic dbt project, for scale tests and for comparing driftwatch with real dbt.

    python3 scripts/generate_project.py --models 20000 --seed 7 --out /tmp/synth

The project (name `synth`) parses with dbt-core 1.10/1.11 and dbt-postgres (`dbt parse` needs no server):

- sources: one yml file per source system under models/staging/<system>/, every table with declared columns
  (data_type), column tests (unique, not_null, accepted_values, relationships to another source table),
  sometimes an `identifier:`; a few tables are declared but read by no model;
- staging: one view per source table (a few union two tables of the same system);
- intermediate: joins of staging and earlier intermediate models, with preferential attachment, so a few
  staging models fan out widely and most are read once or twice;
- marts: dims and facts over intermediates (sometimes staging), some incremental with `{% if is_incremental() %}`;
- Jinja everywhere: `{{ config(...) }}`, `ref('m')`, `ref('synth', 'm')`, `source('s', 't')`, `{% set %}` and
  `{% for %}`, `{% if target.name == 'prod' %}` blocks (SQL only, never a ref inside), and `{# comments #}` that
  mention `ref('...')` / `source('...')` of things that do not exist: dbt ignores them, so must any reader;
- generic tests in yml (`arguments:` style; a few in the legacy top-level style), relationships tests between
  models (two parents), singular tests under tests/, seeds, one snapshot, one analysis, one disabled model,
  exposures over marts;
- profiles.yml for postgres whose every value comes from an env var with a default.

With `--macro-share F` (0 to 1), that share of the intermediate and mart models is written the way large real
projects write them, so a reader must evaluate Jinja to get their edges and configs right:
- refs passed to a project macro as a list of tuples (`{{ simple_cte([('p0', 'a'), ('p1', 'b')]) }}`, the
  pattern a 2,900-model company project uses in hundreds of models), then an audit macro over the last CTE;
- refs reached through `adapter.dispatch` (a `staged_relation(name)` macro whose `default__`/`postgres__`
  implementations return `ref(name)`) inside a `{% for %}` loop;
- configs as dicts and expressions (`config({"tags": [...]})`, tags chosen by `target.name`);
- refs held in vars (`ref(var('synth_calendar_model'))`).

Output is a pure function of (--models, --seed, --macro-share): same arguments, byte-identical files (with
`--macro-share 0`, the default, the same files as before the option existed).
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys

MARKER = ".synth-generated"
PROJECT = "synth"

SYSTEM_WORDS = [
    "stripe", "shopify", "salesforce", "zendesk", "hubspot", "netsuite", "jira", "segment", "braze",
    "intercom", "marketo", "quickbooks", "workday", "greenhouse", "github", "linear", "mixpanel", "amplitude",
    "twilio", "sendgrid", "mailchimp", "klaviyo", "recharge", "chargebee", "paypal", "adyen", "okta", "gusto",
]
TABLE_WORDS = [
    "accounts", "orders", "order_items", "invoices", "payments", "refunds", "customers", "contacts", "leads",
    "opportunities", "tickets", "events", "sessions", "subscriptions", "plans", "products", "prices",
    "shipments", "addresses", "users", "teams", "campaigns", "emails", "messages", "transactions", "disputes",
    "coupons", "discounts", "carts", "reviews", "employees", "departments", "issues", "projects", "comments",
]
DOMAINS = [
    "finance", "sales", "marketing", "product", "support", "growth", "operations", "people", "risk", "supply",
]
COLUMN_POOL = [
    ("name", "text"), ("email", "text"), ("status", "text"), ("amount", "numeric(12,2)"),
    ("currency", "char(3)"), ("created_at", "timestamp"), ("updated_at", "timestamp"), ("is_deleted", "boolean"),
    ("country", "text"), ("quantity", "integer"), ("description", "text"), ("category", "text"),
    ("priority", "smallint"), ("score", "double precision"), ("external_ref", "varchar(64)"),
    ("opened_at", "date"), ("closed_at", "date"), ("owner_name", "text"), ("tier", "text"),
]
STATUS_VALUES = ["active", "pending", "closed", "cancelled"]
EXPOSURE_TYPES = ["dashboard", "notebook", "analysis", "ml", "application"]
MATURITIES = ["high", "medium", "low"]


class Gen:
    def __init__(self, models: int, seed: int, macro_share: float = 0.0) -> None:
        self.rng = random.Random(seed)
        # Macro-heavy choices draw from their own generator: the rest of the project stays as without them.
        self.macro_rng = random.Random(seed * 7919 + 17)
        self.macro_share = macro_share
        self.n = models
        self.files: dict[str, str] = {}

    def macro_heavy(self) -> bool:
        return self.macro_share > 0 and self.macro_rng.random() < self.macro_share

    # ---------------------------------------------------------------- plan

    def plan(self) -> None:
        n = self.n
        n_staging = max(1, round(n * 0.3))
        n_inter = max(0, round(n * 0.35)) if n >= 3 else 0
        n_marts = n - n_staging - n_inter
        if n >= 3 and n_marts < 1:
            n_marts, n_inter = 1, n_inter - 1
        # one mart is dim_countries (over a seed) when there are at least two
        self.with_countries = n_marts >= 2
        if self.with_countries:
            n_marts -= 1
        self.n_staging, self.n_inter, self.n_marts = n_staging, n_inter, max(0, n_marts)

        # Source systems and tables: every staging model reads one table; ~2% more tables nobody reads.
        n_tables = n_staging + max(1, n_staging // 50)
        self.systems: list[dict] = []
        remaining = n_tables
        index = 0
        while remaining > 0:
            size = min(remaining, self.rng.randint(4, 25))
            word = SYSTEM_WORDS[index % len(SYSTEM_WORDS)]
            name = word if index < len(SYSTEM_WORDS) else f"{word}_{index // len(SYSTEM_WORDS)}"
            tables = []
            used: set[str] = set()
            for t in range(size):
                base = TABLE_WORDS[(t + index) % len(TABLE_WORDS)]
                tname = base if base not in used else f"{base}_{t}"
                used.add(tname)
                tables.append(self.make_table(name, tname))
            # foreign keys to earlier tables of the same system
            for t, table in enumerate(tables):
                if t > 0 and self.rng.random() < 0.6:
                    target = tables[self.rng.randrange(t)]
                    table["fk"] = target["name"]
            self.systems.append({"name": name, "tables": tables, "schema": f"raw_{name}"})
            remaining -= size
            index += 1

        all_tables = [(s, t) for s in self.systems for t in s["tables"]]
        # the unread tables are spread through the list
        self.rng.shuffle(all_tables)
        read = sorted(all_tables[:n_staging], key=lambda st: (st[0]["name"], st[1]["name"]))
        self.staging: list[dict] = []
        for system, table in read:
            self.staging.append({
                "name": f"stg_{system['name']}__{table['name']}",
                "system": system, "table": table, "extra": None,
                "key": f"{table['name'].rstrip('s') or table['name']}_id",
                "columns": [c for c, _ in table["columns"] if c != "id"],
            })
        # a few staging models union a second table of the same system
        for stg in self.staging:
            others = [t for t in stg["system"]["tables"] if t is not stg["table"]]
            if others and self.rng.random() < 0.05:
                stg["extra"] = self.rng.choice(others)

        # Intermediate: 1-4 parents from staging and earlier intermediates, preferential attachment.
        self.inter: list[dict] = []
        weights: list[tuple[str, dict]] = []  # (layer, model), repeated per use
        pool: list[dict] = list(self.staging)
        for i in range(self.n_inter):
            domain = DOMAINS[i % len(DOMAINS)]
            parents = self.pick_parents(pool, weights, self.rng.randint(1, 4))
            model = {
                "name": f"int_{domain}__{self.entity(i)}_{i}",
                "domain": domain, "parents": parents, "key": f"int_{i}_id",
            }
            self.inter.append(model)
            pool.append(model)

        # Marts: 1-5 parents, mostly intermediates.
        self.marts: list[dict] = []
        mart_pool = self.inter if self.inter else self.staging
        mart_weights: list[tuple[str, dict]] = []
        for i in range(self.n_marts):
            domain = DOMAINS[i % len(DOMAINS)]
            kind = "fct" if self.rng.random() < 0.55 else "dim"
            parents = self.pick_parents(mart_pool, mart_weights, self.rng.randint(1, 5))
            if self.staging and self.rng.random() < 0.1:
                extra = self.rng.choice(self.staging)
                if extra not in parents:
                    parents.append(extra)
            self.marts.append({
                "name": f"{kind}_{self.entity(i)}_{i}", "kind": kind, "domain": domain, "parents": parents,
                "key": f"{kind}_{i}_id", "incremental": kind == "fct" and self.rng.random() < 0.2,
            })
        # dims referenced by facts: relationships tests with two parents
        dims_by_domain: dict[str, list[dict]] = {}
        for mart in self.marts:
            if mart["kind"] == "dim":
                dims_by_domain.setdefault(mart["domain"], []).append(mart)
        for mart in self.marts:
            dims = dims_by_domain.get(mart["domain"], [])
            mart["dim"] = self.rng.choice(dims) if mart["kind"] == "fct" and dims and self.rng.random() < 0.7 else None
            if mart["dim"] is not None and mart["dim"] not in mart["parents"]:
                mart["parents"].append(mart["dim"])

    def make_table(self, system: str, name: str) -> dict:
        k = self.rng.randint(4, 12)
        cols = [("id", "integer")] + self.rng.sample(COLUMN_POOL, k)
        return {
            "name": name, "columns": cols, "fk": None,
            "identifier": f"{system}_{name}_raw" if self.rng.random() < 0.08 else None,
        }

    def entity(self, i: int) -> str:
        return TABLE_WORDS[(i * 7) % len(TABLE_WORDS)]

    def pick_parents(self, pool: list[dict], weights: list, count: int) -> list[dict]:
        chosen: list[dict] = []
        for _ in range(count * 3):
            if len(chosen) >= count or not pool:
                break
            if weights and self.rng.random() < 0.5:
                cand = weights[self.rng.randrange(len(weights))][1]
            else:
                # bias towards recent models: realistic chains, deep lineage
                lo = max(0, len(pool) - 400) if self.rng.random() < 0.6 else 0
                cand = pool[self.rng.randrange(lo, len(pool))]
            if cand not in chosen:
                chosen.append(cand)
        for c in chosen:
            weights.append(("", c))
        return chosen

    # ---------------------------------------------------------------- render

    def ref(self, model: dict) -> str:
        if self.rng.random() < 0.05:
            return f"{{{{ ref('{PROJECT}', '{model['name']}') }}}}"
        return f"{{{{ ref('{model['name']}') }}}}"

    def write(self, path: str, text: str) -> None:
        self.files[path] = text

    def render(self) -> None:
        self.write("dbt_project.yml", self.dbt_project())
        self.write("profiles.yml", PROFILES)
        self.write("packages.yml", "packages: []\n")
        self.write(".gitignore", "target/\ndbt_packages/\nlogs/\n")
        for system in self.systems:
            self.write(f"models/staging/{system['name']}/_{system['name']}__sources.yml", self.sources_yml(system))
        by_system: dict[str, list[dict]] = {}
        for stg in self.staging:
            by_system.setdefault(stg["system"]["name"], []).append(stg)
            self.write(f"models/staging/{stg['system']['name']}/{stg['name']}.sql", self.staging_sql(stg))
        for system, models in sorted(by_system.items()):
            self.write(f"models/staging/{system}/_{system}__models.yml", self.staging_yml(models))
        by_domain: dict[str, list[dict]] = {}
        for model in self.inter:
            by_domain.setdefault(model["domain"], []).append(model)
            self.write(f"models/intermediate/{model['domain']}/{model['name']}.sql", self.inter_sql(model))
        for domain, models in sorted(by_domain.items()):
            for chunk, part in self.chunks(models, 200):
                self.write(f"models/intermediate/{domain}/_int_{domain}__models_{chunk}.yml", self.inter_yml(part))
        marts_by_domain: dict[str, list[dict]] = {}
        for mart in self.marts:
            marts_by_domain.setdefault(mart["domain"], []).append(mart)
            self.write(f"models/marts/{mart['domain']}/{mart['name']}.sql", self.mart_sql(mart))
        for domain, marts in sorted(marts_by_domain.items()):
            for chunk, part in self.chunks(marts, 200):
                self.write(f"models/marts/{domain}/_{domain}__models_{chunk}.yml", self.marts_yml(part))
            self.write(f"models/marts/{domain}/_{domain}__exposures.yml", self.exposures_yml(domain, marts))
        self.extras()

    @staticmethod
    def chunks(items: list, size: int):
        for start in range(0, len(items), size):
            yield start // size, items[start:start + size]

    def dbt_project(self) -> str:
        return f"""# Synthetic project written by scripts/generate_project.py (models={self.n}). Do not edit by hand.
name: {PROJECT}
version: "1.0.0"
config-version: 2
profile: {PROJECT}

model-paths: ["models"]
seed-paths: ["seeds"]
test-paths: ["tests"]
snapshot-paths: ["snapshots"]
analysis-paths: ["analyses"]
macro-paths: ["macros"]

clean-targets: ["target", "dbt_packages"]

flags:
  require_generic_test_arguments_property: true

vars:
  history_start: "2020-01-01"
{self.project_vars()}
models:
  {PROJECT}:
    staging:
      +materialized: view
      +tags: ["staging"]
    intermediate:
      +materialized: view
    marts:
      +materialized: table
      +tags: ["marts"]

seeds:
  {PROJECT}:
    +schema: reference
"""

    def project_vars(self) -> str:
        if self.macro_share <= 0 or not self.staging:
            return ""
        return f"  synth_calendar_model: {self.staging[0]['name']}\n"

    def sources_yml(self, system: dict) -> str:
        lines = [
            "version: 2",
            "",
            "sources:",
            f"  - name: {system['name']}",
            f"    description: Raw {system['name']} tables, replicated nightly.",
            f"    schema: {system['schema']}",
            f"    tags: [\"{system['name']}\"]",
            "    tables:",
        ]
        for table in system["tables"]:
            lines.append(f"      - name: {table['name']}")
            if table["identifier"]:
                lines.append(f"        identifier: {table['identifier']}")
            lines.append(f"        description: \"{system['name']} {table['name'].replace('_', ' ')}\"")
            lines.append("        columns:")
            for column, dtype in table["columns"]:
                lines.append(f"          - name: {column}")
                lines.append(f"            data_type: {dtype}")
                tests = []
                if column == "id":
                    tests = ["              - unique", "              - not_null"]
                elif column == "status" and self.rng.random() < 0.7:
                    tests = [
                        "              - accepted_values:",
                        "                  arguments:",
                        f"                    values: [{', '.join(repr(v) for v in STATUS_VALUES)}]",
                    ]
                elif column == "created_at" and self.rng.random() < 0.5:
                    tests = ["              - not_null"]
                if tests:
                    lines.append("            data_tests:")
                    lines.extend(tests)
            if table["fk"]:
                fk_column = f"{table['fk'].rstrip('s')}_id"
                lines.append(f"          - name: {fk_column}")
                lines.append("            data_type: integer")
                lines.append("            data_tests:")
                lines.append("              - relationships:")
                lines.append("                  arguments:")
                lines.append(f"                    to: source('{system['name']}', '{table['fk']}')")
                lines.append("                    field: id")
        return "\n".join(lines) + "\n"

    def staging_sql(self, stg: dict) -> str:
        system, table = stg["system"]["name"], stg["table"]["name"]
        cols = stg["columns"]
        fk = f"{stg['table']['fk'].rstrip('s')}_id" if stg["table"]["fk"] else None
        select = [f"        id as {stg['key']}"] + [f"        {c}" for c in cols] + ([f"        {fk}"] if fk else [])
        if "amount" in cols:
            select.append("        {{ cents_to_dollars('amount') }} as amount_usd")
        body = ",\n".join(select)
        tags = f", tags=['{system}']" if self.rng.random() < 0.5 else ""
        where = ""
        if "created_at" in cols:
            where = (
                "    {% if target.name == 'prod' %}\n"
                "    where created_at >= '{{ var(\"history_start\") }}'\n"
                "    {% endif %}\n"
            )
        union = ""
        if stg["extra"] is not None:
            union = (
                "\n    union all\n\n"
                f"    select * from {{{{ source('{system}', '{stg['extra']['name']}') }}}}\n"
                "    where false\n"
            )
        return f"""{{{{ config(materialized='view'{tags}) }}}}
{{# Staging for {system}.{table}. Older versions read source('{system}', '{table}_legacy') and
   ref('stg_{system}__{table}_v0'); both are gone, and this comment must not count as a dependency. #}}

with source as (

    select * from {{{{ source('{system}', '{table}') }}}}
{union}
),

renamed as (

    select
{body}
    from source
{where}
)

select * from renamed
"""

    def staging_yml(self, models: list[dict]) -> str:
        lines = ["version: 2", "", "models:"]
        for stg in models:
            lines += [
                f"  - name: {stg['name']}",
                f"    description: One row per {stg['table']['name'].rstrip('s')} from {stg['system']['name']}.",
                "    columns:",
                f"      - name: {stg['key']}",
                "        data_tests:",
                "          - unique",
                "          - not_null",
            ]
            if "status" in stg["columns"] and self.rng.random() < 0.3:
                # legacy style (arguments at the top level): still parsed by dbt, with a deprecation warning
                lines += [
                    "      - name: status",
                    "        data_tests:",
                    "          - accepted_values:",
                    f"              values: [{', '.join(repr(v) for v in STATUS_VALUES)}]",
                    "              config:",
                    "                severity: warn",
                ]
        return "\n".join(lines) + "\n"

    def inter_sql(self, model: dict) -> str:
        if self.macro_heavy():
            return self.inter_sql_macros(model)
        parents = model["parents"]
        first = parents[0]
        ctes = []
        for idx, parent in enumerate(parents):
            ctes.append(f"p{idx} as (\n    select * from {self.ref(parent)}\n)")
        joins = "".join(
            f"\n    left join p{idx} on p{idx}.{parent['key']} = p0.{first['key']}" for idx, parent in enumerate(parents)
            if idx > 0
        )
        config = "{{ config(materialized='view') }}\n" if self.rng.random() < 0.3 else ""
        cols = ", ".join(f"'{c}'" for c in self.rng.sample(["a", "b", "c", "d", "e"], 2))
        with_clause = ",\n\n".join(ctes)
        return f"""{config}{{%- set metric_columns = [{cols}] -%}}
{{# joins {len(parents)} upstream models; see also ref('int_deprecated_{model['name']}') (removed) #}}

with {with_clause}

select
    p0.{first['key']} as {model['key']},
    {{% for c in metric_columns %}}
    count(*) as n_{{{{ c }}}}{{% if not loop.last %}},{{% endif %}}
    {{% endfor %}}
from p0{joins}
group by 1
"""

    def inter_sql_macros(self, model: dict) -> str:
        parents = model["parents"]
        first = parents[0]
        tuples = ",\n             ".join(f"('p{idx}', '{p['name']}')" for idx, p in enumerate(parents))
        joins = "".join(
            f"\n    left join p{idx} on p{idx}.{p['key']} = p0.{first['key']}" for idx, p in enumerate(parents) if idx > 0
        )
        tags = f'"{model["domain"]}", "macro_heavy"'
        return f"""{{{{ config({{"materialized": "view", "tags": [{tags}]}}) }}}}

{{{{ simple_cte([{tuples}]) }}}},

joined as (
    select p0.{first['key']} as {model['key']}, count(*) as n_rows
    from p0{joins}
    group by 1
)

{{{{ audit_columns('joined') }}}}
"""

    def inter_yml(self, models: list[dict]) -> str:
        lines = ["version: 2", "", "models:"]
        for model in models:
            lines += [f"  - name: {model['name']}", "    columns:", f"      - name: {model['key']}"]
            if self.rng.random() < 0.5:
                lines += ["        data_tests:", "          - not_null"]
        return "\n".join(lines) + "\n"

    def mart_sql(self, mart: dict) -> str:
        if not mart["incremental"] and self.macro_heavy():
            return self.mart_sql_macros(mart)
        parents = mart["parents"]
        first = parents[0]
        ctes = ",\n\n".join(f"p{idx} as (\n    select * from {self.ref(p)}\n)" for idx, p in enumerate(parents))
        joins = "".join(
            f"\n    left join p{idx} on p{idx}.{p['key']} = p0.{first['key']}" for idx, p in enumerate(parents) if idx > 0
        )
        dim_col = f",\n    p{parents.index(mart['dim'])}.{mart['dim']['key']} as {mart['dim']['key']}" if mart["dim"] else ""
        if mart["incremental"]:
            config = "{{\n    config(\n        materialized='incremental',\n        unique_key='" + mart["key"] + "'\n    )\n}}\n"
            incremental = (
                "\n{% if is_incremental() %}\n"
                f"where p0.{first['key']} > (select max({mart['key']}) from {{{{ this }}}})\n"
                "{% endif %}\n"
            )
        else:
            config = "{{ config(tags=['" + mart["domain"] + "']) }}\n" if self.rng.random() < 0.5 else ""
            incremental = ""
        return f"""{config}{{# {mart['kind']} over {len(parents)} upstream models #}}
with {ctes}

select
    p0.{first['key']} as {mart['key']}{dim_col},
    current_timestamp as loaded_at
from p0{joins}
{incremental}"""

    def mart_sql_macros(self, mart: dict) -> str:
        parents = mart["parents"]
        first = parents[0]
        names = ", ".join(f"'{p['name']}'" for p in parents)
        joins = "".join(
            f"\n    left join p{idx} on p{idx}.{p['key']} = p0.{first['key']}" for idx, p in enumerate(parents) if idx > 0
        )
        calendar = ""
        if self.staging and self.macro_rng.random() < 0.1:
            calendar = "\n    cross join (select 1 as one from {{ ref(var('synth_calendar_model')) }} limit 1) calendar"
        dim_col = f",\n    p{parents.index(mart['dim'])}.{mart['dim']['key']} as {mart['dim']['key']}" if mart["dim"] else ""
        return f"""{{{{ config(tags=['{mart['domain']}'] + (['nightly'] if target.name == 'prod' else ['daily'])) }}}}
{{%- set upstream = [{names}] %}}

with {{% for name in upstream %}}p{{{{ loop.index0 }}}} as (
    select * from {{{{ staged_relation(name) }}}}
){{% if not loop.last %}},{{% endif %}}
{{% endfor %}}

select
    p0.{first['key']} as {mart['key']}{dim_col},
    current_timestamp as loaded_at
from p0{joins}{calendar}
"""

    def marts_yml(self, marts: list[dict]) -> str:
        lines = ["version: 2", "", "models:"]
        for mart in marts:
            lines += [
                f"  - name: {mart['name']}",
                f"    description: \"{mart['kind']} for {mart['domain']}\"",
                "    config:",
                f"      tags: [\"{mart['domain']}\"]",
                "    columns:",
                f"      - name: {mart['key']}",
                "        data_tests:",
                "          - unique",
                "          - not_null",
            ]
            if mart["dim"]:
                lines += [
                    f"      - name: {mart['dim']['key']}",
                    "        data_tests:",
                    "          - relationships:",
                    "              arguments:",
                    f"                to: ref('{mart['dim']['name']}')",
                    f"                field: {mart['dim']['key']}",
                ]
        return "\n".join(lines) + "\n"

    def exposures_yml(self, domain: str, marts: list[dict]) -> str:
        count = max(1, len(marts) // 20)
        lines = ["version: 2", "", "exposures:"]
        for i in range(count):
            deps = self.rng.sample(marts, min(len(marts), self.rng.randint(1, 4)))
            etype = self.rng.choice(EXPOSURE_TYPES)
            name = f"{domain}_{etype}_{i}"
            lines += [
                f"  - name: {name}",
                f"    label: \"{domain.title()} {etype} #{i}\"",
                f"    type: {etype}",
                f"    maturity: {self.rng.choice(MATURITIES)}",
                f"    url: https://bi.example.com/{domain}/{i}",
                "    owner:",
                f"      name: {domain.title()} Analytics",
                f"      email: {domain}-analytics@example.com",
                "    depends_on:",
            ]
            lines += [f"      - ref('{d['name']}')" for d in sorted(deps, key=lambda d: d["name"])]
        return "\n".join(lines) + "\n"

    def extras(self) -> None:
        # seeds, read by one mart (when there is one)
        self.write("seeds/country_codes.csv", "country_code,country_name\nUS,United States\nFR,France\nDE,Germany\n")
        self.write("seeds/_seeds.yml", "version: 2\n\nseeds:\n  - name: country_codes\n    columns:\n"
                   "      - name: country_code\n        data_tests:\n          - unique\n")
        if self.with_countries:
            self.write(
                "models/marts/reference/dim_countries.sql",
                "select country_code, country_name\nfrom {{ ref('country_codes') }}\n",
            )
        # a snapshot of the first source table
        system = self.systems[0]
        table = system["tables"][0]
        self.write(
            f"snapshots/snap_{system['name']}__{table['name']}.sql",
            f"""{{% snapshot snap_{system['name']}__{table['name']} %}}

{{{{
    config(
      target_schema='snapshots',
      unique_key='id',
      strategy='check',
      check_cols='all'
    )
}}}}

select * from {{{{ source('{system['name']}', '{table['name']}') }}}}

{{% endsnapshot %}}
""",
        )
        # singular tests over ~1% of marts
        for mart in self.marts[:: max(1, 100)][:200]:
            self.write(
                f"tests/assert_{mart['name']}_has_rows.sql",
                f"-- fails when the mart is empty\nselect 1 from (select count(*) as n from {{{{ ref('{mart['name']}') }}}}) t\nwhere n = 0\n",
            )
        # an analysis (dbt ls leaves analyses out by default)
        if self.staging:
            self.write(
                "analyses/adhoc_row_counts.sql",
                f"select count(*) from {{{{ ref('{self.staging[0]['name']}') }}}}\n",
            )
        # a disabled model: dbt keeps it out of the graph
        if self.staging:
            self.write(
                "models/marts/legacy/legacy_disabled_report.sql",
                "{{ config(enabled=false) }}\n"
                f"select * from {{{{ ref('{self.staging[-1]['name']}') }}}}\n",
            )
        if self.macro_share > 0:
            self.write("macros/macro_heavy.sql", MACRO_HEAVY_MACROS)
        self.write("macros/cents_to_dollars.sql",
                   "{% macro cents_to_dollars(column_name) %}\n    ({{ column_name }} / 100)::numeric(16, 2)\n{% endmacro %}\n")


MACRO_HEAVY_MACROS = """{#- Macros the --macro-share models call: refs through lists of tuples, dispatch and loops. -#}
{% macro simple_cte(tuple_list) -%}
with {% for cte_ref in tuple_list %}{{ cte_ref[0] }} as (
    select * from {{ ref(cte_ref[1]) }}
){%- if not loop.last %},{% endif %}
{% endfor %}
{%- endmacro %}

{% macro audit_columns(cte) -%}
select *, '{{ this.name }}' as _audit_model, current_timestamp as _audit_loaded_at
from {{ cte }}
{%- endmacro %}

{% macro staged_relation(name) -%}
{{ return(adapter.dispatch('staged_relation', 'synth')(name)) }}
{%- endmacro %}

{% macro default__staged_relation(name) -%}
{{ return(ref(name)) }}
{%- endmacro %}

{% macro postgres__staged_relation(name) -%}
{{ return(ref(name)) }}
{%- endmacro %}
"""


PROFILES = """# Every value comes from an environment variable with a local default; `dbt parse` needs no server.
synth:
  target: dev
  outputs:
    dev:
      type: postgres
      host: "{{ env_var('SYNTH_PG_HOST', '127.0.0.1') }}"
      port: "{{ env_var('SYNTH_PG_PORT', '5432') | as_number }}"
      user: "{{ env_var('SYNTH_PG_USER', 'postgres') }}"
      password: "{{ env_var('SYNTH_PG_PASSWORD', '') }}"
      dbname: "{{ env_var('SYNTH_PG_DBNAME', 'synth') }}"
      schema: analytics
      threads: 4
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic dbt project named 'synth'.")
    parser.add_argument("--models", type=int, default=20000, help="number of models (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", required=True, help="output directory (created; replaced if generated before)")
    parser.add_argument("--macro-share", type=float, default=0.0,
                        help="share of intermediate and mart models written through macros (0 to 1; default 0)")
    args = parser.parse_args(argv)
    if args.models < 1:
        parser.error("--models must be at least 1")
    if not 0 <= args.macro_share <= 1:
        parser.error("--macro-share must be between 0 and 1")

    out = os.path.abspath(args.out)
    if os.path.exists(out):
        if not os.path.isdir(out):
            parser.error(f"{out} exists and is not a directory")
        if os.listdir(out) and not os.path.exists(os.path.join(out, MARKER)):
            parser.error(f"{out} is not empty and was not written by this script; choose another --out")
        shutil.rmtree(out)

    gen = Gen(args.models, args.seed, args.macro_share)
    gen.plan()
    gen.render()
    os.makedirs(out)
    for path in sorted(gen.files):
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(gen.files[path])
    with open(os.path.join(out, MARKER), "w", encoding="utf-8") as handle:
        share = f" macro_share={args.macro_share}" if args.macro_share > 0 else ""
        handle.write(f"models={args.models} seed={args.seed}{share}\n")
    models = len(gen.staging) + len(gen.inter) + len(gen.marts) + (1 if gen.with_countries else 0)
    sources = sum(len(s["tables"]) for s in gen.systems)
    print(f"wrote {len(gen.files)} files to {out}: {models} models, {sources} source tables "
          f"in {len(gen.systems)} systems", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
