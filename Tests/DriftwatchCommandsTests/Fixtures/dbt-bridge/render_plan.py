"""Renders driftwatch's bridge macros the way dbt does, for an adapter that is not installed: each macro
compiled on its own with Jinja2 (dbt's engine), every macro visible to every other, `return()` as dbt's
(an exception caught at the macro's call), `adapter.dispatch` with dbt's search order (redshift → postgres,
databricks → spark, then default) and each adapter's own `quote`. Prints what `driftwatch_plan` emits.

usage: python render_plan.py MACROS.sql REQUEST.sql ADAPTER TARGET_DATABASE
The test checks this renderer against real dbt (dbt-duckdb, dbt-postgres) before trusting it for the others.
"""
import json
import re
import sys

import jinja2
import jinja2.ext

QUOTES = {
    "postgres": '"{}"', "redshift": '"{}"', "snowflake": '"{}"', "duckdb": '"{}"', "trino": '"{}"',
    "bigquery": "`{}`", "databricks": "`{}`", "spark": "`{}`",
}
PARENTS = {"redshift": ["postgres"], "databricks": ["spark"]}
MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(.*?\{%-?\s*endmacro\s*-?%\}", re.S)


class Returned(Exception):
    def __init__(self, value):
        self.value = value


def main():
    macros_path, request_path, adapter_type, database = sys.argv[1:5]
    source = open(macros_path).read() + "\n" + open(request_path).read()
    env = jinja2.Environment(extensions=[jinja2.ext.do])
    printed = []
    context = {}
    requested = {"groups": []}

    def do_return(value):
        raise Returned(value)

    class Adapter:
        def quote(self, name):
            return QUOTES[adapter_type].format(name)

        def dispatch(self, name, namespace):
            for prefix in [adapter_type] + PARENTS.get(adapter_type, []) + ["default"]:
                found = context.get(prefix + "__" + name)
                if found is not None:
                    return found
            raise KeyError(name)

        def list_schemas(self, database):
            # The schemas asked for, as written (BigQuery asks its API; no server here).
            return [group["schemas"][0] for group in requested["groups"] if group["schemas"]]

    context.update({
        "return": do_return, "adapter": Adapter(), "print": printed.append, "tojson": json.dumps,
        "fromjson": json.loads, "target": {"database": database, "type": adapter_type},
    })

    def wrap(template, name):
        # The module is made at the first call, when every macro is in the context (Jinja2 copies it then).
        def call(*args, **kwargs):
            try:
                return getattr(template.module, name)(*args, **kwargs)
            except Returned as returned:
                return returned.value
        return call

    for match in MACRO.finditer(source):
        template = env.from_string(match.group(0), globals=context)
        context[match.group(1)] = wrap(template, match.group(1))
    request = context["driftwatch_request"]()
    if request.get("step") == "introspect":
        requested["groups"] = request["groups"]
    context["driftwatch_plan"]()
    for line in printed:
        print(line)


main()
