"""QR305 hash-spill: a hash table (Hash Join or HashAggregate) outgrew its memory and was split into batches on disk."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import rows, time_note
from queryreview.plan.memory import format_kb, hash_mem_multiplier, setting_value, work_mem_kb
from queryreview.plan.tree import Plan, PlanNode

# Spilled HashAggregate tuples are compact: in memory the groups took about 2.8x the disk space
# (measured: 10,265 kB in memory for 3,656 kB on disk); Peak x Batches is an upper bound too.
_HASHAGG_MEMORY_PER_DISK_KB = 3.0


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    multiplier = hash_mem_multiplier(plan)
    for node in plan.nodes:
        if node.never_executed:
            continue
        if node.node_type == "Hash":
            found = _hash_join_spill(node)
        elif node.node_type == "Aggregate" and node.get("Strategy") in ("Hashed", "Mixed"):
            found = _hashagg_spill(node)
        else:
            continue
        if found is None:
            continue
        batches, needed_kb, detail = found
        if needed_kb < settings["min_memory_kb"]:
            continue
        yield _hit(plan, node, batches, needed_kb, detail, multiplier)


def _hash_join_spill(node: PlanNode) -> tuple[int, float, str] | None:
    """(batches, memory the whole hash table needs in kB, what happened) for a Hash with batches > 1."""
    batches = int(node.get("Hash Batches", 1) or 1)
    if batches <= 1:
        return None  # in memory, or no ANALYZE (batches are only known when it ran)
    original = int(node.get("Original Hash Batches", batches) or batches)
    peak = float(node.get("Peak Memory Usage", 0) or 0)
    detail = f"{batches} batches"
    if original < batches:
        estimated = node.plan_rows
        detail += (f" (planned: {original}, for an estimated {rows(estimated)} row{'s' if estimated != 1 else ''}; "
                   f"{rows(node.total_rows or 0.0)} came)")
    return batches, peak * batches, detail


def _hashagg_spill(node: PlanNode) -> tuple[int, float, str] | None:
    """The same for a HashAggregate (PostgreSQL 13+): the leader's or the largest worker's figures."""
    parts = [node.raw] + [w for w in node.get("Workers") or () if isinstance(w, dict)]
    spilled = [p for p in parts if int(p.get("HashAgg Batches", 1) or 1) > 1]
    if not spilled:
        return None
    batches = max(int(p["HashAgg Batches"]) for p in spilled)
    needed = max(min(float(p.get("Peak Memory Usage", 0) or 0) * int(p["HashAgg Batches"]),
                     float(p.get("Disk Usage", 0) or 0) * _HASHAGG_MEMORY_PER_DISK_KB) for p in spilled)
    disk = sum(float(p.get("Disk Usage", 0) or 0) for p in spilled)
    return batches, needed, f"{batches} batches, writing {format_kb(disk)} to disk"


def _hit(plan: Plan, node: PlanNode, batches: int, needed_kb: float, detail: str, multiplier: float) -> Hit:
    shared = node.get("Parallel Aware") and node.processes > 1
    per_process = needed_kb / node.processes if shared else needed_kb  # a Parallel Hash pools every process's memory
    value = setting_value(per_process / multiplier)
    current = work_mem_kb(plan)
    current_text = f" with work_mem = {plan.setting('work_mem') or format_kb(current)}" if current else ""
    what = "hash table" if node.node_type == "Hash" else "aggregate's hash table"
    owner = node.parent if node.node_type == "Hash" and node.parent is not None else node
    subject = f"{node.label()} (node {node.id}) of {owner.label()} (node {owner.id})" if owner is not node \
        else f"{node.label()} (node {node.id})"
    message = (f"{subject}: the {what} did not fit in memory{current_text} and was split into {detail}"
               f"{time_note(owner, plan.total_time)}: every batch after the first is written to temporary "
               f"files and read back")
    set_sql = f"SET LOCAL work_mem = '{value}';"
    pooled = f", pooled by its {node.processes} processes" if shared else ""
    return Hit(
        message=message,
        help=(f"The whole {what} needs about {format_kb(needed_kb)} (an estimate from its peak memory and "
              f"batches{pooled}); hash tables may use work_mem x hash_mem_multiplier ({multiplier:g}): raise "
              f"work_mem for this query only ({set_sql} in its transaction)"
              + (", and refresh the statistics the planner sized it with (ANALYZE)" if "planned:" in detail else "")),
        fix=Fix("Raise work_mem for this query's transaction only: work_mem is per hash or sort node and per "
                "connection, so raising it globally multiplies memory use", set_sql),
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": None,
            "batches": batches,
            "original_batches": node.get("Original Hash Batches"),
            "peak_memory_kb": node.get("Peak Memory Usage"),
            "disk_kb": node.get("Disk Usage"),
            "needed_kb": round(needed_kb),
            "work_mem_kb": current,
            "hash_mem_multiplier": multiplier,
            "suggested_work_mem": value,
        },
    )
