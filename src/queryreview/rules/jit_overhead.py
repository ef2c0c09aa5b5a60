"""QR313 jit-overhead: compiling the query with JIT took a large share of its execution time."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.tree import Plan

_PHASES = ("Generation", "Inlining", "Optimization", "Emission")
_THRESHOLDS = {"jit_above_cost": 100000, "jit_inline_above_cost": 500000, "jit_optimize_above_cost": 500000}


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    timing = (plan.jit or {}).get("Timing")
    execution = plan.execution_time
    if not isinstance(timing, dict) or not execution:
        return  # JIT timings come with EXPLAIN ANALYZE only
    phases = {phase: _ms(timing.get(phase)) for phase in _PHASES}
    total = _ms(timing.get("Total")) or sum(phases.values())
    share = total / execution
    if total < settings["min_jit_ms"] or share < settings["min_share"]:
        return
    functions = (plan.jit or {}).get("Functions")
    options = (plan.jit or {}).get("Options") or {}
    detail = ", ".join(f"{phase.lower()} {phases[phase]:,.1f} ms" for phase in _PHASES if phases[phase] >= 0.05)
    message = (
        f"JIT compilation took {total:,.1f} ms of the {execution:,.1f} ms execution ({share:.0%})"
        + (f" for {functions} functions" if isinstance(functions, int) else "")
        + (f": {detail}" if detail else "")
        + f"; the plan's estimated cost is {plan.total_cost:,.0f}"
    )
    lowered = [f"{name} = {value}" for name, value in (plan.settings or {}).items() if name in _THRESHOLDS]
    if lowered:
        message += f" and it ran with {', '.join(lowered)} (defaults: jit_above_cost 100000, inline/optimize 500000)"
    passes = (("jit_inline_above_cost", "Inlining"), ("jit_optimize_above_cost", "Optimization"))
    heavy = [name for name, option in passes if options.get(option)]
    help_text = (
        f"Turn JIT off for this workload (SET jit = off, or ALTER ROLE / ALTER DATABASE … SET jit = off), or raise "
        f"jit_above_cost above this plan's cost ({plan.total_cost:,.0f}) so queries like it run without compiling"
    )
    if heavy:
        help_text += f"; {' and '.join(heavy)} decide the costly inlining and optimization passes"
    yield Hit(
        message=message,
        help=help_text,
        fix=Fix("Run this workload without JIT compilation", "SET jit = off;"),
        evidence={
            "node": plan.root.id,
            "node_type": plan.root.node_type,
            "relation": None,
            "jit_ms": round(total, 3),
            "execution_time_ms": execution,
            "share": round(share, 3),
            "plan_cost": plan.total_cost,
            **{f"{phase.lower()}_ms": phases[phase] for phase in _PHASES},
        },
    )


def _ms(value: Any) -> float:
    """A JIT timing: a number, or (PG 17+ "Generation") an object with its own "Total"."""
    if isinstance(value, dict):
        value = value.get("Total")
    return float(value) if isinstance(value, (int, float)) else 0.0
