"""`scheduled validate` and `scheduled schema`, run as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from trees import workflow_yaml, write_workflow

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLES = REPOSITORY / "config" / "examples" / "workflows"
LOCATED = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): .+ \[[a-z.-]+\]$"
)


def scheduled(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m scheduled ARGS` in cwd, with no SCHEDULED_* settings from this shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDULED_")}
    env["PYTHONPATH"] = str(REPOSITORY)
    return subprocess.run(
        [sys.executable, "-m", "scheduled", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    root = tmp_path / "workflows"
    write_workflow(root, "daily.yaml", workflow_yaml("daily", cron="0 9 * * *", jitter="30s"))
    write_workflow(root, "team/often.yaml", workflow_yaml("often", every="15m"))
    return root


@pytest.fixture
def with_warning(clean: Path) -> Path:
    write_workflow(clean, "herd.yaml", workflow_yaml("herd", cron="0 * * * *"))
    return clean


@pytest.fixture
def with_errors(with_warning: Path) -> Path:
    write_workflow(with_warning, "broken.yaml", workflow_yaml("broken", cron="0 25 * * *"))
    write_workflow(
        with_warning,
        "team/Bad.yaml",
        "id: Bad\nschedule: {every: 1h, cron: '@daily', skip: 2026-02-30}\n",
    )
    return with_warning


# -- exit status ----------------------------------------------------------------------------


def test_a_clean_tree_exits_0_with_a_summary(clean: Path) -> None:
    done = scheduled("validate", str(clean), cwd=clean.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        done.stdout == "checked 2 file(s): 2 schedule(s), 0 error(s) in 0 file(s), 0 warning(s)\n"
    )


def test_yaml_files_that_are_no_workflows_are_warned_about_and_exit_0(clean: Path) -> None:
    write_workflow(clean, "mkdocs.yml", "site_name: docs\n")
    write_workflow(clean, "deploy/worker.yaml", "kind: ConfigMap\n---\nkind: Deployment\n")
    done = scheduled("validate", str(clean), cwd=clean.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    *warnings, summary = done.stdout.splitlines()
    located = [LOCATED.match(line) for line in warnings]
    assert [found and found["file"] for found in located] == [
        "workflows/deploy/worker.yaml",
        "workflows/mkdocs.yml",
    ]
    assert all("warning: not a workflow file" in line for line in warnings)
    assert summary == (
        "checked 4 file(s): 2 schedule(s), 0 error(s) in 0 file(s), 2 warning(s); "
        "2 not workflow file(s)"
    )


def test_excluded_files_are_counted_in_the_summary(clean: Path) -> None:
    write_workflow(clean, "legacy/broken.yaml", workflow_yaml("broken", cron="0 25 * * *"))
    done = scheduled("validate", str(clean), "--exclude", "legacy", cwd=clean.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("0 warning(s); 1 excluded by the globs\n")


def test_warnings_alone_still_exit_0(with_warning: Path) -> None:
    done = scheduled("validate", str(with_warning), cwd=with_warning.parent)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith(
        "workflows/herd.yaml:5:10: warning: fires at the top of the hour"
    )


def test_any_error_exits_1(with_errors: Path) -> None:
    assert scheduled("validate", str(with_errors), cwd=with_errors.parent).returncode == 1


def test_the_root_defaults_to_the_current_folder(with_errors: Path) -> None:
    done = scheduled("validate", cwd=with_errors)
    assert done.returncode == 1
    assert "broken.yaml:5:12: error: " in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--no-such-flag"],
        ["validate", "--format", "xml"],
        ["validate", "--project", "Not Valid!"],
        ["validate", "a", "b"],
        ["no-such-command"],
    ],
    ids=["unknown flag", "unknown format", "invalid project", "two roots", "unknown command"],
)
def test_a_usage_error_exits_64_and_says_why_on_stderr(clean: Path, args: list[str]) -> None:
    done = scheduled(*args, cwd=clean)
    assert done.returncode == 64
    assert done.stdout == ""
    assert "Error: " in done.stderr


def test_an_invalid_project_from_the_environment_is_a_usage_error_too(clean: Path) -> None:
    env = {**os.environ, "SCHEDULED_PROJECT": "UPPER", "PYTHONPATH": str(REPOSITORY)}
    done = subprocess.run(
        [sys.executable, "-m", "scheduled", "validate", str(clean)],
        cwd=clean,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 64
    assert "project 'UPPER' is not valid" in done.stderr


def test_a_missing_root_is_a_usage_error_that_says_so(tmp_path: Path) -> None:
    done = scheduled("validate", str(tmp_path / "missing"), cwd=tmp_path)
    assert done.returncode == 64
    assert "does not exist" in done.stderr


def test_defaults_from_the_flags_make_files_without_names_valid(tmp_path: Path) -> None:
    write_workflow(
        tmp_path, "bare.yaml", workflow_yaml("bare", workflow=None, task_queue=None, every="1h")
    )
    assert scheduled("validate", ".", cwd=tmp_path).returncode == 1
    done = scheduled(
        "validate", ".", "--default-workflow", "Job", "--default-task-queue", "jobs", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout


def test_the_examples_in_the_repository_validate_clean(tmp_path: Path) -> None:
    done = scheduled("validate", str(EXAMPLES), cwd=tmp_path)
    assert done.returncode == 0
    assert "0 error(s)" in done.stdout
    assert "0 warning(s)" in done.stdout


# -- text output ------------------------------------------------------------------------------


def test_each_problem_is_one_compiler_style_line_then_a_summary(with_errors: Path) -> None:
    lines = scheduled("validate", str(with_errors), cwd=with_errors.parent).stdout.splitlines()
    *problems, summary = lines
    assert problems, lines
    for line in problems:
        assert LOCATED.match(line), line
    assert summary == "checked 5 file(s): 3 schedule(s), 5 error(s) in 2 file(s), 2 warning(s)"


def test_text_output_names_files_relative_to_the_current_folder_in_sorted_order(
    with_errors: Path,
) -> None:
    lines = scheduled("validate", str(with_errors), cwd=with_errors.parent).stdout.splitlines()[:-1]
    located = [LOCATED.match(line) for line in lines]
    keys = [(m["file"], int(m["line"]), int(m["column"])) for m in located if m]
    assert keys == sorted(keys)
    assert {key[0] for key in keys} == {
        "workflows/broken.yaml",
        "workflows/herd.yaml",
        "workflows/team/Bad.yaml",
    }


def test_a_cron_error_points_at_the_offending_field(with_errors: Path) -> None:
    stdout = scheduled("validate", str(with_errors), cwd=with_errors.parent).stdout
    assert (
        "workflows/broken.yaml:5:12: error: cron '0 25 * * *': hour 25 is out of range 0-23 "
        "(at schedule.cron) [cron.invalid]"
    ) in stdout.splitlines()


# -- JSON output ------------------------------------------------------------------------------


def test_json_output_is_parseable_and_counts_everything(with_errors: Path) -> None:
    done = scheduled("validate", str(with_errors), "--format", "json", cwd=with_errors.parent)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    tree = report["tree"]
    assert {key: tree[key] for key in ("files", "schedules", "errors", "warnings")} == {
        "files": 5,
        "schedules": 3,
        "errors": 5,
        "warnings": 2,
    }
    assert (report["valid"], tree["readable"], tree["root_problem"]) == (False, True, None)


def test_each_json_diagnostic_has_the_same_fields(with_errors: Path) -> None:
    report = json.loads(
        scheduled("validate", str(with_errors), "--format", "json", cwd=with_errors.parent).stdout
    )
    for diagnostic in report["diagnostics"]:
        assert set(diagnostic) == {"file", "line", "column", "severity", "code", "message", "path"}
        assert diagnostic["severity"] in ("error", "warning")
    broken = next(d for d in report["diagnostics"] if d["file"] == "workflows/broken.yaml")
    assert broken == {
        "file": "workflows/broken.yaml",
        "line": 5,
        "column": 12,
        "severity": "error",
        "code": "cron.invalid",
        "message": "cron '0 25 * * *': hour 25 is out of range 0-23",
        "path": "schedule.cron",
    }


def test_json_output_is_the_same_on_every_run(with_errors: Path) -> None:
    runs = {
        scheduled("validate", "workflows", "--format", "json", cwd=with_errors.parent).stdout
        for _ in range(2)
    }
    assert len(runs) == 1


def test_json_output_of_a_clean_tree_is_valid(clean: Path) -> None:
    done = scheduled("validate", str(clean), "--format", "json", cwd=clean.parent)
    report = json.loads(done.stdout)
    assert (done.returncode, report["valid"], report["diagnostics"]) == (0, True, [])


# -- schema and help ----------------------------------------------------------------------------


def test_schema_prints_a_json_schema_2020_12(tmp_path: Path) -> None:
    done = scheduled("schema", cwd=tmp_path)
    schema = json.loads(done.stdout)
    assert done.returncode == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_prints_the_schema_shipped_in_config(tmp_path: Path) -> None:
    shipped = (REPOSITORY / "config" / "workflow.schema.json").read_text(encoding="utf-8")
    assert json.loads(scheduled("schema", cwd=tmp_path).stdout) == json.loads(shipped)


def test_the_printed_schema_accepts_the_examples_and_rejects_a_typo(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads(scheduled("schema", cwd=tmp_path).stdout)
    )
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("start_at", "end_at"):  # PyYAML (YAML 1.1) makes datetimes; editors see text
            if isinstance(document.get("schedule"), dict) and key in document["schedule"]:
                document["schedule"][key] = str(document["schedule"][key]).replace(" ", "T")
        assert validator.is_valid(document), path
    assert not validator.is_valid({"id": "x", "schedule": {"every": "1h", "jiter": "1s"}})


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--help"], "GitOps for Temporal Schedules"),
        (["validate", "--help"], "Check every workflow file under ROOT"),
        (["validate", "-h"], "--format [text|json|github]"),
        (["schema", "--help"], "Print a JSON Schema (2020-12)"),
        (["--help"], "64  usage error"),
    ],
)
def test_help_explains_each_command(tmp_path: Path, args: list[str], says: str) -> None:
    done = scheduled(*args, cwd=tmp_path)
    assert done.returncode == 0
    assert says in done.stdout
    assert done.stdout.startswith("Usage: ")


# -- the pre-commit hook ------------------------------------------------------------------------


def test_the_pre_commit_hook_runs_validate_on_the_whole_tree_when_yaml_changes() -> None:
    (hook,) = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "scheduled-validate"
    assert (hook["language"], hook["entry"], hook["pass_filenames"]) == (
        "python",
        "scheduled validate",
        False,
    )
    assert [bool(re.search(hook["files"], name)) for name in ("a/b.yaml", "c.yml", "d.json")] == [
        True,
        True,
        False,
    ]


def test_the_hooks_entry_is_the_installed_console_script() -> None:
    project = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    assert 'scheduled = "scheduled.cli:main"' in project


# -- the JSON contract and CI formats ---------------------------------------------------------


def contract_schema(name: str, cwd: Path) -> jsonschema.Draft202012Validator:
    done = scheduled("schema", "--output", name, cwd=cwd)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("fixture", ["clean", "with_errors"])
def test_validate_json_matches_its_published_schema(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    root: Path = request.getfixturevalue(fixture)
    done = scheduled("validate", str(root), "--format", "json", cwd=root.parent)
    document = json.loads(done.stdout)
    errors = [error.message for error in contract_schema("validate", root).iter_errors(document)]
    assert not errors
    assert (document["format_version"], document["command"]) == (1, "validate")


def test_github_format_prints_one_annotation_per_problem_at_its_line(with_errors: Path) -> None:
    done = scheduled("validate", "workflows", "--format", "github", cwd=with_errors.parent)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert (
        "::error file=workflows/broken.yaml,line=5,col=12,title=cron.invalid::"
        "cron '0 25 * * *': hour 25 is out of range 0-23"
    ) in lines
    assert any(
        line.startswith("::warning file=workflows/herd.yaml,line=5,col=10,") for line in lines
    )
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)


def test_paths_are_relative_to_the_folder_the_command_runs_in(with_errors: Path) -> None:
    lines = scheduled("validate", "..", cwd=with_errors / "team").stdout.splitlines()
    assert lines[0].startswith("../broken.yaml:5:12: error")
    assert any(line.startswith("Bad.yaml:1:5: error") for line in lines)


# -- start-up -------------------------------------------------------------------------------

# Modules that cost tens of milliseconds to import and that these commands need only sometimes:
# jsonschema only to explain a file that fails the fast check, the SDK and rich never.
HEAVY_MODULES = ("jsonschema", "temporalio", "rich", "anyio")


def modules_imported_by(*args: str, cwd: Path) -> set[str]:
    """The top-level packages `scheduled ARGS` imports, read from Python's -X importtime."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCHEDULED_")}
    env["PYTHONPATH"] = str(REPOSITORY)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "scheduled", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", done.stderr, re.MULTILINE)
    return {name.split(".")[0] for name in names}


def test_help_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    assert modules_imported_by("--help", cwd=tmp_path).isdisjoint(HEAVY_MODULES)


def test_validate_of_valid_files_imports_none_of_the_heavy_libraries(clean: Path) -> None:
    imported = modules_imported_by("validate", str(clean), cwd=clean)
    assert "scheduled" in imported  # the probe sees the package's own imports
    assert imported.isdisjoint(HEAVY_MODULES)


def test_validate_of_an_invalid_file_still_explains_it_with_jsonschema(with_errors: Path) -> None:
    assert "jsonschema" in modules_imported_by("validate", str(with_errors), cwd=with_errors)
