"""The statement splitter: exact offsets on the constructs that break naive splitting on ``;``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.model import SourceText
from queryreview.sql.parse import MAX_NESTING_DEPTH, statements
from queryreview.sql.split import split


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each statement."""
    return [(s.start, s.end, s.kind) for s in split(text)]


def pieces(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split(text)]


# --- exact offsets ---------------------------------------------------------------------------


def test_quoted_string_with_doubled_quote_and_semicolon() -> None:
    text = "SELECT 'a;''b;'; SELECT 2"
    assert spans(text) == [(0, 15, "sql"), (17, 25, "sql")]
    assert pieces(text) == ["SELECT 'a;''b;'", "SELECT 2"]


def test_escape_string_with_backslash_quote() -> None:
    text = r"SELECT E'it\'s; ok'; SELECT e'\\'; SELECT 3"
    assert spans(text) == [(0, 19, "sql"), (21, 33, "sql"), (35, 43, "sql")]
    assert pieces(text) == [r"SELECT E'it\'s; ok'", r"SELECT e'\\'", "SELECT 3"]


def test_plain_string_backslash_is_not_an_escape() -> None:
    # standard_conforming_strings: in '...' a backslash is an ordinary character
    text = r"SELECT 'C:\'; SELECT 2"
    assert spans(text) == [(0, 12, "sql"), (14, 22, "sql")]


def test_identifier_ending_in_e_is_not_an_escape_string_prefix() -> None:
    text = r"SELECT type'a\'; SELECT 2"
    assert pieces(text) == [r"SELECT type'a\'", "SELECT 2"]


def test_dollar_quotes_with_tags_and_nested_different_tags() -> None:
    text = "SELECT $a$ x; $b$ y; $b$ z; $a$; SELECT $$;$$; SELECT $t_1$;$t_1$"
    assert spans(text) == [(0, 31, "sql"), (33, 45, "sql"), (47, 65, "sql")]
    assert pieces(text)[0] == "SELECT $a$ x; $b$ y; $b$ z; $a$"


def test_function_body_with_semicolons_is_one_statement() -> None:
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n  PERFORM 1;\n  RETURN 2;\nEND;\n$fn$;\n"
        "SELECT 3;"
    )
    assert spans(text) == [(0, 97, "sql"), (99, 107, "sql")]
    assert pieces(text)[0].endswith("END;\n$fn$")


def test_positional_parameters_are_not_dollar_quotes() -> None:
    text = "SELECT $1, $2 FROM t WHERE a = $1;SELECT $3"
    assert spans(text) == [(0, 33, "sql"), (34, 43, "sql")]


def test_identifiers_containing_dollar() -> None:
    text = "SELECT a$b, x$$y FROM t$1; SELECT 2"
    assert spans(text) == [(0, 25, "sql"), (27, 35, "sql")]


def test_quoted_identifier_with_semicolon_and_doubled_quote() -> None:
    text = 'SELECT "a;""b" FROM t; SELECT 2'
    assert spans(text) == [(0, 21, "sql"), (23, 31, "sql")]


def test_nested_block_comments() -> None:
    text = "SELECT 1 /* a /* b; */ c; */ + 1; SELECT 2"
    assert spans(text) == [(0, 32, "sql"), (34, 42, "sql")]
    (first, _) = split(text)
    assert [(c.offset, c.text) for c in first.comments] == [(9, "/* a /* b; */ c; */")]


def test_line_comment_with_semicolon_and_quotes() -> None:
    text = "SELECT 1 -- it's; \"a; $$\n  , 2; SELECT 3 -- note; here\n; SELECT 4"
    assert spans(text) == [(0, 30, "sql"), (32, 40, "sql"), (57, 65, "sql")]
    first, second, _ = split(text)
    assert [(c.offset, c.text, c.own_line) for c in first.comments] == [(9, "-- it's; \"a; $$", False)]
    # a comment after code, before the terminating ';', belongs to that statement
    assert [(c.offset, c.text) for c in second.comments] == [(41, "-- note; here")]


def test_comment_before_a_statement_is_attached_to_it() -> None:
    text = "-- about q1\n/* more */\nSELECT 1;"
    (only,) = split(text)
    assert (only.start, only.end) == (23, 31)
    assert [(c.offset, c.own_line) for c in only.comments] == [(0, True), (12, True)]


def test_trailing_comment_after_semicolon_belongs_to_the_statement_it_ends() -> None:
    text = "SELECT 1; -- queryreview: ignore\nSELECT 2;"
    first, second = split(text)
    assert [c.text for c in first.comments] == ["-- queryreview: ignore"]
    assert second.comments == []


def test_psql_meta_commands() -> None:
    text = "\\set x 1\nSELECT :x;\n\\copy t FROM 'f.csv' WITH (FORMAT csv)\nSELECT 1 \\gset\nSELECT 2;"
    assert spans(text) == [
        (0, 8, "meta"),
        (9, 18, "sql"),
        (20, 58, "meta"),
        (59, 67, "sql"),
        (68, 73, "meta"),
        (74, 82, "sql"),
    ]
    assert pieces(text)[4] == "\\gset"


def test_backslash_inside_quotes_and_comments_is_not_a_meta_command() -> None:
    text = "SELECT '\\x', $$\\y$$ /* \\z */ -- \\w\n; SELECT 2"
    assert spans(text) == [(0, 19, "sql"), (37, 45, "sql")]


def test_crlf_line_endings_keep_lines_and_columns_right() -> None:
    text = "SELECT 1;\r\nSELECT 2 -- c\r\n  , 3;\r\n\\set x 1\r\nSELECT\r\n  *\r\nFROM t;\r\n"
    raws = split(text)
    assert [(s.start, s.end, s.kind) for s in raws] == [
        (0, 8, "sql"), (11, 31, "sql"), (34, 42, "meta"), (44, 63, "sql"),
    ]
    assert [c.text for c in raws[1].comments] == ["-- c"]  # no \r in the comment text
    source = SourceText("crlf.sql", text)
    assert source.location(raws[1].start, raws[1].end).to_dict() == {
        "path": "crlf.sql", "line": 2, "column": 1, "end_line": 3, "end_column": 6}
    assert source.position(11) == (2, 1)
    assert source.position(raws[3].start) == (5, 1)
    assert source.position(text.index("*")) == (6, 3)


def test_crlf_finding_points_at_the_right_line_and_column(review) -> None:
    text = "SELECT 1;\r\nSELECT\t'x',\r\n  * FROM t;\r\n"
    found = review(text, select=["select-star"]).findings
    assert [(f.location.line, f.location.column, f.location.end_column) for f in found] == [(3, 3, 4)]


def test_tabs_count_as_one_column(review) -> None:
    text = "\tSELECT\t1,\t* FROM t;"
    (raw,) = split(text)
    assert (raw.start, raw.end) == (1, 19)
    found = review(text, select=["select-star"]).findings
    assert [(f.location.line, f.location.column) for f in found] == [(1, 12)]


def test_unicode_columns_count_characters(review) -> None:
    text = "SELECT 'é😀'; SELECT 'ü', * FROM ✓t;"
    assert spans(text) == [(0, 11, "sql"), (13, 34, "sql")]
    found = review(text, select=["select-star"]).findings
    assert [(f.location.line, f.location.column) for f in found] == [(1, 26)]


def test_unicode_dollar_tag() -> None:
    text = "SELECT $é😀$;$é😀$; SELECT 2"
    assert spans(text) == [(0, 16, "sql"), (18, 26, "sql")]


def test_statement_without_trailing_semicolon() -> None:
    assert spans("SELECT 1;\nSELECT 2\n") == [(0, 8, "sql"), (10, 18, "sql")]
    assert spans("SELECT 1") == [(0, 8, "sql")]


def test_empty_statements_are_dropped() -> None:
    assert spans(";;; SELECT 1;;\n;") == [(4, 12, "sql")]
    assert spans(";") == []
    assert spans("") == []
    assert spans("   \n\t\r\n ") == []


def test_comment_only_file_has_no_statements() -> None:
    assert spans("-- only\n/* comments; */\n-- here;\n") == []
    assert statements(SourceText("c.sql", "-- a\n/* b */")) == []


@pytest.mark.parametrize(
    ("text", "what", "opener"),
    [
        ("SELECT 1; SELECT 'abc; SELECT 2", "string literal", 17),
        ("SELECT 1; SELECT E'ab\\'; SELECT 2", "string literal", 17),
        ('SELECT 1; SELECT "abc; SELECT 2', "quoted identifier", 17),
        ("SELECT 1; SELECT $x$ abc; SELECT 2", "dollar-quoted string $x$", 17),
        ("SELECT 1; SELECT /* a /* b */ ; SELECT 2", "block comment", 17),
    ],
)
def test_unterminated_constructs_take_the_rest_of_the_text(text: str, what: str, opener: int) -> None:
    first, second = split(text)
    assert (first.start, first.end, first.unterminated) == (0, 8, None)
    assert (second.start, second.end, second.unterminated) == (10, len(text), (what, opener))


def test_unterminated_statement_is_reported_at_its_opener() -> None:
    (_, broken) = statements(SourceText("u.sql", "SELECT 1;\nSELECT 'abc;"))
    assert broken.ast is None
    assert broken.error == "unterminated string literal"
    assert broken.start + broken.error_offset == 17


def test_nesting_depth_counts_parentheses_brackets_and_subscript_chains() -> None:
    first, second, third = split("SELECT ((1)), (2); SELECT ARRAY[[1]]; SELECT a[1][2][3] FROM t")
    assert (first.max_depth, second.max_depth, third.max_depth) == (2, 2, 3)


def test_a_long_subscript_chain_is_refused_before_parsing() -> None:
    # sqlglot parses a[1][1]… in quadratic time: 2,000 links took 19 s
    text = "SELECT a" + "[1]" * (MAX_NESTING_DEPTH + 1) + " FROM t"
    (statement,) = statements(SourceText("s.sql", text))
    assert statement.ast is None
    assert statement.error is not None and "nesting too deep" in statement.error


def test_sql_standard_routine_body_keeps_its_semicolons() -> None:
    text = (
        "CREATE OR REPLACE PROCEDURE p(a int) LANGUAGE sql\n"
        "BEGIN ATOMIC\n  INSERT INTO t VALUES (a);\n  SELECT CASE WHEN a > 1 THEN 1 ELSE 2 END;\nEND;\n"
        "SELECT 2;"
    )
    assert spans(text) == [(0, 138, "sql"), (140, 148, "sql")]


def test_transaction_begin_end_are_ordinary_statements() -> None:
    assert pieces("BEGIN; SELECT 1; END; CREATE TABLE begin_t (a int); SELECT end$x FROM t") == [
        "BEGIN", "SELECT 1", "END", "CREATE TABLE begin_t (a int)", "SELECT end$x FROM t",
    ]


def test_copy_from_stdin_data_is_skipped() -> None:
    text = (
        "COPY t (a, b) FROM stdin;\n1\tx; 'y\n2\t\\N\n\\.\n"
        "SELECT 1;\n"
        "\\copy t FROM stdin\r\n3\t$$z\r\n\\.\r\n"
        "SELECT 2;\n"
        "COPY (SELECT 'from stdin') TO stdout;\nSELECT 3;"
    )
    assert pieces(text) == [
        "COPY t (a, b) FROM stdin", "SELECT 1", "\\copy t FROM stdin", "SELECT 2",
        "COPY (SELECT 'from stdin') TO stdout", "SELECT 3",
    ]


def test_copy_data_without_terminator_runs_to_the_end() -> None:
    assert pieces("COPY t FROM STDIN;\n1\n2; SELECT 1\n") == ["COPY t FROM STDIN"]


# --- properties ------------------------------------------------------------------------------

_SAFE_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
# words that switch the splitter into COPY-data or BEGIN ATOMIC mode are tested on their own above
_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,8}", fullmatch=True).filter(
    lambda word: word.lower() not in {"create", "copy"}
)
_STRING = st.text(_SAFE_CHARS, max_size=12).map(lambda body: "'" + body.replace("'", "''") + "'")
_ESCAPE_STRING = st.text(_SAFE_CHARS, max_size=12).map(
    lambda body: "E'" + body.replace("\\", "\\\\").replace("'", "\\'") + "'"
)
_QUOTED_IDENT = st.text(_SAFE_CHARS, min_size=1, max_size=8).map(lambda body: '"' + body.replace('"', '""') + '"')
_TAG = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,3}", fullmatch=True) | st.just("")
_DOLLAR = st.tuples(_TAG, st.text(_SAFE_CHARS, max_size=12)).filter(
    lambda pair: f"${pair[0]}$" not in pair[1] + "$"
).map(lambda pair: f"${pair[0]}${pair[1]}${pair[0]}$")
_CODE_TOKEN = st.one_of(
    _IDENT,
    st.integers(0, 10**6).map(str),
    st.integers(1, 99).map(lambda n: f"${n}"),
    _STRING,
    _ESCAPE_STRING,
    _QUOTED_IDENT,
    _DOLLAR,
    st.sampled_from(["(", ")", ",", "=", "::", "+", "*", "-", "/", "<>", "[1]", "a[1][2]", "."]),
)
_COMMENT = st.one_of(
    st.text(_SAFE_CHARS, max_size=10).filter(lambda b: "/*" not in b and "*/" not in b and not b.endswith("/"))
    .map(lambda b: f"/*{b}*/"),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"), max_size=10).map(lambda b: f"--{b}\n"),
)
_GAP = st.sampled_from([" ", "\t", "\n", "\r\n", "  "])


@st.composite
def _statement(draw) -> str:
    """A statement of code tokens (first and last are code), with whitespace or comments between."""
    tokens = draw(st.lists(_CODE_TOKEN, min_size=1, max_size=8))
    parts = [tokens[0]]
    for token in tokens[1:]:
        parts.append(draw(_GAP))
        if draw(st.booleans()):
            parts.append(draw(_COMMENT))
            parts.append(draw(_GAP))
        parts.append(token)
    return "".join(parts)


@given(
    st.lists(_statement(), min_size=1, max_size=6),
    st.lists(st.sampled_from([";", "; ", ";\n", " ;\r\n", ";\n\n;", "; /* x */ "]), min_size=6, max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_generated_statements_split_back_exactly(stmts: list[str], separators: list[str]) -> None:
    text = "".join(stmt + sep for stmt, sep in zip(stmts, separators))
    raws = split(text)
    assert [text[s.start : s.end] for s in raws] == stmts
    assert all(s.kind == "sql" and s.unterminated is None for s in raws)


_NASTY = st.text(
    st.one_of(
        st.sampled_from(list("'\"$;()[]\\/-*\n\r\t EeUu&:0123456789_ab")),
        st.characters(codec="utf-8"),
    ),
    max_size=200,
)


@given(_NASTY)
@settings(max_examples=500, deadline=None)
def test_split_never_raises_and_offsets_are_ordered_and_in_bounds(text: str) -> None:
    raws = split(text)
    previous_end = 0
    for raw in raws:
        assert previous_end <= raw.start < raw.end <= len(text)
        assert not text[raw.start].isspace()
        if raw.kind == "sql" and raw.unterminated is None:
            assert not text[raw.end - 1].isspace()
        if raw.unterminated is not None:
            assert raw.end == len(text) and raw.start <= raw.unterminated[1] < raw.end
        for comment in raw.comments:
            assert 0 <= comment.offset < len(text)
            assert text[comment.offset : comment.offset + len(comment.text)] == comment.text
        previous_end = raw.end


@given(_NASTY)
@settings(max_examples=300, deadline=None)
def test_a_statement_resplit_is_itself(text: str) -> None:
    for raw in split(text):
        if raw.kind != "sql" or raw.unterminated is not None:
            continue
        piece = text[raw.start : raw.end]
        assert [(s.start, s.end) for s in split(piece)] == [(0, len(piece))]
