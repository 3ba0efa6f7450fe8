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
    read_yaml_documents,
)


def refusal(text: str) -> YamlReadError:
    with pytest.raises(YamlReadError) as caught:
        read_yaml(text)
    return caught.value


def refusal_of_documents(text: str) -> YamlReadError:
    with pytest.raises(YamlReadError) as caught:
        read_yaml_documents(text)
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
        "yes_word": "yes",
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
    document = read_yaml("1: one\ntrue: false\nnull: nothing\n1.5: x\n")
    assert document.data == {"1": "one", "true": False, "null": "nothing", "1.5": "x"}


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


# -- YAML 1.2 core, as editors read it -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("yes", "yes", id="yes is text"),
        pytest.param("no", "no", id="no is text"),
        pytest.param("on", "on", id="on is text"),
        pytest.param("off", "off", id="off is text"),
        pytest.param("y", "y", id="y is text"),
        pytest.param("N", "N", id="N is text"),
        pytest.param("Yes", "Yes", id="Yes is text"),
        pytest.param("true", True, id="true"),
        pytest.param("True", True, id="True"),
        pytest.param("TRUE", True, id="TRUE"),
        pytest.param("False", False, id="False"),
        pytest.param("tRUE", "tRUE", id="mixed case is text"),
        pytest.param("010", 10, id="a leading zero is decimal"),
        pytest.param("0123", 123, id="0123 is decimal 123"),
        pytest.param("0o17", 15, id="0o is octal"),
        pytest.param("0x1f", 31, id="0x is hex"),
        pytest.param("-0o17", "-0o17", id="a signed octal is text"),
        pytest.param("0b101", "0b101", id="0b is text"),
        pytest.param("1_000", "1_000", id="underscores are text"),
        pytest.param("1:30", "1:30", id="sexagesimal is text"),
        pytest.param("+12", 12, id="a signed decimal"),
        pytest.param("1e3", 1000.0, id="an exponent without a dot is a float"),
        pytest.param(".5", 0.5, id="a leading dot"),
        pytest.param("-.inf", float("-inf"), id="minus infinity"),
        pytest.param("~", None, id="tilde is null"),
        pytest.param("Null", None, id="Null is null"),
        pytest.param("nULL", "nULL", id="mixed-case null is text"),
        pytest.param("2026-01-01", "2026-01-01", id="a date is text"),
        pytest.param("=", "=", id="the 1.1 value key is text"),
    ],
)
def test_plain_scalars_are_typed_by_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert read_yaml(f"x: {text}\n").data == {"x": value}


def test_not_a_number_is_a_float_nan() -> None:
    value = read_yaml("x: .NaN\n").data["x"]
    assert isinstance(value, float) and value != value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("!!int 010", 10),
        ("!!int 0o17", 15),
        ("!!float 1", 1.0),
        ("!!bool TRUE", True),
        ("!!null ~", None),
        ("!!str 010", "010"),
        ("!!str yes", "yes"),
    ],
)
def test_explicit_tags_take_the_yaml_1_2_forms(text: str, value: object) -> None:
    assert read_yaml(f"x: {text}\n").data == {"x": value}


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Y", "n"])
def test_an_explicit_boolean_in_a_yaml_1_1_word_says_to_write_true_or_false(word: str) -> None:
    error = refusal(f"x: !!bool {word}\n")
    assert (error.code, error.line, error.column) == ("yaml.bad-value", 1, 4)
    assert "read as YAML 1.2" in error.message
    assert "write true or false" in error.message


def test_the_text_of_a_plain_scalar_typed_as_something_else_is_kept() -> None:
    document = read_yaml("id: 0123\nname: plain\nlist: [010, x]\nflag: TRUE\n")
    assert document.texts == {("id",): "0123", ("list", 0): "010", ("flag",): "TRUE"}


# -- several documents ---------------------------------------------------------------------------


def test_every_document_of_a_stream_is_read_on_request() -> None:
    documents = read_yaml_documents("kind: A\n---\nkind: B\n---\n")
    assert [document.data for document in documents] == [{"kind": "A"}, {"kind": "B"}, None]
    assert documents[1].values[("kind",)] == Position(3, 7)


def test_an_anchor_of_one_document_is_unknown_in_the_next() -> None:
    error = refusal_of_documents("a: &x 1\n---\nb: *x\n")
    assert (error.code, error.line) == ("yaml.unknown-alias", 3)


def test_the_expansion_limit_counts_every_document_of_the_file() -> None:
    size = MAX_EXPANDED_VALUES // 2 + 1
    document = "a: [" + ",".join(["1"] * size) + "]\n"
    assert refusal_of_documents(document + "---\n" + document).code == "yaml.alias-bomb"


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
