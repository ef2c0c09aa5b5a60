"""The shipped examples do what the README promises: queries/ trips most query rules, clean/ trips none."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from queryreview.cli import main
from queryreview.engine import Context, Engine
from queryreview.model import Review
from queryreview.rules.registry import all_rules
from queryreview.sources.files import discover, read_sources

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUERIES = EXAMPLES / "queries"
CLEAN = EXAMPLES / "clean"

# Query rules seen firing on examples/queries (checked by hand, finding by finding).
EXPECTED_QUERY_CODES = {
    "QR101", "QR102", "QR103", "QR104", "QR105", "QR106", "QR107", "QR108", "QR109", "QR110", "QR111",
    "QR112", "QR113", "QR114", "QR115", "QR116", "QR117", "QR118", "QR119", "QR120", "QR121", "QR122",
}


def _review(directory: Path) -> Review:
    """All rules over every SQL file of a directory, as `queryreview check DIR` runs them offline."""
    files = discover([str(directory)], [], directory)
    engine = Engine(list(all_rules()), Context())
    return engine.review(read_sources(files, 10 * 1024 * 1024))


@pytest.fixture(scope="module")
def queries_review() -> Review:
    return _review(QUERIES)


@pytest.fixture(scope="module")
def clean_review() -> Review:
    return _review(CLEAN)


def test_examples_come_in_pairs() -> None:
    bad = sorted(p.name for p in QUERIES.glob("*.sql"))
    good = sorted(p.name for p in CLEAN.glob("*.sql"))
    assert len(bad) >= 5
    assert bad == good


def test_queries_trip_the_expected_query_rules(queries_review: Review) -> None:
    fired = {f.code for f in queries_review.findings}
    missing = EXPECTED_QUERY_CODES - fired
    assert not missing, f"no finding for {sorted(missing)}"


def test_queries_trip_most_query_rules(queries_review: Review) -> None:
    statement_rules = {r.code for r in all_rules() if r.family == "query" and set(r.requires) <= {"stmt", "settings"}}
    fired = {f.code for f in queries_review.findings} & statement_rules
    assert len(fired) >= 0.75 * len(statement_rules), f"only {sorted(fired)} of {sorted(statement_rules)}"


def test_every_example_file_has_findings(queries_review: Review) -> None:
    with_findings = {Path(f.location.path).name for f in queries_review.findings}
    assert with_findings == {p.name for p in QUERIES.glob("*.sql")}


def test_examples_parse_and_suppression_is_used(queries_review: Review) -> None:
    assert queries_review.statements == queries_review.parsed
    assert not [f for f in queries_review.findings if f.family == "tool"], "parse errors or unused suppressions"
    countries = [f for f in queries_review.findings if f.code == "QR121" and "countries" in f.message]
    assert countries == [], "the ignore[unbounded-select] comment should cover the countries lookup"


def _line_of(name: str, snippet: str) -> int:
    """Line number of the first line of examples/queries/NAME containing ``snippet``."""
    lines = (QUERIES / name).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if snippet in line)


@pytest.mark.parametrize(("name", "snippet", "code"), [
    ("jobs_queue.sql", "LIMIT 10", "QR120"),  # the FOR UPDATE right after it: workers block on each other
    ("jobs_queue.sql", "AND attempts < 5", "QR120"),  # the FOR UPDATE right after it: no LIMIT
    ("jobs_queue.sql", "WHERE status <> 'done'", "QR118"),
    ("orders_api.sql", "ON o.id = i.order_ref::bigint", "QR122"),
    ("orders_api.sql", "ON o.id = (s.payload->>'order_id')::bigint", "QR122"),
    ("reports.sql", "FROM customers c", "QR121"),
    ("customer_dashboard.sql", "WHERE o.customer_id IN (SELECT c.id", "QR119"),
])
def test_query_findings_point_at_the_right_lines(queries_review: Review, name: str, snippet: str, code: str) -> None:
    line = _line_of(name, snippet) + (1 if code == "QR120" else 0)
    located = {(Path(f.location.path).name, f.location.line, f.code) for f in queries_review.findings}
    assert (name, line, code) in located, sorted(x for x in located if x[0] == name)


def test_clean_examples_trip_nothing(clean_review: Review) -> None:
    assert clean_review.statements == clean_review.parsed
    assert clean_review.statements >= 30
    assert [(Path(f.location.path).name, f.location.line, f.code, f.message) for f in clean_review.findings] == []


def test_cli_exits_1_on_the_bad_examples() -> None:
    result = CliRunner().invoke(main, ["check", str(QUERIES), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert "QR120" in result.output


def test_cli_exits_0_on_the_clean_examples() -> None:
    result = CliRunner().invoke(main, ["check", str(CLEAN)])
    assert result.exit_code == 0, result.output


def _readme_table() -> list[tuple[str, set[str]]]:
    rows = []
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith(".sql`"):
            rows.append((cells[0].strip("`"), {code.strip() for code in cells[2].split(",")}))
    return rows


def test_readme_table_matches_the_findings(queries_review: Review) -> None:
    rows = _readme_table()
    assert {name for name, _ in rows} == {p.name for p in QUERIES.glob("*.sql")}
    for name, codes in rows:
        fired = {f.code for f in queries_review.findings if Path(f.location.path).name == name}
        assert codes <= fired, f"{name}: README lists {sorted(codes - fired)} that do not fire"
