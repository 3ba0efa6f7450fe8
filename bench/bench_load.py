"""Benchmark: load and validate a generated tree of workflow files (default 10,000).

    .venv/bin/python bench/bench_load.py [--files 10000] [--repeat 3] [--profile]

Each measurement runs in a fresh Python process, so its peak RSS (ru_maxrss) is its own and not
inflated by the generator or by an earlier run. The same tree is also read by two baselines in
the same run, so the ratios mean something on a noisy machine:

- `startup`: start Python and import the loader, load nothing (the RSS floor);
- `walk+read`: a bare os.walk and read of every file;
- `yaml C`: the same plus `yaml.load(text, CSafeLoader)` of every file (libyaml, no checks);
- `load_tree`: scheduled's loader: walk, read, safe YAML with positions, JSON Schema, cron,
  time zones, warnings, fingerprints (the import of the package included);
- `validate`: the whole command as a user runs it, `python -m scheduled validate ROOT`, in its
  own process (interpreter start, imports, load, printing).

A separate run of load_tree under tracemalloc gives the peak of Python allocations (slower, so
its time is not reported). Targets from the issue: under 5 s and under 200 MB on 2 cores.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0
TARGET_MIB = 200.0

CRONS = [
    "0 9 * * 1-5",
    "*/15 * * * *",
    "30 2 1,15 * *",
    "0 12 * JAN-MAR MON",
    "0 0 12 * * FRI",  # 6 fields, seconds first
    "0 30 6 * * * 2030",  # 7 fields, year last
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@every 90m",
    "15 4 * * sun # nightly cleanup",
    "0-30/10 9-17 * * mon-fri",
]
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Kolkata",
]
EVERY = [("15m", None), ("1h", "5m"), ("30s", None), ("2d", "1h"), ("1h30m", "10m")]
POLICIES = ["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]


def workflow_text(index: int, rng: random.Random) -> str:
    """One valid workflow file, varied by index: cron forms, every, zones, inputs, policies."""
    lines = [
        "# yaml-language-server: $schema=../../config/workflow.schema.json",
        f"id: wf-{index:05d}",
        f"workflow: Workflow{index % 37}",
        f"task_queue: queue-{index % 11}",
        f"description: generated workflow number {index}",
        "schedule:",
    ]
    if index % 4 == 3:
        every, offset = EVERY[index % len(EVERY)]
        lines.append(f"  every: {every}")
        if offset:
            lines.append(f"  offset: {offset}")
    elif index % 8 == 1:
        picks = rng.sample(CRONS, 3)
        lines.append("  cron:")
        lines.extend(f'    - "{cron}"' for cron in picks)
    else:
        lines.append(f'  cron: "{CRONS[index % len(CRONS)]}"')
    lines.append(f"  timezone: {ZONES[index % len(ZONES)]}")
    lines.append(f"  jitter: {rng.randint(1, 90)}s")
    lines.append(f"  overlap_policy: {POLICIES[index % len(POLICIES)]}")
    if index % 3 == 0:
        lines.append("  catchup_window: 10m")
        lines.append("  execution_timeout: 1h")
        lines.append(
            "  retry: {maximum_attempts: 3, initial_interval: 1s, backoff_coefficient: 2, "
            "maximum_interval: 1m}"
        )
    if index % 5 == 0:
        lines.append("  start_at: 2026-01-01T00:00:00Z")
        lines.append("  end_at: 2099-01-01")
    lines.append("  input:")
    lines.append(f"    customer: c-{rng.randint(1, 10**6)}")
    lines.append(f"    regions: [{', '.join(rng.sample(['eu', 'us', 'ap', 'sa', 'af'], 3))}]")
    if index % 2 == 0:
        lines.append("    options:")
        lines.extend(f"      flag_{n}: {str(rng.random() < 0.5).lower()}" for n in range(8))
    if index % 7 == 0:
        lines.append("  memo: {team: platform, tier: gold}")
        lines.append(f'  note: "generated schedule {index}"')
    return "\n".join(lines) + "\n"


def generate_tree(root: Path, count: int, seed: int = 1) -> int:
    """Write `count` workflow files in 100 folders under root; returns the bytes written."""
    rng = random.Random(seed)
    total = 0
    for index in range(count):
        folder = root / f"team-{index % 20:02d}" / f"service-{index % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = workflow_text(index, rng)
        (folder / f"wf-{index:05d}.yaml").write_text(text, encoding="utf-8")
        total += len(text)
    return total


# -- child process: one measurement each ---------------------------------------------------


def _files(root: Path) -> list[Path]:
    return [
        Path(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith((".yaml", ".yml"))
    ]


def child(mode: str, root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    details: dict[str, Any] = {}
    if mode == "startup":
        importlib.import_module("scheduled.format.loader")  # the import is the measurement
    elif mode == "walk+read":
        details["bytes"] = sum(len(path.read_bytes()) for path in _files(root))
    elif mode == "yaml C":
        import yaml

        documents = [
            yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader) for path in _files(root)
        ]
        details["documents"] = len(documents)
    elif mode == "validate":
        command = [sys.executable, "-m", "scheduled", "validate", str(root), "--project", "bench"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        details["exit"] = done.returncode
        details["seconds"] = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        details["maxrss_kib"] = usage.ru_maxrss
        details["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        return details
    elif mode in ("load_tree", "tracemalloc"):
        from scheduled.format.loader import LoadOptions, load_tree

        if mode == "tracemalloc":
            tracemalloc.start()
        result = load_tree(root, LoadOptions(project="bench"))
        if mode == "tracemalloc":
            details["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
            tracemalloc.stop()
        details.update(
            files=len(result.files),
            schedules=len(result.desired),
            errors=result.error_count,
            warnings=result.warning_count,
        )
    else:
        raise SystemExit(f"unknown mode {mode}")
    details["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    details["maxrss_kib"] = usage.ru_maxrss
    details["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # interpreter start included
    return details


def measure(mode: str, root: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, str(root)]
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    measured: dict[str, Any] = json.loads(done.stdout)
    measured["process_seconds"] = time.perf_counter() - started
    return measured


# -- the report -----------------------------------------------------------------------------


def profile(root: Path, top: int) -> None:
    sys.path.insert(0, str(REPOSITORY))
    from scheduled.format.loader import LoadOptions, load_tree

    profiler = cProfile.Profile()
    profiler.enable()
    load_tree(root, LoadOptions(project="bench"))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median shown)")
    parser.add_argument("--keep", type=Path, help="generate the tree here and keep it")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of load_tree")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="scheduled-bench-"))
    root = args.keep or workdir / "workflows"
    try:
        if args.keep is None or not any(root.glob("**/*.yaml")):
            written = generate_tree(root, args.files)
            print(
                f"generated {args.files} files ({written / 1e6:.1f} MB) under {root}",
                file=sys.stderr,
            )
        modes = ["startup", "walk+read", "yaml C", "load_tree", "validate"]
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            for mode in modes:  # interleaved, so a slow spell of the machine hits all alike
                runs[mode].append(measure(mode, root))
        traced = measure("tracemalloc", root)
        figures = {
            mode: {
                "seconds": statistics.median(run["seconds"] for run in results),
                "process_seconds": statistics.median(run["process_seconds"] for run in results),
                "cpu_seconds": statistics.median(run["cpu_seconds"] for run in results),
                "maxrss_mib": statistics.median(run["maxrss_kib"] for run in results) / 1024,
            }
            for mode, results in runs.items()
        }
        load = runs["load_tree"][-1]
        summary = {
            "files": load["files"],
            "schedules": load["schedules"],
            "errors": load["errors"],
            "warnings": load["warnings"],
            "cpus": os.cpu_count(),
            "load_average": f"{load_before:.1f}/{os.getloadavg()[0]:.1f}",
            "python": sys.version.split()[0],
            "figures": figures,
            "load_tree_vs_walk": figures["load_tree"]["seconds"] / figures["walk+read"]["seconds"],
            "load_tree_vs_yaml_c": figures["load_tree"]["seconds"] / figures["yaml C"]["seconds"],
            "tracemalloc_peak_mib": traced["traced_peak_kib"] / 1024,
            "validate_exit": runs["validate"][-1]["exit"],
            "meets_targets": all(
                figures[mode]["seconds"] < TARGET_SECONDS
                and figures[mode]["maxrss_mib"] < TARGET_MIB
                for mode in ("load_tree", "validate")
            ),
        }
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(
                f"{summary['files']} files, {summary['schedules']} schedules, "
                f"{summary['errors']} errors, {summary['warnings']} warnings; "
                f"{summary['cpus']} CPUs, Python {summary['python']}, median of {args.repeat}"
            )
            print(
                f"{'measurement':<12} {'seconds':>9} {'process s':>10} {'CPU s':>7} "
                f"{'peak RSS MiB':>13}"
            )
            for mode, figure in figures.items():
                print(
                    f"{mode:<12} {figure['seconds']:>9.3f} {figure['process_seconds']:>10.3f} "
                    f"{figure['cpu_seconds']:>7.3f} {figure['maxrss_mib']:>13.1f}"
                )
            print(
                "(seconds: wall time of the work, imports included; process s: wall time of the "
                "whole process; CPU s: user+system time of the process)"
            )
            print(f"load average before/after: {summary['load_average']}")
            print(
                f"load_tree / walk+read: {summary['load_tree_vs_walk']:.1f}x; "
                f"load_tree / yaml C: {summary['load_tree_vs_yaml_c']:.1f}x; "
                f"tracemalloc peak of load_tree: {summary['tracemalloc_peak_mib']:.1f} MiB"
            )
            verdict = "met" if summary["meets_targets"] else "MISSED"
            print(f"targets (< {TARGET_SECONDS:.0f} s, < {TARGET_MIB:.0f} MB): {verdict}")
        if args.profile:
            profile(root, 30)
        return 0 if summary["meets_targets"] else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
