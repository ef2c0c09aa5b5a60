"""QR304 sort-spill-to-disk: a Sort ran out of work_mem and sorted through temporary files."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import create_index, input_scan, rows, time_note
from queryreview.plan.exprs import conditions, sort_keys
from queryreview.plan.memory import format_kb, setting_value, work_mem_kb
from queryreview.plan.tree import Plan, PlanNode

# An in-memory sort holds each tuple with its header and sort slot: it needs roughly 2-3x the
# space the same rows take in the compact on-disk runs (measured: 3,489 kB in memory for 1,728 kB
# on disk). The suggestion uses the upper end so that it is enough.
_MEMORY_PER_DISK_KB = 3.0
_SPILL_METHODS = ("external merge", "external sort")


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    for node in plan.nodes:
        if node.node_type not in ("Sort", "Incremental Sort") or node.never_executed:
            continue
        spill = _spill(node)
        if spill is None:
            continue  # sorted in memory, or no ANALYZE (the sort method is only known when it ran)
        total_kb, largest_kb, processes = spill
        if total_kb < settings["min_spill_kb"]:
            continue
        yield _hit(plan, node, total_kb, largest_kb, processes)


def _spill(node: PlanNode) -> tuple[float, float, int] | None:
    """(kB written in all, the largest single sort's kB, processes that spilled) or None."""
    if node.node_type == "Incremental Sort":
        total = largest = 0.0
        for group_key in ("Full-sort Groups", "Pre-sorted Groups"):
            group = node.get(group_key) or {}
            disk = group.get("Sort Space Disk") or {}
            if disk:
                total += float(disk.get("Average Sort Space Used", 0)) * float(group.get("Group Count", 1))
                largest = max(largest, float(disk.get("Peak Sort Space Used", 0)))
        return (total, largest, 1) if total else None
    spills = [node.raw] + [w for w in node.get("Workers") or () if isinstance(w, dict)]
    sizes = [float(s.get("Sort Space Used", 0)) for s in spills
             if s.get("Sort Method") in _SPILL_METHODS and s.get("Sort Space Type") == "Disk"]
    if not sizes:
        return None
    return sum(sizes), max(sizes), len(sizes)


def _hit(plan: Plan, node: PlanNode, total_kb: float, largest_kb: float, processes: int) -> Hit:
    keys = node.get("Sort Key") or []
    needed_kb = largest_kb * _MEMORY_PER_DISK_KB
    value = setting_value(needed_kb)
    current = work_mem_kb(plan)
    current_text = f" with work_mem = {plan.setting('work_mem') or format_kb(current)}" if current else ""
    where = f" in {processes} processes" if processes > 1 else ""
    groups = " (in sorts of its pre-sorted groups)" if node.node_type == "Incremental Sort" else ""
    message = (f"{node.label()} (node {node.id}) spilled {format_kb(total_kb)} to disk{where}{groups} sorting "
               f"{rows(node.total_rows or 0.0)} rows by {', '.join(keys)}{current_text}"
               f"{time_note(node, plan.total_time)}: writing and merging temporary files is much slower than "
               f"sorting in memory")
    set_sql = f"SET LOCAL work_mem = '{value}';"
    index = _index(node)
    each = " per process" if processes > 1 else ""
    advice = (f"Sorting in memory needs roughly 2-3x the space it took on disk{each}, "
              f"about {format_kb(needed_kb)} here (an estimate): raise work_mem for this query only ({set_sql} in "
              f"its transaction)")
    if index:
        advice += f", or let an index return the rows already in order: {index}"
    return Hit(
        message=message,
        help=advice,
        fix=Fix("Raise work_mem for this query's transaction only: work_mem is per sort or hash node and per "
                "connection, so raising it globally multiplies memory use", set_sql),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": None,
            "sort_key": keys,
            "disk_kb": total_kb,
            "largest_sort_disk_kb": largest_kb,
            "processes": processes,
            "work_mem_kb": current,
            "suggested_work_mem": value,
            "index": index,
        },
    )


def _index(node: PlanNode) -> str | None:
    """An index that returns the sort's input in order: the scan's equality columns, then the sort keys."""
    scan = input_scan(node)
    if scan is None or not scan.relation:
        return None
    keys = []
    for key in sort_keys(node.get("Sort Key")):
        if key.key is None or (key.table is not None and key.table != scan.alias):
            return None
        keys.append(key.key + (" DESC" if key.descending else "") + (f" NULLS {key.nulls}" if key.nulls else ""))
    leading = [c.key for text in (scan.get("Index Cond"), scan.get("Filter")) if text
               for c in conditions(text, scan.alias) if c.key and c.kind == "equality"]
    keys = list(dict.fromkeys(k for k in leading if k not in keys)) + keys
    return create_index(scan.relation, keys) if keys else None
