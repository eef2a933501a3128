#!/usr/bin/env python3
"""driftwatch benchmarks: prints the figures recorded in docs/benchmarks.md.

    scripts/bench.py                      # everything (builds release, starts a throwaway PostgreSQL)
    scripts/bench.py --only check-sqlite  # one benchmark; see --help for names
    scripts/bench.py --models 20000 --runs 10
    scripts/bench.py --only snapshot-postgres --rows 100000,1000000 --runs 12
    scripts/bench.py --only lineage-manifest --project /tmp/synth-20000 --runs 48   # after `dbt parse` there

Each figure is measured on the release binary, as a user runs it: wall time of the whole process (median
and p95 over --runs runs), driftwatch's own step timings from its JSON report, and peak RSS of the process.
Python's standard library only.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACME = os.path.join(ROOT, "examples", "acme")


def run_measured(cmd, env=None, expect=(0,)):
    """Runs cmd, returns (seconds, peak RSS in MB, stdout). Peak RSS via wait4's rusage of this child alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Read stdout fully before waiting, so a large output cannot block the child.
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        sys.exit(f"bench: {' '.join(cmd)} exited {code}: {err.decode()[:500]}")
    return elapsed, usage.ru_maxrss / 1024.0, out.decode()


def summarize(name, samples, rss, extra=""):
    samples = sorted(samples)
    median = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    print(f"{name:<46} median {median * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   "
          f"peak RSS {max(rss):6.1f} MB   runs {len(samples)}{extra}")
    return {"median_ms": median * 1000, "p95_ms": p95 * 1000, "peak_rss_mb": max(rss)}


def binary(args):
    if args.binary:
        return args.binary
    print("building release binary (swift build -c release --product driftwatch) …", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "driftwatch"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "driftwatch")


def step_timings(report_json):
    timings = json.loads(report_json).get("timings_ms", {})
    return timings


def bench_check(name, exe, warehouse_args, runs, env=None, expect=(1,)):
    samples, rss, steps = [], [], []
    for _ in range(runs):
        elapsed, peak, out = run_measured(
            [exe, "check", "--project", ACME, *warehouse_args, "--format", "json"], env=env, expect=expect)
        samples.append(elapsed)
        rss.append(peak)
        steps.append(step_timings(out))
    introspect = statistics.median(s.get("introspect", 0) for s in steps)
    diff = statistics.median(s.get("diff", 0) for s in steps)
    read = statistics.median(s.get("read_project", 0) for s in steps)
    return summarize(name, samples, rss,
                     f"   (inside: project {read:.1f} ms, warehouse {introspect:.1f} ms, diff {diff:.1f} ms)")


def sqlite_acme(directory, exe):
    """The migrated acme warehouse, made by the demo itself."""
    subprocess.run([exe, "demo", "--keep", directory, "--no-color"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(directory, "warehouse.db")


SNAPSHOT_SOURCES = """version: 2
sources:
  - name: app
    schema: raw
    tables:
      - name: customers
        columns:
          - name: customer_id
            data_tests: [unique, not_null]
          - name: name
          - name: email
          - name: address
          - name: segment
            data_tests:
              - accepted_values:
                  arguments:
                    values: ["premium", "standard", "basic"]
          - name: country
          - name: created_at
"""


def bench_snapshot(exe, sizes, runs, workdir):
    """driftwatch snapshot of one PostgreSQL source table (7 declared columns, a unique key) at each size."""
    host, port, user, password, directory = start_cluster()
    stop = f"source {ROOT}/scripts/lib/postgres.sh; PG_DIR={directory} pg_stop_cluster"
    env = dict(os.environ, PGPASSWORD=password, PGHOST=host, PGPORT=port, PGUSER=user)
    project = os.path.join(workdir, "snapshot-project")
    os.makedirs(os.path.join(project, "models"), exist_ok=True)
    with open(os.path.join(project, "dbt_project.yml"), "w") as f:
        f.write("name: bench\nversion: '1.0'\nprofile: bench\n")
    with open(os.path.join(project, "models", "sources.yml"), "w") as f:
        f.write(SNAPSHOT_SOURCES)
    try:
        for rows in sizes:
            db = f"snapshot_{rows}"
            subprocess.run(["psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {db}"],
                           check=True, env=env)
            sql = f"""
CREATE SCHEMA raw;
CREATE TABLE raw.customers (customer_id integer primary key, name text, email text, address text,
  segment text, country text, created_at timestamp);
INSERT INTO raw.customers SELECT i, 'name ' || i, 'user' || i || '@example.com',
  (i % 9000 + 100) || ' Oak Ave, City ' || (i % 300) || ', ST ' || lpad((i % 99999)::text, 5, '0'),
  (ARRAY['premium','standard','basic'])[1 + i % 3], (ARRAY['US','CA','GB','DE'])[1 + i % 4],
  timestamp '2023-01-01' + (i || ' minutes')::interval FROM generate_series(1, {rows}) i;
ANALYZE raw.customers;
"""
            subprocess.run(["psql", "-d", db, "-v", "ON_ERROR_STOP=1", "-q"], input=sql, text=True, check=True,
                           env=env)
            url = f"postgres://{user}@{host}:{port}/{db}?sslmode=disable"
            samples, rss = [], []
            for run in range(runs):
                state = os.path.join(workdir, f"state-{rows}-{run}.db")
                elapsed, peak, _ = run_measured(
                    [exe, "snapshot", "--project", project, "--warehouse", url, "--state", f"sqlite:{state}"],
                    env=dict(os.environ, PGPASSWORD=password))
                samples.append(elapsed)
                rss.append(peak)
            summarize(f"snapshot, PostgreSQL table of {rows:,} rows", samples, rss)
    finally:
        subprocess.run(["bash", "-c", stop], check=False, stdout=subprocess.DEVNULL)


def start_cluster():
    """A throwaway cluster from scripts/lib/postgres.sh: (host, port, user, password, directory)."""
    script = f"""
set -euo pipefail
source {ROOT}/scripts/lib/postgres.sh
pg_start_cluster 2>/dev/null
printf '%s\\n' "$PG_HOST" "$PG_PORT" "$PG_USER" "$PG_PASSWORD" "$PG_DIR"
"""
    return subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout.split()


def postgres_acme():
    """A throwaway cluster from scripts/lib/postgres.sh with acme loaded and migrated.

    Returns (url without password, password, stop command)."""
    script = f"""
set -euo pipefail
source {ROOT}/scripts/lib/postgres.sh
pg_start_cluster 2>/dev/null
printf '%s\\n' "$PG_HOST" "$PG_PORT" "$PG_USER" "$PG_PASSWORD" "$PG_DIR"
"""
    host, port, user, password, directory = subprocess.run(
        ["bash", "-c", script], check=True, capture_output=True, text=True).stdout.split()
    stop = f"source {ROOT}/scripts/lib/postgres.sh; PG_DIR={directory} pg_stop_cluster"
    env = dict(os.environ, PGPASSWORD=password, PGHOST=host, PGPORT=port, PGUSER=user)
    subprocess.run(["psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE acme_bench"],
                   check=True, env=env)
    subprocess.run(["psql", "-d", "acme_bench", "-v", "ON_ERROR_STOP=1", "-qc", "CREATE SCHEMA raw"], check=True,
                   env=env)
    load_env = dict(env, PGOPTIONS="-c search_path=raw")
    for path in [os.path.join(ACME, "warehouse", "seed.sql"),
                 os.path.join(ACME, "migrations", "0001_users_to_accounts.postgres.sql")]:
        subprocess.run(["psql", "-d", "acme_bench", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-q", "-f",
                        path], check=True, env=load_env, stdout=subprocess.DEVNULL)
    return f"postgres://{user}@{host}:{port}/acme_bench?sslmode=disable", password, stop


def widest_source(exe, location):
    """`source:s.t+` for the source with the largest downstream tree among the first 12 (sorted by id): the worst
    case a user asks. `location` is `["--project", DIR]` or `["--manifest", FILE]`."""
    _, _, listing = run_measured([exe, "lineage", *location, "resource_type:source", "--format", "json"])
    sources = sorted(n["unique_id"] for n in json.loads(listing)["nodes"] if n["resource_type"] == "source")
    best = (-1, "")
    for source in sources[:12]:
        parts = source.split(".")
        candidate = f"source:{parts[2]}.{parts[3]}+"
        _, _, out = run_measured([exe, "lineage", *location, candidate, "--format", "json"])
        best = max(best, (len(json.loads(out)["nodes"]), candidate))
    return best[1]


def bench_lineage(exe, models, runs, workdir, macro_share=0.0):
    project = os.path.join(workdir, f"synth-{models}-{macro_share}")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_project.py"), "--models",
                    str(models), "--macro-share", str(macro_share), "--out", project], check=True,
                   stdout=subprocess.DEVNULL)
    selector = widest_source(exe, ["--project", project])
    samples, rss = [], []
    nodes = 0
    for _ in range(runs):
        elapsed, peak, out = run_measured([exe, "lineage", "--project", project, selector, "--format", "json"])
        samples.append(elapsed)
        rss.append(peak)
        nodes = len(json.loads(out)["nodes"])
    share = f", {macro_share:.0%} through macros" if macro_share else ""
    return summarize(f"lineage '{selector}' ({models} models{share}, cold)", samples, rss, f"   nodes {nodes}")


def bench_lineage_manifest(exe, project, runs):
    """`lineage` from the files and from dbt's target/manifest.json of the same parsed project, interleaved run by
    run so both see the same machine; the selector is `bench_lineage`'s (the widest of the first sources)."""
    manifest = os.path.join(project, "target", "manifest.json")
    if not os.path.isfile(manifest):
        sys.exit(f"bench: no {manifest}; run `dbt parse` in {project} first (scripts/compare_dbt.py --project does)")
    selector = widest_source(exe, ["--manifest", manifest])
    files, manifest_samples, files_rss, manifest_rss = [], [], [], []
    outputs = set()
    for _ in range(runs):
        elapsed, peak, out = run_measured([exe, "lineage", "--project", project, selector, "--format", "json"])
        files.append(elapsed)
        files_rss.append(peak)
        outputs.add(out)
        elapsed, peak, out = run_measured([exe, "lineage", "--manifest", manifest, selector, "--format", "json"])
        manifest_samples.append(elapsed)
        manifest_rss.append(peak)
        outputs.add(out)
    nodes = len(json.loads(out)["nodes"])
    same = "identical output" if len(outputs) == 1 else "OUTPUTS DIFFER"
    summarize(f"lineage '{selector}' files, cold", files, files_rss, f"   nodes {nodes}")
    summarize(f"lineage '{selector}' --manifest, cold", manifest_samples, manifest_rss, f"   nodes {nodes}, {same}")


def bench_lineage_growth(exe, sizes, runs, workdir, macro_share=0.0):
    """How lineage cost grows with the project: the widest `source:x+` of the first source system, cold
    process each run, at each size. Prints one table row per size."""
    print(f"{'models':>7} {'files':>7} {'nodes':>7} {'selected':>8} {'median ms':>10} {'p95 ms':>8} {'peak MB':>8}")
    for models in sizes:
        project = os.path.join(workdir, f"growth-{models}-{macro_share}")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_project.py"), "--models",
                        str(models), "--macro-share", str(macro_share), "--out", project], check=True,
                       stdout=subprocess.DEVNULL)
        files = sum(len(names) for _, _, names in os.walk(project))
        _, _, listing = run_measured([exe, "lineage", "--project", project, "resource_type:source", "--format",
                                      "json"])
        first = sorted(n["unique_id"] for n in json.loads(listing)["nodes"] if n["resource_type"] == "source")[0]
        system = first.split(".")[2]
        kinds = ["source", "model", "seed", "snapshot", "test", "exposure", "analysis"]
        _, _, everything = run_measured([exe, "lineage", "--project", project,
                                         *[f"resource_type:{kind}" for kind in kinds], "--format", "json"])
        total = len(json.loads(everything)["nodes"])
        selector = f"source:{system}+"
        samples, rss, selected = [], [], 0
        for _ in range(runs):
            elapsed, peak, out = run_measured([exe, "lineage", "--project", project, selector, "--format", "json"])
            samples.append(elapsed)
            rss.append(peak)
            selected = len(json.loads(out)["nodes"])
        samples.sort()
        median = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
        print(f"{models:>7} {files:>7} {total:>7} {selected:>8} {median * 1000:>10.0f} {p95 * 1000:>8.0f} "
              f"{max(rss):>8.0f}", flush=True)
        shutil.rmtree(project, ignore_errors=True)


# ---------------------------------------------------------------- check on a large PostgreSQL warehouse

WORDS = ["orders", "customers", "payments", "invoices", "accounts", "events", "sessions", "tickets", "plans",
         "products", "prices", "refunds", "leads", "contacts", "shipments", "users", "teams", "campaigns"]
COLUMN_WORDS = ["name", "email", "status", "amount", "currency", "created_at", "updated_at", "is_deleted",
                "country", "quantity", "description", "category", "priority", "score", "external_ref",
                "opened_at", "closed_at", "owner_name", "tier", "region", "channel", "source_system", "notes",
                "discount", "tax", "total", "balance", "phone", "city", "postal_code", "state", "segment",
                "plan_name", "seats", "renewal_at", "cancelled_at", "reason", "agent", "rating", "weight",
                "height", "color", "size", "sku", "vendor", "warehouse", "carrier", "tracking_number"]
COLUMN_TYPES = ["text", "integer", "bigint", "numeric(12,2)", "timestamp", "date", "boolean", "varchar(64)"]


def large_warehouse(rng, tables, columns, declared):
    """(schemas, declared table specs, warehouse SQL). Every table has `columns` columns; `declared` of the
    `tables` tables are dbt sources, spread evenly over 20 schemas with the undeclared ones. The warehouse
    then drifts from the declarations: some declared tables lose a column, get one renamed, change a type,
    or are renamed themselves."""
    schemas = [f"raw_s{index:02d}" for index in range(20)]
    specs = []
    for index in range(tables):
        schema = schemas[index % len(schemas)]
        name = f"{WORDS[index % len(WORDS)]}_{index:05d}"
        pool = rng.sample(COLUMN_WORDS, min(columns - 1, len(COLUMN_WORDS)))
        cols = [("id", "integer")]
        for position in range(columns - 1):
            word = pool[position % len(pool)] if position < len(pool) else f"{pool[position % len(pool)]}_{position}"
            cols.append((word, rng.choice(COLUMN_TYPES)))
        ratio = max(1, tables // max(1, declared))
        specs.append({"schema": schema, "name": name, "columns": cols,
                      "declared": declared > 0 and (index // len(schemas)) % ratio == 0})
    declared_specs = [spec for spec in specs if spec["declared"]][:declared]
    chosen = {id(spec) for spec in declared_specs}
    for spec in specs:
        spec["declared"] = id(spec) in chosen
    statements = [f'CREATE SCHEMA "{schema}";' for schema in schemas]
    drift = {"dropped": 0, "renamed_column": 0, "retyped": 0, "renamed_table": 0}
    ordinal = 0
    for spec in specs:
        cols = list(spec["columns"])
        name = spec["name"]
        if spec["declared"]:
            ordinal += 1
            if ordinal % 50 == 1:
                cols.pop(rng.randrange(1, len(cols)))
                drift["dropped"] += 1
            elif ordinal % 50 == 2:
                at = rng.randrange(1, len(cols))
                cols[at] = (cols[at][0] + "_value", cols[at][1])
                drift["renamed_column"] += 1
            elif ordinal % 50 == 3:
                at = rng.randrange(1, len(cols))
                cols[at] = (cols[at][0], "text" if cols[at][1] != "text" else "integer")
                drift["retyped"] += 1
            elif ordinal % 100 == 4:
                name = name + "_v2"
                drift["renamed_table"] += 1
        body = ", ".join(f'"{column}" {kind}' for column, kind in cols)
        statements.append(f'CREATE TABLE "{spec["schema"]}"."{name}" ({body}, PRIMARY KEY ("id"));')
    # In transactions of 500 tables: one transaction for all would run out of lock slots.
    batches = ["BEGIN;\n" + "\n".join(statements[start:start + 500]) + "\nCOMMIT;"
               for start in range(0, len(statements), 500)]
    return schemas, declared_specs, "\n".join(batches) + "\n", drift


def large_project(directory, declared_specs):
    """A dbt project declaring `declared_specs` as sources (all columns, with data types, a unique and a
    not_null test on id), one staging model reading a few columns of each."""
    os.makedirs(os.path.join(directory, "models", "staging"), exist_ok=True)
    with open(os.path.join(directory, "dbt_project.yml"), "w") as handle:
        handle.write('name: warehouse_scale\nversion: "1.0.0"\nconfig-version: 2\nprofile: warehouse_scale\n'
                     'model-paths: ["models"]\n')
    by_schema = {}
    for spec in declared_specs:
        by_schema.setdefault(spec["schema"], []).append(spec)
    for schema, specs in sorted(by_schema.items()):
        source = schema.replace("raw_", "")
        lines = ["version: 2", "", "sources:", f"  - name: {source}", f"    schema: {schema}", "    tables:"]
        for spec in specs:
            lines.append(f"      - name: {spec['name']}")
            lines.append("        columns:")
            for column, kind in spec["columns"]:
                lines.append(f"          - name: {column}")
                lines.append(f"            data_type: {kind}")
                if column == "id":
                    lines.append("            data_tests: [unique, not_null]")
            model = f"stg_{source}__{spec['name']}"
            picked = ", ".join(column for column, _ in spec["columns"][:4])
            with open(os.path.join(directory, "models", "staging", f"{model}.sql"), "w") as handle:
                handle.write(f"select {picked}\nfrom {{{{ source('{source}', '{spec['name']}') }}}}\n")
        with open(os.path.join(directory, "models", "staging", f"_{source}__sources.yml"), "w") as handle:
            handle.write("\n".join(lines) + "\n")


def bench_check_postgres_large(exe, runs, workdir, tables=10000, columns=30, declared=2000):
    import random
    rng = random.Random(7)
    schemas, declared_specs, sql, drift = large_warehouse(rng, tables, columns, declared)
    project = os.path.join(workdir, "warehouse-scale")
    large_project(project, declared_specs)
    script = f"""
set -euo pipefail
source {ROOT}/scripts/lib/postgres.sh
pg_start_cluster 2>/dev/null
printf '%s\\n' "$PG_HOST" "$PG_PORT" "$PG_USER" "$PG_PASSWORD" "$PG_DIR"
"""
    host, port, user, password, directory = subprocess.run(
        ["bash", "-c", script], check=True, capture_output=True, text=True).stdout.split()
    stop = f"source {ROOT}/scripts/lib/postgres.sh; PG_DIR={directory} pg_stop_cluster"
    try:
        env = dict(os.environ, PGPASSWORD=password, PGHOST=host, PGPORT=port, PGUSER=user)
        subprocess.run(["psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE scale"],
                       check=True, env=env)
        path = os.path.join(workdir, "warehouse-scale.sql")
        with open(path, "w") as handle:
            handle.write(sql)
        started = time.perf_counter()
        subprocess.run(["psql", "-d", "scale", "-v", "ON_ERROR_STOP=1", "-q", "-f", path],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["psql", "-d", "scale", "-qc", "VACUUM ANALYZE"], check=True, env=env)
        print(f"# warehouse: {tables} tables x {columns} columns in {len(schemas)} schemas, {declared} declared "
              f"as sources; drift: {drift}; loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        url = f"postgres://{user}@{host}:{port}/scale?sslmode=disable"
        samples, rss, steps = [], [], []
        changes = 0
        for _ in range(runs):
            elapsed, peak, out = run_measured([exe, "check", "--project", project, "--warehouse", url, "--format",
                                               "json"], env=dict(os.environ, PGPASSWORD=password), expect=(1,))
            samples.append(elapsed)
            rss.append(peak)
            report = json.loads(out)
            steps.append(report.get("timings_ms", {}))
            changes = len(report.get("changes", []))
        read = statistics.median(s.get("read_project", 0) for s in steps)
        introspect = statistics.median(s.get("introspect", 0) for s in steps)
        diff = statistics.median(s.get("diff", 0) for s in steps)
        return summarize(f"check, PostgreSQL {tables} tables / {tables * columns} columns", samples, rss,
                         f"   (inside: project {read:.0f} ms, introspect {introspect:.0f} ms, diff {diff:.0f} ms, "
                         f"introspect + diff {introspect + diff:.0f} ms; {changes} changes)")
    finally:
        subprocess.run(["bash", "-c", stop], check=False, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", help="a driftwatch binary to measure (default: build release)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--models", type=int, default=20000, help="size of the generated project for lineage")
    parser.add_argument("--macro-share", type=float, default=0.0,
                        help="share of generated models written through macros (lineage, lineage-growth)")
    parser.add_argument("--only", choices=["check-sqlite", "check-postgres", "check-postgres-large", "lineage",
                                           "lineage-manifest", "lineage-growth", "snapshot-postgres"],
                        action="append")
    parser.add_argument("--project", help="for lineage-manifest: a generated project with target/manifest.json")
    parser.add_argument("--sizes", default="1000,5000,20000,50000", help="project sizes for lineage-growth")
    parser.add_argument("--tables", type=int, default=10000, help="tables in the large PostgreSQL warehouse")
    parser.add_argument("--declared", type=int, default=2000, help="of which declared as dbt sources")
    parser.add_argument("--rows", default="100000,1000000", help="table sizes for snapshot-postgres")
    args = parser.parse_args()
    only = set(args.only or ["check-sqlite", "check-postgres", "check-postgres-large", "lineage", "lineage-growth"])
    exe = binary(args)
    print(f"# driftwatch benchmarks · {time.strftime('%Y-%m-%d')} · {os.cpu_count()} cores · {exe}")
    workdir = tempfile.mkdtemp(prefix="driftwatch-bench-")
    try:
        if "check-sqlite" in only:
            db = sqlite_acme(os.path.join(workdir, "sqlite"), exe)
            bench_check("check acme, SQLite, after the migration", exe, ["--warehouse", f"sqlite:{db}"], args.runs)
        if "check-postgres" in only:
            url, password, stop = postgres_acme()
            try:
                bench_check("check acme, PostgreSQL, after the migration", exe, ["--warehouse", url], args.runs,
                            env=dict(os.environ, PGPASSWORD=password))
            finally:
                subprocess.run(["bash", "-c", stop], check=False, stdout=subprocess.DEVNULL)
        if "check-postgres-large" in only:
            bench_check_postgres_large(exe, max(3, args.runs // 4), workdir, tables=args.tables,
                                       declared=args.declared)
        if "lineage" in only:
            bench_lineage(exe, args.models, max(3, args.runs // 4), workdir, args.macro_share)
        if "lineage-manifest" in only:
            if not args.project:
                sys.exit("bench: lineage-manifest needs --project DIR (a parsed generated project)")
            bench_lineage_manifest(exe, os.path.abspath(args.project), max(3, args.runs // 4))
        if "lineage-growth" in only:
            bench_lineage_growth(exe, [int(size) for size in args.sizes.split(",")], max(3, args.runs // 4),
                                 workdir, args.macro_share)
        if "snapshot-postgres" in only:
            bench_snapshot(exe, [int(n) for n in args.rows.split(",")], max(3, args.runs // 4), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
