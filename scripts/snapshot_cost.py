#!/usr/bin/env python3
"""What a PostgreSQL snapshot costs against a one-pass-per-table floor, measured in the same run.

    scripts/snapshot_cost.py --binary .build/release/driftwatch            # 200 tables x 10 columns x 20,000 rows
    scripts/snapshot_cost.py --binary BIN --tables 20 --rows 5000 --runs 2  # a quick look

Needs psycopg2 (the dbt venv has it: `.venv-dbt/bin/python scripts/snapshot_cost.py …`) and the server of
DRIFTWATCH_TEST_POSTGRES_URL (a superuser url; never printed). The script:

1. creates a throwaway database there and loads T tables x C columns x R rows into schema `raw` (keys, names,
   e-mails, amounts, a 5-value status, timestamps, 2-letter countries, integers, booleans, free text with
   NULLs; the same data on every run), then ANALYZEs them;
2. writes a minimal dbt project declaring every table as a source, with a `unique` test on its key, so that
   `driftwatch snapshot` profiles every column and samples every table by key;
3. measures, interleaved, `--runs` times each:
   - the floor: one hand-written statement per table, on one connection, that computes what a snapshot
     records of it: per column the row count, non-null count, exact distinct count (of the values as text),
     min/max (in the type's own order), average text length, average absolute value (numbers), the 50 most
     frequent values and, for text columns, the 50 most frequent shapes (`ValueShape`, cut at 32) and the
     counts of shape classes (`ShapeClass.sqlCase`); and the table's keyed sample (the first 1,000 rows by
     `md5(key::text)`, every column as text), with the session settings driftwatch's profile statement
     uses (`jit = off`, `work_mem = 64MB`) and the same plan shape (one unpivot and hash aggregate of the
     table's cells; per-column top-N; shapes grouped before they are cut and classified). Rows are fetched
     by the client, as driftwatch fetches them;
   - `driftwatch snapshot --jobs N` for each N of --jobs (state in a fresh SQLite file each run);
4. prints medians, the ratio snapshot(--jobs 1)/floor and the speed-up of each --jobs over --jobs 1, then
   drops the database (also when it fails or is interrupted; --keep leaves it for a look).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

try:
    import psycopg2
except ImportError:
    sys.exit("snapshot_cost: needs psycopg2; run it with the dbt venv's python (.venv-dbt/bin/python)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URL_VARIABLE = "DRIFTWATCH_TEST_POSTGRES_URL"
TOP_K = 50
SAMPLE_SIZE = 1000
SHAPE_FROM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
SHAPE_TO = "9" * 10 + "a" * 26 + "A" * 26
SHAPE_MAX = 32

# (name, SQL type, expression over g, the row number 1..R). Column 0 is the key; the others cycle.
KEY = ("id", "bigint", "g")
KINDS = [
    ("name", "text",
     "(ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Ken'])[1 + g % 8] || ' ' || "
     "(ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Hamilton','Thompson','Ritchie'])"
     "[1 + (g * 7) % 9]"),
    ("email", "text", "'user' || g || '@' || (ARRAY['example.com','mail.org','corp.net'])[1 + g % 3]"),
    ("amount", "numeric(12,2)", "CASE WHEN g % 20 = 0 THEN NULL ELSE round(((g * 7919) % 100000) / 100.0, 2) END"),
    ("status", "text", "(ARRAY['active','churned','trial','past_due','paused'])[1 + (g * 31) % 5]"),
    ("created_at", "timestamp", "timestamp '2024-01-01' + g * interval '7 minutes'"),
    ("country", "character(2)", "(ARRAY['US','GB','DE','FR','NL','ES','IT','CA'])[1 + (g * 13) % 8]"),
    ("quantity", "integer", "(g * 7919) % 100"),
    ("is_active", "boolean", "g % 3 <> 0"),
    ("note", "text", "CASE WHEN g % 10 < 3 THEN NULL ELSE 'Order ' || (g % 1000) || ' shipped to '"
     " || (ARRAY['Oak St','Elm Ave','Main Rd'])[1 + g % 3] END"),
]


def columns_of(count):
    """The (name, type, expression) of a table's `count` columns: the key, then the kinds in turn."""
    columns = [KEY]
    for index in range(1, count):
        name, sql_type, expression = KINDS[(index - 1) % len(KINDS)]
        lap = (index - 1) // len(KINDS)
        columns.append((name if lap == 0 else f"{name}_{lap + 1}", sql_type, expression))
    return columns


def table_name(index):
    return f"t{index:04d}"


def quoted(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def connect(base, database):
    parts = urllib.parse.urlsplit(base)
    query = dict(urllib.parse.parse_qsl(parts.query))
    return psycopg2.connect(
        host=urllib.parse.unquote(parts.hostname or "localhost"), port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname=database, sslmode=query.get("sslmode", "prefer"), application_name="snapshot_cost")


def driftwatch_url(base, database):
    """The url driftwatch gets, without the password (that goes in PGPASSWORD)."""
    parts = urllib.parse.urlsplit(base)
    netloc = urllib.parse.quote(urllib.parse.unquote(parts.username or "postgres"), safe="")
    netloc += "@" + (parts.hostname or "localhost") + (f":{parts.port}" if parts.port else "")
    query = parts.query or ""
    return urllib.parse.urlunsplit(("postgres", netloc, "/" + database, query, ""))


def load(base, database, tables, columns, rows):
    admin = connect(base, "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted(database)}")
    admin.close()
    connection = connect(base, database)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA raw")
        spec = columns_of(columns)
        for index in range(tables):
            name = f"raw.{quoted(table_name(index))}"
            definition = ", ".join(f"{quoted(c)} {t}" for c, t, _ in spec)
            expressions = ", ".join(expr for _, _, expr in spec)
            cursor.execute(f"CREATE TABLE {name} ({definition})")
            # Each table its own stretch of the series, so that tables differ.
            cursor.execute(
                f"INSERT INTO {name} SELECT {expressions} FROM generate_series({index * rows + 1}::int8, "
                f"{(index + 1) * rows}) g")
        cursor.execute("VACUUM ANALYZE")
    connection.close()


def write_project(directory, tables, columns):
    os.makedirs(os.path.join(directory, "models"), exist_ok=True)
    with open(os.path.join(directory, "dbt_project.yml"), "w") as f:
        f.write("name: snapshot_cost\nversion: '1.0'\nconfig-version: 2\nprofile: snapshot_cost\n"
                "model-paths: [\"models\"]\n")
    spec = columns_of(columns)
    lines = ["version: 2", "", "sources:", "  - name: raw", "    schema: raw", "    tables:"]
    for index in range(tables):
        lines.append(f"      - name: {table_name(index)}")
        lines.append("        columns:")
        for name, sql_type, _ in spec:
            lines.append(f"          - name: {name}")
            lines.append(f"            data_type: {sql_type}")
            if name == KEY[0]:
                lines.append("            data_tests:")
                lines.append("              - unique")
    with open(os.path.join(directory, "models", "sources.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")


ORDERABLE = ("smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision", "money",
             "character", "text", "varchar", "char", "date", "time", "interval", "uuid")
NUMERIC = ("smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision")
TEXT = ("text", "character", "citext")


def shape_class_sql(s):
    """ShapeClass.sqlCase(shape:) of DriftwatchCore, written out again (the same rule, the same order)."""
    def strip(chars):
        out = s
        for c in chars:
            out = f"replace({out}, '{c}', '')"
        return out
    unsigned = f"(CASE WHEN substr({s}, 1, 1) = '-' THEN substr({s}, 2) ELSE {s} END)"
    return (
        f"CASE WHEN {s} = '' THEN 'empty' "
        f"WHEN {s} LIKE '%_@_%._%' AND {s} NOT LIKE '% %' AND {s} NOT LIKE '%.' AND {s} NOT LIKE '%@.%' THEN 'email' "
        f"WHEN substr({s}, 1, 7) = 'aaaa://' OR substr({s}, 1, 8) = 'aaaaa://' THEN 'url' "
        f"WHEN length({s}) = 36 AND {strip(['9', 'a', 'A', '-'])} = '' AND substr({s}, 9, 1) = '-' "
        f"AND substr({s}, 14, 1) = '-' AND substr({s}, 19, 1) = '-' AND substr({s}, 24, 1) = '-' THEN 'uuid' "
        f"WHEN {s} = '9999-99-99' THEN 'date' "
        f"WHEN substr({s}, 1, 10) = '9999-99-99' AND substr({s}, 12, 5) = '99:99' THEN 'timestamp' "
        f"WHEN {unsigned} <> '' AND replace({unsigned}, '9', '') IN ('', '.') AND substr({unsigned}, 1, 1) = '9' "
        f"AND substr({unsigned}, length({unsigned}), 1) = '9' THEN 'number' "
        f"WHEN {strip(['9', '-', ' ', '(', ')', '+', '.'])} = '' AND replace({s}, '9', '') <> {s} THEN 'digits' "
        f"WHEN substr({s}, 1, 1) = 'A' AND replace({s}, '9', '') = {s} AND replace({s}, 'AA', '') = {s} "
        f"AND {strip(['a', 'A', ' ', '-', chr(39) * 2])} = '' THEN 'title_case' "
        f"WHEN {strip(['a', ' ', '_', '-'])} = '' AND replace({s}, 'a', '') <> {s} THEN 'lowercase' "
        f"WHEN {strip(['A', ' ', '_', '-'])} = '' AND replace({s}, 'A', '') <> {s} THEN 'uppercase' "
        "ELSE 'other' END")


def floor_statement(table, spec):
    """One statement for one table: aggregates, distinct counts, top values, top shapes, shape classes and
    the keyed sample, as driftwatch records them."""
    relation = f"raw.{quoted(table)}"
    aggregates = ["count(*) AS n"]
    unpivot = []
    texts = []
    for i, (name, sql_type, _) in enumerate(spec):
        c = quoted(name)
        ordered = c if sql_type.startswith(ORDERABLE) else f"{c}::text"
        magnitude = f"avg(abs({c}))::float8" if sql_type.startswith(NUMERIC) else "NULL::float8"
        aggregates.append(f"count({c}) AS nn{i}, min({ordered})::text AS lo{i}, max({ordered})::text AS hi{i}, "
                          f"avg(length({c}::text))::float8 AS len{i}, {magnitude} AS mag{i}")
        unpivot.append(f"({i}, {c}::text)")
        if sql_type.startswith(TEXT):
            texts.append(str(i))
    key = quoted(spec[0][0])
    sample_columns = ", ".join(f"{quoted(name)}::text" for name, _, _ in spec)
    text_list = ", ".join(texts) or "NULL"
    return f"""
WITH agg AS (SELECT {', '.join(aggregates)} FROM {relation}),
cells AS (
  SELECT u.i, u.v, count(*) AS c FROM {relation}
  CROSS JOIN LATERAL (VALUES {', '.join(unpivot)}) AS u(i, v) WHERE u.v IS NOT NULL GROUP BY 1, 2),
distinct_counts AS (SELECT i, count(*) AS d FROM cells GROUP BY i),
top_values AS (SELECT k.i, t.v, t.c FROM distinct_counts k CROSS JOIN LATERAL (
  SELECT v, c FROM cells WHERE cells.i = k.i ORDER BY c DESC, v COLLATE "C" LIMIT {TOP_K}) t),
shapes AS (SELECT i, translate(v, '{SHAPE_FROM}', '{SHAPE_TO}') AS sh, sum(c) AS c FROM cells
  WHERE i IN ({text_list}) GROUP BY 1, 2),
top_shapes AS (SELECT i, v, c, row_number() OVER (PARTITION BY i ORDER BY c DESC, v COLLATE "C") AS r
  FROM (SELECT i, left(sh, {SHAPE_MAX}) AS v, sum(c) AS c FROM shapes GROUP BY 1, 2) s),
classes AS (SELECT i, cls, sum(c) AS c FROM (SELECT i, {shape_class_sql('sh')} AS cls, c FROM shapes) x
  GROUP BY 1, 2),
sample AS (SELECT {sample_columns} FROM {relation} WHERE {key} IS NOT NULL
  ORDER BY md5({key}::text), 1 LIMIT {SAMPLE_SIZE})
SELECT 'agg', to_jsonb(agg)::text FROM agg
UNION ALL SELECT 'distinct', jsonb_agg(jsonb_build_array(i, d))::text FROM distinct_counts
UNION ALL SELECT 'top', jsonb_agg(jsonb_build_array(i, v, c))::text FROM top_values
UNION ALL SELECT 'shapes', jsonb_agg(jsonb_build_array(i, v, c))::text FROM top_shapes WHERE r <= {TOP_K}
UNION ALL SELECT 'classes', jsonb_agg(jsonb_build_array(i, cls, c))::text FROM classes
UNION ALL SELECT 'sample', jsonb_agg(to_jsonb(sample))::text FROM sample
"""


def run_floor(base, database, tables, columns):
    """The floor: every table's statement, one after the other on one connection, rows fetched."""
    spec = columns_of(columns)
    started = time.perf_counter()
    connection = connect(base, database)
    connection.set_session(readonly=True)
    fetched = 0
    with connection.cursor() as cursor:
        # The settings driftwatch's profile statement runs with: no JIT, hash aggregates in memory.
        cursor.execute("SET jit = off; SET work_mem = '64MB'")
        for index in range(tables):
            cursor.execute(floor_statement(table_name(index), spec))
            fetched += sum(len(text or "") for _, text in cursor.fetchall())
    connection.rollback()
    connection.close()
    return time.perf_counter() - started, fetched


def run_snapshot(binary, base, database, project, jobs, workdir, run):
    state = os.path.join(workdir, f"state-{jobs}-{run}.db")
    password = urllib.parse.unquote(urllib.parse.urlsplit(base).password or "")
    env = dict(os.environ, PGPASSWORD=password)
    command = [binary, "snapshot", "--project", project, "--warehouse", driftwatch_url(base, database),
               "--state", f"sqlite:{state}", "--jobs", str(jobs), "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        # driftwatch never prints the password; the url it was given holds none.
        raise SystemExit(f"snapshot_cost: driftwatch snapshot --jobs {jobs} exited {done.returncode}: "
                         f"{done.stderr.strip()[:500]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "driftwatch"),
                        help="the driftwatch binary (default: .build/release/driftwatch)")
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=10, help="columns per table, the key included")
    parser.add_argument("--rows", type=int, default=20000, help="rows per table")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (medians reported)")
    parser.add_argument("--jobs", default="1,2,4", help="the --jobs values of the snapshots measured")
    parser.add_argument("--keep", action="store_true", help="leave the database (its name is printed)")
    args = parser.parse_args()
    base = os.environ.get(URL_VARIABLE)
    if not base:
        sys.exit(f"snapshot_cost: set {URL_VARIABLE} to a superuser postgres:// url")
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"snapshot_cost: no driftwatch binary at {args.binary}: build it "
                 "(swift build -c release --product driftwatch) or pass --binary")
    if args.tables < 1 or args.columns < 1 or args.rows < 1 or args.runs < 1:
        sys.exit("snapshot_cost: --tables, --columns, --rows and --runs must be at least 1")
    jobs = [int(j) for j in args.jobs.split(",")]
    if 1 not in jobs:
        jobs.insert(0, 1)
    database = "driftwatch_cost_" + uuid.uuid4().hex[:12]
    workdir = tempfile.mkdtemp(prefix="driftwatch-snapshot-cost-")
    try:
        started = time.perf_counter()
        load(base, database, args.tables, args.columns, args.rows)
        print(f"# snapshot cost · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · "
              f"{args.tables} tables x {args.columns} columns x {args.rows:,} rows "
              f"(loaded in {time.perf_counter() - started:.1f} s) · {args.binary}", flush=True)
        project = os.path.join(workdir, "project")
        write_project(project, args.tables, args.columns)
        times = {"floor": []}
        times.update({j: [] for j in jobs})
        # Warm the caches once (the first read of freshly loaded tables sets hint bits).
        run_floor(base, database, args.tables, args.columns)
        for run in range(args.runs):
            elapsed, _ = run_floor(base, database, args.tables, args.columns)
            times["floor"].append(elapsed)
            print(f"run {run + 1}: floor {elapsed:.2f} s", end="", flush=True)
            for j in jobs:
                elapsed = run_snapshot(args.binary, base, database, project, j, workdir, run)
                times[j].append(elapsed)
                print(f" · jobs {j} {elapsed:.2f} s", end="", flush=True)
            print(flush=True)
        floor = statistics.median(times["floor"])
        one = statistics.median(times[1])
        print(f"\nfloor (one statement per table, one connection): median {floor:.2f} s")
        for j in jobs:
            median = statistics.median(times[j])
            print(f"driftwatch snapshot --jobs {j}: median {median:.2f} s · {median / floor:.2f}x the floor"
                  f" · speed-up over --jobs 1 {one / median:.2f}x")
        print(f"ratio snapshot(--jobs 1)/floor: {one / floor:.2f} (target <= 1.2)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep:
            print(f"kept database {database}", file=sys.stderr)
        else:
            admin = connect(base, "postgres")
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted(database)} WITH (FORCE)")
            admin.close()


if __name__ == "__main__":
    main()
