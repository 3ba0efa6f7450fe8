"""read_yaml: plain data with positions, and a refusal with a position for anything hostile."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from scheduled.format.yaml_reader import (
    MAX_DEPTH,
    MAX_EXPANDED_VALUES,
    Position,
    YamlReadError,
    read_yaml,
)


def refusal(text: str) -> YamlReadError:
    with pytest.raises(YamlReadError) as caught:
        read_yaml(text)
    return caught.value


# -- plain data -------------------------------------------------------------------------------


def test_scalars_get_their_yaml_types() -> None:
    document = read_yaml(
        "text: hello\nnumber: 42\nhex: 0x1F\nratio: 1.5\nyes_word: yes\nflag: false\n"
        "nothing: ~\nempty:\nquoted_number: '42'\nquoted_bool: \"true\"\n"
    )
    assert document.data == {
        "text": "hello",
        "number": 42,
        "hex": 31,
        "ratio": 1.5,
        "yes_word": True,
        "flag": False,
        "nothing": None,
        "empty": None,
        "quoted_number": "42",
        "quoted_bool": "true",
    }


def test_timestamps_stay_text_for_the_format_to_interpret() -> None:
    document = read_yaml("start_at: 2026-01-01T09:00:00Z\nday: 2026-02-30\n")
    assert document.data == {"start_at": "2026-01-01T09:00:00Z", "day": "2026-02-30"}


def test_nested_lists_and_mappings_are_plain_python_values() -> None:
    document = read_yaml("a:\n  - 1\n  - {b: [x, y]}\n  - - nested\n")
    assert document.data == {"a": [1, {"b": ["x", "y"]}, ["nested"]]}


def test_block_scalars_keep_their_text() -> None:
    document = read_yaml("note: |\n  line one\n  line two\nfolded: >\n  a\n  b\n")
    assert document.data == {"note": "line one\nline two\n", "folded": "a b\n"}


def test_keys_that_look_like_other_types_become_their_text() -> None:
    document = read_yaml("1: one\ntrue: yes\nnull: nothing\n1.5: x\n")
    assert document.data == {"1": "one", "true": True, "null": "nothing", "1.5": "x"}


def test_a_byte_order_mark_free_text_with_unicode_is_read_as_is() -> None:
    assert read_yaml("note: café ☕\n").data == {"note": "café ☕"}


def test_local_tags_are_ignored_and_keep_the_text() -> None:
    assert read_yaml("ref: !Ref other-stack\n").data == {"ref": "other-stack"}


def test_binary_values_become_bytes() -> None:
    assert read_yaml("blob: !!binary aGVsbG8=\n").data == {"blob": b"hello"}


def test_anchors_and_aliases_repeat_a_value() -> None:
    document = read_yaml("base: &base [a, b]\ncopy: *base\nname: &n x\nagain: *n\n")
    assert document.data == {"base": ["a", "b"], "copy": ["a", "b"], "name": "x", "again": "x"}


def test_merge_keys_fill_in_keys_that_the_mapping_does_not_set() -> None:
    document = read_yaml(
        "defaults: &defaults {timezone: UTC, jitter: 30s}\n"
        "schedule:\n  <<: *defaults\n  jitter: 1m\n"
    )
    assert document.data["schedule"] == {"timezone": "UTC", "jitter": "1m"}


def test_a_merge_of_a_list_of_mappings_takes_the_first_mention_of_each_key() -> None:
    document = read_yaml("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n")
    assert document.data["c"] == {"x": 1, "y": 2}


# -- positions ----------------------------------------------------------------------------------


def test_each_value_has_its_line_and_column_counted_from_one() -> None:
    document = read_yaml("id: daily\nschedule:\n  cron: '0 9 * * *'\n  every:\n    - 15m\n")
    assert document.values[("id",)] == Position(1, 5)
    assert document.values[("schedule",)] == Position(3, 3)
    assert document.values[("schedule", "every", 0)] == Position(5, 7)


def test_a_quoted_value_is_located_at_its_first_character_inside_the_quotes() -> None:
    document = read_yaml("cron: \"0 9 * * *\"\nother: 'x'\n")
    assert document.values[("cron",)] == Position(1, 8)
    assert document.values[("other",)] == Position(2, 9)


def test_each_key_has_its_own_position() -> None:
    document = read_yaml("schedule:\n  cronn: x\n")
    assert document.position(("schedule", "cronn"), key=True) == Position(2, 3)
    assert document.position(("schedule", "cronn")) == Position(2, 10)


def test_a_path_without_a_position_falls_back_to_its_parent() -> None:
    document = read_yaml("schedule:\n  every: 15m\n")
    assert document.position(("schedule", "missing")) == Position(2, 3)
    assert document.position(("nowhere", "at", "all")) == Position(1, 1)


# -- refusals -----------------------------------------------------------------------------------


def test_a_duplicate_key_is_refused_where_it_appears_the_second_time() -> None:
    error = refusal("id: a\nschedule:\n  every: 15m\n  every: 1h\n")
    assert (error.code, error.line, error.column) == ("yaml.duplicate-key", 4, 3)
    assert "first at line 3" in error.message


def test_the_same_key_in_two_different_mappings_is_fine() -> None:
    assert read_yaml("a: {x: 1}\nb: {x: 2}\n").data == {"a": {"x": 1}, "b": {"x": 2}}


def test_a_second_document_is_refused() -> None:
    error = refusal("id: a\n---\nid: b\n")
    assert (error.code, error.line, error.column) == ("yaml.multiple-documents", 2, 1)


def test_an_explicit_end_of_document_marker_alone_is_fine() -> None:
    assert read_yaml("---\nid: a\n...\n").data == {"id": "a"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- # nothing\n"])
def test_a_file_without_content_is_called_empty(text: str) -> None:
    error = refusal(text)
    assert error.code == "yaml.empty"
    assert "no content" in error.message


def test_an_explicit_null_document_is_data_not_emptiness() -> None:
    assert read_yaml("~\n").data is None


def test_a_syntax_error_is_located() -> None:
    error = refusal("id: a\nschedule: [1, 2\nnext: 3\n")
    assert error.code == "yaml.syntax"
    assert error.line == 3
    assert error.message.startswith("YAML syntax error: ")


def test_an_alias_to_an_undefined_anchor_is_refused() -> None:
    error = refusal("a: *nowhere\n")
    assert (error.code, error.line, error.column) == ("yaml.unknown-alias", 1, 4)


def test_an_alias_cannot_refer_to_the_collection_it_stands_in() -> None:
    error = refusal("a: &loop [*loop]\n")
    assert error.code == "yaml.unknown-alias"


def test_a_list_as_a_key_is_refused() -> None:
    error = refusal("? [a, b]\n: value\n")
    assert (error.code, error.line, error.column) == ("yaml.complex-key", 1, 3)


def test_an_alias_to_a_mapping_as_a_key_is_refused() -> None:
    error = refusal("base: &b {x: 1}\n? *b\n: value\n")
    assert error.code == "yaml.complex-key"


def test_a_merge_of_a_scalar_is_refused() -> None:
    assert refusal("a: 1\n<<: 5\n").code == "yaml.bad-merge"


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['echo pwned']\n",
        "x: !!python/name:os.system\n",
        "x: !!python/module:os\n",
        "x: !!python/tuple [1, 2]\n",
        "x: !!python/object:collections.OrderedDict {a: 1}\n",
        "? !!python/name:os.system\n: key\n",
    ],
)
def test_tags_that_would_build_python_objects_are_refused(text: str) -> None:
    error = refusal(text)
    assert error.code == "yaml.unsafe-tag"
    assert "would build a Python object" in error.message


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("x: !!int three\n", "!!int"),
        ("x: !!float many\n", "!!float"),
        ("x: !!bool maybe\n", "!!bool"),
        ("x: !!int 0x\n", "!!int"),
        ("x: !!float\n", "!!float"),
        ("x: !!binary abc\n", "!!binary"),
    ],
)
def test_an_explicit_type_that_the_value_does_not_have_is_refused(text: str, tag: str) -> None:
    error = refusal(text)
    assert (error.code, error.line, error.column) == ("yaml.bad-value", 1, 4)
    assert f"is not a valid {tag} value" in error.message


def test_an_integer_too_long_for_python_is_refused_not_crashed() -> None:
    assert refusal("x: !!int " + "9" * 5000 + "\n").code == "yaml.bad-value"


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert read_yaml(text).data is not None


def test_nesting_past_the_limit_is_refused_where_it_goes_too_deep() -> None:
    error = refusal("x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    # the root mapping is the first level, so the 64th '[' (column 3 + 64) is one too many
    assert (error.code, error.line, error.column) == ("yaml.too-deep", 1, 3 + MAX_DEPTH)


def test_block_nesting_thousands_of_levels_deep_is_refused_without_recursion() -> None:
    text = "x:\n" + "".join("  " * level + "-\n" for level in range(1, 5000))
    error = refusal(text)
    assert (error.code, error.line) == ("yaml.too-deep", MAX_DEPTH + 1)


def test_flow_nesting_a_hundred_thousand_levels_deep_stops_at_libyamls_own_limit() -> None:
    error = refusal("x: " + "[" * 100_000)
    assert error.code == "yaml.syntax"
    assert "exceeded maximum nesting depth" in error.message


def test_a_billion_laughs_is_refused_quickly_and_without_expanding() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    started = time.monotonic()
    error = refusal("\n".join(lines) + "\n")
    assert error.code == "yaml.alias-bomb"
    assert time.monotonic() - started < 5


def test_aliases_that_stay_under_the_expansion_limit_are_read() -> None:
    size = MAX_EXPANDED_VALUES // 4
    text = "a: &a [" + ",".join(["1"] * size) + "]\nb: *a\nc: *a\n"
    document = read_yaml(text)
    assert len(document.data["c"]) == size


def test_reading_many_files_keeps_no_memory_of_them() -> None:
    text = "id: x\nnumbers: [1, 2, 3, 4.5, true, null, 0x10]\n"
    read_yaml(text)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3000):
            read_yaml(text)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000
