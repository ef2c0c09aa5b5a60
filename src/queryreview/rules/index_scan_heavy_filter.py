"""QR302 index-scan-heavy-filter: an index finds candidate rows that a Filter then mostly throws away."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import create_index, percent, rows, time_note
from queryreview.plan.exprs import Condition, conditions, index_keys
from queryreview.plan.tree import Plan, PlanNode

_INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    for node in plan.nodes:
        if node.node_type not in _INDEX_SCANS or not node.get("Filter") or node.never_executed or not node.relation:
            continue
        removed = node.rows_removed_by_filter
        if removed is None:
            continue  # no ANALYZE: how many rows the filter removes is not known
        returned = node.total_rows or 0.0
        fetched = returned + removed
        if removed < settings["min_removed_rows"] or removed / fetched < settings["min_removed_fraction"]:
            continue
        found = _index_conditions(node)
        if found is None:
            continue
        index_text, index_names, index_conds = found
        filter_conds = conditions(node.get("Filter"), node.alias)
        index_columns = index_keys(index_conds, ranges=9)
        missing = [c for c in filter_conds if c.key and c.key not in index_columns and c.kind != "or"]
        keys = index_keys(index_conds + filter_conds)
        if not missing or len(keys) <= len(index_columns):
            continue  # the filter is nothing a btree can take over (expressions, <>, OR…)
        yield _hit(plan, node, index_text, index_names, index_columns, missing, keys, fetched, removed, returned)


def _index_conditions(node: PlanNode) -> tuple[str, list[str], list[Condition]] | None:
    """(the index condition text, the index names, its conditions); None when the rows come from a
    BitmapOr (several index conditions OR-ed: no one composite index to name)."""
    if node.node_type != "Bitmap Heap Scan":
        text = node.get("Index Cond") or ""
        return text, [node.index_name] if node.index_name else [], conditions(text, node.alias)
    texts, names = [], []
    for below in node.walk():
        if below.node_type == "BitmapOr":
            return None
        if below.node_type == "Bitmap Index Scan" and below.get("Index Cond"):
            texts.append(below.get("Index Cond"))
            names.append(below.index_name or "")
    conds = [cond for text in texts for cond in conditions(text, node.alias)]
    return " AND ".join(texts), [name for name in names if name], conds


def _hit(plan: Plan, node: PlanNode, index_text: str, index_names: list[str], index_columns: list[str],
         missing: list[Condition], keys: list[str], fetched: float, removed: float, returned: float) -> Hit:
    missing_columns = ", ".join(dict.fromkeys(c.key for c in missing if c.key))
    statement = create_index(node.relation or "", keys)
    loops = f" over {node.loops:,} loops" if node.loops > 1 else ""
    via = f" through {index_text}" if index_text else ""
    message = (f"{node.label()} (node {node.id}) fetched {rows(fetched)} rows{via}{loops} and its filter "
               f"{node.get('Filter')} removed {rows(removed)} of them ({percent(removed / fetched)}) to return "
               f"{rows(returned)}{time_note(node, plan.total_time)}: the index does not contain {missing_columns}, "
               f"so every candidate row is read from the table only to be thrown away")
    redundant = ""
    if len(index_names) == 1 and index_columns and keys[: len(index_columns)] == index_columns:
        redundant = (f" (it also serves what {index_names[0]} does: drop that one if it is on "
                     f"({', '.join(index_columns)}) alone)")
    return Hit(
        message=message,
        help=f"Index the filter columns too, so the index finds only the rows wanted: {statement}{redundant}",
        fix=Fix("Create a composite index: the index condition's columns and the filter's (CONCURRENTLY does not "
                "block writes)", statement),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": node.relation,
            "indexes": index_names,
            "index_cond": index_text or None,
            "filter": node.get("Filter"),
            "rows_fetched": round(fetched),
            "rows_removed": round(removed),
            "rows_returned": round(returned),
            "loops": node.loops,
            "index_keys": keys,
        },
    )
