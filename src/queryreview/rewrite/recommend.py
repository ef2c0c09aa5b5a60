"""Rewrite recommendations from the rewritable query findings, with planner costs when a database is at hand.

    recommendations = rewrite_recommendations(review.findings, catalog=catalog, session=session)
    offered = [r for r in recommendations if not r.rejected]    # ranked, best first
    rejected = [r for r in recommendations if r.rejected]       # considered, rejected: reason says why

Inputs may be Findings (their statement is parsed again, and only the rules that reported
on it are asked), Statements, statement texts, or StatementImpacts (a text with its calls
and total time, e.g. from pg_stat_statements). A rewrite is offered only when it returns
the same rows as the original (tests/test_rewrite_equivalence.py proves each shape on
PostgreSQL); keyset pagination is offered as a template and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from queryreview.catalog import Catalog
from queryreview.model import Finding, Hit, Recommendation, SourceText, Statement, StatementImpact
from queryreview.rewrite import checks, sargable, union_all
from queryreview.rewrite.common import Candidate

if TYPE_CHECKING:
    from queryreview.sources.postgres.connect import Session

Check = Callable[[Statement, Hit, "Catalog | None"], "Candidate | None"]

# Rule code -> what decides whether its rewrite is offered
REWRITES: dict[str, Check] = {
    "QR103": sargable.non_sargable_predicate,
    "QR104": union_all.or_across_columns,
    "QR105": checks.not_in_subquery,
    "QR106": checks.offset_pagination,
    "QR110": checks.count_for_existence,
    "QR111": checks.correlated_subquery_in_select,
}
VALIDATED_BY_EXPLAIN = "explain"  # both statements planned on the database
VALIDATED_BY_RULE = "rule"  # not costed: a mechanical rewrite, its equivalence proven by the tests


@dataclass
class _Target:
    statement: Statement
    impact: StatementImpact
    codes: set[str]


def rewrite_recommendations(items: Iterable[Finding | Statement | StatementImpact | str],
                            catalog: Catalog | None = None, session: Session | None = None, *,
                            window_days: float | None = None,
                            settings: dict[str, dict[str, Any]] | None = None) -> list[Recommendation]:
    """Rewrites for the statements (or findings) given: offered ones first, best first, then rejected ones.

    ``session``: plan original and rewrite (planner costs; a rewrite the planner does not
    expect to be cheaper is rejected). ``window_days``: the period the impacts' calls and
    times cover, for ``saving_ms_per_day``. ``settings``: rule settings by rule name
    (offset-pagination's max_offset…), as the engine takes them.
    """
    offered: list[tuple[tuple, Recommendation]] = []
    rejected: list[Recommendation] = []
    costs = _Costs(session)
    seen: set[tuple[str, str]] = set()
    for order, target in enumerate(_targets(items)):
        for candidate in _candidates(target, catalog, settings or {}):
            key = (target.statement.text, candidate.sql or candidate.rejected or "")
            if key in seen:
                continue
            seen.add(key)
            recommendation = _recommendation(candidate, target.impact, costs, window_days)
            if recommendation.rejected:
                rejected.append(recommendation)
            else:
                offered.append((_rank(recommendation, order), recommendation))
    return [recommendation for _, recommendation in sorted(offered, key=lambda pair: pair[0])] + rejected


def _rank(recommendation: Recommendation, order: int) -> tuple:
    """Most time saved first, then the largest cost reduction, then input order (deterministic)."""
    saving = recommendation.saving_ms_per_day or 0.0
    before, after = recommendation.cost_before, recommendation.cost_after
    reduction = (before - after) / before if before and after is not None else 0.0
    return (-saving, -reduction, order)


# -- inputs ------------------------------------------------------------------------------------------


def _targets(items: Iterable[Finding | Statement | StatementImpact | str]) -> list[_Target]:
    """One target per distinct statement text, with the rule codes to ask (findings narrow them)."""
    targets: dict[str, _Target] = {}
    for item in items:
        if isinstance(item, Finding):
            if item.code not in REWRITES or not item.statement or item.statement.endswith(" …"):
                continue  # no rewrite for this rule, no statement, or a statement cut at 2,000 characters
            text, impact, codes = item.statement, StatementImpact(text=item.statement), {item.code}
        elif isinstance(item, Statement):
            text, impact, codes = item.text, StatementImpact(text=item.text), set(REWRITES)
        elif isinstance(item, StatementImpact):
            text, impact, codes = item.text, item, set(REWRITES)
        else:
            text, impact, codes = str(item), StatementImpact(text=str(item)), set(REWRITES)
        target = targets.get(text)
        if target is None:
            target = _Target(item, impact, set()) if isinstance(item, Statement) else _target(text, impact)
            if target is None:
                continue
            targets[text] = target
        target.codes |= codes
    return list(targets.values())


def _target(text: str, impact: StatementImpact) -> _Target | None:
    from queryreview.sql.parse import statements

    # statements() also repairs pg_stat_statements' `IN ($1,$2)`, which sqlglot alone misreads
    parsed = [s for s in statements(SourceText("<statement>", text)) if s.ast is not None]
    if len(parsed) != 1:
        return None  # not one parseable statement: nothing to rewrite
    return _Target(parsed[0], impact, set())


def _candidates(target: _Target, catalog: Catalog | None, settings: dict[str, dict[str, Any]]) -> list[Candidate]:
    from queryreview.rules.registry import find_rule

    found = []
    if target.statement.ast is None:
        return found
    for code in sorted(target.codes):
        rule = find_rule(code)
        offered = {"stmt": target.statement, "settings": {**rule.default_settings(), **settings.get(rule.name, {})},
                   "catalog": catalog}
        try:
            for hit in rule.check(**{name: offered.get(name) for name in rule.params}):
                candidate = REWRITES[code](target.statement, hit, catalog)
                if candidate is not None:
                    found.append(candidate)
        except Exception:  # noqa: BLE001 - a rule's bug costs its rewrite, not the run (check reports it)
            continue
    return found


# -- costs -------------------------------------------------------------------------------------------


class _Costs:
    """Planner costs (the root's Total Cost) from EXPLAIN on the session, once per text."""

    def __init__(self, session: Session | None) -> None:
        self.session = session
        self._cache: dict[str, tuple[float | None, str | None]] = {}

    def of(self, text: str) -> tuple[float | None, str | None]:
        """(cost, None), or (None, why there is none); (None, None) without a session."""
        if self.session is None:
            return None, None
        if text not in self._cache:
            from queryreview.sources.postgres.explain import explain_statement

            result = explain_statement(self.session, text)
            if result.error is not None or not result.plan_json:
                self._cache[text] = None, result.error or "no plan"
            else:
                self._cache[text] = float(result.plan_json[0]["Plan"]["Total Cost"]), None
        return self._cache[text]


def _recommendation(candidate: Candidate, impact: StatementImpact, costs: _Costs,
                    window_days: float | None) -> Recommendation:
    reason = f"{candidate.code} {candidate.title}: " + (candidate.rejected or candidate.reason)
    before = after = None
    validated_by = VALIDATED_BY_RULE
    rejected = candidate.rejected is not None
    if not rejected and candidate.sql:
        before, why_not = costs.of(impact.text)
        if before is not None:
            after, why_not = costs.of(candidate.sql)
        if before is not None and after is not None:
            validated_by = VALIDATED_BY_EXPLAIN
            if after >= before and not candidate.template:
                rejected = True
                reason = (f"{candidate.code} {candidate.title}: not offered: the planner does not expect it to be "
                          f"cheaper here (cost {before:,.2f} → {after:,.2f}). {candidate.reason}")
        elif why_not is not None:
            reason += f" (not costed: {why_not})"
            before = after = None
    saving = None
    if not rejected and window_days and before and after is not None and impact.total_ms:
        saving = impact.total_ms / window_days * max(0.0, 1.0 - after / before)
    statement = StatementImpact(text=impact.text, queryid=impact.queryid, calls=impact.calls,
                                total_ms=impact.total_ms, cost_before=before, cost_after=after)
    return Recommendation(kind="rewrite", sql=candidate.sql or "", reason=reason, table=candidate.table,
                          statements=(statement,), cost_before=before, cost_after=after,
                          validated_by=validated_by, saving_ms_per_day=saving, rejected=rejected)
