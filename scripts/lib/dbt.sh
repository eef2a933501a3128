#!/usr/bin/env bash
# dbt-core, dbt-postgres and the other Python tools the tests drive (dbt-duckdb and duckdb for the DuckDB
# warehouse, the `mcp` client for the MCP server test, selenium for the browser test) in a venv inside the
# repository.
#
#   source scripts/lib/dbt.sh
#   dbt_ensure_venv        # creates .venv-dbt/ once (reused when the versions fit); exports DRIFTWATCH_DBT
#
# Quiet unless it fails: pip's output is kept in a log and printed only on failure. Prints the versions.
# `.venv*/` is git-ignored. Needs python3 with the venv module and access to PyPI on the first run.

DBT_VENV_DIR="${DBT_VENV_DIR:-.venv-dbt}"
DBT_CORE_SPEC='dbt-core>=1.10,<1.12'
DBT_POSTGRES_SPEC='dbt-postgres>=1.10,<1.12'
# The other tools the suite drives; each must import for the venv to count as ready.
DBT_EXTRA_SPECS=('dbt-duckdb>=1.10,<1.12' 'duckdb' 'mcp' 'selenium')

# Prints "core postgres" versions of the venv's dbt, or nothing when it is missing or out of range.
_dbt_venv_versions() {
  local python="$DBT_VENV_DIR/bin/python"
  [[ -x "$python" && -x "$DBT_VENV_DIR/bin/dbt" ]] || return 1
  "$python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
def fits(v):
    parts = v.split(".")
    return len(parts) >= 2 and parts[0] == "1" and parts[1].isdigit() and 10 <= int(parts[1]) < 12
core, pg = version("dbt-core"), version("dbt-postgres")
if not (fits(core) and fits(pg) and fits(version("dbt-duckdb"))):
    sys.exit(1)
import duckdb, mcp, selenium  # noqa: F401  (missing -> reinstall)
print(core, pg)
PY
}

dbt_ensure_venv() {
  local versions log
  if ! versions="$(_dbt_venv_versions)"; then
    log="$(mktemp)"
    rm -rf "$DBT_VENV_DIR"
    if ! {
      python3 -m venv "$DBT_VENV_DIR" &&
        "$DBT_VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip &&
        "$DBT_VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q \
          "$DBT_CORE_SPEC" "$DBT_POSTGRES_SPEC" "${DBT_EXTRA_SPECS[@]}"
    } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "error: could not install dbt into $DBT_VENV_DIR (see above); check python3-venv and access to PyPI" >&2
      return 1
    fi
    rm -f "$log"
    if ! versions="$(_dbt_venv_versions)"; then
      echo "error: $DBT_VENV_DIR has no usable dbt-core/dbt-postgres/dbt-duckdb 1.10-1.11 (or duckdb, mcp, selenium) after installing" >&2
      return 1
    fi
  fi
  echo "dbt-core ${versions% *}, dbt-postgres ${versions#* } in $DBT_VENV_DIR"
  DRIFTWATCH_DBT="$(cd "$DBT_VENV_DIR/bin" && pwd)/dbt"
  export DRIFTWATCH_DBT
}
