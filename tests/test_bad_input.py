"""Hostile and broken input ends in a finding or a one-line error: never a traceback, a hang or a crash.

Each case runs through the CLI in-process (CliRunner) and through the engine; the deep-nesting
cases also run in a subprocess, where a segfault of the compiled parser would show as a
negative return code.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from queryreview.cli import main
from queryreview.engine import Context, Engine
from queryreview.model import Review
from queryreview.rules.registry import all_rules
from queryreview.sources.files import read_sources

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MiB


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": None})


@pytest.fixture(autouse=True)
def _no_configuration_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # so no .queryreview.toml or pyproject.toml of the checkout applies


def assert_no_crash(result: Result) -> None:
    """Exit 0, 1 or 2 by sys.exit; nothing escaped as an exception; no internal error message."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"the CLI raised {result.exception!r}") from result.exception
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


def cli_json(runner: CliRunner, *args: str) -> tuple[Result, dict]:
    """``queryreview check --format json ARGS``, checked for crashes, with its parsed document."""
    result = runner.invoke(main, ["check", "--format", "json", *args])
    assert_no_crash(result)
    assert result.exit_code in (0, 1), result.output
    return result, json.loads(result.stdout)


def cli_text(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, ["check", *args])
    assert_no_crash(result)
    return result


def engine_review(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Review:
    """Every rule over one file, in-process; a crashing rule raises here (debug) instead of becoming a finding."""
    engine = Engine(list(all_rules()), Context(debug=True))
    return engine.review(read_sources([str(path)], max_bytes))


def codes_at(document: dict) -> list[tuple[str, int]]:
    return [(f["code"], f["location"]["line"]) for f in document["findings"]]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


# --- empty and comment-only ------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n", "   \t\r\n", ";;;\n;", "\ufeff"])
def test_empty_input_is_clean(runner: CliRunner, tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "empty.sql", content)
    result, document = cli_json(runner, str(path))
    assert result.exit_code == 0
    assert document["findings"] == []
    assert document["summary"]["statements"] == 0
    assert engine_review(path).findings == []
    assert "No findings" in cli_text(runner, str(path)).stdout


def test_comment_only_file_is_clean(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "comments.sql", "-- nothing here; SELECT * FROM t\n/* nor; /* here */ */\n")
    result, document = cli_json(runner, str(path))
    assert result.exit_code == 0
    assert document["summary"]["statements"] == 0
    assert engine_review(path).findings == []


# --- encodings and binary --------------------------------------------------------------------


def test_latin1_file_is_reviewed_with_a_finding(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.sql", "SELECT 'caf\u00e9' AS x;\nSELECT * FROM t;\n".encode("latin-1"))
    result, document = cli_json(runner, str(path), "--select", "QR903,select-star")
    assert result.exit_code == 1
    assert codes_at(document) == [("QR903", 1), ("QR101", 2)]
    assert "Invalid UTF-8 byte 0xe9" in document["findings"][0]["message"]
    assert document["findings"][0]["location"]["column"] == 12
    review = engine_review(path)
    assert {("QR903", 1), ("QR101", 2)} <= {(f.code, f.location.line) for f in review.findings}
    assert "Traceback" not in cli_text(runner, str(path)).output


@pytest.mark.parametrize(
    "content",
    [
        random.Random(7).randbytes(4096) + b"\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
        b"SELECT 1;\n\x00\x00\x00",
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
    ],
    ids=["random", "png", "sql-then-nul", "elf"],
)
def test_binary_file_is_one_finding(runner: CliRunner, tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "blob.sql", content)
    result, document = cli_json(runner, str(path))
    assert result.exit_code == 1
    assert codes_at(document) == [("QR903", 1)]
    assert "Binary content" in document["findings"][0]["message"]
    assert [f.code for f in engine_review(path).findings] == ["QR903"]
    assert cli_text(runner, str(path)).exit_code == 1


def test_random_bytes_without_nul_are_reviewed_without_crashing(runner: CliRunner, tmp_path: Path) -> None:
    noise = bytes(b or 1 for b in random.Random(11).randbytes(20_000))
    path = write(tmp_path, "noise.sql", noise + b";\nSELECT * FROM after_noise;\n")
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert ("QR903", 1) in codes_at(document)
    engine_review(path)
    cli_text(runner, str(path))
    # without bytes that open a string, comment or meta-command, what follows the noise is reviewed
    tame = bytes(b for b in noise if b not in b"'\"$-/\\")
    path = write(tmp_path, "tame_noise.sql", tame + b";\nSELECT * FROM after_noise;\n")
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert codes_at(document)[-1] == ("QR101", document["findings"][-1]["location"]["line"])
    assert document["findings"][-1]["statement"] == "SELECT * FROM after_noise"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_byte_order_mark_is_reviewed(runner: CliRunner, tmp_path: Path, encoding: str) -> None:
    text = "SELECT 1;\r\nSELECT * FROM t;\r\n"
    data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    path = write(tmp_path, "windows.sql", data)
    _, document = cli_json(runner, str(path), "--select", "QR903,select-star")
    assert codes_at(document) == [("QR903", 1), ("QR101", 2)]
    assert "UTF-16" in document["findings"][0]["message"]
    assert document["findings"][1]["location"]["column"] == 8


# --- size -------------------------------------------------------------------------------------

REALISTIC = (
    "SELECT id, email FROM users WHERE email = $1;\n"
    "SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id\n"
    "  WHERE u.created_at > now() - interval '7 days' ORDER BY o.id DESC LIMIT 50;\n"
    "UPDATE accounts SET balance = balance - 10 WHERE id = $1;\n"
    "INSERT INTO events (kind, payload) VALUES ('login', '{\"a\": 1}');\n"
    "DELETE FROM sessions WHERE expires_at < now();\n"
)


def _repeat_to(block: str, size: int) -> str:
    return block * (size // len(block.encode()) + 1)


@pytest.mark.slow
def test_file_over_max_file_bytes_is_one_finding_not_a_review(
    runner: CliRunner, tmp_path: Path, record_property
) -> None:
    path = write(tmp_path, "huge.sql", _repeat_to(REALISTIC, 50 * MiB))
    assert path.stat().st_size >= 50 * MiB
    started = time.perf_counter()
    result, document = cli_json(runner, str(path))
    record_property("seconds_50MB_default_limit", round(time.perf_counter() - started, 2))
    assert result.exit_code == 1
    assert codes_at(document) == [("QR903", 1)]
    assert "larger than 20,971,520 bytes" in document["findings"][0]["message"]
    assert document["summary"]["statements"] == 0


def _dump_like(size: int) -> str:
    """A pg_dump-style script: DDL, COPY … FROM stdin blocks with data, multi-row INSERTs, queries."""
    parts = [
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, created_at timestamptz);\n",
        "CREATE INDEX users_email_idx ON users (email);\n",
    ]
    total, block = sum(map(len, parts)), 0
    while total < size:
        rows = "".join(
            f"{block * 20000 + i}\tuser{i}@example.com\tName {i}; O'Brien $$\t2024-01-{i % 28 + 1:02d} 10:00:00+00\n"
            for i in range(20000)
        )
        values = ",\n".join(f"({i}, 'order {i}; note', {i * 2.5})" for i in range(1000))
        for piece in (
            f"COPY users (id, email, name, created_at) FROM stdin;\n{rows}\\.\n",
            f"INSERT INTO orders (id, note, total) VALUES\n{values};\n",
            "SELECT id, email FROM users WHERE email = $1;\nUPDATE orders SET total = total + 1 WHERE id = $1;\n",
        ):
            parts.append(piece)
            total += len(piece)
        block += 1
    parts.append("SELECT * FROM users WHERE id = $1;\n")
    return "".join(parts)


@pytest.mark.slow
def test_21mb_dump_with_raised_max_file_bytes_is_reviewed_to_the_end(
    runner: CliRunner, tmp_path: Path, record_property
) -> None:
    text = _dump_like(21 * MiB)
    path = write(tmp_path, "dump.sql", text)
    assert path.stat().st_size > DEFAULT_MAX_BYTES
    (tmp_path / ".queryreview.toml").write_text(f"max_file_bytes = {32 * MiB}\n", encoding="utf-8")
    started = time.perf_counter()
    result, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    record_property("seconds_21MB_dump", round(time.perf_counter() - started, 2))
    assert result.exit_code == 1
    last_line = text.count("\n")
    assert codes_at(document) == [("QR101", last_line)]  # COPY data was skipped, nothing else fired
    assert document["summary"]["statements"] == document["summary"]["parsed"] > 60


# --- deep nesting -----------------------------------------------------------------------------

DEEP_CASES = {
    "parens-10k": "SELECT " + "(" * 10_000 + "1" + ")" * 10_000,
    "parens-100k": "SELECT " + "(" * 100_000 + "1" + ")" * 100_000,
    "unbalanced-100k": "SELECT " + "(" * 100_000 + "1",
    "brackets-100k": "SELECT ARRAY" + "[" * 100_000 + "1" + "]" * 100_000,
    "subscripts-20k": "SELECT a" + "[1]" * 20_000 + " FROM t",
    "not-50k": "SELECT " + "NOT " * 50_000 + "true",
    "minus-50k": "SELECT " + "- " * 50_000 + "1",
    "case-5k": "SELECT " + "CASE WHEN a THEN " * 5_000 + "1" + " END" * 5_000,
    "subqueries-300": "SELECT 1 FROM " + "(SELECT 1 FROM " * 300 + "t" + ") x" * 300,
}


def _deep_file(tmp_path: Path, name: str) -> Path:
    return write(tmp_path, f"{name}.sql", DEEP_CASES[name] + ";\nSELECT * FROM after_deep;\n")


@pytest.mark.parametrize("name", ["parens-10k", "parens-100k", "unbalanced-100k", "brackets-100k", "subscripts-20k"])
def test_deep_nesting_is_refused_before_parsing(runner: CliRunner, tmp_path: Path, name: str) -> None:
    path = _deep_file(tmp_path, name)
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert codes_at(document) == [("QR901", 1), ("QR101", 2)]
    assert "nesting too deep" in document["findings"][0]["message"]
    review = engine_review(path)
    assert ("QR101", 2) in {(f.code, f.location.line) for f in review.findings}


@pytest.mark.parametrize("name", list(DEEP_CASES))
def test_deep_nesting_in_process_ends_in_findings(runner: CliRunner, tmp_path: Path, name: str) -> None:
    path = _deep_file(tmp_path, name)
    _, document = cli_json(runner, str(path))
    assert ("QR101", 2) in codes_at(document)  # the statement after it is still reviewed
    cli_text(runner, str(path))


@pytest.mark.parametrize("name", list(DEEP_CASES))
def test_deep_nesting_in_a_subprocess_does_not_crash_the_interpreter(tmp_path: Path, name: str) -> None:
    path = _deep_file(tmp_path, name)
    completed = subprocess.run(
        [sys.executable, "-m", "queryreview", "check", "--format", "json", str(path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert completed.returncode >= 0, f"killed by signal {-completed.returncode}"
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    document = json.loads(completed.stdout)
    assert ("QR101", 2) in codes_at(document)


# --- unterminated and broken statements ------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "what"),
    [
        ("SELECT 'abc;\nSELECT 2;\n", "unterminated string literal"),
        ("SELECT E'abc\\';\n", "unterminated string literal"),
        ('SELECT "abc;\n', "unterminated quoted identifier"),
        ("CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;\n", "unterminated dollar-quoted string $body$"),
        ("SELECT 1 /* a /* b */;\nSELECT 2;\n", "unterminated block comment"),
    ],
)
def test_unterminated_constructs_are_reported_where_they_open(
    runner: CliRunner, tmp_path: Path, tail: str, what: str
) -> None:
    path = write(tmp_path, "open.sql", "SELECT * FROM before_it;\n" + tail)
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert codes_at(document) == [("QR101", 1), ("QR901", 2)]
    assert what in document["findings"][1]["message"]
    assert engine_review(path).findings
    cli_text(runner, str(path))


def test_statements_after_a_parse_error_are_still_reviewed(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "middle.sql",
        "SELECT * FROM a;\nSELEC id FROM b WHERE;\nSELECT id FROM c WHERE x = = 1;\nSELECT * FROM d;\n",
    )
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert codes_at(document) == [("QR101", 1), ("QR901", 2), ("QR901", 3), ("QR101", 4)]
    assert document["summary"] == {
        "files": 1, "statements": 4, "parsed": 2, "findings": 4,
        "by_severity": {"error": 2, "warning": 2, "info": 0},
    }
    review = engine_review(path)
    assert {("QR101", 1), ("QR101", 4)} <= {(f.code, f.location.line) for f in review.findings}


def test_psql_meta_commands_are_reported_and_skipped(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "script.sql",
        "\\set ON_ERROR_STOP on\n\\timing\nSELECT count(*) AS n FROM t \\gset\n"
        "\\copy t FROM 'data.csv' WITH (FORMAT csv)\n\\copy t FROM stdin\n1\n\\.\nSELECT * FROM t;\n",
    )
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert codes_at(document) == [("QR904", 1), ("QR904", 2), ("QR904", 3), ("QR904", 4), ("QR904", 5), ("QR101", 8)]
    assert engine_review(path).statements == 7
    cli_text(runner, str(path))


PLPGSQL = """\
CREATE OR REPLACE FUNCTION bump(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_count int;
BEGIN
  SELECT count(*) INTO v_count FROM orders WHERE user_id = p_id;  -- ; inside
  IF v_count > 0 THEN
    UPDATE users SET n = v_count WHERE id = p_id;
  END IF;
  RAISE NOTICE 'done; $x$ really';
END;
$fn$;
DO $$
BEGIN
  PERFORM pg_sleep(0);
END
$$;
DO LANGUAGE plpgsql $do$ BEGIN NULL; END $do$;
CREATE FUNCTION add(a int, b int) RETURNS int AS 'select $1 + $2;' LANGUAGE sql IMMUTABLE;
CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
SELECT * FROM after_functions;
"""


def test_function_bodies_and_do_blocks_are_one_statement_each(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "functions.sql", PLPGSQL)
    _, document = cli_json(runner, str(path), "--select", "QR9,select-star")
    assert document["summary"]["statements"] == 6
    assert codes_at(document)[-1] == ("QR101", 21)
    review = engine_review(path)
    assert review.statements == 6
    cli_text(runner, str(path))


# --- paths ------------------------------------------------------------------------------------


def _one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("queryreview: error: "), result.stderr
    assert all(line.startswith("  hint: ") for line in lines[1:]), result.stderr
    return lines[0]


def test_missing_path_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = cli_text(runner, str(tmp_path / "nope.sql"))
    assert result.exit_code == 2
    assert "no such file or directory" in _one_error_line(result)
    assert result.stdout == ""


def test_missing_path_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "queryreview", "check", "nope.sql"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == ["queryreview: error: nope.sql: no such file or directory"]
    assert completed.stdout == ""


def test_broken_symlink_is_a_missing_path(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "link.sql").symlink_to(tmp_path / "gone.sql")
    result = cli_text(runner, str(tmp_path / "link.sql"))
    assert result.exit_code == 2
    _one_error_line(result)


def test_directory_without_sql_files_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    (folder / "looks_like_a_file.sql").mkdir(parents=True)  # a directory named *.sql
    (folder / "notes.txt").write_text("SELECT * FROM t;", encoding="utf-8")
    result = cli_text(runner, str(folder))
    assert result.exit_code == 2
    assert "no SQL files found" in _one_error_line(result)


def test_directory_named_like_a_sql_file_is_walked(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "weird.sql"
    folder.mkdir()
    (folder / "q.sql").write_text("SELECT * FROM t;\n", encoding="utf-8")
    _, document = cli_json(runner, str(folder), "--select", "select-star")
    assert [(Path(f["location"]["path"]).name, f["code"]) for f in document["findings"]] == [("q.sql", "QR101")]


def test_unreadable_file_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "secret.sql", "SELECT 1;\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop reading")
        result = cli_text(runner, str(path))
        assert result.exit_code == 2
        assert "cannot read" in _one_error_line(result)
    finally:
        path.chmod(0o644)


def test_binary_on_stdin_is_one_finding(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "--format", "json", "-"], input=b"\x00\x01\x02SELECT")
    assert_no_crash(result)
    assert codes_at(json.loads(result.stdout)) == [("QR903", 1)]
