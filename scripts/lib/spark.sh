#!/usr/bin/env bash
# Spark for the dbt bridge's test on a distributed engine: dbt-spark's session mode (pyspark from PyPI, in the
# dbt venv of scripts/lib/dbt.sh) and a Java runtime from Debian (openjdk-17-jre-headless) for pyspark's JVM.
#
#   source scripts/lib/dbt.sh scripts/lib/spark.sh
#   dbt_ensure_venv        # first: the venv and DRIFTWATCH_DBT
#   spark_ensure           # installs Java when missing and dbt-spark[session] + pyspark into the venv when
#                          # missing; exports JAVA_HOME and DRIFTWATCH_SPARK=1 (the Spark test runs)
#
# Idempotent and quiet unless it fails (apt's and pip's output go to a log printed only on failure). dbt-core is
# pinned to the version already in the venv, so installing dbt-spark never moves it. Needs root (or sudo) and
# Debian's mirrors when Java is missing, and PyPI on the first run (pyspark is a ~320 MB download).

DBT_VENV_DIR="${DBT_VENV_DIR:-.venv-dbt}"
SPARK_DBT_SPARK_SPEC='dbt-spark[session]>=1.10,<1.12'
# Spark 3.5 runs on Java 17; dbt-spark's session extra wants pyspark 3.
SPARK_PYSPARK_SPEC='pyspark>=3.5,<4'
SPARK_JAVA_PACKAGE='openjdk-17-jre-headless'

# Prints "dbt-spark pyspark" versions when both import in the venv.
_spark_venv_versions() {
  "$DBT_VENV_DIR/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
import pyspark  # noqa: F401
import dbt.adapters.spark  # noqa: F401
print(version("dbt-spark"), version("pyspark"))
PY
}

# A Java of at least 17 on PATH (Spark 3.5 runs on 17 and 21).
_spark_java_fits() {
  command -v java >/dev/null 2>&1 || return 1
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [[ -n "$major" && "$major" -ge 17 ]]
}

spark_ensure() {
  local log sudo=() versions core
  if ! _spark_java_fits; then
    log="$(mktemp)"
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
    if ! {
      "${sudo[@]}" apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
          "$SPARK_JAVA_PACKAGE"
    } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "error: could not install $SPARK_JAVA_PACKAGE (see above); install Java 17, or run as root" >&2
      return 1
    fi
    rm -f "$log"
  fi
  if ! versions="$(_spark_venv_versions)"; then
    log="$(mktemp)"
    core="$("$DBT_VENV_DIR/bin/python" -c 'from importlib.metadata import version; print(version("dbt-core"))')"
    if ! "$DBT_VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q \
      "$SPARK_DBT_SPARK_SPEC" "$SPARK_PYSPARK_SPEC" "dbt-core==$core" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "error: could not install dbt-spark[session] and pyspark into $DBT_VENV_DIR (see above); check access to PyPI" >&2
      return 1
    fi
    rm -f "$log"
    if ! versions="$(_spark_venv_versions)"; then
      echo "error: $DBT_VENV_DIR has no importable dbt-spark and pyspark after installing" >&2
      return 1
    fi
  fi
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  DRIFTWATCH_SPARK=1
  export JAVA_HOME DRIFTWATCH_SPARK
  echo "dbt-spark ${versions% *}, pyspark ${versions#* } in $DBT_VENV_DIR; java at $JAVA_HOME"
}
