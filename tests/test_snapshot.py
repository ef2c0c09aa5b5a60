"""Snapshot files (format, gzip, errors) and --redact, without a database.

The round trips with real servers are in test_collect.py.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import types
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queryreview.catalog import (Catalog, Column, ColumnStats, Constraint, Index, QueryStat, Table, TableStats,
                                 WorkloadStats, plain)
from queryreview.errors import InputError
from queryreview.redact import UNPARSABLE, redact_catalog, redact_default, redact_query, redact_workload
from queryreview.sources.snapshot import (FORMAT, FORMAT_VERSION, Notice, Snapshot, Source, dumps, loads,
                                          read_snapshot, write_snapshot)

# -- strategies: built from the dataclasses' own type hints, so new fields are covered too ----------

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)
bigint = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def _for_type(hint: typing.Any) -> st.SearchStrategy:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_for_type(arg) for arg in args))
    if hint is type(None):
        return st.none()
    if origin is tuple:
        return st.lists(_for_type(args[0]), max_size=3).map(tuple)
    if origin is list:
        return st.lists(_for_type(args[0]), max_size=4)
    if origin is dict:
        return st.dictionaries(names, _for_type(args[1]), max_size=4)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    return {int: bigint, float: finite, str: names, bool: st.booleans()}[hint]


def _dataclass(cls: type, **fixed: st.SearchStrategy) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{field.name: fixed[field.name] if field.name in fixed else _for_type(hints[field.name])
                             for field in dataclasses.fields(cls) if not field.name.startswith("_")})


@st.composite
def tables(draw: st.DrawFn) -> Table:
    schema, name = draw(names), draw(names)
    qualified = f"{schema}.{name}"
    index = _dataclass(Index, table=st.just(qualified), schema=st.just(schema))
    constraint = _dataclass(Constraint, ref_table=st.none() | names.map(lambda n: f"{schema}.{n}"))
    return draw(_dataclass(
        Table, schema=st.just(schema), name=st.just(name),
        indexes=st.lists(index, max_size=2).map(tuple),
        constraints=st.lists(constraint, max_size=2).map(tuple),
        columns=st.lists(_dataclass(Column), max_size=4).map(tuple),
        column_stats=st.lists(_dataclass(ColumnStats), max_size=3).map(tuple),
        stats=st.none() | _dataclass(TableStats),
    ))


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    catalog = draw(_dataclass(Catalog, tables=st.just({})))
    for table in draw(st.lists(tables(), max_size=3)):
        catalog.tables[table.qualified_name] = table
    return catalog


workloads = _dataclass(WorkloadStats, statements=st.lists(_dataclass(QueryStat), max_size=5))
snapshots = st.builds(
    Snapshot, catalog=catalogs(), workload=st.none() | workloads,
    warnings=st.lists(_dataclass(Notice), max_size=3), source=_dataclass(Source),
    collected_at=names, tool_version=names, redacted=st.booleans(),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(snapshot=snapshots, compressed=st.booleans())
def test_round_trip_keeps_every_field(snapshot: Snapshot, compressed: bool) -> None:
    assert plain(snapshot.catalog) == dataclasses.asdict(snapshot.catalog)  # the fast asdict is asdict
    if snapshot.workload is not None:
        assert plain(snapshot.workload) == dataclasses.asdict(snapshot.workload)
    payload = dumps(snapshot)
    back = loads(gzip.compress(payload) if compressed else payload)
    assert back.catalog == snapshot.catalog
    assert back.workload == snapshot.workload
    assert back.warnings == snapshot.warnings
    assert back.source == snapshot.source
    assert (back.collected_at, back.tool_version, back.redacted) == (
        snapshot.collected_at, snapshot.tool_version, snapshot.redacted)


# -- file format ---------------------------------------------------------------------------------------

def _small() -> Snapshot:
    table = Table(schema="public", name="orders", reltuples=10.0,
                  columns=(Column("id", "bigint", True), Column("status", "text", False, "'new'::text")))
    return Snapshot(catalog=Catalog(server_version_num=180006, tables={table.qualified_name: table}),
                    workload=WorkloadStats(extension_version="1.12",
                                           statements=[QueryStat(queryid=1, query="SELECT 1", calls=3)]),
                    warnings=[Notice("hidden-statements", "2 hidden", "GRANT pg_read_all_stats TO app;")],
                    source=Source(target="app@db:5432/prod"), collected_at="2025-01-01T00:00:00+00:00")


def test_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_snapshot(_small(), path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT == "queryreview-snapshot"
    assert data["format_version"] == FORMAT_VERSION == 1
    assert set(data) == {"format", "format_version", "collected_at", "tool_version", "source", "redacted",
                         "catalog", "workload", "warnings"}
    assert data["source"]["target"] == "app@db:5432/prod"


def test_gzip_when_name_ends_in_gz_and_detected_by_magic(tmp_path: Path) -> None:
    gz = tmp_path / "s.json.gz"
    write_snapshot(_small(), gz)
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    renamed = tmp_path / "no-suffix"
    renamed.write_bytes(gz.read_bytes())  # the name does not matter when reading
    assert read_snapshot(renamed).catalog == _small().catalog
    plain = tmp_path / "plain.json.gz.txt"
    write_snapshot(_small(), plain)
    assert plain.read_bytes()[:1] == b"{"


def test_gzip_output_is_deterministic(tmp_path: Path) -> None:
    write_snapshot(_small(), tmp_path / "a.json.gz")
    write_snapshot(_small(), tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()


def test_stdout_when_no_file(capsysbinary) -> None:
    write_snapshot(_small(), None)
    out = capsysbinary.readouterr().out
    assert json.loads(out)["format"] == FORMAT


def test_newer_format_is_refused_with_upgrade_message(tmp_path: Path) -> None:
    data = _small().to_dict()
    data["format_version"] = 2
    path = tmp_path / "new.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"snapshot format 2 is newer than this queryreview supports \(1\): "
                                         r"upgrade queryreview"):
        read_snapshot(path)


def test_unknown_fields_are_ignored_and_missing_ones_default() -> None:
    data = _small().to_dict()
    data["future_top_level"] = {"x": 1}
    data["catalog"]["tables"][0]["future_field"] = 3
    data["workload"]["statements"][0] = {"queryid": 5, "query": "SELECT 2"}  # only two fields
    snapshot = loads(json.dumps(data).encode())
    assert snapshot.workload is not None
    assert snapshot.workload.statements[0] == QueryStat(queryid=5, query="SELECT 2")
    assert snapshot.catalog.table("orders") is not None


@pytest.mark.parametrize("payload, message", [
    (b"", "invalid JSON"),
    (b"not json at all", "invalid JSON"),
    (b'{"format": "queryreview-snapshot", "format_version": 1, "catalog": ', "invalid JSON"),
    (b"\xff\xfe\x00garbage", "neither gzip nor UTF-8 JSON"),
    (b"[1, 2, 3]", "not a queryreview snapshot"),
    (b'{"tables": []}', "not a queryreview snapshot"),
    (b'{"format": "queryreview-snapshot", "format_version": "1"}', "invalid snapshot format_version"),
    (b'{"format": "queryreview-snapshot", "format_version": 0}', "invalid snapshot format_version"),
    (b'{"format": "queryreview-snapshot", "format_version": 1, "catalog": {"tables": [{"rows": 1}]}}',
     "not a valid queryreview snapshot"),
    (b'{"format": "queryreview-snapshot", "format_version": 1, "catalog": [], "workload": 5}',
     "not a valid queryreview snapshot"),
    (b'{"format": "queryreview-snapshot", "format_version": 1, "warnings": ["text"]}',
     "not a valid queryreview snapshot"),
])
def test_bad_files_give_one_input_error(tmp_path: Path, payload: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(payload)
    with pytest.raises(InputError, match=message) as caught:
        read_snapshot(path)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 2


def test_truncated_and_corrupt_gzip(tmp_path: Path) -> None:
    whole = gzip.compress(dumps(_small()))
    for name, payload in {"truncated": whole[: len(whole) // 2], "corrupt": whole[:10] + b"\x00" * 40}.items():
        path = tmp_path / f"{name}.json.gz"
        path.write_bytes(payload)
        with pytest.raises(InputError, match="not a readable gzip file"):
            read_snapshot(path)
    gz_of_garbage = tmp_path / "garbage.json.gz"
    gz_of_garbage.write_bytes(gzip.compress(b"\x00\x01 no json"))
    with pytest.raises(InputError, match="not a queryreview snapshot"):
        read_snapshot(gz_of_garbage)


def test_missing_file_and_unwritable_destination(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read snapshot"):
        read_snapshot(tmp_path / "absent.json")
    with pytest.raises(InputError, match="cannot write"):
        write_snapshot(_small(), tmp_path / "no" / "such" / "dir" / "s.json")


def test_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_text("previous")

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("queryreview.sources.snapshot.os.replace", explode)
    with pytest.raises(InputError, match="No space left"):
        write_snapshot(_small(), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left behind


# -- redaction -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("SELECT * FROM users WHERE email = 'bob@example.com' AND id = $1",
     "SELECT * FROM users WHERE email = $2 AND id = $1"),
    ("select * from t where card = 4111111111111111 limit 10", "select * from t where card = $1 limit $2"),
    ("SELECT E'a\\'b', $$body$$, $t$x$t$, B'101', X'1F', U&'d\\0061t', 1.5e3, 1_000, 0o17 FROM t",
     "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM t"),
    ("/* user=bob@example.com */ SELECT a FROM t -- trailing 'x'", "SELECT a FROM t"),
    ("SELECT a::varchar(20), b::numeric(10, 2) FROM t", "SELECT a::varchar(20), b::numeric(10, 2) FROM t"),
    ("SELECT int4(4111) FROM t", "SELECT int4($1) FROM t"),
    ("CREATE ROLE app PASSWORD 'hunter2'", "CREATE ROLE app PASSWORD $1"),
    ("DO $$ BEGIN PERFORM 'secret'; END $$", "DO $1"),
    ("EXPLAIN SELECT 'x' FROM t", "EXPLAIN SELECT $1 FROM t"),
    ("CALL refund(42, 'bob')", "CALL refund($1, $2)"),
    ("SELECT \"Weird'Name\" FROM t", "SELECT \"Weird'Name\" FROM t"),
    ("SELECT 'unterminated", UNPARSABLE),
])
def test_redact_query(text: str, expected: str) -> None:
    assert redact_query(text) == expected


def test_redact_keeps_none() -> None:
    assert redact_query(None) is None


# Around the literal: anything but quotes (an odd quote in the prefix would make the "secret" an
# identifier or put it outside any literal, which is then not a literal to redact).
_surroundings = st.text(st.characters(exclude_characters="'\"", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(prefix=_surroundings, suffix=_surroundings,
       secret=st.text(st.characters(min_codepoint=65, max_codepoint=122, exclude_characters="'\"\\"),
                      min_size=8, max_size=16))
def test_redact_never_leaves_a_quoted_secret(prefix: str, suffix: str, secret: str) -> None:
    marker = f"SECRET{secret}"
    text = f"{prefix} '{marker}' {suffix}"
    result = redact_query(text)
    assert result is not None
    assert marker not in result


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_redact_never_crashes_and_output_has_no_literal(text: str) -> None:
    from queryreview.redact import _has_literal

    result = redact_query(text)
    assert result is not None
    assert result == UNPARSABLE or not _has_literal(result)


@pytest.mark.parametrize("default, expected", [
    ("nextval('orders_id_seq'::regclass)", "nextval('orders_id_seq'::regclass)"),
    ("now()", "now()"),
    ("'active'::text", "$1::text"),
    ("42", "$1"),
    (None, None),
])
def test_redact_default(default: str | None, expected: str | None) -> None:
    assert redact_default(default) == expected


def test_redact_catalog_and_workload() -> None:
    stats = ColumnStats("email", null_frac=0.1, n_distinct=-1, most_common_vals=("a@x",), most_common_freqs=(0.5,),
                        histogram_bounds=("a", "z"))
    table = Table(schema="public", name="users", columns=(Column("email", "text", default="'x@y'::text"),),
                  column_stats=(stats,),
                  indexes=(Index("users_active", "public.users", ("email",), predicate="status = 'active'::text"),))
    catalog = redact_catalog(Catalog(tables={table.qualified_name: table}))
    redacted = catalog.tables["public.users"]
    assert redacted.column_stats[0] == ColumnStats("email", null_frac=0.1, n_distinct=-1, most_common_freqs=(0.5,))
    assert redacted.columns[0].default == "$1::text"
    assert redacted.indexes[0].predicate == "status = 'active'::text"  # schema stays: rules need it
    workload = redact_workload(WorkloadStats(statements=[QueryStat(1, "SELECT 'a@x'"), QueryStat(2, None)]))
    assert [stat.query for stat in workload.statements] == ["SELECT $1", None]
