"""The status page in a real headless Chromium, served by a real daemon against a real dev server.

The daemon runs `scheduled run` on a real tree (a few schedules, one of them paused, one with a
secret in its input, one in a file whose name is markup, and one broken file); once it is
ready, Chromium loads `/`, prints the DOM and takes a screenshot (kept in `test-artifacts/`,
its path printed). Chromium's console goes to stderr with `--enable-logging=stderr --v=0`, so
any console message — a script error, a refused load under the page's CSP — fails the test; a
canary page proves that this check sees a console error at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from daemon_helpers import DaemonProcess, start_daemon
from trees import workflow_yaml, write_workflow

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_TIMEOUT_S = 120.0  # two shared cores: a cold start can take a while
SECRET = "s3cr3t-token-value"
ODD_FILE = "team/<i>odd</i> & co.yaml"
CONSOLE = re.compile(r":CONSOLE[:(]")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="NO BROWSER CHECK OF THE STATUS PAGE: chromium is not installed "
    "(run `make tools` as root, which installs Debian's chromium package)",
)


@dataclass(frozen=True)
class Loaded:
    dom: str
    console: list[str]  # the console messages Chromium logged
    screenshot: Path


def load_in_chromium(url: str, workdir: Path, screenshot: Path) -> Loaded:
    """One headless Chromium run: the DOM after load, its console messages and a screenshot.
    Its own profile folder, its own process group (ended whole if it hangs)."""
    assert CHROMIUM is not None
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # the tests run as root in CI, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={workdir / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1400,1600",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "HOME": str(workdir)},
    )
    try:
        out, err = process.communicate(timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"chromium did not finish loading {url} in time") from None
    log = err.decode(errors="replace")
    assert process.returncode == 0, f"chromium exited with {process.returncode}:\n{log[-3000:]}"
    return Loaded(
        dom=out.decode(errors="replace"),
        console=[line for line in log.splitlines() if CONSOLE.search(line)],
        screenshot=screenshot,
    )


@pytest.fixture
def daemon(tmp_path: Path, temporal_address: str, project_name: str) -> Iterator[DaemonProcess]:
    root = tmp_path / "tree"
    write_workflow(
        root,
        "reports/daily-report.yaml",
        workflow_yaml("daily-report", cron="0 9 * * 1-5", timezone="America/New_York"),
    )
    write_workflow(
        root,
        "ops/deploy.yaml",
        workflow_yaml("deploy", cron="0 9 * * 1", input={"token": SECRET, "region": "eu"}),
    )
    write_workflow(
        root,
        "ops/cleanup.yaml",
        workflow_yaml("cleanup", cron="@monthly", enabled=False, note="paused <until> migration"),
    )
    write_workflow(root, ODD_FILE, workflow_yaml("odd", every="15m"))
    write_workflow(root, "team/broken.yaml", workflow_yaml("broken", cron="0 25 * * *"))
    process = start_daemon(tmp_path, root, project_name, temporal_address)
    try:
        yield process
    finally:
        with contextlib.suppress(AssertionError):
            process.stop(timeout=15)


@pytest.mark.temporal
@needs_chromium
def test_the_status_page_shows_the_tree_in_a_real_browser(
    daemon: DaemonProcess, tmp_path: Path, project_name: str
) -> None:
    daemon.wait_ready()
    code, body = daemon.get("/")
    assert code == 200 and body.startswith(b"<!doctype html>")

    screenshot = ARTIFACTS / "status-page.png"
    page = load_in_chromium(f"http://127.0.0.1:{daemon.port}/", tmp_path, screenshot)
    print(f"\nstatus page screenshot: {screenshot}")

    assert page.console == [], "the page logged to the console"
    assert (
        screenshot.stat().st_size > 10_000 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    )
    dom = page.dom
    assert f"<title>ready · scheduled · {project_name}</title>" in dom
    for name, file in [
        ("daily-report", "reports/daily-report.yaml"),
        ("deploy", "ops/deploy.yaml"),
        ("cleanup", "ops/cleanup.yaml"),
        ("odd", "team/&lt;i&gt;odd&lt;/i&gt; &amp; co.yaml"),
    ]:
        assert f">{name}<" in dom and f">{file}<" in dom, name
    assert "<i>" not in dom  # the odd file name is text, not markup
    assert re.search(r"<code>team/broken\.yaml:\d+:\d+: error: [^<]+</code>", dom), "no error"
    assert "paused &lt;until&gt; migration" in dom and ">by file<" in dom
    assert "object with 2 keys" in dom and SECRET not in dom and "region" not in dom
    # Monday 09:00 UTC: deploy, and the every-15-minutes one; the paused one fires nowhere.
    assert re.search(r'title="Mon 09:00-10:00 UTC( \(now\))?: 2 schedules: deploy, odd"', dom)
    assert "cleanup" not in dom.split('id="week"', 1)[1].split("</section>", 1)[0]


@needs_chromium
def test_the_console_check_sees_a_console_error(tmp_path: Path) -> None:
    canary = tmp_path / "canary.html"
    canary.write_text("<!doctype html><title>canary</title><script>null.boom()</script>")
    page = load_in_chromium(canary.as_uri(), tmp_path, tmp_path / "canary.png")
    assert any("boom" in line for line in page.console), page.console
