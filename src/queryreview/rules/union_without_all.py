"""QR112 union-without-all: UNION de-duplicates the whole combined result."""

from __future__ import annotations

import re
from functools import partial
from typing import Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import keyword_span, node_span
from queryreview.sql.predicates import copy_tree, outer_parent, render_rewrite
from queryreview.sql.rewrite import counterpart

_UNION = re.compile(r"\bunion\b", re.IGNORECASE)


def check(stmt: Statement) -> Iterator[Hit]:
    for union in stmt.nodes(exp.Union):
        if not union.args.get("distinct") or _continues_chain(union):
            continue
        if _is_recursive_cte_body(union) or not _reads_a_table(union):
            continue
        chain = _chain(union)
        first = chain[-1]
        if _feeds_semi_join(union):
            why = "inside IN/EXISTS/ANY duplicates cannot change the result"
        else:
            why = "wasted when the branches cannot overlap"
        yield Hit(
            message=(
                f"UNION removes duplicate rows: PostgreSQL sorts or hashes the whole combined result of "
                f"{_branches(union)} branches to do it, {why}"
            ),
            span=_union_span(stmt.text, first),
            help="Use UNION ALL unless duplicate rows must really be removed",
            fix=Fix.later(
                "Use UNION ALL: it appends the branches without a sort or hash; it keeps duplicate "
                "rows, so only apply it when the branches cannot overlap or duplicates are acceptable",
                partial(_rewrite, stmt.ast, chain),
            ),
        )


def _continues_chain(union: exp.Union) -> bool:
    """True for the inner ``a UNION b`` of ``a UNION b UNION c``: reported with the outer one."""
    parent = union.parent
    return isinstance(parent, exp.Union) and bool(parent.args.get("distinct")) and union.arg_key == "this"


def _chain(union: exp.Union) -> list[exp.Union]:
    """``a UNION b UNION c`` nests to the left: the outermost first, the first written last."""
    chain = [union]
    inner = union.this
    while isinstance(inner, exp.Union) and inner.args.get("distinct"):
        chain.append(inner)
        inner = inner.this
    return chain


def _branches(node: exp.Expression) -> int:
    if isinstance(node, exp.SetOperation):
        return _branches(node.this) + _branches(node.expression)
    return 1


def _feeds_semi_join(union: exp.Union) -> bool:
    """``x IN (a UNION b)``, ``EXISTS (…)``, ``= ANY (…)``: only membership matters there."""
    return isinstance(outer_parent(union, (exp.Subquery, exp.Paren)), (exp.In, exp.Exists, exp.Any))


def _is_recursive_cte_body(union: exp.Union) -> bool:
    """``WITH RECURSIVE … UNION`` de-duplicates on purpose: it is what stops cycles."""
    cte = union.parent
    if not isinstance(cte, exp.CTE):
        return False
    with_ = cte.parent
    return isinstance(with_, exp.With) and bool(with_.args.get("recursive"))


def _reads_a_table(union: exp.Union) -> bool:
    """``SELECT 1 UNION SELECT 2`` costs nothing; only report when a branch has a FROM."""
    return any(select.args.get("from_") is not None for select in union.find_all(exp.Select))


def _union_span(text: str, union: exp.Union) -> tuple[int, int] | None:
    """The ``UNION`` keyword: between the end of the left branch and the start of the right one."""
    left, right = node_span(union.this), node_span(union.expression)
    gap_start = left[1] if left else 0
    gap_end = right[0] if right else len(text)
    if gap_start > gap_end:
        return node_span(union)
    return keyword_span(text, _UNION, gap_start, gap_end) or node_span(union)


def _rewrite(tree: exp.Expression, chain: list[exp.Union]) -> str:
    root = copy_tree(tree)
    for union in chain:
        counterpart(union, root).set("distinct", False)
    return render_rewrite(root)
