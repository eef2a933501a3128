#!/usr/bin/env python3
"""Wall time of driftwatch's commands through the dbt bridge on acme, and dbt's start-up share of it.

    DRIFTWATCH_DBT=.venv-dbt/bin/dbt scripts/bench_bridge.py                 # DuckDB (dbt-duckdb)
    DRIFTWATCH_TEST_POSTGRES_URL=postgres://… scripts/bench_bridge.py --postgres   # and PostgreSQL: bridge vs native

Run with the venv's Python (the one beside DRIFTWATCH_DBT: it has duckdb, and psycopg2 from dbt-postgres).
Per warehouse: acme's seed loaded into a scratch DuckDB file (or a throwaway PostgreSQL database, dropped after),
then `check` (clean), `snapshot`, the migration, `check` with the snapshot's evidence, and `fix` (the draft),
each `--runs` times, the median printed. "dbt start-up" is a bare `dbt --version` and the import of dbt's Python
entry point — what every bridge command pays once (`DbtSessionRunner`) before its first statement. The
`introspect` column is the check report's own `timings_ms.introspect`: the first dbt step, start-up included.
The password of the PostgreSQL URL reaches the profile through an environment variable, never a file.

`--large ROWS` adds a large table (ROWS rows, 10 columns: keys, e-mails, amounts, dates, statuses, NULLs) in a
project of its own and times `snapshot` on it: above twice the row budget (50,000) a table is profiled from a
repeatable sample, through the bridge as natively; the output names the tables read that way.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACME = os.path.join(ROOT, "examples", "acme")
SEED = os.path.join(ACME, "warehouse", "seed.sql")
MIGRATION = os.path.join(ACME, "migrations", "0001_users_to_accounts.postgres.sql")


def timed(command, env, cwd=None):
    started = time.monotonic()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    return time.monotonic() - started, result


def median_run(command, env, runs, accept=(0, 1)):
    times, last = [], None
    for _ in range(runs):
        seconds, last = timed(command, env)
        if last.returncode not in accept:
            sys.exit(f"bench: {' '.join(command[:2])} failed ({last.returncode}): {last.stderr.strip()[-600:]}")
        times.append(seconds)
    return statistics.median(times), last


def copy_acme(scratch, profiles):
    project = os.path.join(scratch, "acme")
    shutil.copytree(ACME, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".driftwatch"))
    with open(os.path.join(project, "profiles.yml"), "w") as handle:
        handle.write(profiles)
    return project


def duckdb_load(database, path):
    import duckdb

    con = duckdb.connect(database)
    con.execute("create schema if not exists raw")
    con.execute("set schema 'raw'")
    con.execute(open(path).read())
    con.close()


def postgres_setup(url):
    import psycopg2

    parts = urllib.parse.urlparse(url)
    name = f"driftwatch_bench_bridge_{os.getpid()}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f'create database "{name}"')
    admin.close()
    database_url = urllib.parse.urlunparse(parts._replace(path="/" + name))

    def load(path):
        con = psycopg2.connect(database_url)
        cur = con.cursor()
        cur.execute("create schema if not exists raw")
        cur.execute("set search_path to raw")
        cur.execute(open(path).read())
        con.commit()
        con.close()

    def drop():
        admin = psycopg2.connect(url)
        admin.autocommit = True
        admin.cursor().execute(f'drop database if exists "{name}" with (force)')
        admin.close()

    profile = f"""acme:
  target: dev
  outputs:
    dev:
      type: postgres
      host: "{parts.hostname or '127.0.0.1'}"
      port: {parts.port or 5432}
      user: "{urllib.parse.unquote(parts.username or 'postgres')}"
      password: "{{{{ env_var('BENCH_PG_PASSWORD', '') }}}}"
      dbname: "{name}"
      schema: analytics
      threads: 1
"""
    password = urllib.parse.unquote(parts.password or "")
    return profile, load, drop, password


def bench(label, project, load, env, driftwatch, runs, extra):
    state = "sqlite:" + os.path.join(os.path.dirname(project), f"state-{label}.db")
    common = ["--project", project, "--profiles-dir", project] + extra
    rows = []

    seconds, result = median_run([driftwatch, "check", "--format", "json"] + common, env, runs)
    introspect = (json.loads(result.stdout).get("timings_ms") or {}).get("introspect")
    rows.append(("check, clean", seconds, introspect))
    seconds, _ = median_run([driftwatch, "snapshot", "--state", state] + common, env, 1, accept=(0,))
    rows.append(("snapshot", seconds, None))
    load(MIGRATION)
    seconds, result = median_run([driftwatch, "check", "--format", "json", "--state", state] + common, env, runs)
    introspect = (json.loads(result.stdout).get("timings_ms") or {}).get("introspect")
    rows.append(("check, migrated, snapshot evidence", seconds, introspect))
    seconds, _ = median_run([driftwatch, "fix", "--state", state] + common, env, runs)
    rows.append(("fix (draft)", seconds, None))
    for name, seconds, introspect in rows:
        shown = f"{introspect / 1000:.2f} s" if introspect is not None else "–"
        print(f"| {label} | {name} | {seconds:.2f} s | {shown} |", flush=True)


LARGE_PROJECT = """name: large
version: "1.0.0"
config-version: 2
profile: large
"""

LARGE_SOURCES = """version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
        columns:
          - name: id
            data_tests: [unique, not_null]
          - name: status
            data_tests:
              - accepted_values:
                  arguments:
                    values: [placed, shipped, completed, returned]
"""

LARGE_TABLE = """create table raw.events as
select i as id, 'user' || (i % 100000) || '@example.com' as email, (i % 997) * 1.25 as amount,
  date '2020-01-01' + cast(i % 2000 as integer) as day,
  case i % 4 when 0 then 'placed' when 1 then 'shipped' when 2 then 'completed' else 'returned' end as status,
  case when i % 7 = 0 then null else 'note ' || (i % 13) end as note, i % 3 as bucket, 'A' || (i % 50) as code,
  i * 2 as twice, 'x' as constant
from {series}"""


def bench_large(label, rows, create, profile, env, driftwatch):
    with tempfile.TemporaryDirectory(prefix="driftwatch-bench-large-") as scratch:
        os.makedirs(os.path.join(scratch, "models"))
        for name, text in [("dbt_project.yml", LARGE_PROJECT), ("profiles.yml", profile),
                           ("models/sources.yml", LARGE_SOURCES)]:
            with open(os.path.join(scratch, name), "w") as handle:
                handle.write(text)
        create()
        state = "sqlite:" + os.path.join(scratch, "state.db")
        seconds, result = median_run(
            [driftwatch, "snapshot", "--project", scratch, "--profiles-dir", scratch, "--state", state]
            + (["--via-dbt"] if "bridge" in label and "postgres" in label else []), env, 1, accept=(0,))
        sampled = "sampled" if "from a sample" in result.stdout else "read whole"
        print(f"| {label} | snapshot, {rows:,} rows × 10 columns | {seconds:.2f} s | {sampled} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--driftwatch", default=os.path.join(ROOT, ".build", "debug", "driftwatch"))
    parser.add_argument("--runs", type=int, default=3, help="runs per command (the median is printed)")
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL: bridge (--via-dbt) and native")
    parser.add_argument("--large", type=int, default=0, metavar="ROWS", help="also a snapshot of a table of ROWS rows")
    args = parser.parse_args()
    dbt = os.environ.get("DRIFTWATCH_DBT") or shutil.which("dbt")
    if not dbt:
        sys.exit("bench: set DRIFTWATCH_DBT to the dbt executable (scripts/lib/dbt.sh installs one)")
    env = dict(os.environ, DRIFTWATCH_DBT=dbt, DBT_SEND_ANONYMOUS_USAGE_STATS="false")

    version, _ = median_run([dbt, "--version"], env, args.runs, accept=(0,))
    python = os.path.join(os.path.dirname(dbt), "python")
    imported, _ = median_run([python, "-c", "from dbt.cli.main import dbtRunner"], env, args.runs, accept=(0,))
    print(f"dbt start-up: `dbt --version` {version:.2f} s; import of dbt's entry point {imported:.2f} s (median of {args.runs})")
    print()
    print("| warehouse | command | wall (median) | first dbt step (introspect) |")
    print("|---|---|---|---|")

    with tempfile.TemporaryDirectory(prefix="driftwatch-bench-bridge-") as scratch:
        duck = os.path.join(scratch, "acme.duckdb")
        project = copy_acme(
            scratch,
            "acme:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            f"      path: {json.dumps(duck)}\n      schema: analytics\n      threads: 1\n",
        )
        duckdb_load(duck, SEED)
        bench("duckdb (bridge)", project, lambda path: duckdb_load(duck, path), env, args.driftwatch, args.runs, [])

    if args.large:
        with tempfile.TemporaryDirectory(prefix="driftwatch-bench-bridge-") as scratch:
            duck = os.path.join(scratch, "large.duckdb")

            def create_duck():
                import duckdb

                con = duckdb.connect(duck)
                con.execute("create schema raw")
                con.execute(LARGE_TABLE.format(series=f"range({args.large}) t(i)"))
                con.close()

            profile = ("large:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                       f"      path: {json.dumps(duck)}\n      schema: analytics\n      threads: 1\n")
            bench_large("duckdb (bridge)", args.large, create_duck, profile, env, args.driftwatch)

    if args.postgres and args.large:
        url = os.environ.get("DRIFTWATCH_TEST_POSTGRES_URL")
        for label in ["postgres (bridge)", "postgres (native)"]:
            acme_profile, load, drop, password = postgres_setup(url)
            try:
                import psycopg2

                def create_pg():
                    parts = urllib.parse.urlparse(url)
                    name = acme_profile.split('dbname: "')[1].split('"')[0]
                    con = psycopg2.connect(urllib.parse.urlunparse(parts._replace(path="/" + name)))
                    cur = con.cursor()
                    cur.execute("create schema raw")
                    cur.execute(LARGE_TABLE.format(series=f"generate_series(0, {args.large - 1}) t(i)"))
                    cur.execute("analyze raw.events")
                    con.commit()
                    con.close()

                profile = acme_profile.replace("acme:", "large:", 1)
                bench_large(label, args.large, create_pg, profile, dict(env, BENCH_PG_PASSWORD=password), args.driftwatch)
            finally:
                drop()

    if args.postgres:
        url = os.environ.get("DRIFTWATCH_TEST_POSTGRES_URL")
        if not url:
            sys.exit("bench: --postgres needs DRIFTWATCH_TEST_POSTGRES_URL")
        for label, extra in [("postgres (bridge)", ["--via-dbt"]), ("postgres (native)", [])]:
            profile, load, drop, password = postgres_setup(url)
            try:
                with tempfile.TemporaryDirectory(prefix="driftwatch-bench-bridge-") as scratch:
                    project = copy_acme(scratch, profile)
                    load(SEED)
                    bench(label, project, load, dict(env, BENCH_PG_PASSWORD=password), args.driftwatch, args.runs, extra)
            finally:
                drop()


if __name__ == "__main__":
    main()
