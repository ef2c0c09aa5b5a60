"""QR112 union-without-all: UNION de-duplicates the whole combined result."""

from __future__ import annotations

import re
from typing import Any, Iterator

from sqlglot import exp

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import render

_UNION = re.compile(r"\bunion\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


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
            span=_keyword_span(stmt.text, first),
            help="Use UNION ALL unless duplicate rows must really be removed",
            fix=Fix(
                "Use UNION ALL: it appends the branches without a sort or hash; it keeps duplicate "
                "rows, so only apply it when the branches cannot overlap or duplicates are acceptable",
                _rewrite(stmt, chain),
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
    parent = union.parent
    while isinstance(parent, (exp.Subquery, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, (exp.In, exp.Exists, exp.Any))


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


def _keyword_span(text: str, union: exp.Union) -> tuple[int, int] | None:
    """The ``UNION`` keyword: between the end of the left branch and the start of the right one."""
    left, right = node_span(union.this), node_span(union.expression)
    gap_start = left[1] if left else 0
    gap_end = right[0] if right else len(text)
    if gap_start > gap_end:
        return node_span(union)
    gap = _COMMENT.sub(lambda m: " " * len(m.group()), text[gap_start:gap_end])
    match = _UNION.search(gap)
    if match is None:
        return node_span(union)
    return gap_start + match.start(), gap_start + match.end()


def _rewrite(stmt: Statement, chain: list[exp.Union]) -> str:
    root = stmt.ast.copy()
    for union in chain:
        _counterpart(union, root).set("distinct", False)
    return render(root)


def _counterpart(node: Any, root_copy: exp.Expression) -> Any:
    """The node at the same place in a copy of the statement's tree."""
    path = []
    while node.parent is not None:
        path.append((node.arg_key, node.index))
        node = node.parent
    for key, index in reversed(path):
        value = root_copy.args[key]
        root_copy = value if index is None else value[index]
    return root_copy
