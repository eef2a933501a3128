#!/usr/bin/env python3
"""Side-by-side: `driftwatch lineage` against real `dbt ls`, on a generated project. Asserts identical node sets.

    python3 scripts/compare_dbt.py --models 500 --driftwatch .build/release/driftwatch --dbt .venv-dbt/bin/dbt
    python3 scripts/compare_dbt.py --models 2000 --driftwatch BIN --dbt BIN --out /tmp/compare.json

Writes a project with scripts/generate_project.py into a temporary directory, runs `dbt parse` once, then for
each selector runs `dbt ls --select … [--exclude …] --output json --output-keys unique_id -q` and
`driftwatch lineage … --format json`, once over the project files (`--project DIR`) and once over dbt's
`target/manifest.json` (`--manifest`). The selectors are chosen from the parsed manifest (sources with many,
some and few descendants, a mart's ancestors, an intermediate model's descendants and `@`, tags, a path, an
intersection, an exclusion), so they fit any --models.

Prints per selector: nodes, dbt seconds, driftwatch seconds (files, manifest), the ratio dbt / driftwatch
(files), and peak RSS of each process (os.wait4). Exits 1, listing the differing ids, when any set differs;
2 when a command fails. `dbt parse` and `dbt ls` need no database server. Python's standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATOR = os.path.join(ROOT, "scripts", "generate_project.py")


class CommandFailed(Exception):
    pass


TIME = "/usr/bin/time"


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None):
    """Runs cmd; returns (seconds, peak RSS in MB, stdout).

    Linux counts a child's memory before its exec into its peak RSS, so a child spawned by this script (which
    holds a parsed manifest: hundreds of MB at 20,000 models) would report this script's size. The peak is
    therefore taken from GNU time's report on its own child when /usr/bin/time exists, else from wait4."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(mode="r") as peak:
        timed = [TIME, "-q", "-f", "%M", "-o", peak.name, *cmd] if os.access(TIME, os.X_OK) else cmd
        proc = subprocess.Popen(timed, stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd)
        assert proc.stdout is not None
        out = proc.stdout.read()  # read fully before waiting, so a large output cannot block the child
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            raise CommandFailed(
                f"{' '.join(cmd)} exited {proc.returncode}:\n{err.read().decode(errors='replace')[-2000:]}"
                f"\n{out.decode(errors='replace')[-2000:]}")
        rss_mb = usage.ru_maxrss / 1024.0
        if timed is not cmd:
            reported = peak.read().strip().splitlines()
            if reported and reported[-1].isdigit():
                rss_mb = int(reported[-1]) / 1024.0
    return elapsed, rss_mb, out.decode()


def dbt_ids(stdout: str) -> set[str]:
    """`dbt ls --output json --output-keys unique_id` prints one JSON object per line."""
    ids = set()
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        ids.add(json.loads(line)["unique_id"])
    return ids


def driftwatch_ids(stdout: str) -> set[str]:
    return {node["unique_id"] for node in json.loads(stdout)["nodes"]}


def descendants(child_map: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for child in child_map.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def choose_selectors(manifest: dict, quick: bool = False) -> list[tuple[str, list[str], list[str]]]:
    """(label, select terms, exclude terms), chosen from the manifest so they exist at any size."""
    child_map: dict[str, list[str]] = manifest["child_map"]
    parent_map: dict[str, list[str]] = manifest["parent_map"]
    sources = sorted(manifest["sources"])
    models = sorted(uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model")

    def reach(uid: str) -> int:
        return len(descendants(child_map, uid))

    # sources with descendants, by how far they reach: the widest, the median, the narrowest
    by_reach = sorted(((reach(uid), uid) for uid in sources), key=lambda pair: (-pair[0], pair[1]))
    by_reach = [pair for pair in by_reach if pair[0] > 0]
    picked_sources = []
    for index in (0, len(by_reach) // 2, len(by_reach) - 1):
        uid = by_reach[index][1]
        if uid not in picked_sources:
            picked_sources.append(uid)

    def source_selector(uid: str) -> str:
        node = manifest["sources"][uid]
        return f"source:{node['source_name']}.{node['name']}"

    def name(uid: str) -> str:
        return manifest["nodes"][uid]["name"]

    def layer(uid: str) -> str:
        return manifest["nodes"][uid]["fqn"][1] if len(manifest["nodes"][uid]["fqn"]) > 2 else ""

    marts = [uid for uid in models if layer(uid) == "marts"]
    inters = [uid for uid in models if layer(uid) == "intermediate"] or models
    # the mart with the most ancestors; the intermediate model with the most descendants
    mart = max(marts or models, key=lambda uid: (len(descendants(parent_map, uid)), uid))
    inter = max(inters, key=lambda uid: (reach(uid), uid))
    widest = source_selector(picked_sources[0])
    system = manifest["sources"][picked_sources[0]]["source_name"]

    selectors: list[tuple[str, list[str], list[str]]] = [
        (f"{source_selector(uid)}+", [f"{source_selector(uid)}+"], []) for uid in picked_sources
    ]
    selectors += [
        (f"source:{system}+", [f"source:{system}+"], []),
        (f"+{name(mart)}", [f"+{name(mart)}"], []),
        (f"{name(inter)}+", [f"{name(inter)}+"], []),
        (f"@{name(inter)}", [f"@{name(inter)}"], []),
        (f"tag:{system},resource_type:model", [f"tag:{system},resource_type:model"], []),
        ("tag:marts", ["tag:marts"], []),
        ("path:models/intermediate", ["path:models/intermediate"], []),
        (f"{widest}+,tag:marts", [f"{widest}+,tag:marts"], []),
        (f"{widest}+ --exclude tag:marts", [f"{widest}+"], ["tag:marts"]),
        # sources carry their source-level and table-level tags, as in dbt
        (f"tag:{system}", [f"tag:{system}"], []),
    ]
    if quick:
        # one of each kind: the widest and narrowest source, +mart, @inter, a tag, a path, a, b, --exclude
        keep = {0, len(picked_sources) - 1, len(picked_sources) + 1, len(picked_sources) + 3,
                len(picked_sources) + 6, len(picked_sources) + 7, len(picked_sources) + 8,
                len(picked_sources) + 9}
        selectors = [selector for index, selector in enumerate(selectors) if index in keep]
    return selectors


def median_run(cmd: list[str], env: dict[str, str], runs: int):
    """(median seconds, peak RSS over the runs, output of the last run)."""
    samples, peak, out = [], 0.0, ""
    for _ in range(max(1, runs)):
        seconds, rss, out = run_measured(cmd, env=env)
        samples.append(seconds)
        peak = max(peak, rss)
    samples.sort()
    return samples[len(samples) // 2], peak, out


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare driftwatch lineage with dbt ls on a generated project.")
    parser.add_argument("--models", type=int, default=500, help="models in the generated project (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--macro-share", type=float, default=0.0,
                        help="share of models written through macros (generate_project.py --macro-share)")
    parser.add_argument("--driftwatch", required=True, help="the driftwatch executable")
    parser.add_argument("--dbt", required=True, help="the dbt executable (dbt-core 1.10/1.11 with dbt-postgres)")
    parser.add_argument("--out", help="also write the results as JSON to this file")
    parser.add_argument("--quick", action="store_true",
                        help="one selector of each kind (8 instead of 13), for the test suite")
    parser.add_argument("--keep", action="store_true", help="keep the generated project (its path is printed)")
    parser.add_argument("--project", help="generate the project in DIR and keep it; when DIR already holds it, "
                        "with target/manifest.json, reuse both (no generation, no dbt parse)")
    parser.add_argument("--selectors", type=int, help="only the first N selectors (the first is the source "
                        "with the widest reach)")
    parser.add_argument("--runs", type=int, default=1, help="driftwatch runs per selector; the median is "
                        "reported (default 1)")
    args = parser.parse_args()

    for label, path in (("--driftwatch", args.driftwatch), ("--dbt", args.dbt)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            print(f"compare_dbt: {label} {path} is not an executable file", file=sys.stderr)
            return 2
    # the commands run in the project's directory: make the paths absolute
    args.driftwatch = os.path.abspath(args.driftwatch)
    args.dbt = os.path.abspath(args.dbt)

    if args.project:
        workdir = None
        project = os.path.abspath(args.project)
    else:
        workdir = tempfile.mkdtemp(prefix="driftwatch-compare-")
        project = os.path.join(workdir, "synth")
    try:
        return compare(args, project)
    except CommandFailed as error:
        print(f"compare_dbt: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep or workdir is None:
            print(f"project kept in {project}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def compare(args, project: str) -> int:
    manifest_path = os.path.join(project, "target", "manifest.json")
    reuse = args.project is not None and os.path.isfile(manifest_path)
    if not reuse:
        run_measured([sys.executable, GENERATOR, "--models", str(args.models), "--seed", str(args.seed),
                      "--macro-share", str(args.macro_share),
                      "--out", project])
    env = dict(os.environ)
    env["DBT_PROFILES_DIR"] = project
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DO_NOT_TRACK"] = "1"
    env["NO_COLOR"] = "1"
    env.pop("DBT_PROJECT_DIR", None)
    dbt = [args.dbt]
    project_flags = ["--project-dir", project, "--profiles-dir", project]

    if reuse:
        parse_s, parse_rss = 0.0, 0.0
        print(f"reusing {project} and its target/manifest.json (no dbt parse)")
    else:
        parse_s, parse_rss, _ = run_measured(dbt + ["parse", "-q"] + project_flags, env=env, cwd=project)
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    core = manifest.get("metadata", {}).get("dbt_version", "?")
    # Counted from the manifest: a reused project was not necessarily generated with --models.
    args.models = sum(1 for node in manifest["nodes"].values() if node.get("resource_type") == "model")
    print(f"project: {args.models} models, {len(manifest['nodes'])} nodes, {len(manifest['sources'])} sources, "
          f"{len(manifest['exposures'])} exposures (dbt-core {core})")
    print(f"dbt parse: {parse_s:.2f} s, peak RSS {parse_rss:.0f} MB")

    header = (f"{'selector':<58} {'nodes':>6} {'dbt s':>7} {'dw s':>7} {'dw(m) s':>8} {'ratio':>6} "
              f"{'dbt MB':>7} {'dw MB':>6} {'dw(m) MB':>8}")
    print(header)
    print("-" * len(header))
    results = []
    failures = 0
    chosen = choose_selectors(manifest, args.quick)
    if args.selectors:
        chosen = chosen[:args.selectors]
    for label, select, exclude in chosen:
        dbt_cmd = dbt + ["ls", "-q", "--no-write-json", "--output", "json", "--output-keys", "unique_id",
                         "--select", *select]
        if exclude:
            dbt_cmd += ["--exclude", *exclude]
        dbt_s, dbt_rss, dbt_out = run_measured(dbt_cmd + project_flags, env=env, cwd=project)
        lineage = [*select] + [arg for term in exclude for arg in ("--exclude", term)] + ["--format", "json"]
        dw_s, dw_rss, dw_out = median_run([args.driftwatch, "lineage", "--project", project, *lineage], env,
                                          args.runs)
        dwm_s, dwm_rss, dwm_out = median_run([args.driftwatch, "lineage", "--manifest", manifest_path, *lineage],
                                             env, args.runs)
        expected = dbt_ids(dbt_out)
        got = {"files": driftwatch_ids(dw_out), "manifest": driftwatch_ids(dwm_out)}
        ratio = dbt_s / dw_s if dw_s > 0 else float("inf")
        print(f"{label[:58]:<58} {len(expected):>6} {dbt_s:>7.2f} {dw_s:>7.3f} {dwm_s:>8.3f} {ratio:>5.0f}x "
              f"{dbt_rss:>7.0f} {dw_rss:>6.0f} {dwm_rss:>8.0f}")
        differences = {}
        for mode, ids in got.items():
            if ids != expected:
                differences[mode] = {"only_dbt": sorted(expected - ids), "only_driftwatch": sorted(ids - expected)}
                failures += 1
                print(f"  DIFFERS ({mode}): only in dbt ls: {len(expected - ids)}, "
                      f"only in driftwatch: {len(ids - expected)}")
                for uid in sorted(expected - ids):
                    print(f"    - dbt only:        {uid}")
                for uid in sorted(ids - expected):
                    print(f"    + driftwatch only: {uid}")
        if not expected:
            print("  note: dbt ls selected nothing")
        results.append({
            "selector": label, "select": select, "exclude": exclude, "nodes": len(expected),
            "dbt_seconds": dbt_s, "driftwatch_seconds": dw_s, "driftwatch_manifest_seconds": dwm_s,
            "dbt_peak_rss_mb": dbt_rss, "driftwatch_peak_rss_mb": dw_rss,
            "driftwatch_manifest_peak_rss_mb": dwm_rss, "differences": differences,
        })

    total_dbt = sum(r["dbt_seconds"] for r in results)
    total_dw = sum(r["driftwatch_seconds"] for r in results)
    total_dwm = sum(r["driftwatch_manifest_seconds"] for r in results)
    print("-" * len(header))
    print(f"{'total':<58} {'':>6} {total_dbt:>7.2f} {total_dw:>7.3f} {total_dwm:>8.3f} "
          f"{total_dbt / total_dw if total_dw else 0:>5.0f}x")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"models": args.models, "seed": args.seed, "dbt_core": core, "dbt_parse_seconds": parse_s,
                       "dbt_parse_peak_rss_mb": parse_rss, "selectors": results}, handle, indent=2)
            handle.write("\n")
    if failures:
        print(f"FAILED: {failures} node set(s) differ from dbt ls", file=sys.stderr)
        return 1
    print(f"all {len(results)} selectors: driftwatch lineage (files and manifest) == dbt ls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
