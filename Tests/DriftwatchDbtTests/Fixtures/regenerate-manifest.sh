#!/usr/bin/env bash
# Regenerates jaffle_drift/target/manifest.json with a real dbt, for DbtManifestParityTests.
# Usage: DBT=/path/to/venv/bin/dbt Tests/DriftwatchDbtTests/Fixtures/regenerate-manifest.sh
# (venv: python3 -m venv /tmp/dbt-venv && /tmp/dbt-venv/bin/pip install 'dbt-core>=1.10,<1.12' 'dbt-postgres>=1.10,<1.12')
# `dbt parse` needs no running database. The manifest is committed without its `macros` section
# (dbt's own ~500 KB of macros, which driftwatch never reads) and with seeds' absolute root_path scrubbed.
#
# jaffle_drift/target/catalog.json came from `dbt docs generate --no-compile` against a scratch PostgreSQL 15
# database `warehouse` holding the raw tables *after* the backend migration (raw.accounts instead of
# raw.users, raw.raw_orders, billing.invoices), after `dbt seed` and `dbt run -s stg_orders stg_invoices`,
# with JAFFLE_HOST/JAFFLE_PORT/JAFFLE_USER pointing at it. It is not regenerated here.
set -euo pipefail
cd "$(dirname "$0")/jaffle_drift"
DBT="${DBT:-dbt}"
export DBT_PROFILES_DIR=. DBT_SEND_ANONYMOUS_USAGE_STATS=false
rm -rf dbt_packages package-lock.yml target/manifest.json
"$DBT" deps --quiet
"$DBT" parse --quiet --no-partial-parse
python3 - <<'PY'
import json
path = "target/manifest.json"
manifest = json.load(open(path))
manifest["macros"] = {}
for node in manifest["nodes"].values():
    if "root_path" in node:
        node["root_path"] = "."  # seeds carry the absolute project path
json.dump(manifest, open(path, "w"), indent=1, sort_keys=False)
print("dbt", manifest["metadata"]["dbt_version"], manifest["metadata"]["dbt_schema_version"])
PY
find target -type f ! -name manifest.json ! -name catalog.json -delete
rm -rf dbt_packages package-lock.yml logs .user.yml
