"""The editor's reading of the schema agrees with scheduled's: yaml-language-server (VS Code's
YAML extension and other clients), run as a real language server over stdio, flags exactly the
values that `scheduled validate` reports as schema errors, at the same line and column.

It reads YAML 1.2 by default, so this is where `enabled: no`, `id: 0123` or `jitter: 500ms`
would show a disagreement. `make tools` installs it from npm into .tools/ (pinned).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest
from file_loading import NOW
from trees import write_workflow

from scheduled.format.loader import LoadOptions, load_tree

REPOSITORY = Path(__file__).resolve().parent.parent
SERVER = REPOSITORY / ".tools/node_modules/yaml-language-server/bin/yaml-language-server"
SCHEMA = REPOSITORY / "config" / "workflow.schema.json"
OPTIONS = LoadOptions(project="editor", default_workflow="W", default_task_queue="q")


class LanguageServer:
    """Just enough of an LSP client: open documents, collect the diagnostics published."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.process = subprocess.Popen(
            ["node", str(SERVER), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        self._request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        self._notify("initialized", {})

    def diagnostics(self, files: list[Path], within_s: float = 30) -> dict[Path, Any]:
        """Where each file's diagnostics start, as (line, column), 1-based like scheduled's.
        Files are opened at their real path, so a `$schema` modeline in them resolves."""
        by_uri = {path.as_uri(): path for path in files}
        for uri, path in by_uri.items():
            item = {"uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text()}
            self._notify("textDocument/didOpen", {"textDocument": item})
        found: dict[Path, Any] = {}
        deadline = time.monotonic() + within_s
        while len(found) < len(files) and time.monotonic() < deadline:
            message = self._next(deadline)
            if message.get("method") == "textDocument/publishDiagnostics":
                found[by_uri[message["params"]["uri"]]] = sorted(
                    (d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1)
                    for d in message["params"]["diagnostics"]
                )
        assert len(found) == len(files), f"no diagnostics within {within_s} s"
        return found

    def close(self) -> None:
        self.process.kill()
        self.process.wait()

    def _next(self, deadline: float) -> dict[str, Any]:
        message = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
        if "id" in message and "method" in message:  # the server asks: its settings
            items = message["params"].get("items", []) if message["method"].endswith("n") else []
            result = [self.settings if i.get("section") == "yaml" else {} for i in items] or None
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        return message

    def _request(self, number: int, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        deadline = time.monotonic() + 30
        while self._next(deadline).get("id") != number:
            pass

    def _notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while line := stream.readline().strip():
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if not length:
                return  # the server is gone
            self.inbox.put(json.loads(stream.read(length)))


@pytest.fixture(scope="module")
def editor() -> Iterator[LanguageServer]:
    if not SERVER.exists() or shutil.which("node") is None:
        pytest.skip("LOUD SKIP: no yaml-language-server in .tools/ (`make tools` installs it)")
    settings = {
        "validate": True,
        "schemas": {SCHEMA.as_uri(): "*.yaml"},
        "schemaStore": {"enable": False},
    }
    server = LanguageServer(settings)
    yield server
    server.close()


HEAD = "id: snippet\nschedule:\n  cron: '17 9 * * *'\n"
SNIPPETS = {
    "enabled-no.yaml": HEAD + "  enabled: no\n",
    "enabled-on.yaml": HEAD + "  enabled: on\n",
    "pause-yes.yaml": HEAD + "  pause_on_failure: yes\n",
    "enabled-quoted.yaml": HEAD + '  enabled: "false"\n',
    "enabled-true.yaml": HEAD + "  enabled: True\n",
    "enabled-false.yaml": HEAD + "  enabled: FALSE\n",
    "id-off.yaml": "id: off\nschedule: {every: 15m}\n",
    "id-no.yaml": "id: no\nschedule: {every: 15m}\n",
    "id-leading-zero.yaml": "id: 0123\nschedule: {every: 15m}\n",
    "id-sexagesimal.yaml": "id: 1:30\nschedule: {every: 15m}\n",
    "id-true.yaml": "id: true\nschedule: {every: 15m}\n",
    "every-go.yaml": "id: go\nschedule:\n  every: 2h45m30s\n  offset: 1m30s\n",
    "every-out-of-order.yaml": "id: order\nschedule:\n  every: 30m1h\n",
    "jitter-ms.yaml": HEAD + "  jitter: 500ms\n  execution_timeout: 1.5h\n",
    "jitter-words.yaml": HEAD + "  jitter: 5 minutes\n",
    "overlap-allow.yaml": HEAD + "  overlap_policy: allow\n",
    "overlap-typo.yaml": HEAD + "  overlap_policy: allows\n",
    "attempts-leading-zero.yaml": HEAD + "  retry: {maximum_attempts: 010}\n",
    "attempts-underscore.yaml": HEAD + "  retry: {maximum_attempts: 1_000}\n",
    "seed-keys.yaml": "id: seed\ndescription: x\ntasks: [{id: a}]\ntools: {}\nschemas: {}\n",
    "max-runs.yaml": HEAD + "  max_runs: 3\n  trigger_immediately: true\n",
    "max-runs-zero.yaml": HEAD + "  max_runs: 0\n",
    "max-runs-fraction.yaml": HEAD + "  max_runs: 2.5\n",
    "trigger-yes.yaml": HEAD + "  trigger_immediately: yes\n",
    "every-list.yaml": "id: list\nschedule:\n  every: [1h, {every: 90m, offset: 10m}]\n",
    "every-list-typo.yaml": "id: typo\nschedule:\n  every: [1h, 90 minutes]\n",
    "cron-and-every.yaml": HEAD + "  every: 6h\n",
    "skip-dates.yaml": HEAD
    + "  skip: [2026-12-25, '2026-12-26', {from: 2026-12-28, to: 2027-01-01}]\n",
    "skip-cron.yaml": HEAD + "  skip: '* * * * 6,0'\n",
    "skip-number.yaml": HEAD + "  skip: [2026-12-25, 20261226]\n",
    "skip-range-typo.yaml": HEAD + "  skip:\n    - {from: 2026-12-28, to: 2027-1-1}\n",
}


def _schema_errors(tmp_path: Path, documents: dict[str, str]) -> dict[str, Any]:
    for name, text in documents.items():
        write_workflow(tmp_path, name, text)
    result = load_tree(tmp_path, OPTIONS, now=NOW)
    return {
        found.relative: sorted(
            (d.line, d.column)
            for d in found.diagnostics
            if d.is_error and d.code.startswith(("schema.", "yaml."))
        )
        for found in result.files
    }


def test_the_editor_flags_what_scheduled_flags_and_nothing_else(
    editor: LanguageServer, tmp_path: Path
) -> None:
    scheduled = _schema_errors(tmp_path, SNIPPETS)
    flagged = {name for name, found in scheduled.items() if found}
    assert flagged == {  # the cases are what they say: these must be refused
        "enabled-no.yaml",
        "enabled-on.yaml",
        "pause-yes.yaml",
        "enabled-quoted.yaml",
        "id-sexagesimal.yaml",
        "id-true.yaml",
        "every-out-of-order.yaml",
        "jitter-words.yaml",
        "overlap-typo.yaml",
        "attempts-underscore.yaml",
        "max-runs-zero.yaml",
        "max-runs-fraction.yaml",
        "trigger-yes.yaml",
        "every-list-typo.yaml",
        "skip-number.yaml",
        "skip-range-typo.yaml",
    }
    seen = editor.diagnostics([tmp_path / name for name in SNIPPETS])
    in_editor = {path.name: found for path, found in seen.items()}
    # scheduled points inside the quotes of a quoted value, the editor at the opening quote
    (line, column), *_ = scheduled.pop("enabled-quoted.yaml")
    assert in_editor.pop("enabled-quoted.yaml") == [(line, column - 1)]
    assert in_editor == scheduled


def test_the_shipped_examples_are_clean_in_the_editor(editor: LanguageServer) -> None:
    examples = sorted((REPOSITORY / "config" / "examples").rglob("*.yaml"))
    assert len(examples) >= 7
    found = editor.diagnostics(examples)
    assert found == {path: [] for path in examples}


def test_a_stricter_include_is_no_concern_of_the_editor(tmp_path: Path) -> None:
    # The editor checks one file against the schema; which files are workflow files is the
    # tree's business: with `include` set, YAML without an id is an error only in scheduled.
    write_workflow(tmp_path, "mkdocs.yaml", "site_name: docs\n")
    strict = load_tree(tmp_path, replace(OPTIONS, ids_required=True), now=NOW)
    assert [d.code for d in strict.diagnostics] == ["schema.missing-key"]
