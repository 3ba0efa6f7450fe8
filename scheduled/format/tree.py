"""Finding workflow files under a root, and reading them without trusting them.

Which files count: `*.yaml` and `*.yml`, recursively; hidden files and folders (so `.git`),
editor swap and backup files are skipped. Symlinks are followed only while they stay inside the
root, and each real file or folder is visited once, so a link loop ends and a link to a file
that is already in the tree does not count it twice.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WORKFLOW_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FoundFile:
    relative: str  # posix path relative to the root: the file's name in every report
    path: Path  # as found under the root (not resolved), used to read it
    problem: str | None = None  # why it cannot be read, when the walk already knows


@dataclass(frozen=True, slots=True)
class ReadProblem:
    message: str
    code: str
    offset: int | None = None  # byte offset of the problem, when there is one
    line: int = 0  # 1-based line and column of that byte; 0 when there is none
    column: int = 0


def is_workflow_file_name(name: str) -> bool:
    """The file-name rule alone, shared by the tree walk and the watcher's filter."""
    if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".bak", ".tmp")):
        return False
    return name.endswith(WORKFLOW_SUFFIXES)


def is_ignored_dir_name(name: str) -> bool:
    return name.startswith(".") or name in ("__pycache__", "node_modules")


def relative_name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def find_workflow_files(root: Path) -> Iterator[FoundFile]:
    """Yield the workflow files under root, sorted by name, each real file once.

    Raises OSError when the root itself is missing or cannot be listed; any other folder or file
    that cannot be read becomes a FoundFile with a `problem`, so the rest of the tree still loads.
    The walk keeps its own stack (no recursion), so a very deep tree cannot exhaust Python's.
    It walks the root's real path, resolved once: when git-sync swaps the root link mid-walk,
    the walk stays in one checkout instead of mixing two.
    """
    real_root = root.resolve(strict=True)
    return iter(sorted(_walk(real_root, real_root), key=lambda item: item.relative))


# Long on purpose: one explicit-stack walk that owns every distrust rule of the tree in one place.
def _walk(root: Path, real_root: Path) -> list[FoundFile]:
    found: list[FoundFile] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    linked_files: list[tuple[FoundFile, tuple[int, int]]] = []
    # Real folders are walked before linked ones, and real files win over links to them, so a
    # link to something already in the tree adds nothing (and never a second copy of an id).
    folders: list[Path] = [root]
    linked_folders: list[Path] = []
    while folders or linked_folders:
        folder = folders.pop() if folders else linked_folders.pop()
        try:
            info = folder.stat()
            entries = list(os.scandir(folder))
        except OSError as error:
            if folder == root:
                raise
            problem = _os_problem(error, "folder")
            found.append(FoundFile(relative_name(root, folder) + "/", folder, problem))
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in seen_dirs:
            continue  # a link loop, or a second link to a folder already walked
        seen_dirs.add(identity)
        for entry in entries:
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as error:  # a link loop, or a race with deletion
                if is_workflow_file_name(entry.name):
                    problem = (
                        _link_problem(path, real_root) if _is_symlink(entry) else None
                    ) or _os_problem(error, "file")
                    found.append(FoundFile(relative_name(root, path), path, problem))
                continue
            if is_dir:
                if is_ignored_dir_name(entry.name):
                    continue
                if not is_link:
                    folders.append(path)
                elif _inside(path, real_root):
                    linked_folders.append(path)
                continue  # a linked folder outside the tree is not part of it
            if not is_workflow_file_name(entry.name):
                continue
            relative = relative_name(root, path)
            if not is_link:
                seen_files.add((info.st_dev, entry.inode()))
                found.append(FoundFile(relative, path))
                continue
            link_problem = _link_problem(path, real_root)
            if link_problem is not None:
                found.append(FoundFile(relative, path, link_problem))
                continue
            try:
                target = path.stat()
            except OSError as error:  # pragma: no cover - a race with deletion
                found.append(FoundFile(relative, path, _os_problem(error, "file")))
                continue
            linked_files.append((FoundFile(relative, path), (target.st_dev, target.st_ino)))
    for item, identity in linked_files:
        if identity not in seen_files:
            seen_files.add(identity)
            found.append(item)
    return found


def _inside(path: Path, real_root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(real_root)
    except (OSError, RuntimeError):
        return False


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:  # pragma: no cover - only when the file system gives no file type
        return False


def _link_problem(path: Path, real_root: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 and 3.12 say "symlink loop" this way
        return "the symlink loops back on itself"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "the symlink loops back on itself"
        return "the symlink points to a file that does not exist"
    if not target.is_relative_to(real_root):
        return f"the symlink points outside the tree (to {target}); it is not read"
    return None


def _os_problem(error: OSError, what: str) -> str:
    if isinstance(error, PermissionError):
        return f"the {what} cannot be read: permission denied"
    if isinstance(error, FileNotFoundError):
        return f"the {what} disappeared while it was being read"
    return f"the {what} cannot be read: {error.strerror or error}"


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str | ReadProblem:
    """The file's text, or why it is not acceptable (size, binary, encoding, I/O)."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY)
    except OSError as error:
        return ReadProblem(_os_problem(error, "file"), "file.unreadable")
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            return ReadProblem(
                "this is not a regular file (a folder, pipe, socket or device); it is not read",
                "file.not-regular",
            )
        with open(descriptor, "rb", closefd=True) as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        return ReadProblem(_os_problem(error, "file"), "file.unreadable")
    if len(raw) > max_bytes:
        return ReadProblem(
            f"the file is larger than {_size(max_bytes)}; workflow files are small, "
            "so this one is not read",
            "file.too-large",
        )
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        return ReadProblem(
            "the file holds NUL bytes: it looks binary, not like YAML text (a UTF-16 file "
            "looks like this too; save it as UTF-8)",
            "file.binary",
            offset,
            *line_and_column(raw[:offset]),
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return ReadProblem(
            f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8",
            "file.encoding",
            error.start,
            *line_and_column(raw[: error.start]),
        )


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count >= 1024:
        return f"{count // 1024} KiB"
    return f"{count} bytes"


def line_and_column(raw_prefix: bytes) -> tuple[int, int]:
    """1-based line and column of the byte after raw_prefix, counted in characters like YAML's."""
    line = raw_prefix.count(b"\n") + 1
    last_line = raw_prefix[raw_prefix.rfind(b"\n") + 1 :]
    if line == 1 and last_line.startswith(b"\xef\xbb\xbf"):
        last_line = last_line[3:]  # the UTF-8 byte order mark is not a character of the text
    column = len(last_line.decode("utf-8", errors="replace")) + 1
    return line, column
