#!/usr/bin/env bash
# DDL commit → alert delivered latency of `driftwatch watch`, measured by the real-PostgreSQL test
# (event trigger + LISTEN, acme migration, a local HTTP receiver standing in for Slack) and by the SQLite
# polling test (--interval 500ms), RUNS times each; prints median and p95.
#
#   scripts/bench_watch.sh [RUNS]     (default 20; uses DRIFTWATCH_TEST_POSTGRES_URL, or starts a cluster)
#
# SCRATCH (default .build) is the swift build directory; the tests must be built (swift build --build-tests).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
SCRATCH=${SCRATCH:-.build}
if [[ -z "${DRIFTWATCH_TEST_POSTGRES_URL:-}" ]]; then
  # shellcheck source=lib/postgres.sh
  source scripts/lib/postgres.sh
  pg_start_cluster
  trap pg_stop_cluster EXIT
  export DRIFTWATCH_TEST_POSTGRES_URL=$PG_URL
fi
OUT=$(mktemp)
export DRIFTWATCH_LATENCY_OUT=$OUT
for filter in eventDrivenAlertArrivesOnceWithinASecond pollingOnSQLiteAlertsAndServesHealthMetricsIncidents; do
  for ((i = 1; i <= RUNS; i++)); do
    if ! swift test --skip-build --scratch-path "$SCRATCH" --filter "$filter" >"$OUT.log" 2>&1; then
      echo "run $i of $filter failed:" >&2
      grep -E "✘|Expectation|error" "$OUT.log" | head -20 >&2 || true
    fi
  done
done
python3 - "$OUT" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, ms = line.split()
    runs.setdefault(name, []).append(float(ms))
for name, values in sorted(runs.items()):
    values.sort()
    p95 = values[min(len(values) - 1, int(round(0.95 * len(values) + 0.5)) - 1)]
    print(f"{name}: runs={len(values)} median={statistics.median(values):.0f} ms p95={p95:.0f} ms "
          f"min={values[0]:.0f} ms max={values[-1]:.0f} ms")
PY
rm -f "$OUT" "$OUT.log"
