"""QR105 not-in-subquery: ``x NOT IN (SELECT …)`` is a NULL trap and cannot become an anti-join."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.anti_join import anti_join
from queryreview.sql.positions import widened_span
from queryreview.sql.predicates import render, render_rewrite, strip_parens
from queryreview.sql.rewrite import replaced

_FIX_DESCRIPTION = (
    "Rewrite as NOT EXISTS, which PostgreSQL plans as an anti-join. Semantics differ on NULLs: "
    "NOT IN returns no rows at all when the subquery yields a NULL, and drops rows whose {operand} is NULL; "
    "NOT EXISTS keeps both (which is usually what was meant)"
)


def check(stmt: Statement) -> Iterator[Hit]:
    for negation in stmt.nodes(exp.Not):
        membership = strip_parens(negation.this)
        if not isinstance(membership, exp.In):
            continue
        subquery = membership.args.get("query")
        if subquery is None:
            continue  # NOT IN (1, 2, 3): a list of constants is fine
        operand = render(membership.this)
        yield Hit(
            message=(
                f"`{operand} NOT IN (SELECT …)` returns no rows at all if the subquery yields a single NULL, "
                "and PostgreSQL cannot plan it as an anti-join: it hashes the subquery result when it fits "
                "in work_mem, and otherwise re-scans the subquery for every outer row"
            ),
            node=negation,
            span=widened_span(stmt.text, negation),  # `NOT (x IN (…))` from NOT, `x NOT IN (…)` from x
            fix=_fix(stmt, negation, membership, subquery, operand),
        )


def _fix(stmt: Statement, negation: exp.Not, membership: exp.In, subquery: exp.Expression, operand: str) -> Fix:
    description = _FIX_DESCRIPTION.format(operand=operand)
    found = anti_join(negation, membership, subquery)
    if found is None:
        return Fix(description=description + ": NOT EXISTS (SELECT 1 FROM … WHERE … AND sub.col = outer.col)")
    root = stmt.ast
    return Fix.later(description, lambda: render_rewrite(replaced(root, negation, found.not_exists())))
