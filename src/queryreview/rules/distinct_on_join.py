"""QR115 distinct-on-join: SELECT DISTINCT hides the duplicates a join to a filtering table creates."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import keyword_span, node_span
from queryreview.sql.predicates import columns, conjuncts, render, unalias
from queryreview.sql.rewrite import conjoin, counterpart

_DISTINCT = re.compile(r"\bdistinct\b", re.IGNORECASE)
_OPAQUE = (exp.AggFunc, exp.Window, exp.Subquery, exp.Select)


def check(stmt: Statement) -> Iterator[Hit]:
    for distinct in stmt.nodes(exp.Distinct):
        select = distinct.parent
        if not isinstance(select, exp.Select) or distinct.args.get("on") is not None:
            continue
        joins = select.args.get("joins")
        from_ = select.args.get("from_")
        if not joins or from_ is None or select.args.get("group") is not None:
            continue
        sources = {_name(source): source for source in [from_.this, *(join.this for join in joins)]}
        kept = _selected_source(select)
        if kept is None or kept not in sources or len(sources) < 2:
            continue
        others = ", ".join(_label(source) for name, source in sources.items() if name != kept)
        yield Hit(
            message=(
                f"SELECT DISTINCT returns only columns of `{kept}` but joins {others}: the join "
                "multiplies rows and DISTINCT then sorts or hashes all of them to remove the copies"
            ),
            span=_distinct_span(stmt.text, select),
            help="Keep only the selected table in FROM and test the others with EXISTS (a semi-join)",
            fix=_fix(stmt, select, kept),
        )


def _name(source: exp.Expression) -> str:
    return (source.alias_or_name or "").lower()


def _label(source: exp.Expression) -> str:
    if isinstance(source, exp.Table):
        return f"`{source.name} {source.alias}`" if source.alias else f"`{source.name}`"
    return f"`{render(source)}`"


def _selected_source(select: exp.Select) -> str | None:
    """The one FROM item every select-list expression takes its columns from, if there is one."""
    qualifiers = set()
    for projection in select.expressions:
        target = unalias(projection)
        if isinstance(target, exp.Star):
            return None  # SELECT DISTINCT * takes every table's columns
        if isinstance(target, exp.Column) and isinstance(target.this, exp.Star):
            if not target.table:
                return None
            qualifiers.add(target.table.lower())
            continue
        if target.find(*_OPAQUE) is not None:
            return None
        referenced = columns(target)
        if not referenced or any(not column.table for column in referenced):
            return None
        qualifiers.update(column.table.lower() for column in referenced)
    return qualifiers.pop() if len(qualifiers) == 1 else None


def _fix(stmt: Statement, select: exp.Select, kept: str) -> Fix | None:
    """``SELECT DISTINCT a.* FROM a JOIN b ON c WHERE p`` -> ``SELECT a.* FROM a WHERE EXISTS (SELECT 1 FROM b WHERE c AND p_b) AND p_a``."""
    joins = select.args["joins"]
    if any(not _is_inner(join) for join in joins):
        return None
    sources = [select.args["from_"].this, *(join.this for join in joins)]
    if any(not isinstance(source, exp.Table) for source in sources):
        return None
    if any(select.args.get(key) is not None for key in ("having", "qualify", "windows", "locks")):
        return None
    order = select.args.get("order")
    if order is not None and _qualifiers(order) - {kept}:
        return None
    root = stmt.ast.copy()
    target = counterpart(select, root)
    target_joins = target.args["joins"]
    all_sources = [target.args["from_"].this, *(join.this for join in target_joins)]
    ons = [join.args.get("on") for join in target_joins]
    kept_index = [_name(source) for source in all_sources].index(kept)
    other_indexes = [i for i in range(len(all_sources)) if i != kept_index]
    first_other = other_indexes[0]
    # Conditions to classify: WHERE, the ON of the kept table and of the first other table.
    candidates = []
    for index in sorted({kept_index, first_other}):
        if index > 0 and ons[index - 1] is not None:
            candidates += conjuncts(ons[index - 1])
    if target.args.get("where") is not None:
        candidates += conjuncts(target.args["where"].this)
    outer_conditions, inner_conditions = [], []
    for part in candidates:
        if part.find(exp.Subquery, exp.Select) is not None:
            return None
        used = _qualifiers(part)
        if any(not column.table for column in columns(part)):
            return None  # an unqualified column could belong to either side
        (outer_conditions if used <= {kept} else inner_conditions).append(part)
    probe = exp.Select(expressions=[exp.Literal.number(1)])
    probe.set("from_", exp.From(this=all_sources[first_other].copy()))
    for index in other_indexes[1:]:
        probe.append("joins", target_joins[index - 1].copy())
    if inner_conditions:
        probe.set("where", exp.Where(this=conjoin([p.copy() for p in inner_conditions])))
    keeps_distinct = not _selects_whole_rows(target, kept)
    target.set("from_", exp.From(this=all_sources[kept_index].copy()))
    target.set("joins", None)
    conditions = [exp.Exists(this=probe), *(p.copy() for p in outer_conditions)]
    target.set("where", exp.Where(this=conjoin(conditions)))
    if not keeps_distinct:
        target.set("distinct", None)
    description = (
        f"Read `{kept}` once and test the joined tables with EXISTS: PostgreSQL can use a semi-join "
        "that stops at the first match, and no longer has to de-duplicate the fanned-out rows"
    )
    if keeps_distinct:
        description += "; DISTINCT stays because the selected columns may repeat within the table"
    else:
        description += "; DISTINCT is dropped because whole rows (or the id) are selected"
    return Fix(description, render(root))


def _is_inner(join: exp.Join) -> bool:
    if join.args.get("side") or join.args.get("using") or join.args.get("method"):
        return False
    return (join.args.get("kind") or "INNER").upper() in ("INNER", "CROSS")


def _qualifiers(node: exp.Expression) -> set[str]:
    return {column.table.lower() for column in columns(node) if column.table}


def _selects_whole_rows(select: exp.Select, kept: str) -> bool:
    """``a.*`` or ``a.id`` in the select list: each row of ``a`` is distinct already."""
    for projection in select.expressions:
        target = unalias(projection)
        if isinstance(target, exp.Column) and (isinstance(target.this, exp.Star) or target.name.lower() == "id"):
            return True
    return False


def _distinct_span(text: str, select: exp.Select) -> tuple[int, int] | None:
    """The DISTINCT keyword, just before the first select-list item."""
    first = node_span(select.expressions[0]) if select.expressions else None
    if first is None:
        return node_span(select)
    return keyword_span(text, _DISTINCT, max(0, first[0] - 100), first[0], last=True) or first
