"""Finding and reading workflow files in hostile trees: links, loops, holes, pipes, odd bytes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from trees import workflow_yaml, write_workflow

from scheduled.format.globs import FileSelection
from scheduled.format.loader import LoadOptions, load_file, load_tree
from scheduled.format.tree import FoundFile, ReadProblem, find_workflow_files, read_text

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OPTIONS = LoadOptions(project="tree")
NOBODY = 65534


def names(root: Path) -> list[str]:
    return [found.relative for found in find_workflow_files(root)]


def problems(root: Path) -> dict[str, str | None]:
    return {found.relative: found.problem for found in find_workflow_files(root)}


def diagnostics(root: Path) -> list[tuple[str, str, str]]:
    result = load_tree(root, OPTIONS, now=NOW)
    return [(item.file, item.code, item.message) for item in result.diagnostics]


# -- which files count ----------------------------------------------------------------------


def test_yaml_and_yml_files_are_found_recursively_in_name_order(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "sub/deeper/c.yaml", "sub/a.yaml", "z/x.yaml"]:
        write_workflow(tmp_path, name, "id: x\n")
    assert names(tmp_path) == ["a.yml", "b.yaml", "sub/a.yaml", "sub/deeper/c.yaml", "z/x.yaml"]


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "workflow.json",
        "daily.YAML.txt",
        ".hidden.yaml",
        ".daily.yaml.swp",  # vim swap
        ".daily.yaml.swx",
        "daily.yaml~",  # emacs and many others: backup
        "#daily.yaml#",  # emacs auto-save
        ".#daily.yaml",  # emacs lock file
        "daily.yaml.bak",
        "daily.yaml.tmp",
    ],
)
def test_a_file_that_is_not_a_workflow_file_is_ignored(tmp_path: Path, name: str) -> None:
    write_workflow(tmp_path, name, "id: x\n")
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    "folder", [".git", ".github", ".hidden", "node_modules", "__pycache__", "a/.cache"]
)
def test_files_in_ignored_folders_are_not_found(tmp_path: Path, folder: str) -> None:
    write_workflow(tmp_path, f"{folder}/config.yaml", "id: x\n")
    write_workflow(tmp_path, "real.yaml", "id: x\n")
    assert names(tmp_path) == ["real.yaml"]


def test_a_folder_named_like_a_workflow_file_is_walked_not_read(tmp_path: Path) -> None:
    write_workflow(tmp_path, "odd.yaml/inner.yaml", "id: x\n")
    assert names(tmp_path) == ["odd.yaml/inner.yaml"]


def test_a_tree_nested_deeper_than_pythons_recursion_limit_is_walked(tmp_path: Path) -> None:
    folders = [tmp_path / "d"]
    for _ in range(1100):  # mkdir(parents=True) and rmtree would recurse: one level at a time
        folders[-1].mkdir()
        folders.append(folders[-1] / "d")
    bottom = write_workflow(folders[-2], "bottom.yaml", "id: x\n")
    try:
        assert names(tmp_path) == [bottom.relative_to(tmp_path).as_posix()]
    finally:
        bottom.unlink()
        for folder in reversed(folders[:-1]):
            folder.rmdir()


def test_a_missing_root_is_unreadable_not_empty(tmp_path: Path) -> None:
    result = load_tree(tmp_path / "missing", OPTIONS, now=NOW)
    assert not result.readable
    assert "does not exist" in result.root_problem


def test_a_file_given_as_the_root_is_unreadable_not_empty(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "daily.yaml", workflow_yaml("daily", every="1h"))
    result = load_tree(path, OPTIONS, now=NOW)
    assert not result.readable
    assert result.files == ()


# -- symlinks ---------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the root, holding a workflow file that is not part of the tree."""
    write_workflow(tmp_path, "outside/secret.yaml", workflow_yaml("secret", every="1h"))
    return tmp_path / "outside"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_workflow(tmp_path, "root/good.yaml", workflow_yaml("good", every="1h"))
    return tmp_path / "root"


def test_a_symlink_to_a_file_outside_the_root_is_reported_and_not_read(
    root: Path, outside: Path
) -> None:
    (root / "leak.yaml").symlink_to(outside / "secret.yaml")

    result = load_tree(root, OPTIONS, now=NOW)

    assert [(d.file, d.code) for d in result.diagnostics] == [("leak.yaml", "file.unreadable")]
    assert "points outside the tree" in result.diagnostics[0].message
    assert list(result.desired) == ["good"]
    assert "secret" not in result.claimed_workflow_ids


def test_a_symlinked_folder_outside_the_root_is_not_part_of_the_tree(
    root: Path, outside: Path
) -> None:
    (root / "linked").symlink_to(outside, target_is_directory=True)
    assert names(root) == ["good.yaml"]


def test_a_symlink_to_a_file_inside_the_root_counts_that_file_once(root: Path) -> None:
    (root / "alias.yaml").symlink_to(root / "good.yaml")

    result = load_tree(root, OPTIONS, now=NOW)

    assert names(root) == ["good.yaml"]
    assert result.diagnostics == ()
    assert list(result.desired) == ["good"]


def test_a_symlink_to_an_inside_file_with_another_name_is_read_under_the_links_name(
    root: Path,
) -> None:
    write_workflow(root, "shared/template.txt", workflow_yaml("templated", every="2h"))
    (root / "templated.yaml").symlink_to(root / "shared" / "template.txt")
    assert names(root) == ["good.yaml", "templated.yaml"]
    assert "templated" in load_tree(root, OPTIONS, now=NOW).desired


def test_a_symlinked_folder_inside_the_root_is_walked_once(root: Path) -> None:
    write_workflow(root, "team/daily.yaml", workflow_yaml("daily", every="1h"))
    (root / "also-team").symlink_to(root / "team", target_is_directory=True)
    assert names(root) == ["good.yaml", "team/daily.yaml"]


def test_a_folder_link_back_to_an_ancestor_ends_the_walk(root: Path) -> None:
    write_workflow(root, "sub/daily.yaml", workflow_yaml("daily", every="1h"))
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)
    assert names(root) == ["good.yaml", "sub/daily.yaml"]


def test_a_symlink_loop_is_reported_as_a_loop(root: Path) -> None:
    (root / "a.yaml").symlink_to(root / "b.yaml")
    (root / "b.yaml").symlink_to(root / "a.yaml")

    found = problems(root)

    assert found["a.yaml"] == found["b.yaml"] == "the symlink loops back on itself"
    assert found["good.yaml"] is None


def test_a_dangling_symlink_is_reported(root: Path) -> None:
    (root / "gone.yaml").symlink_to(root / "never-was.yaml")
    assert diagnostics(root) == [
        ("gone.yaml", "file.unreadable", "the symlink points to a file that does not exist")
    ]


# -- files that cannot be read ------------------------------------------------------------------


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temporary folder that an unprivileged user can enter (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="scheduled-tree-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder, subfolders, _ in os.walk(path):
            for name in subfolders:
                Path(folder, name).chmod(0o755)
        shutil.rmtree(path)


def as_unprivileged_user(work: Callable[[], Any]) -> Any:
    """Run work() in a forked child without root's power to read anything, return its result.

    Root ignores file permissions, so `chmod 000` proves nothing when the tests run as root: the
    child drops to `nobody` first. (The parent must already have imported what work() needs:
    the child cannot read root's Python installation.)
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(reader)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            os.write(writer, json.dumps(work()).encode())
            status = 0
        except BaseException as error:  # report anything to the parent, then leave
            os.write(writer, json.dumps({"child error": repr(error)}).encode())
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(output)
    assert os.waitstatus_to_exitcode(status) == 0, result
    return result


def load_as_unprivileged_user(root: Path) -> dict[str, Any]:
    """What `nobody` gets from loading root: the desired ids and the diagnostics."""

    def work() -> dict[str, Any]:
        result = load_tree(root, OPTIONS, now=NOW)
        return {
            "desired": sorted(result.desired),
            "diagnostics": [[d.file, d.code, d.message] for d in result.diagnostics],
        }

    return as_unprivileged_user(work)


def test_an_unreadable_file_is_reported_and_the_rest_of_the_tree_loads(world_tmp: Path) -> None:
    write_workflow(world_tmp, "good.yaml", workflow_yaml("good", every="1h"))
    locked = write_workflow(world_tmp, "locked.yaml", workflow_yaml("locked", every="1h"))
    locked.chmod(0)
    load_tree(world_tmp, OPTIONS, now=NOW)  # imports everything before privileges are dropped

    seen = load_as_unprivileged_user(world_tmp)

    assert seen == {
        "desired": ["good"],
        "diagnostics": [
            ["locked.yaml", "file.unreadable", "the file cannot be read: permission denied"]
        ],
    }


def test_an_unreadable_folder_is_reported_and_the_rest_of_the_tree_loads(world_tmp: Path) -> None:
    write_workflow(world_tmp, "good.yaml", workflow_yaml("good", every="1h"))
    write_workflow(world_tmp, "locked/inside.yaml", workflow_yaml("inside", every="1h"))
    (world_tmp / "locked").chmod(0)
    load_tree(world_tmp, OPTIONS, now=NOW)

    seen = load_as_unprivileged_user(world_tmp)

    assert seen == {
        "desired": ["good"],
        "diagnostics": [
            ["locked/", "file.unreadable", "the folder cannot be read: permission denied"]
        ],
    }


def test_an_unreadable_folder_that_exclude_leaves_out_is_no_error(world_tmp: Path) -> None:
    write_workflow(world_tmp, "good.yaml", workflow_yaml("good", every="1h"))
    write_workflow(world_tmp, "private/inside.yaml", workflow_yaml("inside", every="1h"))
    (world_tmp / "private").chmod(0)
    options = replace(OPTIONS, selection=FileSelection(exclude=("private",)))
    load_tree(world_tmp, options, now=NOW)

    def work() -> dict[str, Any]:
        result = load_tree(world_tmp, options, now=NOW)
        return {"diagnostics": len(result.diagnostics), "excluded": sorted(result.excluded)}

    assert as_unprivileged_user(work) == {"diagnostics": 0, "excluded": ["private/"]}


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    write_workflow(tmp_path, "good.yaml", workflow_yaml("good", every="1h"))

    result = load_tree(tmp_path, OPTIONS, now=NOW)

    assert [(d.file, d.code) for d in result.diagnostics] == [("pipe.yaml", "file.not-regular")]
    assert list(result.desired) == ["good"]


def test_a_file_deleted_after_the_walk_is_reported_as_gone(tmp_path: Path) -> None:
    vanished = FoundFile("vanished.yaml", tmp_path / "vanished.yaml")

    result = load_file(vanished, OPTIONS, now=NOW)

    (diagnostic,) = result.diagnostics
    assert (diagnostic.file, diagnostic.code) == ("vanished.yaml", "file.unreadable")
    assert diagnostic.message == "the file disappeared while it was being read"
    assert result.schedule is None


def test_a_folder_given_as_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    problem = read_text(tmp_path / "folder")
    assert isinstance(problem, ReadProblem)
    assert problem.code == "file.not-regular"


# -- bytes ------------------------------------------------------------------------------------------


def test_a_file_at_the_size_cap_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    at_cap = write_workflow(tmp_path, "at.yaml", b"#" * 100)
    over = write_workflow(tmp_path, "over.yaml", b"#" * 101)
    assert read_text(at_cap, max_bytes=100) == "#" * 100
    problem = read_text(over, max_bytes=100)
    assert isinstance(problem, ReadProblem)
    assert problem.code == "file.too-large"


def test_the_size_cap_comes_from_the_load_options(tmp_path: Path) -> None:
    write_workflow(tmp_path, "daily.yaml", workflow_yaml("daily", every="1h"))
    small = LoadOptions(project="tree", max_file_bytes=10)
    (diagnostic,) = load_tree(tmp_path, small, now=NOW).diagnostics
    assert diagnostic.code == "file.too-large"
    assert "larger than 10 bytes" in diagnostic.message


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "bom.yaml", "\ufeffid: x\n".encode())
    assert read_text(path) == "id: x\n"


def test_a_nul_byte_is_located_by_line_and_column(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "nul.yaml", b"id: x\nab\x00c\n")
    problem = read_text(path)
    assert isinstance(problem, ReadProblem)
    assert (problem.code, problem.line, problem.column) == ("file.binary", 2, 3)


def test_a_utf16_file_is_called_binary_with_a_hint_to_save_it_as_utf8(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "utf16.yaml", "id: x\n".encode("utf-16"))
    problem = read_text(path)
    assert isinstance(problem, ReadProblem)
    assert problem.code == "file.binary"
    assert "UTF-16" in problem.message


def test_an_invalid_utf8_byte_is_located_in_characters_not_bytes(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "latin.yaml", "id: x\nnote: é ".encode() + b"\xff\n")
    problem = read_text(path)
    assert isinstance(problem, ReadProblem)
    assert (problem.code, problem.line, problem.column) == ("file.encoding", 2, 9)
    assert "0xff" in problem.message
