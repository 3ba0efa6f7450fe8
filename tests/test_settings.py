"""Settings: flag > environment > config file > default, and a config file that says what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from trees import workflow_yaml, write_workflow

from scheduled.cli import TEMPORAL_SETTINGS, list_command, main, settings_from
from scheduled.settings import (
    ConfigError,
    Settings,
    build_settings,
    derive_project_name,
    read_config_file,
    resolve_settings,
)


def test_a_config_file_reads_the_scheduled_table(tmp_path: Path) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text('[scheduled]\nproject = "reports"\nconcurrency = 4\n')
    assert read_config_file(path) == {"project": "reports", "concurrency": 4}


def test_an_unknown_key_in_the_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text("[scheduled]\nconcurency = 4\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*concurency"):
        read_config_file(path)


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text("[scheduled\n")
    with pytest.raises(ConfigError, match=r"scheduled\.toml"):
        read_config_file(path)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml")


def test_later_layers_win_and_none_means_not_set() -> None:
    settings = build_settings(
        [{"concurrency": 4, "project": "file"}, {"project": "flag", "concurrency": None}]
    )
    assert (settings.project, settings.concurrency) == ("flag", 4)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("project", "Has Spaces", "project 'Has Spaces' is not valid"),
        ("concurrency", 0, "concurrency must be at least 1"),
        ("rate_limit", 0, "rate_limit must be a positive"),
        ("max_delete_fraction", 1.5, "max_delete_fraction must be above 0"),
    ],
)
def test_a_setting_that_cannot_work_is_refused(field: str, value: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Settings(**{field: value})  # type: ignore[arg-type]


# -- precedence, through the real CLI ------------------------------------------------------------
# An invalid project name is refused as a usage error (exit 64), so each test puts an invalid
# value in the layer that must lose and a valid one in the layer that must win.

GOOD_DEFAULTS = '[scheduled]\ndefault_workflow = "W"\ndefault_task_queue = "q"\n'


def _validate(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    root = tmp_path / "tree"
    write_workflow(
        root, "job.yaml", workflow_yaml("job", workflow=None, task_queue=None, cron="0 9 * * *")
    )
    runner = CliRunner(env={"SCHEDULED_CONFIG": None, "SCHEDULED_PROJECT": None, **(env or {})})
    result = runner.invoke(main, ["validate", str(root), "--format", "json", *flags])
    return result.exit_code, result.output


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scheduled.toml"
    path.write_text(text)
    return str(path)


def test_the_config_file_supplies_defaults(tmp_path: Path) -> None:
    code, output = _validate(tmp_path, "--config", _config(tmp_path, GOOD_DEFAULTS))
    assert code == 0 and json.loads(output)["valid"] is True


def test_without_any_layer_a_file_without_workflow_type_is_invalid(tmp_path: Path) -> None:
    code, output = _validate(tmp_path)
    assert code == 1 and "no workflow type" in output


def test_environment_beats_the_config_file(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD_DEFAULTS + 'project = "Not Valid"\n')
    code, _ = _validate(tmp_path, "--config", config, env={"SCHEDULED_PROJECT": "from-env"})
    assert code == 0


def test_the_config_file_beats_the_default(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD_DEFAULTS + 'project = "Not Valid"\n')
    code, output = _validate(tmp_path, "--config", config)
    assert code == 64 and "project 'Not Valid' is not valid" in output


def test_a_flag_beats_the_environment(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD_DEFAULTS)
    code, _ = _validate(
        tmp_path,
        "--config",
        config,
        "--project",
        "from-flag",
        env={"SCHEDULED_PROJECT": "Not Valid"},
    )
    assert code == 0


def test_the_config_file_can_come_from_the_environment(tmp_path: Path) -> None:
    code, _ = _validate(tmp_path, env={"SCHEDULED_CONFIG": _config(tmp_path, GOOD_DEFAULTS)})
    assert code == 0


@pytest.mark.temporal
def test_temporal_address_from_the_environment_beats_the_config_file(
    tmp_path: Path, temporal_address: str, project_name: str
) -> None:
    root = tmp_path / "tree"
    write_workflow(root, "job.yaml", workflow_yaml("job", cron="0 9 * * *"))
    config = _config(tmp_path, '[scheduled]\naddress = "127.0.0.1:1"\n')  # nothing listens there
    result = CliRunner(
        env={"TEMPORAL_ADDRESS": temporal_address, "SCHEDULED_ADDRESS": None}
    ).invoke(
        main, ["plan", str(root), "--config", config, "--project", project_name, "--format", "json"]
    )
    assert result.exit_code == 2, result.output  # reached the server: one schedule to create
    assert json.loads(result.output[result.output.index("{") :])["counts"]["create"] == 1


# -- every setting in the file is checked as strictly as its flag ----------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        pytest.param(
            'prune = "false"',
            r"`prune` must be true or false, not the string 'false'",
            id="a string is not a boolean",
        ),
        pytest.param(
            'concurrency = "ten"',
            r"`concurrency` must be a whole number, not the string",
            id="a word is not a number",
        ),
        pytest.param(
            "concurrency = true",
            r"`concurrency` must be a whole number, not True",
            id="a boolean is not a number",
        ),
        pytest.param("debounce_ms = -1", r"debounce_ms must be 0 or more", id="negative"),
        pytest.param(
            'log_format = "xml"',
            r"log_format 'xml' is not one of auto, text, json",
            id="unknown log format",
        ),
        pytest.param("resync_interval_s = 0", r"resync_interval_s must be at least 1", id="zero"),
    ],
)
def test_a_bad_value_in_the_config_file_names_the_key_and_the_file(
    tmp_path: Path, line: str, words: str
) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text(f"[scheduled]\n{line}\n")
    with pytest.raises(ConfigError, match=words) as raised:
        resolve_settings(path, {})
    assert str(raised.value).startswith(f"{path}: ")


def test_a_bad_value_in_the_file_that_a_flag_overrides_does_not_matter(tmp_path: Path) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text("[scheduled]\ndebounce_ms = -1\n")
    assert resolve_settings(path, {"debounce_ms": 5}).debounce_ms == 5


def test_a_bad_value_in_the_config_file_is_a_usage_error_of_the_command(tmp_path: Path) -> None:
    config = _config(tmp_path, '[scheduled]\nprune = "false"\n')
    code, output = _validate(tmp_path, "--config", config)
    assert code == 64 and "`prune` must be true or false" in output


def test_temporal_tls_from_the_environment_beats_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, "[scheduled]\ntls = false\n")
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    monkeypatch.setenv("SCHEDULED_CONFIG", config)
    with list_command.make_context("list", [str(tmp_path)]) as ctx:
        assert settings_from(ctx, TEMPORAL_SETTINGS).tls is True


# -- the project name (the default: the root folder's) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "project"),
    [
        ("workflows", "workflows"),
        ("My Workflows", "my-workflows"),
        ("_x_", "x"),
        ("---", "scheduled"),
    ],
)
def test_the_default_project_is_the_root_folders_name_made_valid(
    tmp_path: Path, folder: str, project: str
) -> None:
    (tmp_path / folder).mkdir()
    assert derive_project_name(tmp_path / folder) == project


def test_the_default_project_is_the_root_link_name_not_its_target(tmp_path: Path) -> None:
    # git-sync: /git/current -> /git/.worktrees/<commit>; the project must not change per commit.
    target = tmp_path / ".worktrees" / "3f2a9c1d"
    target.mkdir(parents=True)
    (tmp_path / "current").symlink_to(target)
    assert derive_project_name(tmp_path / "current") == "current"


# -- include and exclude: which YAML files are workflow files -------------------------------------


def _glob_tree(tmp_path: Path) -> Path:
    """A valid workflow, a broken one under legacy/, and a YAML file without an id."""
    root = tmp_path / "tree"
    write_workflow(root, "workflows/job.yaml", workflow_yaml("job", cron="17 9 * * *"))
    write_workflow(root, "legacy/old.yaml", workflow_yaml("old", cron="0 25 * * *"))
    write_workflow(root, "mkdocs.yml", "site_name: docs\n")
    return root


def _validate_globs(
    root: Path, *flags: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    runner = CliRunner(
        env={"SCHEDULED_CONFIG": None, "SCHEDULED_INCLUDE": None, "SCHEDULED_EXCLUDE": None}
        | (env or {})
    )
    result = runner.invoke(main, ["validate", str(root), "--format", "json", *flags])
    if result.exit_code == 64:
        return result.exit_code, {"usage": result.output}
    document = json.loads(result.stdout)
    return result.exit_code, {**document["tree"], "diagnostics": document["diagnostics"]}


def test_exclude_from_the_config_file_leaves_files_out(tmp_path: Path) -> None:
    root = _glob_tree(tmp_path)
    config = _config(tmp_path, '[scheduled]\nexclude = ["legacy"]\n')
    code, report = _validate_globs(root, "--config", config)
    assert (code, report["excluded_files"]) == (0, ["legacy/old.yaml"])


def test_exclude_from_the_environment_beats_the_config_file(tmp_path: Path) -> None:
    root = _glob_tree(tmp_path)
    config = _config(tmp_path, '[scheduled]\nexclude = ["nothing-here"]\n')
    code, report = _validate_globs(
        root, "--config", config, env={"SCHEDULED_EXCLUDE": "legacy mkdocs.yml"}
    )
    assert (code, report["excluded_files"]) == (0, ["legacy/old.yaml", "mkdocs.yml"])


def test_repeated_exclude_flags_beat_the_environment(tmp_path: Path) -> None:
    root = _glob_tree(tmp_path)
    code, report = _validate_globs(
        root, "--exclude", "legacy", "--exclude", "mkdocs.yml", env={"SCHEDULED_EXCLUDE": "x"}
    )
    assert (code, report["excluded_files"]) == (0, ["legacy/old.yaml", "mkdocs.yml"])


def test_include_from_a_flag_beats_the_config_file_and_makes_ids_required(tmp_path: Path) -> None:
    root = _glob_tree(tmp_path)
    config = _config(tmp_path, '[scheduled]\ninclude = ["legacy/*.yaml"]\n')
    code, report = _validate_globs(root, "--config", config, "--include", "*.yml")
    # Only mkdocs.yml is selected, and an include that is set means "these are workflow files".
    assert (code, report["not_workflow_files"]) == (1, [])
    assert [d["code"] for d in report["diagnostics"]] == ["schema.missing-key"]


def test_with_the_default_globs_a_yaml_file_without_an_id_only_warns(tmp_path: Path) -> None:
    root = _glob_tree(tmp_path)
    code, report = _validate_globs(root, "--exclude", "legacy")
    assert (code, report["errors"], report["warnings"]) == (0, 0, 1)
    assert report["not_workflow_files"] == ["mkdocs.yml"]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        pytest.param(
            'exclude = "legacy"',
            r"`exclude` must be a list of strings \(globs\), not the string 'legacy'",
            id="a string is not a list",
        ),
        pytest.param(
            "include = [1, 2]",
            r"`include` must be a list of strings \(globs\), not \[1, 2\]",
            id="numbers are not globs",
        ),
        pytest.param("include = []", r"include needs at least one glob", id="no include glob"),
        pytest.param(
            'exclude = ["/srv/workflows/legacy"]',
            r"exclude: glob '/srv/workflows/legacy' is absolute",
            id="an absolute glob",
        ),
        pytest.param(
            'include = ["../*.yaml"]', r"include: glob '../\*.yaml' leaves the tree", id="dotdot"
        ),
    ],
)
def test_a_bad_glob_setting_in_the_config_file_is_refused_with_the_file_named(
    tmp_path: Path, line: str, words: str
) -> None:
    path = tmp_path / "scheduled.toml"
    path.write_text(f"[scheduled]\n{line}\n")
    with pytest.raises(ConfigError, match=words) as raised:
        resolve_settings(path, {})
    assert str(raised.value).startswith(f"{path}: ")


def test_a_bad_glob_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    code, report = _validate_globs(_glob_tree(tmp_path), "--exclude", "job-[0-9.yaml")
    assert code == 64 and "without its closing `]`" in str(report["usage"])


def test_globs_are_held_as_tuples_whichever_layer_gave_them() -> None:
    settings = build_settings([{"include": ["a/*.yaml"]}, {"exclude": ("b",)}])
    assert (settings.include, settings.exclude) == (("a/*.yaml",), ("b",))


def test_the_example_config_names_only_real_settings_with_good_values() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "scheduled.toml"
    settings = build_settings([read_config_file(example)])
    assert settings.exclude == ("mkdocs.yml", "docker-compose.yaml")
