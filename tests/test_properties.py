"""Properties of the whole check pipeline over random text and mutated SQL.

Every rule runs (a catalog fixture is given, so the catalog rules run too) and every output
format is rendered. The engine runs with ``debug=True`` so a rule that raises fails the
property with its own traceback instead of being turned into a "rule failed" finding.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queryreview.catalog import Catalog
from queryreview.cli import FORMATS
from queryreview.engine import Context, Engine
from queryreview.model import SEVERITIES, Review, SourceText
from queryreview.report import render
from queryreview.rules.registry import all_rules
from queryreview.sources.files import decode

try:
    import jsonschema
except ImportError:  # a dev dependency
    jsonschema = None

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "findings.schema.json"
TOP_LEVEL_KEYS = {"version", "tool", "findings", "summary", "skipped_rules", "notes"}
FINDING_KEYS = {"code", "rule", "severity", "family", "message", "help", "location", "statement", "fix"}
LOCATION_KEYS = {"path", "line", "column", "end_line", "end_column"}
PATH = "fuzz.sql"

CATALOG = Catalog.from_dict({
    "tables": [
        {
            "name": "users", "rows": 2_000_000,
            "columns": ["id bigint", "email text", "name text", "status text", "created_at timestamptz"],
            "indexes": [{"name": "users_pkey", "columns": ["id"], "primary": True, "unique": True}],
            "column_stats": [{"column": "status", "null_frac": 0.0, "n_distinct": 3,
                              "most_common_vals": ["active", "new", "gone"],
                              "most_common_freqs": [0.8, 0.15, 0.05]}],
        },
        {
            "name": "orders", "rows": 12_000_000,
            "columns": ["id bigint", "user_id bigint", "customer_id bigint", "status text", "total numeric",
                        "note text", "created_at timestamptz"],
            "indexes": [
                {"name": "orders_pkey", "columns": ["id"], "primary": True, "unique": True},
                {"name": "orders_created_at_idx", "columns": ["created_at"]},
            ],
            "constraints": [{"name": "orders_user_fk", "kind": "f", "columns": ["user_id"],
                             "ref_table": "public.users", "ref_columns": ["id"]}],
        },
        {"name": "t", "rows": 500, "columns": ["id int", "a int", "b text"]},
    ]
})


def _seed_statements() -> list[str]:
    """SQL of every rule's YAML cases, plus a few shapes no case may have: realistic seeds to mutate."""
    seeds = {case["sql"] for rule in all_rules() for kind in ("fail", "pass")
             for case in rule.cases.get(kind) or () if isinstance(case.get("sql"), str) and case["sql"].strip()}
    seeds |= {
        "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')\n"
        "SELECT u.email, sum(r.total) OVER (PARTITION BY u.id ORDER BY r.created_at) FROM recent r\n"
        "JOIN users u ON u.id = r.user_id WHERE u.status IN ('active', 'new') ORDER BY 2 DESC LIMIT 10;",
        "INSERT INTO orders (id, user_id, total) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET total = "
        "EXCLUDED.total RETURNING *;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\nSELECT f();",
        "\\set id 1\nSELECT * FROM users WHERE id = :id;\nCOPY t FROM stdin;\n1\t2\tx\n\\.\nSELECT 1;",
        "SELECT a[1][2], ARRAY[[1,2],[3,4]], $1::int[] FROM t WHERE b LIKE '%x' OR a <> ALL ($2);",
    }
    return sorted(seeds)


SEEDS = _seed_statements()
ENGINE = Engine(list(all_rules()), Context(catalog=CATALOG, debug=True))

_INTERESTING = "'\"$;()[]\\/-*\n\r\t EeUu&:,.=<>|%_019xX\x00\x0b\x0c\u2028\ufeffé😀"
_RANDOM_TEXT = st.text(
    st.one_of(st.sampled_from(list(_INTERESTING)), st.characters(codec="utf-8")),
    max_size=300,
)
_TOKENS = [
    "(", ")", ",", ";", "'", '"', "$$", "$1", "$a$", "\\", "--", "/*", "*/", "*", "=", "<>", "::int", "[1]",
    "SELECT", "FROM", "WHERE", "NOT", "NULL", "IN", "IS", "AND", "OR", "JOIN t ON", "LEFT JOIN users u ON",
    "LIMIT 1", "OFFSET 100", "ORDER BY 1", "ORDER BY random()", "GROUP BY 1", "HAVING", "DISTINCT",
    "UNION", "UNION ALL", "EXISTS", "(SELECT 1)", "(SELECT id FROM orders)", "ANY(", "ARRAY[", "CASE WHEN",
    "END", "LIKE", "ILIKE", "'%x'", "lower(", "count(*)", "FOR UPDATE", "SKIP LOCKED", "WITH x AS (",
    "VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "CREATE INDEX ON t (a)", "BEGIN", "COPY t FROM stdin",
    "CREATE FUNCTION", "\\gset", "E'\\''", "NOW()", "interval '1 day'", "OVER (PARTITION BY a)", "LATERAL",
]


@st.composite
def mutated_sql(draw) -> str:
    """A realistic statement with a few random insertions, deletions, duplications or token splices."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "delete", "duplicate", "token"]))
        if operation == "insert":
            text = text[:at] + draw(st.text(st.sampled_from(list(_INTERESTING)), min_size=1, max_size=3)) + text[at:]
        elif operation == "delete":
            end = draw(st.integers(at, min(len(text), at + 12)))
            text = text[:at] + text[end:]
        elif operation == "duplicate":
            end = draw(st.integers(at, min(len(text), at + 40)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + " " + draw(st.sampled_from(_TOKENS)) + " " + text[at:]
    return text


def check_everything(source: SourceText) -> Review:
    """Review one source with every rule, render every format, and check what must always hold."""
    review = ENGINE.review([source])
    lines = source.text.split("\n")
    for finding in review.findings:
        loc = finding.location
        assert finding.severity in SEVERITIES
        if loc.path.startswith("catalog:"):
            continue
        assert loc.path == source.path
        assert 1 <= loc.line <= loc.end_line <= len(lines), finding
        assert 1 <= loc.column <= len(lines[loc.line - 1]) + 1, finding
        assert 1 <= loc.end_column <= len(lines[loc.end_line - 1]) + 1, finding
        assert (loc.line, loc.column) <= (loc.end_line, loc.end_column), finding
    for output_format in FORMATS:
        rendered = render(review, output_format, color=output_format == "text")
        assert isinstance(rendered, str)
    render(review, "text", color=False)
    document = json.loads(render(review, "json"))
    assert TOP_LEVEL_KEYS <= set(document)  # fields may be added within a version (docs/json-schema.md)
    assert document["summary"]["findings"] == len(document["findings"]) == len(review.findings)
    for finding in document["findings"]:
        assert FINDING_KEYS <= set(finding)
        assert LOCATION_KEYS <= set(finding["location"])
    if jsonschema is not None and SCHEMA_PATH.is_file():
        jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    sarif = json.loads(render(review, "sarif"))
    assert len(sarif["runs"][0]["results"]) == len(review.findings)
    return review


# QUERYREVIEW_FUZZ_EXAMPLES=5000 for a longer hunt
_FUZZ = settings(max_examples=int(os.environ.get("QUERYREVIEW_FUZZ_EXAMPLES", "200")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@given(_RANDOM_TEXT)
@_FUZZ
def test_random_text_never_breaks_the_pipeline(text: str) -> None:
    check_everything(SourceText(PATH, text))


@given(_RANDOM_TEXT.map(lambda text: text.encode("utf-8")) | st.binary(max_size=300))
@_FUZZ
def test_random_bytes_through_the_file_decoder_never_break_the_pipeline(data: bytes) -> None:
    check_everything(decode(PATH, data, 20 * 1024 * 1024))


@given(mutated_sql())
@_FUZZ
def test_mutated_sql_never_breaks_the_pipeline(text: str) -> None:
    check_everything(SourceText(PATH, text))


@pytest.mark.parametrize("seed", SEEDS[:: max(1, len(SEEDS) // 60)])
def test_seed_statements_pass_the_same_checks(seed: str) -> None:
    check_everything(SourceText(PATH, seed))


# Inputs on which a rule crashed, found by the properties above (minimised by hand). They stay
# here as regression tests; one fails until its rule is fixed (users see a "rule failed" finding).
CRASHERS = {
    # sqlglot reads a DELETE without FROM as MySQL's multi-table DELETE: this=False; from_items() keeps False
    "QR103-delete-without-from": "DELETE ROM sessions WHERE expires_at < now()",
    "QR118-delete-without-from": "DELETE FRO WHERE a NOT ILIKE '%bot%'",
    # an incomplete SET: sql/ddl.py _Parser.last_end() indexes past its items (every QR5xx rule)
    "QR5xx-incomplete-set": "SET x =",
    # a FOREIGN KEY without REFERENCES on a table created in the file: reference is None
    "QR517-foreign-key-without-references": "CREATE TABLE r (p bigint);\nALTER TABLE r ADD FOREIGN KEY (p) x;",
}


@pytest.mark.parametrize("text", list(CRASHERS.values()), ids=list(CRASHERS))
def test_inputs_that_crashed_a_rule(text: str) -> None:
    check_everything(SourceText(PATH, text))
