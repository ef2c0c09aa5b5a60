"""Btree index sizes from pg_stats, deduplication included: what CREATE INDEX would build.

    model = SizeModel.from_catalog(catalog)             # offline (a snapshot): storage by type name
    model = SizeModel.from_session(session, tables)     # live: exact type storage and dedup safety
    model.bytes(candidate)                              # None: not modelled (expression key, GIN, no pg_stats)

Why not ``hypopg_relation_size``: it ignores btree deduplication (PostgreSQL 13+), where
duplicates of a key share one posting-list tuple: the key once, then a 6-byte heap TID per
row. On TPC-H ``lineitem (l_orderkey)`` (4 rows per key) hypopg says 179 MB, the built index
takes 74 MB; a 200 MB budget then holds that one index where it could hold seven.

The model follows what CREATE INDEX does (nbtsort.c, nbtdedup.c):

- a leaf tuple is an 8-byte header (16 with a NULL bitmap), the key and INCLUDE columns
  each aligned by type (short varlenas unaligned), MAXALIGNed, plus a 4-byte line pointer;
  a string column's widths come from its most common values when they cover nearly all rows;
- deduplication merges each run of equal keys into posting-list tuples of at most 812 bytes
  (CREATE INDEX caps them at a tenth of a page); a run of one stays a plain tuple. It never
  applies to INCLUDE indexes, nor to keys whose btree operator class has no equalimage
  function (numeric, float4/8, jsonb, interval, arrays, ranges, composites) or that use a
  nondeterministic collation (PostgreSQL docs, "B-Tree Deduplication"), nor before 13;
- run lengths: the most common values' frequencies, the other rows spread over the other
  distinct values as 1 + Poisson (every distinct value occurs at least once); several key
  columns combine as independent ones would (an overestimate of distinct combinations for
  correlated columns: a larger, safe, size); a skewed column's tail is taken as distinct;
- leaf pages as _bt_buildadd fills them (90% fillfactor, the last item moving on, posting
  lists truncated out of high keys), simulated on a fixed-seed sample of items when they are
  large; internal pages to 70%, one metapage.

n_distinct correction: ANALYZE samples 300 x statistics target rows from as many random
blocks. On a table with more blocks than that, a physically clustered column (|correlation|
near 1, e.g. ``l_orderkey``, whose rows sit side by side) shows its duplicates in the sample
more often than uniform sampling would (relpages / blocks sampled times as often), and its
n_distinct comes out low (369,479 for 1,500,000). Removing that bias from the pairs ANALYZE
saw gives 1.42 M. Without it the model would undersize such indexes by ~30%.

Against 119 indexes built on TPC-H SF1 (bench/ADVISOR.md): median error 0.2%, -4% .. +178%
(over: correlated key columns, skewed text), where hypopg_relation_size is +0% .. +654%.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from queryreview.advisor.candidates import Candidate
from queryreview.catalog import Catalog, Column, ColumnStats, Table

# What budgets are checked against: the model's size plus this. Its error against built indexes on
# TPC-H is -4% .. +178% for single indexes (over: correlated key columns, skewed text) and within
# -1% for the sets chosen; the greedy fills a budget to within a percent, so without a margin a set
# could come out a few hundred kB over once built.
SIZE_MARGIN = 0.02
MODEL_BASIS = ("a model of the btree CREATE INDEX would build from pg_stats, deduplication included "
               f"(+{SIZE_MARGIN:.0%} margin)")

BLOCK = 8192
PAGE_ITEMS = BLOCK - 24 - 16  # page header, btree special space
LEAF_FREE = BLOCK * 10 // 100  # fillfactor 90: CREATE INDEX leaves this much free on each leaf page
INTERNAL_FREE = BLOCK * 30 // 100  # internal pages are filled to 70%
MAX_POSTING = (BLOCK * 10 // 100) // 8 * 8 - 4  # nbtsort.c: MAXALIGN_DOWN(BLCKSZ * 10 / 100) - sizeof(ItemIdData)
TID = 6
LINE_POINTER = 4
SAMPLE_ROWS_PER_TARGET = 300  # ANALYZE samples 300 x statistics target rows (and as many blocks)
DEFAULT_STATISTICS_TARGET = 100
SKEW = 10.0  # most common values this many times more frequent than the others: a skewed column
CLUSTERED = 0.9  # |correlation| from which a column's rows are taken to sit side by side on disk
DEFAULT_VARLENA_WIDTH = 32
SIMULATE_FROM = 64  # leaf items larger than this on average: simulate how they pack (_fill)
SAMPLE_ITEMS = 1500
QUANTILES = 32
SEED = 20200901
MCV_COVERAGE = 0.95  # most common values covering this share of the rows describe a column's widths
_STRINGS = frozenset({"text", "character varying", "character", "varchar", "bpchar", "citext"})

# type (format_type without typmod) -> (length, alignment, deduplication allowed): offline only;
# from_session asks the server (pg_type, the default btree operator class's equalimage function).
_FIXED = {
    "smallint": (2, 2, True), "integer": (4, 4, True), "bigint": (8, 8, True), "boolean": (1, 1, True),
    "date": (4, 4, True), "timestamp without time zone": (8, 8, True), "timestamp with time zone": (8, 8, True),
    "time without time zone": (8, 8, True), "time with time zone": (12, 8, True), "interval": (16, 8, False),
    "real": (4, 4, False), "double precision": (8, 8, False), "uuid": (16, 1, True), "oid": (4, 4, True),
    "money": (8, 8, True), '"char"': (1, 1, True), "name": (64, 1, True), "macaddr": (6, 4, True),
    "macaddr8": (8, 4, True), "pg_lsn": (8, 8, True),
}
_VARLENA_DEDUP = frozenset({"text", "character varying", "character", "bytea", "inet", "cidr", "bit",
                            "bit varying"})


@dataclass(frozen=True)
class Storage:
    """How a type is stored: typlen (-1 varlena), typalign in bytes, deduplication allowed for its btree."""

    length: int
    align: int
    dedup: bool


@dataclass(frozen=True)
class ColumnShape:
    """What a column adds to an index tuple, and how its values repeat."""

    width: float  # average stored bytes (typlen, or pg_stats avg_width for a varlena)
    align: int
    varlena: bool
    null_frac: float
    distinct: float  # distinct non-NULL values in the table
    dedup: bool
    mcv_freqs: tuple[float, ...] = ()
    widths: tuple[tuple[float, float], ...] = ()  # (stored bytes, share of the non-NULL values); () = width


@dataclass(frozen=True)
class TableShape:
    rows: float
    columns: dict[str, ColumnShape]


class SizeModel:
    """Index sizes for candidates on the tables it was given; ``bytes`` is None where it cannot model."""

    def __init__(self, tables: dict[str, Table], storage: dict[tuple[str, str], Storage] | None = None,
                 dedup: bool = True, statistics_target: int = DEFAULT_STATISTICS_TARGET) -> None:
        self.tables = tables
        self.storage = storage or {}
        self.dedup = dedup  # PostgreSQL 13+
        self.statistics_target = statistics_target
        self._shapes: dict[str, TableShape | None] = {}
        self._asked: set[str] = set()  # tables asked of a session, found or not
        self._targets: dict[str, int] = {}  # per table read from a session: its largest statistics target

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> SizeModel:
        target = _int(catalog.settings.get("default_statistics_target"), DEFAULT_STATISTICS_TARGET)
        version = catalog.server_version_num or 130000  # unknown (a fixture): assume a current server
        return cls(dict(catalog.tables), dedup=version >= 130000, statistics_target=target)

    @classmethod
    def from_session(cls, session, tables: list[str]) -> SizeModel:
        """Columns, storage, dedup safety and pg_stats of ``tables`` (qualified names), in one query."""
        model = cls({}, dedup=session.server_version_num >= 130000)
        model.load(session, tables)
        return model

    def load(self, session, tables: list[str]) -> None:
        """Add tables (qualified names) read from the session; those it already has are skipped."""
        wanted = sorted({name for name in tables if name not in self.tables and name not in self._asked})
        if not wanted:
            return
        self._asked.update(wanted)
        pairs = [name.partition(".") for name in wanted]
        rows = session.fetch_all((Path(__file__).parent / "size_columns.sql").read_text(encoding="utf-8"),
                                 {"schemas": [schema for schema, _, _ in pairs],
                                  "names": [relation for _, _, relation in pairs]})
        found: dict[str, dict] = {}
        for row in rows:
            name = f"{row['schema']}.{row['table_name']}"
            entry = found.setdefault(name, {"reltuples": row["reltuples"], "relpages": row["relpages"],
                                            "columns": [], "stats": [], "target": 0})
            entry["columns"].append(Column(row["column"], row["type"]))
            self.storage[(name, row["column"])] = Storage(int(row["typlen"]), _ALIGN.get(row["typalign"], 4),
                                                          bool(row["dedup"]))
            entry["target"] = max(entry["target"], int(row["stats_target"] or 0))  # ANALYZE samples for the largest
            if row["null_frac"] is not None:
                entry["stats"].append(ColumnStats(
                    column=row["column"], null_frac=float(row["null_frac"]), n_distinct=float(row["n_distinct"]),
                    avg_width=int(row["avg_width"] or 0), correlation=row["correlation"],
                    most_common_vals=tuple(row["most_common_vals"]) if row["most_common_vals"] else None,
                    most_common_freqs=tuple(row["most_common_freqs"]) if row["most_common_freqs"] else None))
        for name in wanted:
            entry = found.get(name)
            if entry is None:
                continue
            schema, _, relation = name.partition(".")
            self.tables[name] = Table(schema=schema, name=relation, reltuples=float(entry["reltuples"]),
                                      relpages=int(entry["relpages"]), columns=tuple(entry["columns"]),
                                      column_stats=tuple(entry["stats"]))
            self._targets[name] = entry["target"] or self.statistics_target
            self._shapes.pop(name, None)

    def bytes(self, candidate: Candidate, fraction: float | None = None) -> int | None:
        """Size of the candidate as CREATE INDEX would build it; ``fraction``: the share of rows a partial
        index keeps (None: worked out from its predicate when it can be)."""
        if candidate.method != "btree" or any(key.expression for key in candidate.keys):
            return None
        shape = self.shape(candidate.table)
        if shape is None:
            return None
        keys = [shape.columns.get(column) for column in candidate.key_columns()]
        include = [shape.columns.get(column) for column in candidate.include]
        if any(column is None for column in keys + include):
            return None
        if candidate.predicate:
            if fraction is None:
                fraction = predicate_fraction(self.tables[candidate.table], candidate.predicate)
            if fraction is None:
                return None
        return btree_bytes(shape.rows, keys, include, dedup=self.dedup,  # type: ignore[arg-type]
                           fraction=1.0 if fraction is None else fraction)

    def shape(self, table_name: str) -> TableShape | None:
        if table_name not in self._shapes:
            table = self.tables.get(table_name)
            self._shapes[table_name] = None if table is None else self._table_shape(table)
        return self._shapes[table_name]

    def _table_shape(self, table: Table) -> TableShape:
        rows = max(table.rows, 0.0)
        sample = SAMPLE_ROWS_PER_TARGET * self._targets.get(table.qualified_name, self.statistics_target)
        columns = {}
        for column in table.columns:
            storage = self.storage.get((table.qualified_name, column.name)) or storage_by_name(column.type)
            stats = table.column_stat(column.name)
            if storage.length > 0:
                width = float(storage.length)
            elif stats is None:
                continue  # a varlena never analyzed: its width is anyone's guess, so not modelled
            else:  # avg_width is truncated to an integer: half a byte back
                width = stats.avg_width + 0.5 if stats.avg_width else DEFAULT_VARLENA_WIDTH
            null_frac = stats.null_frac if stats is not None else 0.0
            distinct = corrected_distinct(stats, rows, table.relpages, sample) if stats is not None else rows
            if stats is not None and _skewed(stats, rows, distinct):  # the tail taken as distinct values
                distinct = len(stats.most_common_freqs or ()) + rows * (1 - null_frac - sum(stats.most_common_freqs or ()))
            columns[column.name] = ColumnShape(width=width, align=storage.align, varlena=storage.length <= 0,
                                               null_frac=null_frac, distinct=max(distinct, 1.0),
                                               dedup=storage.dedup and self.dedup,
                                               mcv_freqs=tuple(stats.most_common_freqs or ()) if stats else (),
                                               widths=_string_widths(column.type, stats, width))
        return TableShape(rows, columns)


def _string_widths(type_text: str, stats: ColumnStats | None, average: float) -> tuple[tuple[float, float], ...]:
    """Stored widths of a string column's values, from its most common values when they cover nearly all
    rows: an index tuple is MAXALIGNed one value at a time, so 'NONE' and 'DELIVER IN PERSON' do not
    average to the tuple of their mean width."""
    base = type_text.split("(")[0].strip().lower()
    if stats is None or base not in _STRINGS or not stats.most_common_vals or not stats.most_common_freqs:
        return ()
    present = 1.0 - stats.null_frac
    covered = sum(stats.most_common_freqs)
    if present <= 0 or covered < MCV_COVERAGE * present:
        return ()
    widths = []
    for value, frequency in zip(stats.most_common_vals, stats.most_common_freqs):
        size = len(str(value).encode("utf-8"))
        widths.append((float(size + (1 if size < 127 else 4)), frequency / present))
    rest = present - covered
    if rest > 1e-6:
        known = sum(width * share for width, share in widths)
        widths.append((max((average - known) * present / rest, 1.0), rest / present))
    return tuple(widths)


_ALIGN = {"c": 1, "s": 2, "i": 4, "d": 8}


def storage_by_name(type_text: str) -> Storage:
    """Storage of a type from its format_type name (offline); unknown types: a varlena without dedup."""
    base = type_text.strip().lower()
    if base.endswith("[]"):
        return Storage(-1, 4, False)
    while "(" in base:  # typmods: varchar(25), numeric(15,2), timestamp(3) with time zone
        start, end = base.index("("), base.find(")", base.index("("))
        if end < 0:
            break
        base = (base[:start].rstrip() + " " + base[end + 1:].lstrip()).strip()
    if base in _FIXED:
        length, align, dedup = _FIXED[base]
        return Storage(length, align, dedup)
    return Storage(-1, 4, base in _VARLENA_DEDUP)


def corrected_distinct(stats: ColumnStats, rows: float, relpages: int, sample_rows: int) -> float:
    """pg_stats' distinct count, corrected for ANALYZE's block sampling of clustered columns (module docstring)."""
    observed = stats.distinct_values(rows)
    if stats.n_distinct < 0 or rows <= sample_rows or relpages <= sample_rows:
        return observed  # a fraction of the rows (ANALYZE saw mostly distinct values), or every block sampled
    correlation = abs(stats.correlation or 0.0)
    if correlation < CLUSTERED or observed <= 0:
        return observed
    n, q = float(sample_rows), sample_rows / rows
    # Haas-Stokes (analyze.c): D = n d / (n - f1 + f1 n / N). With only singletons and pairs in the
    # sample (d = f1 + f2, n = f1 + 2 f2) it gives back the number of pairs ANALYZE saw.
    seen = n * observed * (2 - q) / (n + 2 * observed * (1 - q))
    pairs = n - seen
    if pairs <= 0 or 2 * seen - n <= 0:
        return observed
    # Two rows of one value in one block are both sampled relpages / blocks-sampled times as often.
    pairs /= 1 + (relpages / sample_rows - 1) * correlation ** 2
    # Runs of 1 + Poisson(x) rows (as _lengths assumes) show q^2 N x (x + 2) / (2 (1 + x)) pairs.
    ratio = 2 * pairs / (q * q * rows)
    extra = (ratio - 2 + math.sqrt((ratio - 2) ** 2 + 4 * ratio)) / 2
    return min(max(observed, rows / (1 + extra)), rows)


def _skewed(stats: ColumnStats, rows: float, distinct: float) -> bool:
    """Most common values far more frequent than the rest: a long tail whose distinct count ANALYZE
    underestimates (Haas-Stokes does under skew: l_comment 0.8 M for 3.6 M), so its runs are not trusted."""
    freqs = stats.most_common_freqs or ()
    rest = 1.0 - stats.null_frac - sum(freqs)
    others = distinct - len(freqs)
    if not freqs or rest <= 0.01 or others < 1:
        return False
    return (sum(freqs) / len(freqs)) / (rest / others) > SKEW


def predicate_fraction(table: Table, predicate: str) -> float | None:
    """The share of rows ``column = literal`` or ``column IS NULL`` keeps (a partial index's predicate)."""
    from sqlglot import exp, parse_one

    from queryreview.advisor import selectivity

    try:
        node = parse_one(predicate, read="postgres")
    except Exception:  # noqa: BLE001 — any parse failure: not modelled
        return None
    if isinstance(node, exp.Is) and isinstance(node.this, exp.Column) and isinstance(node.expression, exp.Null):
        return selectivity.null_fraction(table, node.this.name)
    if isinstance(node, exp.EQ) and isinstance(node.this, exp.Column):
        return selectivity.equality_fraction(table, node.this.name, selectivity.literal_text(node.expression))
    return None


# -- the btree -----------------------------------------------------------------------------------


def btree_bytes(rows: float, keys: list[ColumnShape], include: list[ColumnShape], *, dedup: bool = True,
                fraction: float = 1.0) -> int:
    """Bytes of a freshly built btree over ``rows`` x ``fraction`` rows."""
    indexed = max(rows * fraction, 0.0)
    key_tuple = _tuple_bytes(keys)
    if dedup and not include and all(column.dedup for column in keys):
        leaves = _deduplicated_leaves(_runs(indexed, rows, keys, fraction), key_tuple)
    else:
        leaves = math.ceil(max(indexed, 1.0) / _per_page(_tuple_bytes(keys + include) + LINE_POINTER, 0.0, LEAF_FREE))
    pages, level = 1 + leaves, leaves  # the metapage, the leaves
    pivot = key_tuple + 8 + LINE_POINTER  # a downlink: the (truncated) key, often with a heap TID
    fanout = _per_page(pivot, 0.0, INTERNAL_FREE)
    while level > 1:
        level = math.ceil(level / fanout)
        pages += level
    return pages * BLOCK


def _per_page(item: float, truncated: float, reserve: int) -> int:
    """Items of one size (with line pointer) _bt_buildadd puts on a page (see _fill)."""
    free = PAGE_ITEMS - LINE_POINTER  # the high key's line pointer is reserved up front
    limit = max(item + 8, reserve + LINE_POINTER - truncated)
    return max(int((free - limit) // item), 2)


def _fill(items: list[tuple[float, float]]) -> float | None:
    """Items per leaf page when CREATE INDEX adds these (bytes with line pointer, posting-list bytes) in
    turn: _bt_buildadd starts a new page when the incoming item (plus a heap TID) does not fit, or when
    the free space, plus what truncating the last item into the high key gives back, falls under the
    fillfactor's reserve; that last item moves to the new page. None: not one page filled."""
    start = PAGE_ITEMS - LINE_POINTER
    free, on_page, last, last_list, pages, placed = start, 0, 0.0, 0.0, 0, 0
    hard = 8  # room for the item and a heap TID: free - line pointer < size - line pointer + 8
    soft = LEAF_FREE + LINE_POINTER
    for size, posting_list in items:
        if on_page >= 2 and (free < size + hard or free + last_list < soft):
            pages += 1
            placed += on_page - 1
            free, on_page = start - last, 1
        free -= size
        on_page += 1
        last, last_list = size, posting_list
    return placed / pages if pages else None


def _tuple_bytes(columns: list[ColumnShape]) -> float:
    """Average size of an index tuple holding these columns: header (16 bytes with a NULL bitmap), each
    value aligned by its type (short varlenas are not), MAXALIGNed, averaged over the columns' widths."""
    layouts: dict[tuple[float, bool], float] = {(0.0, False): 1.0}  # (data offset, a NULL seen) -> share
    for column in columns:
        widths = column.widths or ((column.width, 1.0),)
        following: dict[tuple[float, bool], float] = {}
        for (offset, has_null), share in layouts.items():
            if column.null_frac > 0:
                key = (offset, True)
                following[key] = following.get(key, 0.0) + share * column.null_frac
            for width, part in widths:
                start = offset if column.varlena and width < 127 else _align(offset, column.align)
                key = (round(start + width, 1), has_null)
                following[key] = following.get(key, 0.0) + share * (1.0 - column.null_frac) * part
        layouts = following if len(following) <= 256 else _coarser(following)
    return sum(share * _align((16 if has_null else 8) + offset, 8) for (offset, has_null), share in layouts.items())


def _coarser(layouts: dict[tuple[float, bool], float]) -> dict[tuple[float, bool], float]:
    """Too many distinct offsets: merge them to whole bytes."""
    merged: dict[tuple[float, bool], float] = {}
    for (offset, has_null), share in layouts.items():
        key = (float(math.ceil(offset)), has_null)
        merged[key] = merged.get(key, 0.0) + share
    return merged


def _align(offset: float, alignment: int) -> float:
    return math.ceil(offset / alignment - 1e-9) * alignment


@dataclass(frozen=True)
class _Runs:
    """``count`` runs of equal keys, each ``length`` rows long (fixed: most common values), or
    1 + Poisson(length - 1) rows."""

    count: float
    length: float
    fixed: bool = False


def _runs(indexed: float, rows: float, keys: list[ColumnShape], fraction: float) -> list[_Runs]:
    if len(keys) > 1 or fraction < 1.0:
        groups = _combinations(indexed, rows, keys)
        return [_Runs(groups, indexed / groups)]
    column = keys[0]
    runs = []
    nulls = indexed * column.null_frac
    if nulls >= 1:
        runs.append(_Runs(1.0, nulls, fixed=True))
    for frequency in column.mcv_freqs:
        runs.append(_Runs(1.0, max(frequency * indexed, 1.0), fixed=True))
    rest = max(indexed - nulls - sum(column.mcv_freqs) * indexed, 0.0)
    if rest >= 1:
        others = min(max(column.distinct - len(column.mcv_freqs), 1.0), rest)
        runs.append(_Runs(others, rest / others))
    return runs or [_Runs(1.0, 1.0, fixed=True)]


def _combinations(indexed: float, rows: float, keys: list[ColumnShape]) -> float:
    """Distinct key combinations among ``indexed`` of the table's ``rows``: independent columns, each value
    of a column occurring rows / distinct times."""
    if indexed < 1:
        return 1.0
    product, widest = 1.0, 1.0
    for column in keys:
        values = column.distinct + (1 if column.null_frac > 0 else 0)
        product *= values
        touched = values * -math.expm1(-indexed / max(values, 1.0)) if indexed < rows else values
        widest = max(widest, touched)
        if product > 1e15:
            break
    combined = product * -math.expm1(-indexed / product)
    return min(max(combined, widest, 1.0), indexed)


def _deduplicated_leaves(runs: list[_Runs], key_tuple: float) -> int:
    """Leaf pages of posting lists over these runs of equal keys."""
    per_posting = max(int((MAX_POSTING - 4 - key_tuple) // TID), 1)  # MAXALIGN(key + 6n) <= 812
    tuples = size = lists = 0.0
    lengths = []
    for run in runs:
        distribution = _lengths(run)
        lengths.append(distribution)
        for length, weight in distribution:
            count, run_size, run_lists = _run_totals(length, key_tuple, per_posting)
            tuples += run.count * weight * count
            size += run.count * weight * run_size
            lists += run.count * weight * run_lists
    tuples = max(tuples, 1.0)
    per_page: float | None = _per_page(size / tuples, lists / tuples, LEAF_FREE)
    if size / tuples > SIMULATE_FROM:  # large items: how they pack depends on their mix, simulated
        per_page = _fill(_sample(runs, lengths, key_tuple, per_posting)) or per_page
    return max(math.ceil(tuples / per_page), 1)  # type: ignore[operator]


@functools.lru_cache(maxsize=4096)
def _lengths(run: _Runs) -> list[tuple[int, float]]:
    """(run length, probability), a few dozen points at most."""
    if run.fixed:
        return [(max(round(run.length), 1), 1.0)]
    extra = max(run.length - 1.0, 0.0)
    if extra > 200:  # a normal approximation, by quantiles
        from statistics import NormalDist

        spread = NormalDist(1.0 + extra, math.sqrt(extra))
        return [(max(round(spread.inv_cdf((i + 0.5) / QUANTILES)), 1), 1.0 / QUANTILES) for i in range(QUANTILES)]
    weight = math.exp(-extra)
    found = []
    for k in range(int(extra + 12 * math.sqrt(extra) + 20) + 1):
        if k:
            weight *= extra / k
        if weight > 1e-12:
            found.append((k + 1, weight))
    return found


@functools.lru_cache(maxsize=65536)
def _items(length: int, key_tuple: float, per_posting: int) -> tuple[tuple[float, float], ...]:
    """The leaf items of a run: (bytes with line pointer, posting-list bytes); a run of one is a plain tuple."""
    full, rest = divmod(length, per_posting)
    items = [(_posting(key_tuple, per_posting) + LINE_POINTER, _posting(key_tuple, per_posting) - key_tuple)] * full
    if rest == 1:
        items.append((key_tuple + LINE_POINTER, 0.0))
    elif rest > 1:
        items.append((_posting(key_tuple, rest) + LINE_POINTER, _posting(key_tuple, rest) - key_tuple))
    return tuple(items)


@functools.lru_cache(maxsize=65536)
def _run_totals(length: int, key_tuple: float, per_posting: int) -> tuple[int, float, float]:
    """(items, bytes, posting-list bytes) of a run."""
    items = _items(length, key_tuple, per_posting)
    return len(items), sum(size for size, _ in items), sum(posting for _, posting in items)


def _sample(runs: list[_Runs], lengths: list[list[tuple[int, float]]], key_tuple: float,
            per_posting: int) -> list[tuple[float, float]]:
    """About SAMPLE_ITEMS leaf items from runs drawn at random, with a fixed seed (the same answer every
    time). Low-discrepancy quantiles would be smoother, but their regular order packs pages better than
    real data does."""
    draw = random.Random(SEED)
    per_run = sum(run.count * weight * _run_totals(length, key_tuple, per_posting)[0]
                  for run, distribution in zip(runs, lengths) for length, weight in distribution)
    per_run /= max(sum(run.count for run in runs), 1.0)
    wanted = min(int(SAMPLE_ITEMS / max(per_run, 1.0)) + 1, SAMPLE_ITEMS)
    which = draw.choices(range(len(runs)), weights=[run.count for run in runs], k=wanted)
    picked: dict[int, list[int]] = {}
    for index, count in sorted(Counter(which).items()):
        values = [length for length, _ in lengths[index]]
        picked[index] = draw.choices(values, weights=[weight for _, weight in lengths[index]], k=count)
    items: list[tuple[float, float]] = []
    for index in which:  # in the drawn order: runs of the different kinds mixed as in the index
        items.extend(_items(picked[index].pop(), key_tuple, per_posting))
    return items


def _posting(key_tuple: float, tids: int) -> float:
    return float(_align(key_tuple + TID * tids, 8))


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
