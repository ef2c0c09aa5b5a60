"""QR116 having-without-aggregate: a HAVING condition on a grouped column belongs in WHERE."""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.predicates import columns, conjuncts, render, strip_parens, unalias
from queryreview.sql.rewrite import counterpart

# Anything that may be (or hide) an aggregate, or whose meaning could change when moved:
# user-defined functions (possibly aggregates), subqueries, windows, volatile calls.
_NOT_MOVABLE = (exp.AggFunc, exp.Anonymous, exp.Subquery, exp.Select, exp.Window, exp.Rand, exp.Exists)
_GROUPING_CONSTRUCTS = (exp.Rollup, exp.Cube, exp.GroupingSets)


def check(stmt: Statement) -> Iterator[Hit]:
    for having in stmt.nodes(exp.Having):
        select = having.parent
        if not isinstance(select, exp.Select):
            continue
        grouped = _grouped_columns(select)
        if not grouped:
            continue
        aggregate_aliases = _aggregate_aliases(select)
        movable = [
            part for part in conjuncts(having.this) if _is_movable(part, grouped, aggregate_aliases)
        ]
        if not movable:
            continue
        quoted = " AND ".join(f"`{render(part)}`" for part in movable)
        yield Hit(
            message=(
                f"HAVING {quoted} uses no aggregate: PostgreSQL groups every row first and then "
                "discards whole groups; in WHERE it would filter rows before aggregating, and could use an index"
            ),
            node=movable[0],
            help="Move the condition from HAVING to WHERE",
            fix=Fix(
                "Filter in WHERE: conditions on GROUP BY columns remove the same groups before aggregation",
                _rewrite(stmt, select, having, movable),
            ),
        )


def _grouped_columns(select: exp.Select) -> list[tuple[str, str]]:
    """(table, column) of each plain GROUP BY column; empty for ROLLUP/CUBE/GROUPING SETS."""
    group = select.args.get("group")
    if group is None:
        return []
    if any(group.args.get(key) for key in ("rollup", "cube", "grouping_sets")):
        return []
    projections = select.expressions
    aliases = {p.alias.lower(): p.this for p in projections if isinstance(p, exp.Alias)}
    grouped = []
    for item in group.expressions:
        if isinstance(item, _GROUPING_CONSTRUCTS):
            return []  # moving a filter past ROLLUP/CUBE would change the subtotal rows
        item = strip_parens(item)
        if isinstance(item, exp.Literal) and not item.is_string and item.name.isdigit():
            position = int(item.name) - 1
            item = projections[position] if 0 <= position < len(projections) else None
            item = unalias(item)
        elif isinstance(item, exp.Column) and not item.table and item.name.lower() in aliases:
            item = aliases[item.name.lower()]
        if isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
            grouped.append((item.table.lower(), item.name.lower()))
    return grouped


def _aggregate_aliases(select: exp.Select) -> set[str]:
    """Output names bound to anything but a same-named column (a HAVING reference to them is not movable)."""
    names = set()
    for projection in select.expressions:
        if not isinstance(projection, exp.Alias):
            continue
        target = projection.this
        if isinstance(target, exp.Column) and target.name.lower() == projection.alias.lower():
            continue
        names.add(projection.alias.lower())
    return names


def _is_movable(part: exp.Expression, grouped: list[tuple[str, str]], aliases: set[str]) -> bool:
    if part.find(*_NOT_MOVABLE) is not None:
        return False
    referenced = columns(part)
    if not referenced:
        return False
    for column in referenced:
        table, name = column.table.lower(), column.name.lower()
        if not table and name in aliases:
            return False
        if not any(name == g_name and (not table or not g_table or table == g_table) for g_table, g_name in grouped):
            return False
    return True


def _rewrite(stmt: Statement, select: exp.Select, having: exp.Having, movable: list[exp.Expression]) -> str:
    root = stmt.ast.copy()
    target = counterpart(select, root)
    moved_ids = {id(part) for part in movable}
    kept = [counterpart(p, root) for p in conjuncts(having.this) if id(p) not in moved_ids]
    moved = [counterpart(p, root) for p in movable]
    where = target.args.get("where")
    existing = [where.this] if where is not None else []
    target.set("where", exp.Where(this=exp.and_(*existing, *moved, copy=True)))
    target.set("having", exp.Having(this=exp.and_(*kept, copy=True)) if kept else None)
    return render(root)
