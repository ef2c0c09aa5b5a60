"""Memory settings in plans: read ``work_mem``-style values, size a suggestion, print kB readably.

    work_mem_kb(plan)            -> 65536 (from EXPLAIN SETTINGS), 4096 (SETTINGS shown, work_mem default), None
    setting_value(8 * 1024)      -> "8MB"
    format_kb(2345)              -> "2.3 MB"
"""

from __future__ import annotations

import re

from queryreview.plan.tree import Plan

DEFAULT_WORK_MEM_KB = 4096
DEFAULT_HASH_MEM_MULTIPLIER = 2.0  # PostgreSQL 15+ (1.0 before)
_UNITS_KB = {"kb": 1, "mb": 1024, "gb": 1024 ** 2, "tb": 1024 ** 3, "b": 1 / 1024}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?b)?\s*", re.IGNORECASE)


def parse_memory_kb(value: str | int | float | None) -> float | None:
    """``'64kB'`` -> 64, ``'4MB'`` -> 4096; a bare number is kB (work_mem's unit). None when unreadable."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _MEMORY.fullmatch(str(value))
    if not match:
        return None
    unit = (match.group(2) or "kb").lower()
    return float(match.group(1)) * _UNITS_KB[unit]


def work_mem_kb(plan: Plan) -> float | None:
    """work_mem the plan ran with: from EXPLAIN (SETTINGS …); the default when SETTINGS was on and
    does not list it; None when unknown (no SETTINGS)."""
    if plan.settings is None:
        return None
    value = parse_memory_kb(plan.settings.get("work_mem"))
    return DEFAULT_WORK_MEM_KB if value is None else value


def hash_mem_multiplier(plan: Plan) -> float:
    value = (plan.settings or {}).get("hash_mem_multiplier")
    try:
        return float(value) if value is not None else DEFAULT_HASH_MEM_MULTIPLIER
    except ValueError:
        return DEFAULT_HASH_MEM_MULTIPLIER


def setting_value(kb: float) -> str:
    """A round work_mem value of at least ``kb``: 1MB, 2MB, 3MB, 4MB, 6MB, 8MB, 12MB … 1GB, 1536MB, 2GB …"""
    mb = 1
    while mb * 1024 < kb:
        mb = mb * 3 // 2 if mb > 1 and (mb & (mb - 1)) == 0 else (mb * 4 // 3 if mb > 2 else mb + 1)
    return f"{mb // 1024}GB" if mb >= 1024 and mb % 1024 == 0 else f"{mb}MB"


def format_kb(kb: float) -> str:
    if kb >= 1024 * 1024:
        return f"{kb / 1024 / 1024:.1f} GB"
    if kb >= 1024:
        return f"{kb / 1024:.1f} MB"
    return f"{kb:,.0f} kB"
