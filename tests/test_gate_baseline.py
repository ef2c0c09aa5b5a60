"""The gate's baseline without a database: fingerprints, the file format, the diff, migration order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.errors import InputError
from queryreview.gate import (
    Baseline,
    Entry,
    Observation,
    compare,
    fingerprint,
    read_baseline,
    write_baseline,
)
from queryreview.sources.gate_target import migration_files

# -- fingerprints ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [
    # literals and parameters are the same placeholder (a file's query matches production's text)
    ("SELECT id FROM orders WHERE customer_id = 42 AND status = 'open'",
     "SELECT id FROM orders WHERE customer_id = $1 AND status = $2"),
    # layout, comments, keyword and unquoted identifier case do not matter
    ("select ID\n  from Orders -- recent\n where customer_id=$1",
     "SELECT id FROM orders /* x */ WHERE customer_id = $1"),
    # a list of constants folds to one, as pg_stat_statements 1.12 does
    ("SELECT id FROM orders WHERE status IN ('a', 'b', 'c')", "SELECT id FROM orders WHERE status IN ($1)"),
    # negative numbers, booleans and LIMIT values are constants too
    ("SELECT id FROM t WHERE a = -5 AND b = true LIMIT 10", "SELECT id FROM t WHERE a = $1 AND b = $2 LIMIT $3"),
])
def test_same_statement_same_fingerprint(first: str, second: str) -> None:
    assert fingerprint(first) == fingerprint(second)


@pytest.mark.parametrize(("first", "second"), [
    ("SELECT id FROM orders WHERE customer_id = $1", "SELECT id FROM orders WHERE status = $1"),
    ('SELECT id FROM "Orders"', "SELECT id FROM orders"),  # a quoted name is another table
    ("SELECT id FROM orders WHERE a IN (1, b)", "SELECT id FROM orders WHERE a IN (1)"),
    ("SELECT id FROM orders ORDER BY id", "SELECT id FROM orders ORDER BY id DESC"),
])
def test_different_statements_differ(first: str, second: str) -> None:
    assert fingerprint(first)[0] != fingerprint(second)[0]


def test_fingerprint_normalized_text_is_readable() -> None:
    key, text = fingerprint("select * from Orders where id = 42 -- x")
    assert text == "SELECT * FROM orders WHERE id = $1"
    assert len(key) == 16 and int(key, 16) >= 0


def test_unparsable_text_still_gets_a_stable_key() -> None:
    key, text = fingerprint("SELEC nonsense FROM t WHERE a = 12 AND b = 'x'")
    assert text.startswith("-- unparsed:") and "12" not in text and "'x'" not in text
    assert key == fingerprint("selec   NONSENSE from t where a = 99 and b = 'y'")[0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fingerprint_never_fails(text: str) -> None:
    key, normalized = fingerprint(text)
    assert len(key) == 16 and fingerprint(text) == (key, normalized)


# -- the file --------------------------------------------------------------------------------------


def _observations() -> list[Observation]:
    return [
        Observation("bbbb", "SELECT id FROM events WHERE kind = $1", full_scans={"public.events"}),
        Observation("aaaa", "SELECT id FROM orders WHERE customer_id = $1 ORDER BY created_at", sorts={"public.orders"}),
        Observation("cccc", "SELECT 1 FROM countries", full_scans={"public.z", "public.a"}),
    ]


def test_baseline_file_is_deterministic_sorted_and_ends_with_newline(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "baseline.json"
    write_baseline(Baseline.from_observations(_observations()), path)
    first = path.read_bytes()
    write_baseline(Baseline.from_observations(list(reversed(_observations()))), path)
    assert path.read_bytes() == first
    text = first.decode()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert list(document["statements"]) == ["aaaa", "bbbb", "cccc"]
    assert document["statements"]["cccc"]["full_scans"] == ["public.a", "public.z"]
    assert read_baseline(path).statements["bbbb"] == Entry("SELECT id FROM events WHERE kind = $1", ("public.events",))


def test_missing_baseline_is_none_and_bad_ones_are_input_errors(tmp_path: Path) -> None:
    assert read_baseline(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_baseline(bad)
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(InputError, match="not a queryreview gate baseline"):
        read_baseline(bad)
    bad.write_text('{"format": "queryreview-gate-baseline", "format_version": 99, "statements": {}}')
    with pytest.raises(InputError, match="format_version 99"):
        read_baseline(bad)


def test_statement_not_planned_keeps_its_previous_entry() -> None:
    previous = Baseline.from_observations(_observations())
    now = [Observation("bbbb", "SELECT id FROM events WHERE kind = $1", planned=False),
           Observation("dddd", "SELECT 2")]
    updated = Baseline.from_observations(now, previous)
    assert updated.statements["bbbb"] == previous.statements["bbbb"]
    assert set(updated.statements) == {"bbbb", "dddd"}  # aaaa and cccc are gone from the code


# -- the diff --------------------------------------------------------------------------------------


def test_compare_reports_new_full_scans_only() -> None:
    baseline = Baseline.from_observations(_observations())
    now = [Observation("bbbb", "…", full_scans={"public.events"}),
           Observation("cccc", "…", full_scans={"public.a", "public.z", "public.orders"}),
           Observation("eeee", "…", full_scans={"public.orders"})]
    diff = compare(baseline, now)
    assert diff.new_full_scans == {("cccc", "public.orders"), ("eeee", "public.orders")}


def test_compare_without_baseline_counts_every_full_scan_and_no_sort() -> None:
    diff = compare(None, _observations())
    assert diff.new_full_scans == {("bbbb", "public.events"), ("cccc", "public.a"), ("cccc", "public.z")}
    assert diff.new_sorts == set() and diff.fixed == []


def test_new_sort_needs_a_known_statement_and_no_new_full_scan_of_that_table() -> None:
    baseline = Baseline.from_observations([
        Observation("aaaa", "…"), Observation("bbbb", "…"), Observation("cccc", "…", sorts={"public.orders"})])
    now = [Observation("aaaa", "…", sorts={"public.orders"}),  # the index that gave the order is gone
           Observation("bbbb", "…", sorts={"public.orders"}, full_scans={"public.orders"}),  # one finding, not two
           Observation("cccc", "…", sorts={"public.orders"}),  # sorted before too
           Observation("ffff", "…", sorts={"public.orders"})]  # a new statement: no order was ever avoided
    diff = compare(baseline, now)
    assert diff.new_sorts == {("aaaa", "public.orders")}
    assert diff.new_full_scans == {("bbbb", "public.orders")}


def test_compare_reports_fixed_and_gone_entries_but_not_unplanned_ones() -> None:
    baseline = Baseline.from_observations(_observations())
    now = [Observation("aaaa", "…"),  # its sort is gone
           Observation("bbbb", "…", planned=False),  # unknown this time: not fixed
           ]  # cccc: no longer in the code
    diff = compare(baseline, now)
    fixed = {(f.key, f.table, f.kind, f.gone) for f in diff.fixed}
    assert fixed == {("aaaa", "public.orders", "sort", False), ("cccc", "public.a", "full-scan", True),
                     ("cccc", "public.z", "full-scan", True)}
    assert diff.unplanned == ["bbbb"]
    assert not diff.new_full_scans and not diff.new_sorts


# -- migration order -------------------------------------------------------------------------------


def test_migrations_apply_in_natural_name_order_without_down_files(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    for name in ("10_late.sql", "2_early.sql", "1_first.sql", "1_first.down.sql", "3_x_down.sql", "notes.txt",
                 "20240102_b/migration.sql", "20240101_a/migration.sql", ".hidden/skip.sql"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("SELECT 1;")
    names = [path.relative_to(root).as_posix() for path in migration_files(str(root))]
    assert names == ["1_first.sql", "2_early.sql", "10_late.sql", "20240101_a/migration.sql",
                     "20240102_b/migration.sql"]


def test_migrations_directory_must_hold_sql(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        migration_files(str(tmp_path / "absent"))
    with pytest.raises(InputError, match="no .sql files"):
        migration_files(str(tmp_path))
