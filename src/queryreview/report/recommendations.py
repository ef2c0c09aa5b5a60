"""Wording shared by the renderers for recommendations: costs, sizes, statements, savings.

Renderers decide nothing: these only turn a Recommendation's numbers into words.
"""

from __future__ import annotations

from queryreview.model import Recommendation, StatementImpact
from queryreview.workload import ms, number, quote, size

STATEMENT_CHARS = 90


def cost_change(before: float | None, after: float | None) -> str | None:
    """``1,234 → 12 (-99%)``; None when either cost is unknown."""
    if before is None or after is None:
        return None
    text = f"{_cost(before)} → {_cost(after)}"
    if before > 0:
        change = (after - before) / before * 100
        text += f" ({change:+.0f}%)" if 1 <= abs(change) <= 99 else f" ({change:+.1f}%)"
    return text


def _cost(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def title(recommendation: Recommendation) -> str:
    """``create-index on public.orders``."""
    return f"{recommendation.kind} on {recommendation.table}" if recommendation.table else recommendation.kind


def facts(recommendation: Recommendation) -> list[str]:
    """The numbers, each as a short phrase: cost, size, saving, validation."""
    parts = []
    change = cost_change(recommendation.cost_before, recommendation.cost_after)
    if change:
        parts.append(f"cost {change}")
    if recommendation.size_bytes is not None:
        parts.append(f"size {size(recommendation.size_bytes)}")
    if recommendation.saving_ms_per_day is not None:
        parts.append(f"saves ~{ms(recommendation.saving_ms_per_day)}/day")
    parts.append(f"validated by {recommendation.validated_by}")
    return parts


def statement_line(impact: StatementImpact, limit: int = STATEMENT_CHARS) -> str:
    """``SELECT … — 1,200 calls, 3.4 s total, cost 1,234 → 12 (-99%)``."""
    parts = []
    if impact.calls:
        parts.append(f"{number(impact.calls)} call{'s' if impact.calls != 1 else ''}")
    if impact.total_ms:
        parts.append(f"{ms(impact.total_ms)} total")
    change = cost_change(impact.cost_before, impact.cost_after)
    if change:
        parts.append(f"cost {change}")
    text = quote(impact.text, limit)
    return f"{text} ({', '.join(parts)})" if parts else text


def summary(review_recommendations: list[Recommendation], rejected: list[Recommendation]) -> str:
    """``3 recommendations, 1 rejected``."""
    count = len(review_recommendations)
    text = f"{count} recommendation{'s' if count != 1 else ''}"
    if rejected:
        text += f", {len(rejected)} considered and rejected"
    return text
