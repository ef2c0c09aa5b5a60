"""The audit report in every format, built from real parts: engine findings on a catalog and
pg_stat_statements fixture, a real EXPLAIN plan from the rule catalog, offline advisor
recommendations (estimates, rewrites, drops), and a verification."""

from __future__ import annotations

import copy
import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from queryreview.advise_pipeline import AdviseInputs, AdviseOptions, recommend
from queryreview.advisor.statements import from_workload, window_days
from queryreview.audit.model import (AuditReport, QueryRow, RunFigures, ServerInfo, StatementChange, StatsWindow,
                                     Verification)
from queryreview.catalog import Catalog, WorkloadStats
from queryreview.engine import Context, Engine, PlanInput
from queryreview.model import Review, SourceText
from queryreview.plan.tree import parse_plan
from queryreview.report import audit as story
from queryreview.report.audit import FORMATS, render_audit
from queryreview.rules.registry import all_rules, find_rule

ROOT = Path(__file__).resolve().parent.parent
CAPACITY_CODES = {"QR402", "QR403", "QR407"}


def _plan_case(code: str, index: int) -> dict:
    path = next((ROOT / "rules").glob(f"{code}-*.yaml"))
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]["fail"][index]


# The join of orders and customers whose plan (captured with EXPLAIN ANALYZE) seq-scans orders.
JOIN = _plan_case("QR301", 3)
JOIN_SQL = ("SELECT c.name, o.amount\nFROM orders o JOIN customers c ON c.id = o.customer_id\n"
            "WHERE o.status = $1 AND c.region = $2")
LABEL_SQL = "SELECT id, name || $1 || region AS label FROM customers WHERE region = $2 AND id < $3"
PAGE_SQL = "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC OFFSET $2 LIMIT $3"

STATS = {
    "stats_reset": "2024-01-15T08:00:00+00:00", "collected_at": "2024-01-17T08:00:00+00:00",
    "total_exec_time": 3_600_000, "total_calls": 6_000_000,
    "statements": [
        {"queryid": 101, "query": JOIN_SQL, "calls": 40_000, "rows": 40_000, "total_exec_time": 1_500_000,
         "shared_blks_hit": 9_000_000, "shared_blks_read": 1_000_000},
        {"queryid": 102, "query": PAGE_SQL, "calls": 90_000, "rows": 1_800_000, "total_exec_time": 900_000,
         "shared_blks_hit": 5_000_000, "shared_blks_read": 20_000},
        {"queryid": 6620113518840212, "query": "SELECT code, name, currency FROM countries WHERE code = $1",
         "calls": 2_400_000, "rows": 2_400_000, "total_exec_time": 480_000, "shared_blks_hit": 2_400_000},
        {"queryid": 104, "query": "UPDATE orders SET status = $1 WHERE id = $2", "calls": 400_000,
         "rows": 400_000, "total_exec_time": 200_000, "wal_bytes": 4_294_967_296},
        {"queryid": 105, "query": LABEL_SQL, "calls": 3_000, "rows": 60_000, "total_exec_time": 90_000},
        {"queryid": 106, "query": "SELECT pg_advisory_lock($1)", "calls": 100, "rows": 100,
         "total_exec_time": 50_000},
    ],
}
CATALOG = {
    "stats_reset": "2024-01-15T08:00:00+00:00",
    "tables": [
        {"name": "orders", "rows": 1_200_000,
         "columns": ["id bigint", "customer_id bigint", "status text", "created_at timestamptz", "amount numeric"],
         "indexes": [
             {"name": "orders_pkey", "columns": ["id"], "primary": True, "unique": True, "constraint": "orders_pkey",
              "size_bytes": 27_000_000, "idx_scan": 88_000},
             {"name": "orders_id_idx", "columns": ["id"], "idx_scan": 30},
             {"name": "orders_amount_idx", "columns": ["amount"], "size_bytes": 8_650_752, "idx_scan": 0}]},
        {"name": "customers", "rows": 50_000, "columns": ["id bigint", "name text", "region text"],
         "indexes": [{"name": "customers_pkey", "columns": ["id"], "primary": True, "unique": True,
                      "constraint": "customers_pkey"}]},
        {"name": "countries", "rows": 250, "columns": ["code text", "name text", "currency text"],
         "stats": {"seq_scan": 10, "idx_scan": 2_400_000, "n_tup_ins": 250, "n_tup_upd": 3, "n_tup_del": 0}},
    ],
}


def _verification(rows: list[QueryRow], recommendations) -> Verification:
    creates = [r.sql for r in recommendations if r.kind == "create-index"]
    changes = [StatementChange(row.queryid, row.text, 900, 11_000, row.mean_ms, row.mean_ms / 14) for row in rows[:3]]
    changes.append(StatementChange(rows[-1].queryid, rows[-1].text, 40, 0, rows[-1].mean_ms, None))
    return Verification(
        applied=creates[:-1], failed=[(creates[-1], "could not create unique index: key (id)=(7) is duplicated")],
        before=RunFigures(mean_ms=24.1, p95_ms=80.3, tps=41.5, transactions=1_245, failed=0, duration_s=30.0,
                          tps_cv=0.04, db_time_ms=60_000.0),
        after=RunFigures(mean_ms=1.9, p95_ms=4.2, tps=520.0, transactions=15_600, failed=2, duration_s=30.0,
                         tps_cv=0.12, db_time_ms=9_000.0),
        statements=changes, clients=4, jobs=2, kept=False,
        notes=["both runs: same duration and concurrency, caches warmed by a 3 s run first"])


def build_report(partial: str | None = None, verify: bool = True, texts: dict[int, str] | None = None) -> AuditReport:
    """An AuditReport as the pipeline makes it: engine findings on real fixtures, advisor output, a plan."""
    stats_data = copy.deepcopy(STATS)
    for entry in stats_data["statements"]:
        entry["query"] = (texts or {}).get(entry["queryid"], entry["query"])
    catalog, stats = Catalog.from_dict(CATALOG), WorkloadStats.from_dict(stats_data)
    plan = parse_plan(JOIN["plan"])
    sources = [SourceText(f"pg_stat_statements:{s.queryid}", s.query) for s in stats.statements]
    context = Context(catalog=catalog, stats=stats, plans=[PlanInput("pg_stat_statements:101", plan, JOIN["sql"])])
    review = Engine(list(all_rules()), context).review(sources)
    review.skipped_rules = Engine([find_rule("seq-scan-regression")], Context()).skipped
    statements, notes = from_workload(stats)
    recommend(AdviseInputs(statements, catalog, None, 0, window_days(stats.stats_reset, stats.collected_at)),
              AdviseOptions(), review)
    review.notes.extend(notes)
    total = stats_data["total_exec_time"]
    rows = []
    for rank, entry in enumerate(stats_data["statements"], start=1):
        source = f"pg_stat_statements:{entry['queryid']}"
        hit, read = entry.get("shared_blks_hit", 0), entry.get("shared_blks_read", 0)
        rows.append(QueryRow(
            rank=rank, queryid=entry["queryid"], text=entry["query"], calls=entry["calls"],
            total_ms=entry["total_exec_time"], mean_ms=entry["total_exec_time"] / entry["calls"],
            rows_per_call=entry["rows"] / entry["calls"], share=entry["total_exec_time"] / total,
            cache_hit=hit / (hit + read) if hit + read else None,
            findings=[f for f in review.findings if f.location.path == source and f.code not in CAPACITY_CODES],
            recommendations=[i for i, r in enumerate(review.recommendations)
                             if any(impact.queryid == entry["queryid"] for impact in r.statements)]))
    rows[0].plan, rows[0].plan_method = plan, "generic_plan"
    rows[0].plan_note = "parameters taken from a sampled call"
    rows[5].plan_error = "EXPLAIN failed: canceling statement due to statement timeout"
    rows[1].plan, rows[1].plan_method = None, None
    window = StatsWindow(stats_reset=stats.stats_reset, collected_at=stats.collected_at, seconds=172_800.0,
                         dealloc=3, entries=6, hidden_entries=1, max_entries=5_000, extension_version="1.11")
    return AuditReport(
        review=review, server=ServerInfo("localhost:5432/dashboard", "18.1", 180_001, "dashboard", "audit"),
        window=window, total_ms=total, queries=rows, origin="demo",
        skipped=["2 statements not explained: utility statements (LOCK, VACUUM)",
                 "pg_stat_statements: 1 entry hidden (insufficient privilege)"],
        safety=["read-only transactions", "statement_timeout 5 s", "lock_timeout 1 s"],
        capacity=[f for f in review.findings if f.code in CAPACITY_CODES],
        verification=_verification(rows, review.recommendations) if verify else None, partial=partial,
        demo={"scale": 1.0, "loaded_now": False, "load_seconds": 38.2, "cache_dir": "/tmp/demo-cache",
              "workload": {"duration_s": 15.0, "clients": 4, "jobs": 2, "tps": 41.5, "mean_ms": 24.1, "p95_ms": 80.3,
                           "transactions": 622, "failed": 0, "tps_cv": 0.05}},
        seconds=42.5)


@functools.lru_cache(maxsize=1)
def _shared_report() -> AuditReport:
    return build_report()


@pytest.fixture
def report() -> AuditReport:
    """Built once; tests must not change it (the odd-text test copies what it changes)."""
    return _shared_report()


def test_the_fixture_has_every_kind_of_content(report: AuditReport) -> None:
    """The report below holds what the sections are about, else the rendering tests prove little."""
    codes = {finding.code for row in report.queries for finding in row.findings}
    assert {"QR301", "QR101", "QR106", "QR401"} <= codes
    assert {f.code for f in report.capacity} >= {"QR402", "QR403"}
    assert any(f.location.path.startswith("catalog:public.") for f in story.other_findings(report))
    assert {r.kind for r in report.recommendations} == {"create-index", "drop-index", "rewrite"}
    assert report.review.rejected and report.review.skipped_rules and report.review.notes
    assert any(f.evidence and f.evidence.get("node") == 2 for f in report.queries[0].findings)


# --- helpers ---------------------------------------------------------------------------------------------

SECTIONS = ["Top statements by database time", "Statements with findings", "Indexes to create", "Indexes to drop",
            "Rewrites", "Considered, rejected", "Capacity notes", "Verified before/after", "Other findings",
            "Notes"]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    """Collects the visible text, every tag and attribute, and checks that tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        self._in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        elif not {"nav", "title"} & set(self.stack):  # the table of contents repeats the section titles
            self.text.append(data)


def _page(document: str) -> _Page:
    page = _Page()
    page.feed(document)
    page.close()
    return page


def _visible(fmt: str, output: str) -> str:
    """What a reader sees: HTML without tags, Markdown without backslash escapes, text without colour."""
    if fmt == "html":
        return "".join(_page(output).text)
    if fmt == "markdown":
        return re.sub(r"\\(.)", r"\1", output)
    return _ANSI.sub("", output)


def _sql_lines(report: AuditReport) -> set[str]:
    """Lines of SQL the text report prints unwrapped (so they can be copied): exempt from the width limit."""
    sqls = [row.text for row in report.queries]
    sqls += [r.sql for r in report.recommendations]
    sqls += [f.fix.sql for f in report.review.findings if f.fix and f.fix.sql]
    if report.verification is not None:
        sqls += report.verification.applied + [sql for sql, _ in report.verification.failed]
    return {line.strip() for sql in sqls for line in story.clean(sql).expandtabs(4).split("\n")}


def _too_wide(output: str, report: AuditReport) -> list[str]:
    exempt = _sql_lines(report)
    return [line for line in output.split("\n") if cell_len(line) > 100 and line.strip() not in exempt]


def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.split("\n") if line.startswith("| ")]


def _assert_tables_keep_their_columns(markdown: str) -> None:
    """Every row of each table has as many cells as its header: no pipe in a text splits a row."""
    markdown = re.sub(r"(?ms)^(`{3,})[^`\n]*\n.*?^\1$", "", markdown)  # code blocks are not tables
    tables = [block.strip("\n") for block in re.split(r"\n(?!\|)", markdown) if block.strip("\n").startswith("|")]
    assert tables
    for table in tables:
        assert len({_cells(line) for line in table.split("\n") if line.startswith("|")}) == 1, table


def _cells(row: str) -> int:
    """Cell separators as GitHub's table parser counts them: a backslash escapes the next character."""
    count, index = 0, 0
    while index < len(row):
        if row[index] == "\\":
            index += 2
            continue
        count += row[index] == "|"
        index += 1
    return count - 1


# --- every format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_section_is_rendered_in_story_order(report: AuditReport, fmt: str) -> None:
    seen = _visible(fmt, render_audit(report, fmt, color=False))
    positions = [seen.find(section) for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions) if p == -1]
    assert positions == sorted(positions), "sections out of order"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_tells_the_whole_story(report: AuditReport, fmt: str) -> None:
    seen = " ".join(_visible(fmt, render_audit(report, fmt, color=False)).split())
    expected = [
        # header
        "PostgreSQL 18.1", "localhost:5432/dashboard", "embedded demo", "since 2024-01-15 08:00 UTC (2.0 days)",
        "3 entries evicted", "1 hidden", "1.0 h in the window", "cover 89%", "read-only transactions",
        "2 statements not explained: utility statements (LOCK, VACUUM)", "41.5 tps", "mean latency 24 ms",
        "loaded in 38.2 s",
        # the top statements table: calls, total, mean, share, cache hit
        "2,400,000", "25.0 min", "0.20 ms", "42%", "90.0%", "UPDATE orders SET status = $1 WHERE id = $2",
        # a statement's story: findings of every family, plan evidence, the recommendation helping it
        "QR301", "plan node #2: Seq Scan on orders o", "QR101", "QR106", "QR401", "Plan #1: execution 14.0 ms",
        "Seq Scan on orders o", "plan from EXPLAIN (GENERIC_PLAN) (parameters taken from a sampled call)",
        "no plan: EXPLAIN failed: canceling statement due to statement timeout",
        "Use keyset pagination", "CREATE INDEX CONCURRENTLY orders_status_idx ON public.orders (status)",
        # recommendations: SQL, cost, size, saving, validation, statements helped, drops, rewrites, rejected
        "cost 15,627 → 723 (-95%)", "size 25 MB", "saves ~11.9 min/day", "validated by estimate",
        "DROP INDEX CONCURRENTLY public.orders_amount_idx",
        "SELECT * FROM orders WHERE customer_id = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT $3",
        "an existing index already serves it: customers_pkey (id)",
        # capacity
        "QR402", "Cache candidate", "QR403", "read replica", "QR407", "statement #4 (pg_stat_statements:104)",
        # verification
        "12.7× faster", "4.2 ms", "520.0 tps", "noise moderate", "indexes rolled back",
        "could not create unique index", "did not run", "4 clients",
        # other findings, notes, skipped rules
        "catalog:public.orders_id_idx", "QR205", "QR208", "no database to cost on",
        "QR316 seq-scan-regression: needs",
    ]
    missing = [needle for needle in expected if needle not in seen]
    assert not missing, missing


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_statements_are_ranked_by_database_time(report: AuditReport, fmt: str) -> None:
    seen = _visible(fmt, render_audit(report, fmt, color=False))
    section = seen[seen.index("Statements with findings"):seen.index("Indexes to create")]
    ranks = [int(rank) for rank in re.findall(r"(?m)^(?:### )?#(\d+) ", section)]
    assert ranks == [1, 2, 3, 6]  # with findings or a plan error, busiest first; #4 and #5 have nothing to say
    assert ranks == [row.rank for row in story.storied_rows(report)]


def test_text_fits_100_columns_and_keeps_sql_whole(report: AuditReport) -> None:
    output = render_audit(report, "text", color=False, width=100)
    assert not _too_wide(output, report)
    assert any(len(line) > 100 for line in output.split("\n")), "the fixture has SQL longer than a line"
    rewrite = "SELECT * FROM orders WHERE customer_id = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT $3"
    assert any(line.strip() == rewrite for line in output.split("\n"))  # not wrapped


def test_text_narrow_terminal(report: AuditReport) -> None:
    output = render_audit(report, "text", color=False, width=72)
    assert not [line for line in _too_wide(output, report) if cell_len(line) > 100]
    assert "Statements with findings" in output


def test_text_colour_only_when_asked(report: AuditReport, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = render_audit(report, "text", color=False)
    coloured = render_audit(report, "text", color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert _ANSI.sub("", coloured) == plain
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in render_audit(report, "text")  # not a TTY either


def test_html_is_self_contained_and_balanced(report: AuditReport) -> None:
    document = render_audit(report, "html")
    page = _page(document)
    assert not page.problems and not page.stack, (page.problems, page.stack)
    assert document.startswith("<!DOCTYPE html>")
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "source", "video", "audio"}
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "srcset", "action", "poster", "data"}:
                assert value and value.startswith("#"), (tag, name, value)
    assert "url(" not in page.style and "@import" not in page.style and "@font-face" not in page.style
    assert "prefers-color-scheme: dark" in page.style
    assert re.search(r"https?://", document) is None
    assert "WHERE region = $2 AND id &lt; $3</code>" in document  # statement texts are escaped


def test_json_round_trips_with_the_audit_keys(report: AuditReport) -> None:
    document = json.loads(render_audit(report, "json"))
    assert document == json.loads(json.dumps(report.to_dict()))
    assert {"audit", "queries", "verification", "findings", "recommendations"} <= set(document)
    assert [q["rank"] for q in document["queries"]] == [1, 2, 3, 4, 5, 6]
    assert document["queries"][0]["plan"]["top_nodes"] == [2]
    assert document["verification"]["workload"]["speedup"] == pytest.approx(24.1 / 1.9)
    assert "verification" not in json.loads(render_audit(build_report(verify=False), "json"))


def test_json_matches_the_documented_schema(report: AuditReport) -> None:
    validator_module = pytest.importorskip("jsonschema")
    from test_docs import SCHEMA, _strict

    validator = validator_module.Draft202012Validator(_strict(SCHEMA))
    validator.validate(json.loads(render_audit(report, "json")))
    partial = build_report(partial="connection lost", verify=False)
    partial.window = None
    validator.validate(json.loads(render_audit(partial, "json")))
    broken = json.loads(render_audit(report, "json"))
    broken["queries"][0]["unknown_field"] = 1
    with pytest.raises(validator_module.ValidationError):
        validator.validate(broken)


def test_sarif_is_the_findings(report: AuditReport) -> None:
    from queryreview.report import sarif

    output = render_audit(report, "sarif")
    assert output == sarif.render(report.review)
    names = {loc["logicalLocations"][0]["fullyQualifiedName"] for result in json.loads(output)["runs"][0]["results"]
             for loc in result["locations"] if "logicalLocations" in loc}
    assert "pg_stat_statements:101" in names


def test_markdown_escapes_pipes_in_sql(report: AuditReport) -> None:
    output = render_audit(report, "markdown")
    label_row = next(row for row in _table_rows(output) if "region AS label" in row)
    assert "name \\|\\| $1 \\|\\| region" in label_row
    assert _cells(label_row) == len(story.TABLE_HEADERS)
    _assert_tables_keep_their_columns(output)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_a_partial_report_says_so_first(fmt: str) -> None:
    partial = build_report(partial="the connection was lost while explaining statement #4", verify=False)
    output = render_audit(partial, fmt, color=False)
    seen = _visible(fmt, output).strip()
    lines = [line for line in seen.split("\n") if line.strip()]
    assert any(line.lstrip("!>#* ").startswith("PARTIAL REPORT") for line in lines[:3]), lines[:3]
    assert seen.find("PARTIAL REPORT") < seen.find("PostgreSQL 18.1")
    assert "the connection was lost while explaining statement #4" in " ".join(seen.split())
    complete = render_audit(build_report(verify=False), fmt, color=False)
    assert "PARTIAL" not in complete


def test_unknown_format_is_refused(report: AuditReport) -> None:
    with pytest.raises(ValueError, match="text, markdown, html, json, sarif"):
        render_audit(report, "github")
    assert FORMATS == ("text", "markdown", "html", "json", "sarif")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_catalog_only_audit(fmt: str) -> None:
    empty = AuditReport(review=Review(), server=ServerInfo(target="snap.json.gz"), window=None, total_ms=0.0,
                        queries=[], origin="snapshot")
    output = render_audit(empty, fmt, color=False)
    if fmt in ("text", "markdown", "html"):
        seen = _visible(fmt, output)
        assert "no pg_stat_statements data" in seen and "No statement figures" in seen
        assert "Statements with findings" not in seen and "Verified" not in seen
    if fmt == "html":
        page = _page(output)
        assert not page.problems and not page.stack
    if fmt == "json":
        assert json.loads(output)["audit"]["window"] is None


def test_shorten_keeps_the_start_and_fits() -> None:
    text = "SELECT   id,\n\tname\nFROM customers WHERE region = $1 AND created_at > $2 ORDER BY created_at DESC"
    short = story.shorten(text, 40)
    assert short.startswith("SELECT id, name FROM customers") and short.endswith("…")
    assert cell_len(short) <= 40 and "  " not in short
    assert story.shorten("SELECT 1", 40) == "SELECT 1"
    assert cell_len(story.shorten("SELECT '" + "表" * 50 + "'", 30)) <= 30
    assert story.shorten("", 20) == "(query text not available)"


# --- odd statement texts -----------------------------------------------------------------------------------

_ODD = st.lists(st.one_of(
    st.text(max_size=12),
    st.sampled_from(["|", "||", "`", "```", "<script>alert(1)</script>", "\n", "\r\n", "\t", "&amp;", "\\", "\\|",
                     "*_~#[]", "<!--", "-->", "</pre>", "\x1b[31m", "\x00", "表", "$1", "'", '"', "\u2028"]),
    st.text(alphabet="abcdefghij_", min_size=150, max_size=400),
), min_size=1, max_size=12).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_ODD, other=_ODD)
def test_odd_statement_texts_in_every_format(first: str, other: str) -> None:
    report = _shared_report()
    odd = copy.copy(report)
    odd.queries = [copy.copy(row) for row in report.queries]
    odd.queries[0].text, odd.queries[3].text = first, other
    odd.verification = copy.copy(report.verification)
    odd.verification.statements = [copy.copy(change) for change in report.verification.statements]
    odd.verification.statements[0].text = other
    odd.server = copy.copy(report.server)
    odd.server.target = other[:60]

    text = render_audit(odd, "text", color=False)
    assert not _too_wide(text, odd)
    assert "\x1b" not in text and "\x00" not in text

    markdown = render_audit(odd, "markdown")
    _assert_tables_keep_their_columns(markdown)
    fence = re.search(r'<a id="statement-1"></a>.*?\n(`{3,})sql\n(.*?)\n\1\n', markdown, re.S)
    assert fence is not None and fence.group(2) == story.clean(first).rstrip()

    document = render_audit(odd, "html")
    page = _page(document)
    assert not page.problems and not page.stack, page.problems
    assert "script" not in {tag for tag, _ in page.tags}
    assert story.clean(first).rstrip() in "".join(page.text)

    data = json.loads(render_audit(odd, "json"))
    assert data["queries"][0]["query"] == first and data["queries"][3]["query"] == other
