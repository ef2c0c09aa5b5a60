"""Renderers over hand-made reviews: SARIF structure, GitHub escaping, Markdown tables, terminal text."""

from __future__ import annotations

import json
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.model import Finding, Fix, Location, Review, SourceText
from queryreview.report import github, json_report, markdown, sarif, text
from queryreview.rules.registry import all_rules

try:
    import jsonschema
except ImportError:  # a dev dependency: pip install -e '.[dev]'
    jsonschema = None
needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema is not installed")

ANSI = re.compile(r"\x1b\[[0-9;]*m")

ORDERS_SQL = "SELECT * FROM orders WHERE note = 'a|b';\nSELECT id FROM users;\n"
UNICODE_SQL = "-- café\nSELECT *, 'ünïcödé' AS name FROM t;\n"


def _finding(path: str, line: int, column: int, end_column: int, *, code: str = "QR101", rule: str = "select-star",
             severity: str = "warning", family: str = "query", message: str = "SELECT * fetches every column",
             help: str = "List the columns", statement: str | None = "SELECT * FROM orders", fix: Fix | None = None,
             end_line: int | None = None) -> Finding:
    return Finding(code=code, rule=rule, severity=severity, family=family, message=message, help=help,
                   location=Location(path, line, column, end_line or line, end_column), statement=statement, fix=fix)


@pytest.fixture
def review() -> Review:
    findings = [
        _finding("app/orders.sql", 1, 8, 9, message="SELECT * in `note = 'a|b'` | pipes\nand a second line",
                 statement="SELECT * FROM orders WHERE note = 'a|b'",
                 fix=Fix("List the columns", "SELECT id, note FROM orders WHERE note = 'a|b' -- ``` fence")),
        _finding("app/orders.sql", 2, 1, 22, code="QR901", rule="parse-error", severity="error", family="tool",
                 message="Cannot parse: 100% broken, a:b,c\r\nnext", help="Fix it: 50% off, or not",
                 statement="SELECT id FROM users"),
        _finding("lib/ünïcödé.sql", 2, 8, 9, severity="info", message="SELECT * near 'ünïcödé' — café ☕",
                 statement="SELECT *, 'ünïcödé' AS name FROM t"),
        _finding("catalog:public.orders", 1, 1, 1, code="QR299", rule="test-only-catalog-rule", family="schema",
                 message="orders.customer_id has no index", help="CREATE INDEX ON orders (customer_id)",
                 statement=None),
        _finding("-", 1, 1, 9, message="SELECT * from stdin", statement="SELECT * FROM x"),
    ]
    review = Review(findings=findings, files=4, statements=6, parsed=5,
                    skipped_rules=["QR301 seq-scan-on-large-table: needs an EXPLAIN plan"], notes=["a note"])
    review.sources = {"app/orders.sql": SourceText("app/orders.sql", ORDERS_SQL),
                      "lib/ünïcödé.sql": SourceText("lib/ünïcödé.sql", UNICODE_SQL)}
    return review


# --- SARIF ----------------------------------------------------------------------------------

# The part of SARIF 2.1.0 that GitHub code scanning reads, as documented in "SARIF support for
# code scanning"; the full OASIS schema is not shipped by any package installable here.
_TEXT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
GITHUB_SARIF_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "run": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"],
                         "properties": {"driver": {"$ref": "#/$defs/driver"}}},
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
            },
        },
        "driver": {
            "type": "object",
            "required": ["name", "rules"],
            "properties": {
                "name": {"type": "string"}, "version": {"type": "string"},
                "informationUri": {"type": "string", "format": "uri"},
                "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            },
        },
        "rule": {
            "type": "object",
            "required": ["id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration",
                         "properties"],
            "properties": {
                "id": {"type": "string", "pattern": "^QR[0-9]{3}$"},
                "name": {"type": "string"},
                "shortDescription": _TEXT, "fullDescription": _TEXT,
                "help": {"type": "object", "required": ["text", "markdown"],
                         "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}}},
                "defaultConfiguration": {"type": "object", "required": ["level"], "properties": {"level": _LEVEL}},
                "properties": {"type": "object", "required": ["tags"],
                               "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
            },
        },
        "result": {
            "type": "object",
            "required": ["ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "level": _LEVEL,
                "message": _TEXT,
                "locations": {"type": "array", "minItems": 1, "maxItems": 1,
                              "items": {"oneOf": [{"$ref": "#/$defs/physical"}, {"$ref": "#/$defs/logical"}]}},
                "partialFingerprints": {"type": "object", "minProperties": 1,
                                        "additionalProperties": {"type": "string"}},
            },
        },
        "physical": {
            "type": "object",
            "required": ["physicalLocation"],
            "not": {"required": ["logicalLocations"]},
            "properties": {"physicalLocation": {
                "type": "object",
                "required": ["artifactLocation", "region"],
                "properties": {
                    "artifactLocation": {"type": "object", "required": ["uri"],
                                         "properties": {"uri": {"type": "string", "format": "uri-reference"}}},
                    "region": {"type": "object", "required": ["startLine"], "properties": {
                        "startLine": {"type": "integer", "minimum": 1},
                        "startColumn": {"type": "integer", "minimum": 1},
                        "endLine": {"type": "integer", "minimum": 1},
                        "endColumn": {"type": "integer", "minimum": 1},
                    }},
                },
            }},
        },
        "logical": {
            "type": "object",
            "required": ["logicalLocations"],
            "not": {"required": ["physicalLocation"]},
            "properties": {"logicalLocations": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "fullyQualifiedName"],
            }}},
        },
    },
}


def _validate_sarif(log: dict) -> None:
    validator = jsonschema.Draft202012Validator(GITHUB_SARIF_SCHEMA,
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@needs_jsonschema
def test_sarif_is_valid_for_github_code_scanning(review: Review) -> None:
    log = json.loads(sarif.render(review))
    _validate_sarif(log)
    assert log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "queryreview"
    assert len(run["results"]) == len(review.findings)


def test_sarif_rules_cover_the_catalog_and_results_point_at_their_rule(review: Review) -> None:
    run = json.loads(sarif.render(review))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert {rule.code for rule in all_rules()} <= set(ids)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    select_star = rules[ids.index("QR101")]
    catalogued = next(rule for rule in all_rules() if rule.code == "QR101")
    assert select_star["name"] == "select-star"
    assert select_star["shortDescription"]["text"] == catalogued.summary
    assert select_star["defaultConfiguration"]["level"] == "warning"
    assert select_star["properties"]["tags"] == ["query"]
    assert catalogued.help_line in select_star["help"]["text"]
    # QR299 is not in the catalog: described from its finding rather than dropped
    assert rules[ids.index("QR299")]["name"] == "test-only-catalog-rule"


def test_sarif_levels_messages_and_regions(review: Review) -> None:
    results = json.loads(sarif.render(review))["runs"][0]["results"]
    by_uri = {}
    for result in results:
        for location in result["locations"]:
            if "physicalLocation" in location:
                by_uri[location["physicalLocation"]["artifactLocation"]["uri"], result["ruleId"]] = result
    first = by_uri["app/orders.sql", "QR101"]
    assert first["level"] == "warning"
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1, "startColumn": 8, "endLine": 1, "endColumn": 9}
    assert first["message"]["text"].startswith("SELECT * in `note = 'a|b'`")
    assert "List the columns" in first["message"]["text"]
    assert first["properties"]["fix"]["sql"].startswith("SELECT id, note FROM orders")
    assert by_uri["app/orders.sql", "QR901"]["level"] == "error"
    unicode_result = by_uri["lib/%C3%BCn%C3%AFc%C3%B6d%C3%A9.sql", "QR101"]
    assert unicode_result["level"] == "note"
    assert "café ☕" in unicode_result["message"]["text"]
    assert ("stdin.sql", "QR101") in by_uri


def test_sarif_catalog_finding_gets_a_logical_location(review: Review) -> None:
    results = json.loads(sarif.render(review))["runs"][0]["results"]
    catalog = next(result for result in results if result["ruleId"] == "QR299")
    location = catalog["locations"][0]
    assert "physicalLocation" not in location
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "catalog:public.orders"
    assert location["logicalLocations"][0]["name"] == "public.orders"


def test_sarif_uris_are_relative_with_forward_slashes(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db").mkdir()
    absolute = str(tmp_path / "db" / "my queries.sql")
    assert sarif.artifact_uri(absolute) == "db/my%20queries.sql"
    assert sarif.artifact_uri("./db/q.sql") == "db/q.sql"
    assert sarif.artifact_uri("-") == "stdin.sql"
    assert sarif.artifact_uri("/elsewhere/q.sql") == "file:///elsewhere/q.sql"


def test_sarif_fingerprints_are_stable_and_distinct(review: Review) -> None:
    def prints(r: Review) -> list[str]:
        return [result["partialFingerprints"]["queryreview/v1"]
                for result in json.loads(sarif.render(r))["runs"][0]["results"]]

    first = prints(review)
    assert len(set(first)) == len(first)
    assert prints(review) == first
    # The same statement moved down the file, reformatted: same fingerprint (GitHub keeps the alert).
    moved = _finding("app/orders.sql", 40, 8, 9, message="other wording",
                     statement="SELECT *\n  FROM orders   WHERE note = 'a|b'")
    assert prints(Review(findings=[moved])) == [first[0]]
    # The same finding twice in one file stays two alerts.
    twice = Review(findings=[review.findings[0], review.findings[0]])
    one, two = prints(twice)
    assert one != two and one.rsplit(":", 1)[0] == two.rsplit(":", 1)[0]


@needs_jsonschema
def test_sarif_empty_review_is_valid() -> None:
    log = json.loads(sarif.render(Review()))
    _validate_sarif(log)
    assert log["runs"][0]["results"] == []


def test_sarif_skipped_rules_become_notifications(review: Review) -> None:
    run = json.loads(sarif.render(review))["runs"][0]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert notes == ["skipped QR301 seq-scan-on-large-table: needs an EXPLAIN plan", "a note"]


# --- GitHub workflow commands --------------------------------------------------------------

_COMMAND = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _unescape(text: str) -> str:
    return (text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    match = _COMMAND.match(line)
    assert match, line
    props = dict(part.split("=", 1) for part in match.group("props").split(","))
    return match.group("level"), {k: _unescape(v) for k, v in props.items()}, _unescape(match.group("data"))


def test_github_one_command_per_finding(review: Review) -> None:
    lines = github.render(review).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(review.findings)
    assert lines[-1] == "queryreview: 5 findings (1 error, 3 warnings, 1 info) in 4 files"
    level, props, data = _parse_command(commands[0])
    assert level == "warning"
    assert props == {"file": "app/orders.sql", "line": "1", "col": "8", "endLine": "1", "endColumn": "9",
                     "title": "QR101 select-star"}
    assert data == "SELECT * in `note = 'a|b'` | pipes\nand a second line\nList the columns"


def test_github_escaping() -> None:
    finding = _finding("odd,dir/a:b%.sql", 3, 2, 5, message="100% broken\r\nsecond: line, here",
                       help="50%: done")
    line = github.command(finding)
    assert "\n" not in line and "\r" not in line
    assert "file=odd%2Cdir/a%3Ab%25.sql" in line
    assert line.endswith("::100%25 broken%0D%0Asecond: line, here%0A50%25: done")
    _, props, data = _parse_command(line)
    assert props["file"] == "odd,dir/a:b%.sql"
    assert data == "100% broken\r\nsecond: line, here\n50%: done"


def test_github_severity_and_locations_without_a_file(review: Review) -> None:
    commands = [_parse_command(line) for line in github.render(review).splitlines() if line.startswith("::")]
    levels = [level for level, _, _ in commands]
    assert levels == ["warning", "error", "notice", "warning", "warning"]
    _, catalog_props, catalog_data = commands[3]
    assert "file" not in catalog_props and catalog_data.startswith("catalog:public.orders: ")
    _, stdin_props, stdin_data = commands[4]
    assert "file" not in stdin_props and stdin_data.startswith("stdin:1:1: ")


def test_github_empty_review() -> None:
    assert github.render(Review(files=2)) == "queryreview: 0 findings in 2 files\n"


@settings(max_examples=200, deadline=None)
@given(path=st.text(min_size=1, max_size=30).filter(lambda p: p != "-" and ":" not in p[:12]),
       message=st.text(max_size=80), help_text=st.text(max_size=40))
def test_github_commands_round_trip(path: str, message: str, help_text: str) -> None:
    finding = _finding(path.replace("\x00", ""), 1, 1, 2, message=message, help=help_text)
    line = github.command(finding)
    assert "\n" not in line and "\r" not in line  # the runner reads the log line by line
    _, props, data = _parse_command(line)
    assert props["title"] == "QR101 select-star"
    expected = f"{message}\n{help_text}" if help_text else message
    assert data.endswith(expected)


# --- Markdown -------------------------------------------------------------------------------

_CELL_DELIMITER = re.compile(r"(?<!\\)\|")


def _parsed_rows(document: str) -> list[list[str]]:
    """Rows of the first table as a CommonMark+GFM-tables parser sees them (markdown-it, rich's dependency)."""
    from markdown_it import MarkdownIt

    rows: list[list[str]] = []
    tokens = MarkdownIt("commonmark").enable("table").parse(document)
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("td_open", "th_open"):
            inline = tokens[index + 1]
            rows[-1].append("".join(child.content for child in inline.children or ()))
        elif token.type == "table_close":
            break
    return rows


def _table_lines(document: str) -> list[str]:
    return [line for line in document.splitlines() if line.startswith("|")]


def test_markdown_table_escapes_pipes_and_newlines(review: Review) -> None:
    document = markdown.render(review)
    table = _table_lines(document)
    assert len(table) == 2 + len(review.findings)
    for line in table:
        assert len(_CELL_DELIMITER.findall(line)) == 6, line  # 5 columns
    first = table[2]
    assert "app/orders.sql:1" in first and "QR101" in first and "select-star" in first
    rows = _parsed_rows(document)
    assert len(rows) == 1 + len(review.findings) and all(len(row) == 5 for row in rows)
    assert rows[1] == ["warning", "app/orders.sql:1", "QR101", "select-star",
                       "SELECT * in note = 'a|b' | pipes and a second line"]
    assert r"`note = 'a\|b'` \| pipes and a second line |" in first  # one line per row
    assert "SELECT \\* in `note = 'a|b'` \\| pipes  \nand a second line" in document  # details keep the break
    assert "catalog:public.orders" in document
    assert "| stdin:1 " in document


def test_markdown_summary_and_details(review: Review) -> None:
    document = markdown.render(review)
    assert document.startswith("## queryreview\n")
    assert "**5 findings** (1 error, 3 warnings, 1 info) in 4 files (6 statements)." in document
    assert document.count("<details>") == len(review.findings) == document.count("</details>")
    assert "<summary>QR101 select-star · app/orders.sql:1</summary>" in document
    # Fix SQL containing ``` gets a longer fence so the block is not closed early.
    assert "````sql\nSELECT id, note FROM orders WHERE note = 'a|b' -- ``` fence\n````" in document
    assert "**Help:** List the columns" in document
    assert "skipped QR301 seq-scan-on-large-table: needs an EXPLAIN plan" in document


def test_markdown_escapes_html_and_emphasis() -> None:
    finding = _finding("a.sql", 1, 1, 2, message="x <script> *y* `a<b` _z_")
    document = markdown.render(Review(findings=[finding], files=1))
    assert "<script>" not in document
    assert r"x \<script\> \*y\* `a<b` \_z\_" in document


def test_markdown_empty_review() -> None:
    document = markdown.render(Review(files=3, statements=7))
    assert "No findings in 3 files (7 statements)." in document
    assert "|" not in document and "<details>" not in document


def test_markdown_stays_under_the_comment_limit() -> None:
    long_sql = "SELECT " + ", ".join(f"column_{n}" for n in range(300)) + " FROM t"
    findings = [_finding(f"queries/file_{n:05}.sql", n + 1, 8, 9, message=f"finding {n} " + "x" * 200,
                         fix=Fix("rewrite", long_sql)) for n in range(3000)]
    document = markdown.render(Review(findings=findings, files=3000))
    assert len(document) <= markdown.COMMENT_LIMIT
    assert "The table shows" in document and "of 3000 findings" in document
    assert document.count("<details>") == document.count("</details>")


def test_markdown_truncates_details_before_rows() -> None:
    long_sql = "SELECT 1 -- " + "y" * 5000
    findings = [_finding(f"q{n}.sql", 1, 1, 2, fix=Fix("rewrite", long_sql)) for n in range(40)]
    document = markdown.render(Review(findings=findings, files=40))
    assert len(document) <= markdown.COMMENT_LIMIT
    assert len(_table_lines(document)) == 42  # every row is still listed
    assert "Details are shown for" in document


@settings(max_examples=100, deadline=None)
@given(message=st.text(max_size=120), rule=st.from_regex(r"[a-z]+(-[a-z]+)?", fullmatch=True))
def test_markdown_rows_keep_five_cells(message: str, rule: str) -> None:
    finding = _finding("a|b.sql", 1, 1, 2, rule=rule, message=message, severity="info")
    document = markdown.render(Review(findings=[finding], files=1))
    table = _table_lines(document)
    assert len(table) == 3
    assert len(_CELL_DELIMITER.findall(table[2])) == 6, table[2]
    rows = _parsed_rows(document)
    assert len(rows) == 2 and len(rows[1]) == 5, rows
    assert rows[1][:2] == ["info", "a|b.sql:1"]


# --- JSON ---------------------------------------------------------------------------------


def test_json_report_round_trips(review: Review) -> None:
    document = json.loads(json_report.render(review))
    assert document["version"] == json_report.SCHEMA_VERSION
    assert [f["location"]["path"] for f in document["findings"]] == [f.location.path for f in review.findings]
    assert document["findings"][2]["message"] == "SELECT * near 'ünïcödé' — café ☕"
    assert document["summary"]["by_severity"] == {"error": 1, "warning": 3, "info": 1}


# --- Terminal text --------------------------------------------------------------------------


def test_text_plain_fits_100_columns(review: Review) -> None:
    output = text.render(review, color=False)
    assert not ANSI.search(output)
    fix_lines = {"      SELECT id, note FROM orders WHERE note = 'a|b' -- ``` fence"}
    for line in output.splitlines():
        assert len(line) <= 100 or line in fix_lines, line
    assert "app/orders.sql:1:8: QR101 select-star [warning]" in output
    assert "  = help: List the columns" in output
    assert "Found 5 findings (1 error, 3 warnings, 1 info) in 4 files, 6 statements (5 parsed)." in output
    assert "skipped QR301 seq-scan-on-large-table: needs an EXPLAIN plan" in output


def test_text_code_frame_and_caret(review: Review) -> None:
    output = text.render(review, color=False)
    assert "  1 | SELECT * FROM orders WHERE note = 'a|b';\n    |        ^\n" in output
    # unicode: the caret is under the *, counted in characters, not bytes
    assert "  2 | SELECT *, 'ünïcödé' AS name FROM t;\n    |        ^\n" in output


def test_text_colour_and_no_color(review: Review, monkeypatch) -> None:
    assert ANSI.search(text.render(review, color=True))

    class FakeTTY:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", FakeTTY())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(text.render(review, width=100))
    monkeypatch.delenv("NO_COLOR")
    assert ANSI.search(text.render(review, width=100))


def test_text_long_line_scrolls_to_the_span() -> None:
    line = "SELECT " + ", ".join(f"col_{n}" for n in range(60)) + ", t.* FROM t"
    column = line.index("t.*") + 1
    source = SourceText("wide.sql", line)
    finding = _finding("wide.sql", 1, column, column + 3, statement=line)
    review = Review(findings=[finding], files=1, statements=1, parsed=1, sources={"wide.sql": source})
    frame = [out for out in text.render(review, color=False).splitlines() if "|" in out]
    assert all(len(out) <= 100 for out in frame)
    code, carets = frame
    assert code.split("| ", 1)[1].startswith("…")
    assert code[carets.index("^"):carets.index("^") + 3] == "t.*"
    assert carets.count("^") == 3


def test_text_wide_characters_keep_the_caret_aligned() -> None:
    sql = "SELECT '日本語', * FROM t"
    column = sql.index("*") + 1
    review = Review(findings=[_finding("w.sql", 1, column, column + 1)], files=1,
                    sources={"w.sql": SourceText("w.sql", sql)})
    frame = [out for out in text.render(review, color=False).splitlines() if "|" in out]
    code, carets = frame
    from rich.cells import cell_len

    caret_cell = carets.index("^")
    assert cell_len(code[:code.index("*")]) == caret_cell


def test_text_control_characters_and_form_feeds() -> None:
    # \f is a line break for str.splitlines but not for SourceText's line numbers.
    sql = "SELECT 1;\f SELECT\x1b[31m *\nFROM t"
    column = sql.split("\n")[0].index("*") + 1
    review = Review(findings=[_finding("c.sql", 1, column, column + 1, message="bad \x1b[2J thing")], files=1,
                    sources={"c.sql": SourceText("c.sql", sql)})
    output = text.render(review, color=False)
    assert "\x1b" not in output
    assert "bad \ufffd[2J thing" in output
    code, carets = [out for out in output.splitlines() if "|" in out]
    assert code.startswith("  1 | SELECT 1;")
    assert code[carets.index("^")] == "*"


def test_text_empty_review() -> None:
    assert text.render(Review(files=1, statements=2, parsed=2), color=False) == \
        "No findings in 1 file, 2 statements (2 parsed).\n"


@settings(max_examples=100, deadline=None)
@given(sql=st.text(max_size=200), data=st.data())
def test_text_never_crashes_on_any_source(sql: str, data) -> None:
    source = SourceText("any.sql", sql)
    start = data.draw(st.integers(0, len(sql)))
    end = data.draw(st.integers(start, len(sql)))
    location = source.location(start, end)
    finding = Finding("QR101", "select-star", "warning", "query", "m", "h", location)
    output = text.render(Review(findings=[finding], files=1, sources={"any.sql": source}), color=False, width=60)
    assert "any.sql:" in output


def test_sarif_uris_of_paths_outside_the_working_directory(tmp_path, monkeypatch) -> None:
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert sarif.artifact_uri("../other.sql") == (tmp_path / "other.sql").as_uri()
    assert sarif.artifact_uri("sub/../q.sql") == "q.sql"


@settings(max_examples=100, deadline=None)
@given(message=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
       | st.lists(st.sampled_from(["---", "===", "# h", "- item", "1. one", "> quote", "    code", "```",
                                   "<b>", "| a | b |", "text", "*x*"]), max_size=6).map("\n".join))
def test_markdown_details_keep_a_message_as_one_paragraph(message: str) -> None:
    from markdown_it import MarkdownIt

    document = markdown.render(Review(findings=[_finding("a.sql", 1, 1, 2, message=message, help="h")], files=1))
    details = document[document.index("<details>"):]
    blocks = {token.type for token in MarkdownIt("commonmark").enable("table").parse(details)}
    assert not blocks & {"heading_open", "bullet_list_open", "ordered_list_open", "blockquote_open", "hr",
                         "fence", "code_block", "table_open"}, (message, details)
