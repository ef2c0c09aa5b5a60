"""Model of a database: catalog (tables, columns, indexes, constraints, statistics) and workload.

Built by sources (live PostgreSQL, snapshot files, YAML fixtures in rule cases) and read
by rules. ``from_dict`` accepts both the full snapshot form and a terse fixture form:

    tables:
      - name: orders            # schema defaults to public
        rows: 1200000           # reltuples
        columns: [id bigint, customer_id bigint, status text]
        indexes:
          - {name: orders_pkey, columns: [id], primary: true, unique: true}
        constraints:
          - {name: orders_customer_fk, kind: f, columns: [customer_id], ref_table: public.customers, ref_columns: [id]}
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _pick(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies: the same result, several times faster on a big workload."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and hasattr(kind, "__dataclass_fields__"):
        names = _FIELD_NAMES[kind] = tuple(item.name for item in fields(value))
    if names is not None:
        data = {}
        for name in names:
            item = getattr(value, name)
            data[name] = item if type(item) in _SCALARS else plain(item)
        return data
    if isinstance(value, (list, tuple)):
        return kind(item if type(item) in _SCALARS else plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def qualify(name: str, default_schema: str = "public") -> str:
    """``orders`` -> ``public.orders``; already qualified names are kept."""
    return name if "." in name else f"{default_schema}.{name}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"
    not_null: bool = False
    default: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Column:
        if isinstance(data, str):  # fixture form "name type words [not null]"
            name, _, type_ = data.partition(" ")
            type_ = type_.strip()
            not_null = type_.lower().endswith(" not null")
            if not_null:
                type_ = type_[: -len(" not null")].rstrip()
            return cls(name=name, type=type_ or "text", not_null=not_null)
        return cls(**_pick(cls, data))


@dataclass(frozen=True)
class ColumnStats:
    """pg_stats for one column (values as text, as PostgreSQL shows them)."""

    column: str
    null_frac: float = 0.0
    n_distinct: float = 0.0
    avg_width: int = 0
    correlation: float | None = None
    most_common_vals: tuple[str, ...] | None = None
    most_common_freqs: tuple[float, ...] | None = None
    histogram_bounds: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnStats:
        values = _pick(cls, data)
        for key in ("most_common_vals", "most_common_freqs", "histogram_bounds"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def distinct_values(self, rows: float) -> float:
        """Estimated number of distinct values (n_distinct < 0 is a fraction of rows)."""
        return -self.n_distinct * rows if self.n_distinct < 0 else self.n_distinct


@dataclass(frozen=True)
class Index:
    name: str
    table: str  # schema-qualified
    columns: tuple[str, ...] = ()  # key columns, or expression text for expression keys
    include: tuple[str, ...] = ()
    predicate: str | None = None
    unique: bool = False
    primary: bool = False
    valid: bool = True
    ready: bool = True
    method: str = "btree"
    opclasses: tuple[str, ...] = ()  # non-default opclasses per key column, "" for default
    definition: str = ""
    size_bytes: int = 0
    idx_scan: int = 0
    idx_tup_read: int = 0
    constraint: str | None = None  # name of the constraint it backs, if any
    schema: str = "public"

    @classmethod
    def from_dict(cls, data: dict[str, Any], table: str | None = None) -> Index:
        values = _pick(cls, data)
        if table is not None:
            values.setdefault("table", table)
        values["table"] = qualify(values["table"])
        values.setdefault("schema", values["table"].split(".", 1)[0])
        for key in ("columns", "include", "opclasses"):
            values[key] = _tuple(values.get(key))
        return cls(**values)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # p primary key, f foreign key, u unique, c check, x exclusion
    columns: tuple[str, ...] = ()
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    definition: str = ""
    validated: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Constraint:
        values = _pick(cls, data)
        values["columns"] = _tuple(values.get("columns"))
        values["ref_columns"] = _tuple(values.get("ref_columns"))
        if values.get("ref_table"):
            values["ref_table"] = qualify(values["ref_table"])
        return cls(**values)


@dataclass(frozen=True)
class TableStats:
    """pg_stat_user_tables counters (since the last stats reset)."""

    seq_scan: int = 0
    seq_tup_read: int = 0
    idx_scan: int | None = None
    idx_tup_fetch: int | None = None
    n_tup_ins: int = 0
    n_tup_upd: int = 0
    n_tup_del: int = 0
    n_tup_hot_upd: int = 0
    n_live_tup: int = 0
    n_dead_tup: int = 0
    n_mod_since_analyze: int = 0
    n_ins_since_vacuum: int = 0
    last_vacuum: str | None = None
    last_autovacuum: str | None = None
    last_analyze: str | None = None
    last_autoanalyze: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableStats:
        return cls(**_pick(cls, data))


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str = "r"  # r table, p partitioned table, m materialized view
    reltuples: float = 0.0
    relpages: int = 0
    total_bytes: int = 0
    partition_of: str | None = None
    columns: tuple[Column, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    stats: TableStats | None = None
    column_stats: tuple[ColumnStats, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def rows(self) -> float:
        """Best row estimate: reltuples (-1 means never analyzed/vacuumed), else live tuples."""
        if self.reltuples >= 0:
            return self.reltuples
        return float(self.stats.n_live_tup) if self.stats else 0.0

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def column_stat(self, name: str) -> ColumnStats | None:
        for stat in self.column_stats:
            if stat.column == name:
                return stat
        return None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        values = _pick(cls, data)
        name = values["name"]
        if "." in name and "schema" not in values:
            values["schema"], values["name"] = name.split(".", 1)
        values.setdefault("schema", "public")
        qualified = f"{values['schema']}.{values['name']}"
        if "rows" in data and "reltuples" not in data:
            values["reltuples"] = float(data["rows"])
        values["columns"] = tuple(Column.from_dict(c) for c in data.get("columns") or ())
        values["indexes"] = tuple(Index.from_dict(i, qualified) for i in data.get("indexes") or ())
        values["constraints"] = tuple(Constraint.from_dict(c) for c in data.get("constraints") or ())
        values["stats"] = TableStats.from_dict(data["stats"]) if data.get("stats") else None
        values["column_stats"] = tuple(ColumnStats.from_dict(s) for s in data.get("column_stats") or ())
        return cls(**values)


@dataclass
class Catalog:
    """The schema of one database, with sizes and statistics."""

    server_version_num: int = 0
    server_version: str = ""
    database: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)  # name -> installed version
    available_extensions: dict[str, str] = field(default_factory=dict)  # not installed: name -> default version
    stats_reset: str | None = None  # pg_stat_database.stats_reset: start of the counters' window
    collected_at: str | None = None  # when these counters were read (ISO 8601, UTC); None: now
    tables: dict[str, Table] = field(default_factory=dict)  # by qualified name
    search_path: tuple[str, ...] = ("public",)

    def table(self, name: str) -> Table | None:
        """A table by qualified or bare name (bare names resolve along search_path)."""
        if "." in name:
            return self.tables.get(name)
        for schema in self.search_path:
            found = self.tables.get(f"{schema}.{name}")
            if found is not None:
                return found
        return None

    def indexes(self) -> list[Index]:
        return [index for table in self.tables.values() for index in table.indexes]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        values = _pick(cls, data)
        tables = data.get("tables") or []
        if isinstance(tables, dict):
            tables = list(tables.values())
        parsed = [Table.from_dict(t) for t in tables]
        values["tables"] = {t.qualified_name: t for t in parsed}
        path = data.get("search_path")
        values["search_path"] = ("public",) if path is None else tuple(path)  # [] stays empty (a real server can)
        values["settings"] = dict(data.get("settings") or {})
        values["extensions"] = dict(data.get("extensions") or {})
        values["available_extensions"] = dict(data.get("available_extensions") or {})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = plain(self)
        data["tables"] = [plain(t) for t in self.tables.values()]
        data["search_path"] = list(self.search_path)
        return data


@dataclass(frozen=True)
class QueryStat:
    """One pg_stat_statements entry (times in milliseconds)."""

    queryid: int | None
    query: str | None
    calls: int = 0
    total_exec_time: float = 0.0
    mean_exec_time: float = 0.0
    min_exec_time: float = 0.0
    max_exec_time: float = 0.0
    stddev_exec_time: float = 0.0
    rows: int = 0
    plans: int = 0
    total_plan_time: float = 0.0
    shared_blks_hit: int = 0
    shared_blks_read: int = 0
    shared_blks_dirtied: int = 0
    shared_blks_written: int = 0
    temp_blks_read: int = 0
    temp_blks_written: int = 0
    wal_records: int = 0
    wal_bytes: int = 0
    toplevel: bool = True
    user: str | None = None
    database: str | None = None
    # Added for the live source; None where the installed pg_stat_statements does not measure it.
    local_blks_hit: int = 0
    local_blks_read: int = 0
    shared_blk_read_time: float = 0.0  # blk_read_time before extension 1.11; needs track_io_timing
    shared_blk_write_time: float = 0.0
    temp_blk_read_time: float | None = None  # 1.10+
    temp_blk_write_time: float | None = None
    wal_fpi: int = 0
    jit_functions: int | None = None  # 1.10+
    jit_time: float | None = None  # generation + inlining + optimization + emission (+ deform, 1.11+)
    parallel_workers_to_launch: int | None = None  # 1.12+
    parallel_workers_launched: int | None = None
    stats_since: str | None = None  # 1.11+: when this entry started counting (ISO 8601)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryStat:
        values = _pick(cls, data)
        values.setdefault("queryid", None)
        values.setdefault("query", None)
        return cls(**values)


@dataclass
class WorkloadStats:
    """What pg_stat_statements held when collected, plus what could not be seen."""

    extension_version: str = ""
    statements: list[QueryStat] = field(default_factory=list)
    total_exec_time: float = 0.0  # over every visible top-level entry, not only the collected top
    total_calls: int = 0  # (nested statements' time is already inside their callers')
    entries: int = 0  # visible entries in the view (the current database's)
    hidden_entries: int = 0  # rows shown as <insufficient privilege>
    hidden_exec_time: float = 0.0
    dealloc: int | None = None  # pg_stat_statements_info.dealloc (PG 14+)
    stats_reset: str | None = None  # pg_stat_statements_info.stats_reset (PG 14+)
    track_planning: bool = False
    track: str = ""  # pg_stat_statements.track: top | all | none
    max_entries: int | None = None  # pg_stat_statements.max
    collected_at: str | None = None  # when it was read (ISO 8601): the window is stats_reset .. collected_at

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadStats:
        values = _pick(cls, data)
        values["statements"] = [QueryStat.from_dict(s) for s in data.get("statements") or ()]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return plain(self)
