"""QR121 unbounded-select: a top-level SELECT that returns every row of its tables to the client."""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.predicates import columns, conjuncts, strip_parens

_CATALOG_SCHEMAS = {"pg_catalog", "information_schema"}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Like, exp.ILike, exp.Between, exp.Is)


def check(stmt: Statement) -> Iterator[Hit]:
    select = stmt.ast
    if not isinstance(select, exp.Select) or _bounded(select):
        return
    tables = _base_tables(select, {cte.alias_or_name for cte in stmt.nodes(exp.CTE)})
    if not tables:
        return
    names = [f"`{table.name}`" for table in tables]
    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" joined with {names[-1]}"
    yield Hit(
        message=(
            f"SELECT with no WHERE, LIMIT or GROUP BY returns every row of {what} to the client: it reads "
            "and ships the whole table, so it gets slower and uses more application memory as the table grows"
        ),
        node=tables[0],
    )


def _bounded(select: exp.Select) -> bool:
    args = select.args
    for key in ("where", "group", "having", "into", "qualify"):
        if args.get(key) is not None:
            return True
    limit = select.args.get("limit")
    if isinstance(limit, exp.Fetch):
        return True
    if isinstance(limit, exp.Limit) and not (isinstance(limit.expression, exp.Var) and limit.expression.name.upper() == "ALL"):
        return True
    if _aggregate_only(select):
        return True
    return any(_filters(join) for join in select.args.get("joins") or ())


def _aggregate_only(select: exp.Select) -> bool:
    """``SELECT count(*), max(x) FROM t``: one row out, whatever the table holds."""
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            if not any(isinstance(ancestor, exp.Window) for ancestor in _ancestors(agg, projection)):
                return True
    return False


def _ancestors(node: exp.Expression, stop: exp.Expression) -> Iterator[exp.Expression]:
    parent = node.parent
    while parent is not None and parent is not stop.parent:
        yield parent
        parent = parent.parent


def _filters(join: exp.Join) -> bool:
    """An inner join whose ON also compares a column with a value: a filter in disguise."""
    if join.side or str(join.args.get("kind") or "").upper() == "CROSS":
        return False
    for part in conjuncts(join.args.get("on")):
        part = strip_parens(part.this if isinstance(part, exp.Not) else part)
        if isinstance(part, _COMPARISONS) and _one_side_value(part):
            return True
    return False


def _one_side_value(part: Any) -> bool:
    sides = [part.this] + ([part.expression] if part.args.get("expression") is not None else list(part.expressions))
    if isinstance(part, exp.Between):
        sides = [part.this, part.args.get("low"), part.args.get("high")]
    return bool(columns(sides[0])) and any(side is not None and not columns(side) for side in sides[1:])


def _base_tables(select: exp.Select, cte_names: set[str]) -> list[exp.Table]:
    """The tables read, when every source of the FROM is a table (not a CTE, subquery, VALUES or function)."""
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is None:
        return []
    sources = [from_.this] + [join.this for join in select.args.get("joins") or ()]
    tables = []
    for source in sources:
        if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
            return []
        if source.name in cte_names and not source.db or source.args.get("sample") is not None:
            return []
        if source.db.lower() in _CATALOG_SCHEMAS or source.name.lower().startswith("pg_"):
            return []  # catalog and statistics views: small, and read whole on purpose by monitoring
        tables.append(source)
    return tables
