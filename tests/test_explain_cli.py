"""``queryreview explain`` in-process with CliRunner: plan files, stdin, formats, errors, exit codes.

The plans are real captures: the rules' YAML fixtures and tests/fixtures/plans/psql/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from queryreview.cli import main
from queryreview.cli_explain import explain
from queryreview.rules.registry import find_rule

if "explain" not in main.commands:  # until cli.py registers the command (main.add_command(explain))
    main.add_command(explain)

PSQL = Path(__file__).parent / "fixtures" / "plans" / "psql"


def rule_plan(rule: str, kind: str = "fail", number: int = 0) -> dict:
    return find_rule(rule).cases[kind][number]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": None, "COLUMNS": None})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no configuration above it, holding a seq-scan plan and its SQL."""
    monkeypatch.chdir(tmp_path)
    case = rule_plan("seq-scan-large-filtered")
    (tmp_path / "plan.json").write_text(json.dumps(case["plan"], indent=2), encoding="utf-8")
    (tmp_path / "query.sql").write_text(case["sql"] + ";\n", encoding="utf-8")
    return tmp_path


def run(runner: CliRunner, *args: str, input: str | bytes | None = None):
    return runner.invoke(main, ["explain", *args], input=input)


def test_help(runner: CliRunner) -> None:
    result = run(runner, "--help")
    assert result.exit_code == 0 and result.stdout.startswith("Usage: ")
    for text in ("--sql", "--format", "json", "sarif", "--fail-on", "Exit codes: 0 clean, 1 findings",
                 "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"):
        assert text in result.stdout


def test_text_report_has_the_plan_tree_and_the_findings(runner: CliRunner, project: Path) -> None:
    result = run(runner, "plan.json")
    assert result.exit_code == 1, result.output  # a warning, at the default --fail-on warning
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Plan plan.json: execution ")
    assert any(line.startswith("*   1 Seq Scan on orders") for line in lines)
    assert "plan.json:1:1: QR301 seq-scan-large-filtered [warning]" in result.stdout
    assert "CREATE INDEX CONCURRENTLY ON orders (status);" in result.stdout
    assert "1 warning" in result.stdout and "\x1b[" not in result.stdout
    assert all(len(line) <= 100 for line in lines if not line.startswith("      "))  # fix SQL is never wrapped


def test_sql_runs_the_statement_rules_too(runner: CliRunner, project: Path) -> None:
    (project / "star.sql").write_text("SELECT * FROM orders WHERE status = 'open';\n", encoding="utf-8")
    result = run(runner, "plan.json", "--sql", "star.sql", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    codes = {f["code"]: f for f in report["findings"]}
    assert {"QR101", "QR301"} <= set(codes)
    assert codes["QR101"]["location"]["path"] == "star.sql"
    assert codes["QR301"]["statement"] == "SELECT * FROM orders WHERE status = 'open'"
    assert report["summary"]["files"] == 2 and report["summary"]["statements"] == 1


def test_json_has_the_per_node_analysis(runner: CliRunner, project: Path) -> None:
    result = run(runner, "plan.json", "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["version"] == 1 and [p["name"] for p in report["plans"]] == ["plan.json"]
    plan = report["plans"][0]
    assert plan["analyzed"] and plan["share_of"] == "time" and plan["top_nodes"] == [1]
    node = plan["nodes"][0]
    assert node["label"] == "Seq Scan on orders" and node["actual_rows"] == 500 and node["exclusive_time_ms"] > 0
    finding = report["findings"][0]
    assert finding["evidence"]["node"] == 1 and finding["location"]["path"] == "plan.json"
    assert finding["fix"]["sql"] == "CREATE INDEX CONCURRENTLY ON orders (status);"


def test_output_file(runner: CliRunner, project: Path) -> None:
    result = run(runner, "plan.json", "--format", "json", "-o", "review.json")
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads((project / "review.json").read_text(encoding="utf-8"))["plans"]


@pytest.mark.parametrize("fmt", ["sarif", "github", "markdown"])
def test_other_formats(runner: CliRunner, project: Path, fmt: str) -> None:
    result = run(runner, "plan.json", "--format", fmt)
    assert result.exit_code == 1, result.output
    assert "QR301" in result.stdout
    if fmt == "sarif":
        assert json.loads(result.stdout)["runs"][0]["results"]
    if fmt == "markdown":
        assert "<details><summary>Plan plan.json</summary>" in result.stdout


@pytest.mark.parametrize("name", ["aligned.txt", "unaligned.txt", "tuples-aligned.txt", "tuples-unaligned.txt"])
def test_psql_output_on_stdin(runner: CliRunner, name: str) -> None:
    text = (PSQL / name).read_text(encoding="utf-8")
    result = run(runner, "-", "--stdin-filename", "slow-report.json", "--fail-on", "never", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Plan slow-report.json: execution ")
    assert "Limit" in result.stdout and "Seq Scan on orders o" in result.stdout


def test_auto_explain_query_text_is_reviewed(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "postgresql.log").write_text((PSQL / "auto_explain-log.txt").read_text(encoding="utf-8"))
    result = run(runner, "postgresql.log", "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["plans"][0]["query"].startswith("LOAD 'auto_explain'")
    assert report["plans"][0]["execution_time_ms"] > 0  # from the log's duration
    assert report["summary"]["statements"] >= 1  # the Query Text went through the statement rules


@pytest.mark.parametrize(("name", "says"), [
    ("text-format.txt", "this looks like text-format EXPLAIN output; queryreview needs FORMAT JSON"),
    ("xml.txt", "FORMAT XML"),
])
def test_text_format_plan_says_json_is_needed(runner: CliRunner, tmp_path: Path, name: str, says: str) -> None:
    path = tmp_path / name
    path.write_text((PSQL / name).read_text(encoding="utf-8"), encoding="utf-8")
    result = run(runner, str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert says in result.stderr and "Traceback" not in result.stderr
    assert 'hint: run it again as EXPLAIN (' in result.stderr or "hint: run it again as: EXPLAIN" in result.stderr
    assert "FORMAT JSON)" in result.stderr


@pytest.mark.parametrize(("content", "says"), [
    ("", "empty input"),
    ('[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "ord', "truncated EXPLAIN JSON"),
    ('[{"Plan": {"Node Type": "Seq Scan"}}] junk', "malformed EXPLAIN JSON"),
    ('[{"Plan": {"Node Type": "Seq Scan", "Actual Loops": "one"}}]', "is not a number"),
    ("\x00\x01\x02binary", "not EXPLAIN (FORMAT JSON) output"),
])
def test_bad_plans_exit_2_without_traceback(runner: CliRunner, tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run(runner, str(path))
    assert result.exit_code == 2, result.output
    assert says in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_truncated_real_plan(runner: CliRunner, project: Path) -> None:
    text = (project / "plan.json").read_text(encoding="utf-8")
    (project / "cut.json").write_text(text[: len(text) // 2], encoding="utf-8")
    result = run(runner, "cut.json")
    assert result.exit_code == 2 and "cut.json: truncated EXPLAIN JSON" in result.stderr


def test_missing_inputs(runner: CliRunner, project: Path) -> None:
    assert "nope.json: no such file" in run(runner, "nope.json").stderr
    assert run(runner, "nope.json").exit_code == 2
    result = run(runner, ".")
    assert result.exit_code == 2 and "is a directory" in result.stderr
    result = run(runner, "plan.json", "--sql", "missing.sql")
    assert result.exit_code == 2 and "--sql missing.sql: no such file" in result.stderr
    assert run(runner).exit_code == 2  # no PLAN argument
    result = run(runner, "-", "--sql", "-", input="{}")
    assert result.exit_code == 2 and "cannot both come from stdin" in result.stderr


def test_utf16_file_from_powershell(runner: CliRunner, project: Path) -> None:
    text = (project / "plan.json").read_text(encoding="utf-8")
    (project / "ps.json").write_bytes(text.encode("utf-16"))  # with BOM, as `> file` writes in PowerShell 5
    assert run(runner, "ps.json").exit_code == 1


def test_fail_on_and_rule_selection(runner: CliRunner, project: Path) -> None:
    assert run(runner, "plan.json", "--fail-on", "never").exit_code == 0
    assert run(runner, "plan.json", "--fail-on", "error").exit_code == 0
    assert run(runner, "plan.json", "--fail-on", "info").exit_code == 1
    result = run(runner, "plan.json", "--ignore", "QR301")
    assert result.exit_code == 0 and "QR301" not in result.stdout
    result = run(runner, "plan.json", "--select", "row-misestimate")
    assert result.exit_code == 0 and "No findings" in result.stdout


def test_catalog_rules_are_left_out_unless_selected(runner: CliRunner, project: Path) -> None:
    result = run(runner, "plan.json", "--format", "json", "--sql", "query.sql")
    skipped = json.loads(result.stdout)["skipped_rules"]
    assert not any("catalog" in line for line in skipped)
    result = run(runner, "plan.json", "--format", "json", "--sql", "query.sql", "--select", "QR301,QR201")
    skipped = json.loads(result.stdout)["skipped_rules"]
    assert any(line.startswith("QR201") and "catalog" in line for line in skipped)


def test_configuration_settings_apply(runner: CliRunner, project: Path) -> None:
    (project / ".queryreview.toml").write_text("[rules.seq-scan-large-filtered]\nmin_rows = 100000\n",
                                               encoding="utf-8")
    result = run(runner, "plan.json")
    assert result.exit_code == 0 and "No findings" in result.stdout
    (project / ".queryreview.toml").write_text("[rules.seq-scan-large-filtered]\nmin_rows = 'many'\n",
                                               encoding="utf-8")
    result = run(runner, "plan.json")
    assert result.exit_code == 2 and "must be int" in result.stderr


def test_plan_rule_messages_through_the_cli(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    """Each of QR302-QR305 end to end on its first fail case: message, help and exact SQL are shown."""
    monkeypatch.chdir(tmp_path)
    expected = {
        "index-scan-heavy-filter": "CREATE INDEX CONCURRENTLY ON orders (customer_id, status);",
        "row-misestimate": "CREATE STATISTICS addresses_city_zip_stats (dependencies, ndistinct, mcv) ON city, zip FROM addresses;",
        "sort-spill-to-disk": "CREATE INDEX CONCURRENTLY ON orders (created_at);",
        "hash-spill": "SET LOCAL work_mem = '1MB';",
    }
    for rule, sql in expected.items():
        (tmp_path / f"{rule}.json").write_text(json.dumps(rule_plan(rule)["plan"]), encoding="utf-8")
        result = run(runner, f"{rule}.json", "--select", rule, "--no-color")
        assert result.exit_code == 1, result.output
        assert find_rule(rule).code in result.stdout and sql in result.stdout.replace("\n          ", " ")


def test_sort_spill_index_keeps_descending_keys(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.json").write_text(json.dumps(rule_plan("sort-spill-to-disk", "fail", 1)["plan"]), encoding="utf-8")
    result = run(runner, "p.json", "--select", "sort-spill-to-disk", "--format", "json")
    evidence = json.loads(result.stdout)["findings"][0]["evidence"]
    assert evidence["index"] == "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC);"
    (tmp_path / "j.json").write_text(json.dumps(rule_plan("sort-spill-to-disk", "fail", 2)["plan"]), encoding="utf-8")
    result = run(runner, "j.json", "--select", "sort-spill-to-disk", "--format", "json")
    assert json.loads(result.stdout)["findings"][0]["evidence"]["index"] is None  # the input is a join


def test_plan_without_analyze(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.json").write_text(json.dumps(rule_plan("seq-scan-large-filtered", "fail", 2)["plan"]))
    result = run(runner, "p.json")
    assert result.exit_code == 1
    assert "estimates only (no ANALYZE)" in result.stdout and "self cost" in result.stdout
    assert "not run with ANALYZE" in result.stdout
