#!/usr/bin/env python3
"""driftwatch benchmarks: prints the figures recorded in docs/benchmarks.md.

    scripts/bench.py                      # everything (builds release, starts a throwaway PostgreSQL)
    scripts/bench.py --only check-sqlite  # one benchmark; see --help for names
    scripts/bench.py --models 20000 --runs 10
    scripts/bench.py --only snapshot-postgres --rows 100000,1000000 --runs 12

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


def bench_lineage(exe, models, runs, workdir):
    project = os.path.join(workdir, f"synth-{models}")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_project.py"), "--models",
                    str(models), "--out", project], check=True, stdout=subprocess.DEVNULL)
    # A source with a large downstream tree: the first source the generator declares.
    _, _, listing = run_measured([exe, "lineage", "--project", project, "resource_type:source", "--format", "json"])
    sources = sorted(n["unique_id"] for n in json.loads(listing)["nodes"] if n["resource_type"] == "source")
    # Measure the source with the largest downstream tree among the first few: the worst case a user asks.
    best = (-1, "")
    for source in sources[:12]:
        parts = source.split(".")
        candidate = f"source:{parts[2]}.{parts[3]}+"
        _, _, out = run_measured([exe, "lineage", "--project", project, candidate, "--format", "json"])
        best = max(best, (len(json.loads(out)["nodes"]), candidate))
    selector = best[1]
    samples, rss = [], []
    nodes = 0
    for _ in range(runs):
        elapsed, peak, out = run_measured([exe, "lineage", "--project", project, selector, "--format", "json"])
        samples.append(elapsed)
        rss.append(peak)
        nodes = len(json.loads(out)["nodes"])
    return summarize(f"lineage '{selector}' ({models} models, cold)", samples, rss, f"   nodes {nodes}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", help="a driftwatch binary to measure (default: build release)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--models", type=int, default=20000, help="size of the generated project for lineage")
    parser.add_argument("--only", choices=["check-sqlite", "check-postgres", "lineage", "snapshot-postgres"],
                        action="append")
    parser.add_argument("--rows", default="100000,1000000", help="table sizes for snapshot-postgres")
    args = parser.parse_args()
    only = set(args.only or ["check-sqlite", "check-postgres", "lineage"])
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
        if "lineage" in only:
            bench_lineage(exe, args.models, max(3, args.runs // 4), workdir)
        if "snapshot-postgres" in only:
            bench_snapshot(exe, [int(n) for n in args.rows.split(",")], max(3, args.runs // 4), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
