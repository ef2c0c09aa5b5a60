"""QR104: ``WHERE a OR b`` -> ``SELECT … WHERE a UNION ALL SELECT … WHERE b AND NOT (a) IS TRUE``.

Each branch can use its own column's index. The result is the same multiset: a row the
original returns satisfies at least one branch, and ``NOT (earlier branch) IS TRUE`` sends
it to the first branch it satisfies only (a NULL earlier branch counts as not satisfied,
as in the original's OR). Only where that argument holds for the whole query: the OR is a
conjunct of the WHERE of a plain SELECT (no DISTINCT, aggregates, window functions,
GROUP BY, LIMIT/OFFSET, locking), the WHERE calls nothing volatile (it is evaluated once
per branch), and an ORDER BY can move to the union (it names output columns).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from queryreview.catalog import Catalog
from queryreview.model import Hit, Statement
from queryreview.rewrite.common import EQUIVALENT, Candidate, main_table
from queryreview.sql.predicates import aggregates_rows, columns, disjuncts, render, strip_parens
from queryreview.sql.rewrite import conjoin, replaced

MAX_BRANCHES = 4
_TITLE = "OR across columns → UNION ALL"
# Clauses that make the result more than "the rows that pass the WHERE", each once
_SET_LEVEL = ("distinct", "group", "having", "qualify", "windows", "limit", "offset", "fetch", "locks", "into",
              "sample", "connect", "prewhere")
_VOLATILE = frozenset("random clock_timestamp timeofday gen_random_uuid uuid_generate_v4 setseed nextval setval "
                      "txid_current pg_sleep".split())
_PARENTS = (exp.Subquery, exp.CTE, exp.Exists, exp.Insert)


def or_across_columns(stmt: Statement, hit: Hit, catalog: Catalog | None) -> Candidate | None:
    disjunction = hit.node
    if not isinstance(disjunction, exp.Or):
        return None
    select = _where_owner(disjunction)
    table = main_table(select if select is not None else stmt.ast, catalog)
    refusal = _refusal(select, disjunction)
    if refusal is not None:
        return Candidate("QR104", _TITLE, None, table=table, reason="", rejected=f"not offered: {refusal}")
    branches = disjuncts(disjunction)
    return Candidate("QR104", _TITLE, render(_rewritten(stmt.ast, select, disjunction, branches)), table=table,
                     reason=(f"One SELECT per OR branch ({len(branches)}), so that each can use an index on its own "
                             "column; every later branch adds `NOT (<earlier branch>) IS TRUE`, so a row matching "
                             f"several branches still comes once. {EQUIVALENT}"))


def _where_owner(disjunction: exp.Or) -> exp.Select | None:
    """The SELECT whose WHERE has the OR as a conjunct (through AND and parentheses only)."""
    parent = disjunction.parent
    while isinstance(parent, (exp.And, exp.Paren)):
        parent = parent.parent
    if isinstance(parent, exp.Where) and isinstance(parent.parent, exp.Select):
        return parent.parent
    return None


def _refusal(select: exp.Select | None, disjunction: exp.Or) -> str | None:
    """Why the UNION ALL form would not return the same rows here, or None."""
    if select is None:
        return "the OR is not a condition of a SELECT's WHERE (a JOIN … ON, UPDATE or DELETE cannot be split)"
    present = [key for key in _SET_LEVEL if select.args.get(key)]
    if present:
        return f"the query has {present[0].upper()}, which applies to the whole result, not to each branch"
    if aggregates_rows(select) or any(p.find(exp.Window) for p in select.expressions):
        return "the query aggregates or uses window functions over all its rows"
    parent = select.parent
    if parent is not None and not isinstance(parent, _PARENTS):
        return "the SELECT is part of a set operation or expression that the UNION would change"
    branches = disjuncts(disjunction)
    if len(branches) > MAX_BRANCHES:
        return f"{len(branches)} branches (more than {MAX_BRANCHES}) would repeat the query too often"
    if any(not columns(branch) for branch in branches):
        return "a branch tests no column (a switch such as `$1 IS NULL`): it needs no index of its own"
    if any(_volatile(part) for part in _read_parts(select)):
        return ("the FROM or WHERE calls a volatile function or samples a table, which each branch would do "
                "again, differently")
    if select.args.get("order") is not None and _union_order(select) is None:
        return "the ORDER BY does not name output columns, so it cannot sort the union"
    return None


def _read_parts(select: exp.Select) -> list[exp.Expression]:
    """What every branch evaluates again: FROM, JOINs, WHERE (not the select list: each row is output once)."""
    return [part for part in (select.args.get("from_"), *(select.args.get("joins") or ()), select.args.get("where"))
            if part is not None]


def _volatile(node: exp.Expression) -> bool:
    for found in node.find_all(exp.Rand, exp.Anonymous, exp.TableSample):
        if not isinstance(found, exp.Anonymous) or str(found.this).lower() in _VOLATILE:
            return True
    return False


def _union_order(select: exp.Select) -> exp.Order | None:
    """The SELECT's ORDER BY restated on output column names, or None when a key is not an output column."""
    names: dict[str, int] = {}
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
            return None
        names[projection.alias_or_name] = names.get(projection.alias_or_name, 0) + 1
    keys = []
    for ordered in select.args["order"].expressions:
        key = strip_parens(ordered.this)
        if not isinstance(key, exp.Column) or names.get(key.name) != 1 or not _outputs(select, key):
            return None
        restated = ordered.copy()
        restated.set("this", exp.column(key.name))
        keys.append(restated)
    return exp.Order(expressions=keys)


def _outputs(select: exp.Select, key: exp.Column) -> bool:
    """Is ``key`` (as ORDER BY reads it) exactly the output column of that name?"""
    for projection in select.expressions:
        if projection.alias_or_name != key.name:
            continue
        if isinstance(projection, exp.Alias):
            return not key.table or render(projection.this) == render(key)
        return isinstance(projection, exp.Column) and (not key.table or projection.table == key.table)
    return False


def _rewritten(root: exp.Expression, select: exp.Select, disjunction: exp.Or, branches: list[Any]) -> exp.Expression:
    union: exp.Expression | None = None
    for number, branch in enumerate(branches):
        excluded = [exp.Not(this=exp.Is(this=exp.Paren(this=earlier.copy()), expression=exp.true()))
                    for earlier in branches[:number]]
        part = replaced(select, disjunction, conjoin([branch.copy(), *excluded]))
        part.set("order", None)
        part.set("with_", None)
        union = part if union is None else exp.union(union, part, distinct=False)
    order = _union_order(select) if select.args.get("order") is not None else None
    if order is not None:
        union.set("order", order)
    if select.args.get("with_") is not None:
        union.set("with_", select.args["with_"].copy())
    return replaced(root, select, union)
