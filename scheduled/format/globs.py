"""Which YAML files of the tree are workflow files: the `include` and `exclude` globs.

A repository root holds other YAML too (mkdocs.yml, docker-compose.yaml, Kubernetes manifests,
Helm templates). The globs are matched against a file's path relative to the root, with `/`
between folders, much as .gitignore lines are:

- a glob without `/` matches a name at any depth: `*.yaml`, `mkdocs.yml`, `deploy`;
- a glob with `/` (or starting with `./`) matches the path from the root: `workflows/*.yaml`;
- `*` and `?` stay within one name, `**` spans folders (`workflows/**/*.yaml`), `[abc]` and
  `[!abc]` are character classes;
- a glob that matches a folder matches everything in it: `exclude = ["deploy"]`; a trailing
  `/` (`deploy/`) matches folders only.

A file is a workflow file when an include glob matches it and no exclude glob does. Only
`*.yaml` and `*.yml` files are ever candidates (the tree walk and the daemon's watcher look at
nothing else), so the default include globs select all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scheduled.errors import ScheduledError

DEFAULT_INCLUDE = ("*.yaml", "*.yml")


class GlobError(ScheduledError):
    """A glob that cannot be meant: empty, absolute, with `..`, or an unclosed `[`."""


@dataclass(frozen=True, slots=True)
class Glob:
    text: str
    pattern: re.Pattern[str]
    anchored: bool  # matched against the path from the root, not against single names
    folders_only: bool  # written with a trailing `/`


def compile_glob(text: str) -> Glob:
    """The glob as a matcher; GlobError says why it cannot be one."""
    if not text.strip():
        raise GlobError("a glob must not be empty")
    if "\\" in text:
        raise GlobError(f"glob {text!r}: use `/` between folders (a backslash is not allowed)")
    if text.startswith("/"):
        raise GlobError(
            f"glob {text!r} is absolute; globs are relative to the tree's root "
            "(write `./name` to match only at the root)"
        )
    body = text.removeprefix("./")
    folders_only = body.endswith("/")
    body = body.rstrip("/")
    if not body:
        raise GlobError(f"glob {text!r} names no file or folder")
    if ".." in body.split("/"):
        raise GlobError(f"glob {text!r} leaves the tree (`..`); globs are relative to its root")
    anchored = text.startswith("./") or "/" in body
    return Glob(text, re.compile(_translate(text, body)), anchored, folders_only)


def _translate(text: str, body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if body.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif body.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            start = index + 2 if body.startswith("[!", index) else index + 1
            end = body.find("]", start + 1)  # a `]` first in the class is one of its members
            if end < 0:
                raise GlobError(f"glob {text!r} has a `[` without its closing `]`")
            members = body[start:end].replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[^{members}/]" if start == index + 2 else f"[{members}]")
            index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def _matches(glob: Glob, relative: str, *, is_folder: bool = False) -> bool:
    """Whether the glob matches the path or one of the folders it lies in."""
    parts = relative.split("/")
    if glob.anchored:
        candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    else:
        candidates = parts
    if glob.folders_only and not is_folder:
        candidates = candidates[:-1]  # the last part is the file itself
    return any(glob.pattern.fullmatch(candidate) for candidate in candidates)


@dataclass(frozen=True, slots=True)
class FileSelection:
    """The include and exclude globs of one tree, compiled once."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    _include: tuple[Glob, ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[Glob, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include", tuple(map(compile_glob, self.include)))
        object.__setattr__(self, "_exclude", tuple(map(compile_glob, self.exclude)))

    def selects(self, relative: str) -> bool:
        """Whether the file at this path (relative, `/` between folders) is a workflow file."""
        included = any(_matches(glob, relative) for glob in self._include)
        return included and not self.excludes(relative)

    def excludes(self, relative: str) -> bool:
        """Whether an exclude glob matches the file or a folder it lies in."""
        return any(_matches(glob, relative) for glob in self._exclude)

    def excludes_folder(self, relative: str) -> bool:
        """Whether an exclude glob matches this folder or one it lies in."""
        return any(_matches(glob, relative, is_folder=True) for glob in self._exclude)


DEFAULT_SELECTION = FileSelection()
