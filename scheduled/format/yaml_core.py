"""Scalars as the YAML 1.2 core schema types them, which is what editors check against.

PyYAML resolves plain scalars by YAML 1.1, where `yes`, `no`, `on`, `off`, `y` and `n` are
booleans, `010` is octal 8 and `1:30` is the sexagesimal number 90. yaml-language-server (VS
Code's YAML extension and every other client of it) reads YAML 1.2 by default, where all of
those are text or decimal: so a file that the editor and the JSON Schema call valid read
differently here. This module is the 1.2 core schema (YAML 1.2.2, section 10.3), so that the
schema means the same thing in the editor and in `scheduled`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from scheduled.errors import ScheduledError

NULLS = frozenset({"", "~", "null", "Null", "NULL"})
TRUE = frozenset({"true", "True", "TRUE"})
FALSE = frozenset({"false", "False", "FALSE"})
# Booleans in YAML 1.1 that are text in 1.2: the words a boolean field gets a hint for.
YAML_1_1_TRUE = frozenset({"yes", "y", "on"})
YAML_1_1_FALSE = frozenset({"no", "n", "off"})

_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = frozenset({".nan", ".NaN", ".NAN"})

# The first characters of every plain scalar the core schema gives a type other than text:
# any other first character means text, without trying the patterns.
TYPED_FIRST = frozenset("0123456789-+.~nNtTfF")

# Python refuses int() of text longer than this (sys.int_info.default_max_str_digits).
_MAX_DIGITS = 4300


class ScalarError(ScheduledError):
    """An explicitly tagged scalar (`!!int three`) that is not a value of its tag."""


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar: null, a boolean, an int, a float, or the text."""
    if text in NULLS:
        return None
    first = text[0]
    if first not in TYPED_FIRST:
        return text
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    number = _number(text)
    return text if number is None else number


def _number(text: str) -> int | float | None:
    if len(text) > _MAX_DIGITS:
        return None  # text: a number that long cannot be meant as one
    if _DECIMAL.fullmatch(text):
        return int(text, 10)  # `010` is ten: YAML 1.2 has no leading-zero octal
    if _OCTAL.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if text in _NAN:
        return math.nan
    return None


def construct(tag: str, text: str) -> Any:
    """The value of a scalar with an explicit standard tag (`!!int 0o17`), by the 1.2 core
    schema's forms of that tag; ScalarError when the text is not one of them."""
    name = tag.removeprefix("tag:yaml.org,2002:")
    if name == "null" and text in NULLS:
        return None
    if name == "bool":
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        hint = _boolean_hint(text)
        raise ScalarError(f"{text!r} is not a valid !!bool value{hint}")
    if name in ("int", "float"):
        number = _number(text) if text else None
        if name == "int" and isinstance(number, int):
            return number
        if name == "float" and number is not None:
            return float(number)
    if name == "binary":
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            pass
    raise ScalarError(f"{text!r} is not a valid !!{name} value")


def _boolean_hint(text: str) -> str:
    word = text.lower()
    if word in YAML_1_1_TRUE or word in YAML_1_1_FALSE:
        return boolean_fix(text)
    return "; write true or false"


def boolean_fix(text: str) -> str:
    """The fix for a YAML 1.1 boolean word (`no`) where a boolean is expected."""
    meant = "true" if text.lower() in YAML_1_1_TRUE else "false"
    return (
        f"; workflow files are read as YAML 1.2, where {text!r} is text, not a boolean: "
        f"write true or false (here probably {meant})"
    )
