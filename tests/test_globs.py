"""The include and exclude globs: which YAML files of a tree are workflow files."""

from __future__ import annotations

import pytest

from scheduled.format.globs import DEFAULT_INCLUDE, FileSelection, GlobError, compile_glob


@pytest.mark.parametrize("path", ["a.yaml", "b.yml", "reports/daily.yaml", "a/b/c/d.yml"])
def test_the_default_selects_every_yaml_file_at_any_depth(path: str) -> None:
    assert FileSelection().selects(path)
    assert FileSelection().include == DEFAULT_INCLUDE


@pytest.mark.parametrize(
    ("glob", "path", "selected"),
    [
        # no `/`: a name at any depth
        ("mkdocs.yml", "mkdocs.yml", False),
        ("mkdocs.yml", "docs/mkdocs.yml", False),
        ("mkdocs.yml", "mkdocs.yml.yaml", True),
        # a folder's name excludes everything in it
        ("deploy", "deploy/worker.yaml", False),
        ("deploy", "team/deploy/worker.yaml", False),
        ("deploy", "deployments/worker.yaml", True),
        # a trailing `/`: folders only
        ("charts/", "charts/values.yaml", False),
        ("charts.yaml/", "charts.yaml", True),
        # `./` and any `/`: from the root only
        ("./docker-compose.yaml", "docker-compose.yaml", False),
        ("./docker-compose.yaml", "sub/docker-compose.yaml", True),
        ("legacy/old", "legacy/old/job.yaml", False),
        ("legacy/old", "x/legacy/old/job.yaml", True),
        # `*` stays within a name, `**` spans folders
        ("k8s/*.yaml", "k8s/a.yaml", False),
        ("k8s/*.yaml", "k8s/prod/a.yaml", True),  # `*` does not reach into k8s/prod
        ("*/values.yaml", "chart/values.yaml", False),
        ("*/values.yaml", "a/chart/values.yaml", True),
        ("**/values.yaml", "a/chart/values.yaml", False),
        ("**/templates/**", "chart/templates/deploy.yaml", False),
        # `?` and classes
        ("job-?.yaml", "job-1.yaml", False),
        ("job-?.yaml", "job-10.yaml", True),
        ("job-[0-4].yaml", "job-3.yaml", False),
        ("job-[!0-4].yaml", "job-3.yaml", True),
        ("job-[!0-4].yaml", "job-7.yaml", False),
    ],
)
def test_an_exclude_glob_leaves_out_what_it_matches(glob: str, path: str, selected: bool) -> None:
    assert FileSelection(exclude=(glob,)).selects(path) is selected


def test_an_include_glob_with_a_folder_selects_only_what_lies_under_it() -> None:
    selection = FileSelection(include=("workflows/**/*.yaml", "jobs"))
    chosen = [
        path
        for path in (
            "workflows/a.yaml",
            "workflows/team/b.yaml",
            "workflows/c.yml",
            "mkdocs.yml",
            "other/workflows/d.yaml",
            "jobs/e.yml",
            "team/jobs/f.yaml",
        )
        if selection.selects(path)
    ]
    assert chosen == ["workflows/a.yaml", "workflows/team/b.yaml", "jobs/e.yml", "team/jobs/f.yaml"]


def test_exclude_wins_over_include() -> None:
    selection = FileSelection(include=("workflows/**",), exclude=("workflows/drafts",))
    assert selection.selects("workflows/a.yaml")
    assert not selection.selects("workflows/drafts/a.yaml")


def test_a_folder_is_excluded_by_a_glob_on_it_or_on_a_folder_above_it() -> None:
    selection = FileSelection(exclude=("private", "./vendor/*"))
    assert selection.excludes_folder("private")
    assert selection.excludes_folder("team/private/more")
    assert selection.excludes_folder("vendor/lib")
    assert not selection.excludes_folder("vendor")
    assert not selection.excludes_folder("workflows")


@pytest.mark.parametrize(
    ("glob", "words"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("/srv/workflows/*.yaml", "is absolute"),
        ("../other/*.yaml", "leaves the tree"),
        ("a/../../b", "leaves the tree"),
        ("workflows\\*.yaml", "use `/` between folders"),
        ("job-[0-9.yaml", "without its closing `]`"),
        ("./", "names no file or folder"),
    ],
)
def test_a_glob_that_cannot_be_meant_is_refused(glob: str, words: str) -> None:
    with pytest.raises(GlobError, match=words):
        compile_glob(glob)


def test_a_closing_bracket_first_in_a_class_is_one_of_its_members() -> None:
    assert compile_glob("[]x].yaml").pattern.fullmatch("].yaml")
    assert not compile_glob("[!]x].yaml").pattern.fullmatch("].yaml")


def test_regex_characters_in_a_glob_are_plain_characters() -> None:
    selection = FileSelection(exclude=("a+b (1).yaml",))
    assert not selection.selects("a+b (1).yaml")
    assert selection.selects("aab (1).yaml")
