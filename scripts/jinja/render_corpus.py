#!/usr/bin/env python3
"""Render the Jinja fixture corpus with real Jinja2, in the environment dbt parses with.

Reads scripts/jinja/cases.txt and writes Tests/DriftwatchJinjaTests/Fixtures/jinja2-corpus.json: for every
case its template, context and what Jinja2 renders, or that it raised, in the environment dbt parses with:
the sandboxed environment, the `do` and `loopcontrols` extensions, dbt's lenient Undefined
(dbt_common.clients.jinja.create_undefined) and dbt's text-mode filters. One dbt quirk is left out on
purpose: dbt's MacroFuzzParser renames macros defined inside a template to `dbt_macro__<name>`, so a model
cannot call its own macros by name; the corpus tests Jinja's semantics, where it can. The Swift test
`JinjaCorpusTests` renders the same cases with DriftwatchJinja and asserts byte-equal output.

    /work/venv-dbt/bin/python scripts/jinja/render_corpus.py          # regenerate
    /work/venv-dbt/bin/python scripts/jinja/render_corpus.py --check  # fail if the stored file is stale

Case format (cases.txt):
    === name
    --- context            (optional JSON object)
    {"x": 1}
    --- template
    text up to the next '===' line (its final newline is not part of the template)
"""
import json
import os
import sys

import jinja2.sandbox
from dbt_common.clients.jinja import TEXT_FILTERS, create_undefined

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(HERE, "cases.txt")
OUT = os.path.join(ROOT, "Tests", "DriftwatchJinjaTests", "Fixtures", "jinja2-corpus.json")


def parse_cases(text):
    cases = []
    current = None
    section = None
    for line in text.split("\n"):
        if line.startswith("=== "):
            current = {"name": line[4:].strip(), "context": "", "template": ""}
            cases.append(current)
            section = None
            continue
        if current is None:
            continue
        if line == "--- context":
            section = "context"
            continue
        if line == "--- template":
            section = "template"
            continue
        if section:
            current[section] += line + "\n"
    for case in cases:
        case["template"] = case["template"][:-1] if case["template"].endswith("\n") else case["template"]
        ctx = case["context"].strip()
        case["context"] = json.loads(ctx) if ctx else {}
    return cases


def render(case):
    env = jinja2.sandbox.SandboxedEnvironment(
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"], undefined=create_undefined()
    )
    env.filters.update(TEXT_FILTERS)
    try:
        template = env.from_string(case["template"])
        return {"output": template.render(dict(case["context"])), "error": None}
    except Exception as e:  # noqa: BLE001 - any failure is an expected error
        return {"output": None, "error": type(e).__name__ + ": " + str(e).splitlines()[0] if str(e) else type(e).__name__}


def main():
    with open(CASES, encoding="utf-8") as f:
        cases = parse_cases(f.read())
    names = [c["name"] for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        sys.exit("duplicate case names: " + ", ".join(sorted(dupes)))
    results = []
    for case in cases:
        r = render(case)
        results.append({"name": case["name"], "template": case["template"], "context": case["context"], **r})
    text = json.dumps(results, indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("jinja2-corpus.json is stale: run scripts/jinja/render_corpus.py")
        print(f"{len(results)} cases match Jinja2")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    errors = sum(1 for r in results if r["error"])
    print(f"wrote {len(results)} cases ({errors} expected errors) to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
