"""Which rule rewrites are offered, and why: NOT IN, count-for-existence, correlated subquery, OFFSET.

Each function takes the statement, a rule's Hit on it, and the catalog (or None), and says
whether the rule's rewrite (``hit.fix.sql``) returns the same rows as the original; where it
cannot be shown, the rewrite is rejected with the reason. Non-sargable predicates are in
sargable.py, OR -> UNION ALL in union_all.py.
"""

from __future__ import annotations

from sqlglot import exp

from queryreview.catalog import Catalog
from queryreview.model import Hit, Statement
from queryreview.rewrite.common import EQUIVALENT, TEMPLATE, Candidate, column_facts, main_table, truth_context
from queryreview.sql.anti_join import anti_join
from queryreview.sql.positions import node_span, subquery_span
from queryreview.sql.predicates import render, strip_parens
from queryreview.sql.rewrite import conjoin, replaced


def not_in_subquery(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    """QR105: NOT EXISTS as is when both sides are NOT NULL; otherwise with guards that keep NOT IN's NULL rules."""
    negation = hit.node
    membership = strip_parens(negation.this) if isinstance(negation, exp.Not) else None
    subquery = membership.args.get("query") if isinstance(membership, exp.In) else None
    found = anti_join(negation, membership, subquery) if subquery is not None else None
    if found is None or hit.fix is None or not hit.fix.sql:
        return None  # the rule has no mechanical rewrite for this shape (several columns, GROUP BY, LIMIT…)
    title = "NOT IN → NOT EXISTS"
    table = main_table(negation, catalog)
    inner, outer = render(found.projected), render(found.outer)
    inner_facts = column_facts(stmt, catalog, found.projected)
    outer_facts = column_facts(stmt, catalog, membership.this)
    inner_nullable = inner_facts is None or not inner_facts.not_null
    outer_nullable = outer_facts is None or not outer_facts.not_null
    gain = "PostgreSQL plans NOT EXISTS as an anti-join (hash, merge or indexed nested loop) instead of a SubPlan"
    if not inner_nullable and not outer_nullable:
        return Candidate("QR105", title, hit.fix.sql, table=table, reason=(
            f"{gain}. {EQUIVALENT}: {inner} and {outer} are NOT NULL per the catalog, and NOT IN and "
            "NOT EXISTS differ only on NULLs"))
    if not truth_context(negation):
        return Candidate("QR105", title, hit.fix.sql, table=table, rejected=(
            f"not offered: {_maybe_null(inner, inner_nullable, outer, outer_nullable, catalog)}, and this NOT IN "
            "is used where NULL and false differ (under NOT, in a CASE or the select list), so NOT EXISTS "
            "would change the result; make the columns NOT NULL to get the plain rewrite"), reason="")
    parts = [found.not_exists()]
    said = []
    if inner_nullable:
        # NOT IN is never true once the subquery yields a NULL
        parts.append(exp.Not(this=exp.Exists(this=found.probe(exp.Is(this=found.projected.copy(),
                                                                      expression=exp.Null())))))
        said.append(f"`NOT EXISTS (… {inner} IS NULL)` keeps NOT IN's \"no rows once the subquery yields a NULL\"")
    if outer_nullable:
        # a NULL operand makes NOT IN unknown, unless the subquery is empty (then NOT IN is true)
        parts.append(exp.Paren(this=exp.or_(
            exp.Is(this=found.outer.copy(), expression=exp.Null(), negate=True),
            exp.Not(this=exp.Exists(this=found.probe(None))))))
        said.append(f"`({outer} IS NOT NULL OR NOT EXISTS (…))` keeps NOT IN's dropping of rows whose {outer} "
                    "is NULL")
    guarded = render(replaced(stmt.ast, negation, exp.Paren(this=conjoin(parts))))
    return Candidate("QR105", title, guarded, table=table, reason=(
        f"{gain}. {_maybe_null(inner, inner_nullable, outer, outer_nullable, catalog)}, so NULL guards are added: "
        f"{'; '.join(said)}. {EQUIVALENT}. Declare the columns NOT NULL (or drop the guards if NULLs are "
        "impossible or NOT EXISTS's meaning is what you want) for the plain anti-join"))


def _maybe_null(inner: str, inner_nullable: bool, outer: str, outer_nullable: bool, catalog: Catalog | None) -> str:
    names = [name for name, nullable in ((inner, inner_nullable), (outer, outer_nullable)) if nullable]
    how = "without a catalog" if catalog is None else "per the catalog"
    return f"{' and '.join(names)} may be NULL ({how})"


def count_for_existence(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    """QR110: the rule rewrites only when the count is compared with 0/1 and nothing else needs it."""
    if hit.fix is None or not hit.fix.sql:
        return None
    return Candidate("QR110", "count(*) > 0 → EXISTS", hit.fix.sql, table=main_table(stmt.ast, catalog), reason=(
        f"EXISTS stops at the first matching row instead of counting them all. {EQUIVALENT}"))


def correlated_subquery_in_select(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    """QR111: LEFT JOIN LATERAL returns the aggregate's one row per outer row, as the SubPlan did."""
    if hit.fix is None or not hit.fix.sql:
        return None
    title = "correlated subquery → LEFT JOIN LATERAL"
    select = _select_of_subquery_at(stmt, hit.span)
    table = main_table(select if select is not None else stmt.ast, catalog)
    if select is None:
        return Candidate("QR111", title, hit.fix.sql, table=table, reason="",
                         rejected="not offered: the subquery could not be found again in the statement")
    if any(isinstance(projection, exp.Star) for projection in select.expressions):
        return Candidate("QR111", title, hit.fix.sql, table=table, reason="", rejected=(
            "not offered: the query selects `*`, which would also return the joined subquery's column"))
    return Candidate("QR111", title, hit.fix.sql, table=table, reason=(
        "The aggregate is computed in the FROM clause, where the planner can see it. "
        f"{EQUIVALENT}: an aggregate without GROUP BY returns exactly one row, so the LEFT JOIN keeps every "
        "outer row once. For large outer results, pre-aggregating (LEFT JOIN (… GROUP BY key)) may be cheaper still"))


def _select_of_subquery_at(stmt: Statement, span: tuple[int, int] | None) -> exp.Select | None:
    """The SELECT whose select list holds the subquery the hit points at."""
    if span is None:
        return None
    for subquery in stmt.nodes(exp.Subquery):
        if subquery_span(stmt.text, node_span(subquery)) != span:
            continue
        node, parent = subquery, subquery.parent
        while parent is not None and not isinstance(parent, exp.Query):
            node, parent = parent, parent.parent
        if isinstance(parent, exp.Select) and node.arg_key == "expressions":
            return parent
    return None


def offset_pagination(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    """QR106: keyset pagination is a template: pages equal OFFSET's only for a unique, NOT NULL ORDER BY."""
    if hit.fix is None or not hit.fix.sql:
        return None
    return Candidate("QR106", "OFFSET → keyset pagination", hit.fix.sql, table=main_table(stmt.ast, catalog),
                     template=True, reason=(
                         f"{TEMPLATE}: it returns the page after a given key, not the page at an offset. "
                         f"{hit.fix.description}. With a unique, NOT NULL ORDER BY it walks the same pages as "
                         "OFFSET (tested)"))
