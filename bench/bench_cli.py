"""Benchmark: the command line's start-up and the cost of apply's progress bar.

    .venv/bin/python bench/bench_cli.py [--runs 15]

Start-up: each command in fresh processes (median of `--runs`), against the floor measured in
the same run (`python -c pass` with the same interpreter and site-packages). The import time of
a command is its median minus the floor: what `scheduled` itself costs before it does any work.
Targets from the issue: `scheduled --help` and `validate` of a few files under 150 ms of import.

Progress: one apply of 1,000 creates against an in-memory gateway (no server: the bar's own
cost is the point, and a real server's noise would hide it), with the rich progress bar drawn
to a terminal-like buffer vs with no bar, alternating, median of 5 each.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the fake gateway

from fakes import FakeGateway

from scheduled.format.loader import load_tree
from scheduled.format.workflow_file import LoadOptions
from scheduled.reconcile.apply import ApplyOptions, apply_plan
from scheduled.reconcile.plan import (
    PassContext,
    PlanOptions,
    desired_state_from,
    make_plan,
)
from scheduled.report import Progress

FILE = "id: {id}\nworkflow: Job\ntask_queue: jobs\nschedule:\n  cron: '{minute} 9 * * *'\n  jitter: 30s\n"


def write_tree(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (root / f"job-{index:04d}.yaml").write_text(
            FILE.format(id=f"job-{index:04d}", minute=index % 60)
        )


def wall_s(args: list[str], cwd: Path) -> float:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDULED_")}
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def compile_bytecode() -> None:
    """Byte-compile the package first, as `pip install` of a wheel does: an editable install
    run with PYTHONDONTWRITEBYTECODE (set on this machine) compiles every module on every start,
    which measured 100+ ms that no installed copy pays."""
    import scheduled

    package = Path(scheduled.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def startup(runs: int, folder: Path) -> dict[str, float]:
    compile_bytecode()
    tree = folder / "few"
    write_tree(tree, 3)
    commands = {
        "floor: python -c pass": [sys.executable, "-c", "pass"],
        "scheduled --help": [sys.executable, "-m", "scheduled", "--help"],
        "scheduled validate (3 files)": [sys.executable, "-m", "scheduled", "validate", str(tree)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so a noisy moment hits every command alike
        for name, args in commands.items():
            times[name].append(wall_s(args, folder))
    return {name: statistics.median(values) for name, values in times.items()}


def one_apply(plan_count: int, tree: Path, *, bar: bool) -> float:
    load = load_tree(tree, LoadOptions(project="bench"), now=datetime.now(UTC))
    desired = desired_state_from(load.desired.values(), project="bench", file_count=len(load.files))
    plan = make_plan(
        desired, [], PlanOptions(context=PassContext(project="bench"), now=datetime.now(UTC))
    )
    assert len(plan.operations) == plan_count
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    progress = Progress(enabled=bar, console=console)

    async def run() -> float:
        gateway = FakeGateway()
        started = time.perf_counter()
        progress.start(plan)
        await apply_plan(
            plan, gateway, ApplyOptions(rate_limit=1e9, concurrency=10), on_result=progress.result
        )
        progress.finish()
        return time.perf_counter() - started

    return anyio.run(run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: nproc {os.cpu_count()}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        medians = startup(args.runs, Path(folder))
        floor = medians["floor: python -c pass"]
        print("\n| command | median wall | import (wall − floor) |\n| --- | --- | --- |")
        for name, value in medians.items():
            extra = "" if name.startswith("floor") else f"{(value - floor) * 1000:.0f} ms"
            print(f"| {name} | {value * 1000:.0f} ms | {extra} |")

        tree = Path(folder) / "many"
        write_tree(tree, args.count)
        with_bar: list[float] = []
        without: list[float] = []
        for rep in range(5):
            for bar in (True, False) if rep % 2 == 0 else (False, True):
                (with_bar if bar else without).append(one_apply(args.count, tree, bar=bar))
        a, b = statistics.median(with_bar), statistics.median(without)
        print(
            f"\napply of {args.count} creates (in-memory gateway): with the bar {a:.3f} s, "
            f"without {b:.3f} s, ratio {a / b:.2f} ({(a - b) / args.count * 1e6:.0f} µs a schedule)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
