"""Writing workflow files into a temporary tree, for tests.

    write_workflow(tmp_path, "reports/daily.yaml", workflow_yaml("daily", cron="0 9 * * *"))

`workflow_yaml` writes a complete, valid file (id, workflow type, task queue) whose `schedule:`
block holds exactly the fields given; pass `workflow=None` or `task_queue=None` to leave those out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_workflow(root: Path, relative_path: str, text: str | bytes) -> Path:
    """Write text (UTF-8) or raw bytes to root/relative_path, creating folders; returns the path."""
    path = root / relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def workflow_yaml(
    id: str,
    *,
    workflow: str | None = "Job",
    task_queue: str | None = "jobs",
    **schedule_fields: Any,
) -> str:
    """A workflow file; each keyword becomes one key of the `schedule:` block (JSON is YAML)."""
    lines = [f"id: {json.dumps(id)}"]
    if workflow is not None:
        lines.append(f"workflow: {json.dumps(workflow)}")
    if task_queue is not None:
        lines.append(f"task_queue: {json.dumps(task_queue)}")
    if schedule_fields:
        lines.append("schedule:")
        lines.extend(f"  {key}: {json.dumps(value)}" for key, value in schedule_fields.items())
    return "\n".join(lines) + "\n"
