"""Safe YAML reading that remembers where every value stood, and survives hostile files.

The document is built from the parser's event stream, not from PyYAML's constructors: that
keeps it iterative (deep nesting cannot blow the stack), lets aliases be counted as they expand
(a "billion laughs" file is refused before anything multiplies), refuses tags that would build
Python objects, reports duplicate keys (PyYAML silently keeps the last), and records the
`line:column` of each value and key for diagnostics. Scalars are typed by the YAML 1.2 core
schema (yaml_core), as editors type them, not by PyYAML's YAML 1.1 resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml import events as ev

try:  # libyaml's C parser when the wheel has it: several times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from scheduled.errors import ScheduledError
from scheduled.format import yaml_core

# Where a value stands in a document: keys and list indexes from the root. Named apart from
# pathlib.Path, which the loader also uses.
DocPath = tuple[str | int, ...]

MAX_DEPTH = 64
MAX_EXPANDED_VALUES = 100_000

_STANDARD_SCALARS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}


class YamlReadError(ScheduledError):
    """The text is not a YAML document this tool will read; carries the 1-based position."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code


class Position(NamedTuple):
    """Where a value or key starts. A named tuple: one is made for every value of every file."""

    line: int  # 1-based
    column: int  # 1-based, at the first character of the content (inside quotes)


_new_position = tuple.__new__  # Position's own __new__, without its Python-level wrapper


@dataclass(slots=True)
class Document:
    """A parsed document: plain Python data plus where each value and key stood."""

    data: Any
    values: dict[DocPath, Position] = field(default_factory=dict)
    keys: dict[DocPath, Position] = field(default_factory=dict)
    # The text of each plain scalar that YAML typed as something else (a number, a boolean,
    # null): a field that is text whatever it looks like (`id: 0123`) takes it as written.
    texts: dict[DocPath, str] = field(default_factory=dict)

    def position(self, path: DocPath, *, key: bool = False) -> Position:
        """The closest recorded position for path, walking up to the parent when needed."""
        table = self.keys if key else self.values
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))


_QUOTES = ("'", '"')


def _position(mark: Any, style: str | None = None) -> Position:
    quoted = 1 if style in _QUOTES else 0
    return Position(mark.line + 1, mark.column + 1 + quoted)


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    path: DocPath
    anchor: str | None
    is_map: bool
    size: int = 1
    pending_key: str | None = None
    pending_key_position: Position | None = None
    merge_next: bool = False
    explicit_keys: dict[str, Position] = field(default_factory=dict)


_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_CONSTRUCTED_TAGS = _STANDARD_SCALARS - {_STR_TAG, _TIMESTAMP_TAG}
_TYPED_FIRST = yaml_core.TYPED_FIRST


def _scalar_value(event: ev.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        value = event.value
        if not event.implicit[0]:
            return value  # quoted, block or `!`-tagged: always a string
        if value and value[0] not in _TYPED_FIRST:
            return value
        return yaml_core.resolve_plain(value)
    if tag in (_STR_TAG, _TIMESTAMP_TAG):
        return event.value  # timestamps are kept as text: the format checks dates itself
    if tag not in _CONSTRUCTED_TAGS:
        _refuse_tag(tag, event)
        return event.value  # a local tag such as !Ref: keep the text, ignore the tag
    try:
        return yaml_core.construct(tag, event.value)
    except yaml_core.ScalarError as error:
        raise _error_at(
            event.start_mark, str(error), code="yaml.bad-value", style=event.style
        ) from error


def _error_at(mark: Any, message: str, *, code: str, style: str | None = None) -> YamlReadError:
    """A YamlReadError located at a parser mark (1-based, inside quotes)."""
    position = _position(mark, style)
    return YamlReadError(message, line=position.line, column=position.column, code=code)


def _refuse_tag(tag: str | None, event: ev.NodeEvent) -> None:
    if tag and tag.startswith("tag:yaml.org,2002:python/"):
        raise _error_at(
            event.start_mark,
            f"the tag !!{tag.removeprefix('tag:yaml.org,2002:')} would build a Python object; "
            "workflow files may hold only plain data (strings, numbers, lists, mappings)",
            code="yaml.unsafe-tag",
        )


def read_yaml(text: str) -> Document:
    """Parse exactly one YAML document. Raises YamlReadError with a position on any problem."""
    (document,) = _parse(text, single=True)
    return document


def read_yaml_documents(text: str) -> list[Document]:
    """Every document of a YAML stream (a Kubernetes file of several `---`), with the same
    limits as read_yaml (the expansion limit counts the whole file); an empty document is
    one whose data is None. Raises YamlReadError as read_yaml does."""
    return _parse(text, single=False)


def _parse(text: str, *, single: bool) -> list[Document]:
    loader = _Loader(text)
    try:
        return _read(loader, single=single)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "the YAML syntax is broken"
        context = f" ({error.context})" if error.context and error.problem else ""
        raise YamlReadError(
            f"YAML syntax error: {problem}{context}",
            line=(mark.line + 1) if mark else 0,
            column=(mark.column + 1) if mark else 0,
            code="yaml.syntax",
        ) from error
    except yaml.YAMLError as error:
        raise YamlReadError(f"YAML error: {error}", code="yaml.syntax") from error
    finally:
        loader.dispose()


# Long on purpose: the benchmarked hot loop over the parser's events, kept inline (bench_load).
def _read(loader: Any, *, single: bool) -> list[Document]:
    """The event loop: one pass, an explicit stack, the most frequent events tested first."""
    get_event = loader.get_event
    documents: list[Document] = []
    document: Document | None = None
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    total = 0
    root: Any = None
    have_root = False
    empty_root = False  # the document is a bare `---`: nothing but an implicit null
    while True:
        event = get_event()
        kind = type(event)
        if kind is ev.ScalarEvent:
            assert document is not None
            total += 1
            if total > MAX_EXPANDED_VALUES:
                _check_expansion(total, event)
            mark = event.start_mark
            style = event.style
            position: Position = _new_position(
                Position, (mark.line + 1, mark.column + (2 if style in _QUOTES else 1))
            )
            if stack:
                frame = stack[-1]
                if frame.is_map and frame.pending_key is None and not frame.merge_next:
                    # A key: its text is the key, whatever type a value would have had.
                    key = event.value
                    unusual = event.tag is not None or event.anchor or key == "<<"
                    if unusual or key in frame.explicit_keys:  # typed, anchored, merge, twice
                        value = _scalar_value(event)
                        if event.anchor:
                            anchors[event.anchor] = (value, 1)
                        _take_key(frame, value, event, position)
                        continue
                    frame.explicit_keys[key] = position  # _take_key's common case, inlined
                    frame.pending_key = key
                    frame.pending_key_position = position
                    continue
                value = _scalar_value(event)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                key = frame.pending_key
                if key is not None:  # the common case, inlined: a value for a key
                    path = (*frame.path, key)
                    document.values[path] = position
                    if type(value) is not str:
                        document.texts[path] = event.value
                    document.keys[path] = frame.pending_key_position  # type: ignore[assignment]
                    frame.container[key] = value  # type: ignore[call-overload]
                    frame.size += 1
                    frame.pending_key = None
                    frame.pending_key_position = None
                    continue
                path = _child_path(stack)
                if type(value) is not str:
                    document.texts[path] = event.value
                _attach(stack, document, value, 1, path, position)
                continue
            value = _scalar_value(event)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            if type(value) is not str:
                document.texts[()] = event.value
            _attach(stack, document, value, 1, (), position)
            root, have_root = value, True
            empty_root = event.value == "" and not event.style and event.tag is None
            continue

        if kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            assert document is not None
            frame = stack.pop()
            value, size = frame.container, frame.size
            if frame.anchor:
                anchors[frame.anchor] = (value, size)
            _attach(stack, document, value, size, frame.path, None)
            if not stack:
                root, have_root = value, True
            continue

        if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            assert document is not None
            _refuse_tag(event.tag, event)
            if stack and _is_key_slot(stack[-1]):
                raise _error_at(
                    event.start_mark,
                    "a mapping key must be a plain value, not a list or mapping",
                    code="yaml.complex-key",
                )
            if len(stack) >= MAX_DEPTH:
                raise _error_at(
                    event.start_mark,
                    f"values are nested more than {MAX_DEPTH} levels deep",
                    code="yaml.too-deep",
                )
            total += 1
            _check_expansion(total, event)
            container: dict[str, Any] | list[Any] = {} if kind is ev.MappingStartEvent else []
            path = _child_path(stack)
            document.values[path] = _position(event.start_mark)
            stack.append(_Frame(container, path, event.anchor, kind is ev.MappingStartEvent))
            continue

        if kind is ev.AliasEvent:
            assert document is not None
            if event.anchor not in anchors:
                raise _error_at(
                    event.start_mark,
                    f"the alias *{event.anchor} refers to an anchor that is not defined before it",
                    code="yaml.unknown-alias",
                )
            value, size = anchors[event.anchor]
            total += size
            _check_expansion(total, event)
            position = _position(event.start_mark)
            if stack and _is_key_slot(stack[-1]):
                if isinstance(value, dict | list):
                    raise YamlReadError(
                        "a mapping key must be a plain value, not a list or mapping",
                        line=position.line,
                        column=position.column,
                        code="yaml.complex-key",
                    )
                _take_key(stack[-1], str(value), event, position)
                continue
            if not _attach(stack, document, value, size, _child_path(stack), position, alias=True):
                root, have_root = value, True
            continue

        if kind is ev.DocumentStartEvent:
            if document is not None:
                if single:
                    raise _error_at(
                        event.start_mark,
                        "the file holds more than one YAML document (a second '---'); "
                        "put one workflow in each file",
                        code="yaml.multiple-documents",
                    )
                document.data = root
                documents.append(document)
                anchors = {}  # an anchor is known only in its own document
                root, have_root, empty_root = None, False, False
            document = Document(data=None)
            continue
        if kind is ev.StreamEndEvent or event is None:
            break
        # StreamStartEvent, DocumentEndEvent: nothing to do
    if not single:
        if document is not None:
            document.data = root
            documents.append(document)
        return documents
    if document is None or not have_root or (root is None and empty_root):
        raise YamlReadError(
            "the file has no content (it is empty or holds only comments); "
            "a workflow file needs at least an `id`",
            code="yaml.empty",
        )
    document.data = root
    return [document]


def _check_expansion(total: int, event: ev.Event) -> None:
    if total > MAX_EXPANDED_VALUES:
        raise _error_at(
            event.start_mark,
            f"the document expands to more than {MAX_EXPANDED_VALUES:,} values through "
            "anchors and aliases (a 'billion laughs' file?)",
            code="yaml.alias-bomb",
        )


def _is_key_slot(frame: _Frame) -> bool:
    return isinstance(frame.container, dict) and frame.pending_key is None and not frame.merge_next


def _child_path(stack: list[_Frame]) -> DocPath:
    if not stack:
        return ()
    frame = stack[-1]
    if isinstance(frame.container, list):
        return (*frame.path, len(frame.container))
    return (*frame.path, frame.pending_key if frame.pending_key is not None else "<<")


def _take_key(frame: _Frame, value: Any, event: ev.NodeEvent, position: Position) -> None:
    style = getattr(event, "style", None)
    if value == "<<" and not style and isinstance(event, ev.ScalarEvent):
        frame.merge_next = True
        return
    key = value if isinstance(value, str) else str(getattr(event, "value", value))
    if key in frame.explicit_keys:
        first = frame.explicit_keys[key]
        raise YamlReadError(
            f"the key {key!r} appears twice in the same mapping (first at line {first.line}); "
            "YAML keeps only one of them, so say it once",
            line=position.line,
            column=position.column,
            code="yaml.duplicate-key",
        )
    frame.explicit_keys[key] = position
    frame.pending_key = key
    frame.pending_key_position = position


def _attach(
    stack: list[_Frame],
    document: Document,
    value: Any,
    size: int,
    path: DocPath,
    position: Position | None,
    *,
    alias: bool = False,
) -> bool:
    """Put a finished value into its parent; returns False when it is the document's root."""
    if position is not None:
        document.values[path] = position
    if not stack:
        return False
    parent = stack[-1]
    parent.size += size
    if isinstance(parent.container, list):
        parent.container.append(value)
        return True
    if parent.merge_next:
        parent.merge_next = False
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                line, column = (position.line, position.column) if position else (0, 0)
                raise YamlReadError(
                    "a merge key (<<) must refer to a mapping or a list of mappings",
                    line=line,
                    column=column,
                    code="yaml.bad-merge",
                )
            for key, item in source.items():
                parent.container.setdefault(key, item)
        return True
    assert parent.pending_key is not None
    if parent.pending_key_position is not None:
        document.keys[(*parent.path, parent.pending_key)] = parent.pending_key_position
    parent.container[parent.pending_key] = value
    parent.pending_key = None
    parent.pending_key_position = None
    return True
