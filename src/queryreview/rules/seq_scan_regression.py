"""QR316 seq-scan-regression: with sequential scans disabled, a large table is still read whole.

The gate (``queryreview gate``) plans every statement with ``enable_seqscan = off``, so a
full read of a table survives only where no index can serve the statement: a Seq Scan
(PG 18 marks it ``"Disabled": true``; before 18 its cost carries the 1e10 disable cost),
or an index scan with no Index Cond (the whole index walked, only because sequential
scans were off). Table sizes come from the catalog (production's, from a snapshot).

A plan made with ``enable_sort = off`` as well is read for sorts only: a Sort that survives
there has no index returning its rows in order. Each hit's evidence says what it is about:
``kind`` "full-scan" or "sort" (the gate reports a sort when the baseline's plans had none
there: an index that gave the order is gone), and the ``relation`` (schema-qualified) it
concerns. The gate keys its baseline on those.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from queryreview.catalog import Catalog, Table
from queryreview.model import Fix, Hit
from queryreview.plan.advice import input_scan
from queryreview.plan.exprs import conditions, index_keys, sort_keys, tables_and_columns
from queryreview.plan.tree import Plan, PlanNode
from queryreview.sql.resolve import index_name, quote_ident, quote_qualified, rows_text, table_rows

DISABLE_COST = 1.0e10  # what PostgreSQL < 18 adds to a disabled path's startup cost
_INDEX_SCANS = ("Index Scan", "Index Only Scan")
# Nodes that hand rows upwards as they get them: a Limit above them may stop the scan early.
_STREAMING = frozenset(("Result", "Gather", "Gather Merge", "Subquery Scan", "Materialize", "Memoize", "Unique",
                        "Incremental Sort", "LockRows", "Append", "Merge Append", "ProjectSet"))
_JOINS = ("Nested Loop", "Hash Join", "Merge Join")
_JOIN_CONDITIONS = ("Hash Cond", "Merge Cond", "Join Filter")
# Between a scan and the join it feeds: nodes that do not change which rows flow.
_JOIN_INPUTS = frozenset(("Hash", "Sort", "Materialize", "Memoize", "Gather", "Gather Merge", "Result"))
_OPERATOR_CLASS = re.compile(r"\s+\w+_ops$")


def check(plan: Plan, settings: dict[str, Any], catalog: Catalog) -> Iterator[Hit]:
    if plan.setting("enable_seqscan") != "off":
        return  # the rule reads plans made with sequential scans disabled (queryreview gate)
    # With sorts disabled too, a Sort survives only where no index returns the rows in order;
    # that plan is read for sorts alone (avoiding a sort, it may walk a whole index instead).
    sorts_off = plan.setting("enable_sort") == "off"
    min_rows = settings["min_rows"]
    reported: set[str] = set()
    for node in plan.nodes:
        if sorts_off:
            scan = input_scan(node) if node.node_type == "Sort" and _disabled(node) else None
        else:
            scan = _full_scan(node)
        if scan is None or not scan.relation:
            continue
        table = catalog.table(scan.relation)
        if table is None:
            continue  # not in the catalog: a table production does not have yet
        rows = table_rows(catalog, table)
        if rows <= min_rows or table.qualified_name in reported:
            continue
        reported.add(table.qualified_name)
        if sorts_off:
            yield _sort_hit(node, scan, table, rows, catalog)
        else:
            yield _full_scan_hit(node, scan, table, rows, catalog)


def _disabled(node: PlanNode) -> bool:
    """A node of a disabled type that the planner could not avoid (PG 18 says so; before, its cost does)."""
    return node.get("Disabled") is True or node.startup_cost >= DISABLE_COST


def _full_scan(node: PlanNode) -> PlanNode | None:
    """The node holding the relation when ``node`` reads a whole table, else None."""
    if node.node_type == "Seq Scan":
        if _disabled(node):
            return node if node.get("Filter") or not _stops_early(node) else None
        return None
    if node.node_type in _INDEX_SCANS and not node.get("Index Cond"):
        return node if node.get("Filter") or not _stops_early(node) else None
    if node.node_type == "Bitmap Heap Scan":
        bitmaps = [child for child in node.children if child.node_type == "Bitmap Index Scan"]
        if bitmaps and not any(child.get("Index Cond") for child in bitmaps):
            return node if node.get("Filter") or not _stops_early(node) else None
    return None


def _stops_early(node: PlanNode) -> bool:
    """Whether a Limit (or an EXISTS-like subplan) can stop this scan after a few rows: only
    through nodes that pass rows on as they come, never through a Sort, Hash or Aggregate."""
    current = node
    while True:
        if current.is_subplan:
            return True
        parent = current.parent
        if parent is None:
            return False
        if parent.node_type == "Limit":
            return True
        outer_of_join = parent.node_type in _JOINS and current.parent_relationship == "Outer"
        if parent.node_type not in _STREAMING and not outer_of_join:
            return False
        current = parent


def _full_scan_hit(node: PlanNode, scan: PlanNode, table: Table, rows: float, catalog: Catalog) -> Hit:
    filter_text = scan.get("Filter")
    keys, reason = _index_for(scan)
    name = table.qualified_name
    size = f"{rows_text(rows)} rows"
    where = f" (filter `{filter_text}`)" if filter_text else ""
    if scan.node_type == "Seq Scan":
        what = (f"{scan.label()} reads all of {name} ({size}): even with sequential scans disabled, no index "
                f"serves this statement{where}")
        index_used = None
    elif scan.node_type == "Bitmap Heap Scan":
        index_used = next(child.index_name for child in scan.children if child.node_type == "Bitmap Index Scan")
        what = (f"{scan.label()} reads all of {name} ({size}): its Bitmap Index Scan on `{index_used}` has no "
                f"Index Cond, so the whole index is read, which the planner chose only because sequential scans "
                f"were disabled{where}")
    else:
        index_used = scan.index_name
        what = (f"{scan.label()} reads all of {name} ({size}): it has no Index Cond, so it walks the whole index, "
                f"which the planner chose only because sequential scans were disabled{where}")
    fix = None
    if keys:
        statement = _create_index(catalog, table, keys)
        help_text = f"Create an index {reason}: `{statement}`"
        fix = Fix(f"Create an index {reason} (CONCURRENTLY does not block writes)", statement)
    else:
        help_text = ("No index can serve this as written: add a selective condition an index can serve, or, if a "
                     "full read is intended, accept it into the baseline with `queryreview gate --update-baseline`")
    return Hit(
        message=what, help=help_text, fix=fix,
        evidence={"kind": "full-scan", "node": scan.id, "node_type": scan.node_type, "relation": name,
                  "table_rows": round(rows), "filter": filter_text, "index": index_used, "index_keys": keys},
    )


def _sort_hit(sort: PlanNode, scan: PlanNode, table: Table, rows: float, catalog: Catalog) -> Hit:
    keys_text = ", ".join(sort.get("Sort Key") or ())
    name = table.qualified_name
    index_keys_ = _equality_keys(scan) + _order_keys(sort, scan.alias)
    message = (f"Sort (node {sort.id}) of rows of {name} ({rows_text(rows)} rows) by `{keys_text}` survives with sorts "
               f"disabled: no index returns them in this order, so every matching row is read and sorted before "
               f"the first is returned")
    fix = None
    help_text = "Create an index whose key order matches the ORDER BY (after the equality-filtered columns)"
    if _order_keys(sort, scan.alias):
        statement = _create_index(catalog, table, index_keys_)
        help_text = f"Create an index that returns the rows in order: `{statement}`"
        fix = Fix("Create an index that returns the rows already sorted (CONCURRENTLY does not block writes)",
                  statement)
    return Hit(
        message=message, help=help_text, fix=fix,
        evidence={"kind": "sort", "node": sort.id, "node_type": "Sort", "relation": name,
                  "table_rows": round(rows), "sort_key": list(sort.get("Sort Key") or ()),
                  "scan": scan.label(), "index_keys": index_keys_},
    )


def _index_for(scan: PlanNode) -> tuple[list[str], str]:
    """Key columns for an index that would serve the scan, and what it would serve."""
    keys = index_keys(conditions(scan.get("Filter"), scan.alias))
    if keys:
        return keys, "on the filter columns"
    join_keys = _join_keys(scan)
    if join_keys:
        return join_keys, "on the join columns"
    sort = _sort_above(scan)
    if sort is not None:
        order = _order_keys(sort, scan.alias)
        if order:
            return order, "in the ORDER BY order"
    return [], ""


def _join_keys(scan: PlanNode) -> list[str]:
    """This scan's columns in the condition of the join it feeds (an index lets a nested loop probe it)."""
    current = scan
    while current.parent is not None and current.parent.node_type in _JOIN_INPUTS and not current.is_subplan:
        current = current.parent
    join = current.parent
    if join is None or join.node_type not in _JOINS or current.is_subplan:
        return []
    keys: list[str] = []
    for key in _JOIN_CONDITIONS:
        for qualifier, column in tables_and_columns(join.get(key) or ""):
            if qualifier == scan.alias and quote_ident(column) not in keys:
                keys.append(quote_ident(column))
    return keys


def _sort_above(scan: PlanNode) -> PlanNode | None:
    """The Sort fed by this scan, when a Limit above it keeps only the first rows (top-N)."""
    node = scan.parent
    while node is not None and node.node_type in ("Gather", "Gather Merge", "Result", "Materialize"):
        node = node.parent
    if node is None or node.node_type != "Sort":
        return None
    above = node.parent
    while above is not None and above.node_type in _STREAMING:
        above = above.parent
    return node if above is not None and above.node_type == "Limit" else None


def _order_keys(sort: PlanNode, alias: str | None) -> list[str]:
    keys = []
    for key in sort_keys(sort.get("Sort Key")):
        if key.key is None or (key.table is not None and key.table != alias):
            return []  # sorted by something else too: an index on this table alone cannot give the order
        keys.append(key.key + (" DESC" if key.descending else ""))
    return keys


def _equality_keys(scan: PlanNode) -> list[str]:
    """Columns the scan compares with a single value (they come first in an index serving the order)."""
    texts = [scan.get("Index Cond"), scan.get("Recheck Cond"), scan.get("Filter")]
    texts += [child.get("Index Cond") for child in scan.children if child.node_type == "Bitmap Index Scan"]
    keys: list[str] = []
    for text in texts:
        for condition in conditions(text, scan.alias) if text else ():
            if condition.kind == "equality" and condition.key and condition.key not in keys:
                keys.append(condition.key)
    return keys


def _create_index(catalog: Catalog, table: Table, keys: list[str]) -> str:
    """CREATE INDEX CONCURRENTLY with a name PostgreSQL would pick (plain CREATE INDEX on a partitioned table)."""
    name = index_name(catalog, table, [_name_part(key) for key in keys])
    concurrently = "" if table.kind == "p" else " CONCURRENTLY"
    return f"CREATE INDEX{concurrently} {quote_ident(name)} ON {quote_qualified(table.qualified_name)} ({', '.join(keys)})"


def _name_part(key: str) -> str:
    """``"Status" DESC`` -> Status, ``note text_pattern_ops`` -> note, ``(lower(email))`` -> lower_email."""
    key = _OPERATOR_CLASS.sub("", key.removesuffix(" DESC"))
    return re.sub(r"[^\w$]+", "_", key).strip("_") or "expr"
