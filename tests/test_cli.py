"""The command line, in-process with click's CliRunner: help, formats, exit codes, configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from queryreview import __version__
from queryreview.cli import FORMATS, main

CLEAN_SQL = "SELECT id, email FROM users WHERE id = $1;\n"
STAR_SQL = "SELECT id FROM users WHERE id = $1;\nSELECT * FROM orders WHERE id = $1;\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": None, "COLUMNS": None})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with one clean and one failing SQL file, and no configuration above it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clean.sql").write_text(CLEAN_SQL, encoding="utf-8")
    (tmp_path / "star.sql").write_text(STAR_SQL, encoding="utf-8")
    return tmp_path


def check(runner: CliRunner, *args: str, input: str | None = None):
    """``queryreview check`` limited to select-star unless --select is given, so rules added later
    (and their findings on these small files) do not change what these tests assert."""
    if "--select" not in args:
        args = (*args, "--select", "select-star")
    return runner.invoke(main, ["check", *args], input=input)


# --- help and version ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["check"], ["rules"]])
def test_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    if command == ["check"]:
        for fmt in FORMATS:
            assert fmt in result.stdout
        assert "Exit codes: 0 clean, 1 findings" in result.stdout


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"queryreview, version {__version__}"


def test_no_command_shows_usage(runner: CliRunner) -> None:
    result = runner.invoke(main, [])
    assert result.exit_code in (0, 2)
    assert "Usage:" in result.output


# --- check: formats and output files --------------------------------------------------------


def _assert_format(fmt: str, output: str) -> None:
    if fmt == "text":
        assert "star.sql:2:8: QR101 select-star [warning]" in output
        assert "\x1b[" not in output
    elif fmt == "json":
        document = json.loads(output)
        assert [(f["code"], f["location"]["line"]) for f in document["findings"]] == [("QR101", 2)]
    elif fmt == "sarif":
        log = json.loads(output)
        assert log["version"] == "2.1.0"
        result = log["runs"][0]["results"][0]
        assert result["ruleId"] == "QR101"
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "star.sql"
    elif fmt == "markdown":
        assert output.startswith("## queryreview")
        assert "| star.sql:2 " in output
    elif fmt == "github":
        assert output.startswith("::warning file=star.sql,line=2,col=8,")
    else:  # a new format: add its assertion here
        raise AssertionError(f"no test for format {fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_each_format_to_stdout(runner: CliRunner, project: Path, fmt: str) -> None:
    result = check(runner, "star.sql", "--format", fmt)
    assert result.exit_code == 1, result.output
    _assert_format(fmt, result.stdout)
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_each_format_to_a_file(runner: CliRunner, project: Path, fmt: str) -> None:
    result = check(runner, "star.sql", "--format", fmt, "-o", "report.out")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    _assert_format(fmt, (project / "report.out").read_text(encoding="utf-8"))


def test_check_output_to_an_unwritable_place(runner: CliRunner, project: Path) -> None:
    result = check(runner, "star.sql", "-o", str(project / "no-such-dir" / "report.txt"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_check_directory_recursively(runner: CliRunner, project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "more.sql").write_text("SELECT * FROM t;\n", encoding="utf-8")
    (project / "notes.txt").write_text("SELECT * FROM t;\n", encoding="utf-8")
    result = check(runner, ".", "--format", "json")
    paths = sorted(f["location"]["path"] for f in json.loads(result.stdout)["findings"])
    assert paths == ["star.sql", "sub/more.sql"]
    assert json.loads(result.stdout)["summary"]["files"] == 3


# --- check: exit codes ----------------------------------------------------------------------


def test_exit_0_on_a_clean_file(runner: CliRunner, project: Path) -> None:
    result = check(runner, "clean.sql")
    assert result.exit_code == 0, result.output
    assert "No findings in 1 file, 1 statement (1 parsed)." in result.stdout


def test_exit_1_on_findings(runner: CliRunner, project: Path) -> None:
    assert check(runner, "clean.sql", "star.sql").exit_code == 1


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("error", 0), ("warning", 1), ("info", 1)])
def test_fail_on(runner: CliRunner, project: Path, fail_on: str, code: int) -> None:
    result = check(runner, "star.sql", "--fail-on", fail_on)
    assert result.exit_code == code, result.output
    assert "QR101" in result.stdout  # the report is written whatever the exit code


def test_fail_on_error_with_an_error(runner: CliRunner, project: Path) -> None:
    (project / "broken.sql").write_text("SELECT FROM WHERE (;\n", encoding="utf-8")
    result = check(runner, "broken.sql", "--select", "parse-error", "--fail-on", "error")
    assert result.exit_code == 1, result.output


def test_exit_2_on_a_missing_path(runner: CliRunner, project: Path) -> None:
    result = check(runner, "nosuch.sql")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "queryreview: error: nosuch.sql: no such file or directory"
    assert result.stdout == ""


def test_exit_2_without_paths(runner: CliRunner, project: Path) -> None:
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 2
    assert "give at least one PATH" in result.stderr


def test_exit_2_on_a_directory_without_sql(runner: CliRunner, project: Path) -> None:
    (project / "empty").mkdir()
    result = check(runner, "empty")
    assert result.exit_code == 2
    assert "no SQL files found" in result.stderr


def test_exit_2_on_a_bad_select(runner: CliRunner, project: Path) -> None:
    result = check(runner, "star.sql", "--select", "nosuch-rule")
    assert result.exit_code == 2
    assert "unknown rule or prefix 'nosuch-rule'" in result.stderr
    assert "Traceback" not in result.output


def test_exit_2_on_a_bad_format(runner: CliRunner, project: Path) -> None:
    result = check(runner, "star.sql", "--format", "xml")
    assert result.exit_code == 2


def test_select_and_ignore_accept_commas_and_prefixes(runner: CliRunner, project: Path) -> None:
    result = check(runner, "star.sql", "--select", "QR1,parse-error", "--ignore", "select-star,QR9",
                   "--format", "json")
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert "QR101" not in codes and not any(code.startswith("QR9") for code in codes)
    result = check(runner, "star.sql", "--select", "QR101,parse-error", "--ignore", "QR101")
    assert result.exit_code == 0, result.output


# --- check: stdin ---------------------------------------------------------------------------


def test_stdin(runner: CliRunner, project: Path) -> None:
    result = check(runner, "-", "--format", "json", input="SELECT * FROM t;\n")
    assert result.exit_code == 1, result.output
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["location"]["path"] == "-"


def test_stdin_filename(runner: CliRunner, project: Path) -> None:
    result = check(runner, "-", "--stdin-filename", "app/q.sql", input="SELECT * FROM t;\n")
    assert "app/q.sql:1:8: QR101" in result.stdout
    assert "  1 | SELECT * FROM t;" in result.stdout


def test_stdin_in_sarif_is_named_stdin_sql(runner: CliRunner, project: Path) -> None:
    result = check(runner, "-", "--format", "sarif", input="SELECT * FROM t;\n")
    location = json.loads(result.stdout)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "stdin.sql"


# --- rules ----------------------------------------------------------------------------------


def test_rules_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "family", "severity", "summary"]
    assert any(line.startswith("QR101") and "select-star" in line for line in lines)
    assert max(len(line) for line in lines) <= 100


def test_rules_table_formats(runner: CliRunner) -> None:
    as_json = json.loads(runner.invoke(main, ["rules", "--format", "json"]).stdout)
    assert any(rule["code"] == "QR101" and rule["name"] == "select-star" for rule in as_json)
    as_markdown = runner.invoke(main, ["rules", "--format", "markdown"]).stdout
    assert as_markdown.startswith("| code")


@pytest.mark.parametrize("token", ["select-star", "QR101", "qr101"])
def test_rules_one_rule(runner: CliRunner, token: str) -> None:
    result = runner.invoke(main, ["rules", token])
    assert result.exit_code == 0
    assert result.stdout.startswith("QR101 select-star  (query, warning)")
    assert "Bad:" in result.stdout and "SELECT * FROM users WHERE id = $1" in result.stdout
    assert "Good:" in result.stdout


def test_rules_one_rule_markdown_and_json(runner: CliRunner) -> None:
    assert runner.invoke(main, ["rules", "select-star", "--format", "markdown"]).stdout.startswith(
        "## QR101 select-star")
    assert json.loads(runner.invoke(main, ["rules", "select-star", "--format", "json"]).stdout)["code"] == "QR101"


def test_rules_unknown(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "nosuch"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "queryreview: error: unknown rule 'nosuch'"
    assert all(line.startswith("  hint:") for line in lines[1:])


# --- configuration ---------------------------------------------------------------------------


def test_config_dotfile_is_found_from_a_subdirectory(runner: CliRunner, project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (project / ".queryreview.toml").write_text('select = ["select-star"]\nfail_on = "never"\n', encoding="utf-8")
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    result = runner.invoke(main, ["check", "../star.sql"])
    assert result.exit_code == 0, result.output
    assert "QR101" in result.stdout


def test_config_in_pyproject(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.queryreview]\n'
        'select = ["select-star", "parse-error"]\nignore = ["select-star"]\n',
        encoding="utf-8")
    result = runner.invoke(main, ["check", "star.sql"])
    assert result.exit_code == 0, result.output


def test_pyproject_without_a_section_is_not_configuration(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert check(runner, "star.sql").exit_code == 1


def test_dotfile_wins_over_pyproject(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.queryreview]\nfail_on = "info"\n', encoding="utf-8")
    (project / ".queryreview.toml").write_text('fail_on = "never"\n', encoding="utf-8")
    assert check(runner, "star.sql").exit_code == 0


def test_cli_flags_override_the_configuration(runner: CliRunner, project: Path) -> None:
    (project / ".queryreview.toml").write_text('select = ["parse-error"]\nfail_on = "never"\n', encoding="utf-8")
    assert runner.invoke(main, ["check", "star.sql"]).exit_code == 0
    result = runner.invoke(main, ["check", "star.sql", "--select", "select-star", "--fail-on", "warning"])
    assert result.exit_code == 1, result.output
    assert "QR101" in result.stdout


def test_config_exclude_and_cli_exclude_add_up(runner: CliRunner, project: Path) -> None:
    (project / "vendor").mkdir()
    (project / "vendor" / "v.sql").write_text("SELECT * FROM v;\n", encoding="utf-8")
    (project / ".queryreview.toml").write_text('exclude = ["vendor/"]\n', encoding="utf-8")
    result = check(runner, ".", "--exclude", "star.sql", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["files"] == 1


def test_explicit_config_file(runner: CliRunner, project: Path) -> None:
    (project / "ci.toml").write_text('fail_on = "never"\n', encoding="utf-8")
    assert check(runner, "star.sql", "--config", "ci.toml").exit_code == 0
    result = check(runner, "star.sql", "--config", "missing.toml")
    assert result.exit_code == 2
    assert "missing.toml not found" in result.stderr


def test_per_rule_severity_override(runner: CliRunner, project: Path) -> None:
    (project / ".queryreview.toml").write_text('[rules.select-star]\nseverity = "info"\n', encoding="utf-8")
    result = check(runner, "star.sql", "--format", "json")
    assert result.exit_code == 0, result.output  # info is below the default fail_on (warning)
    assert json.loads(result.stdout)["findings"][0]["severity"] == "info"
    assert check(runner, "star.sql", "--fail-on", "info").exit_code == 1


def test_per_rule_severity_by_code_in_pyproject(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.queryreview.rules.QR101]\nseverity = "error"\n', encoding="utf-8")
    result = check(runner, "star.sql", "--format", "json", "--fail-on", "error")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["findings"][0]["severity"] == "error"


@pytest.mark.parametrize(("toml", "message"), [
    ('selct = ["QR1"]\n', "unknown configuration key(s) selct"),
    ('fail_on = "sometimes"\n', "fail_on must be one of"),
    ('max_file_bytes = -1\n', "max_file_bytes must be a positive integer"),
    ('select = [1, 2]\n', "select must be a list of strings"),
    ('[rules.select-star]\nseverity = "fatal"\n', "rules.select-star.severity must be one of"),
    ('[rules.select-star]\nlimit = 3\n', "rule select-star has no setting(s) limit"),
    ('[rules.nosuch-rule]\nseverity = "info"\n', "unknown rule 'nosuch-rule'"),
    ('select = [\n', "cannot read configuration"),
])
def test_bad_configuration_exits_2(runner: CliRunner, project: Path, toml: str, message: str) -> None:
    (project / ".queryreview.toml").write_text(toml, encoding="utf-8")
    result = check(runner, "star.sql")
    assert result.exit_code == 2, result.output
    assert message in result.stderr.splitlines()[0]
    assert "Traceback" not in result.output
