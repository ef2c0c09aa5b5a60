"""Tree rewrites for fixes: find a node in a copy of the tree, replace one node, join conditions.

A fix never changes the statement's own tree (other rules still read it): copy the
root, find the same place in the copy with ``counterpart``, change that.

    root = stmt.ast.copy()
    counterpart(union, root).set("distinct", False)
    render(root)
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def _path(node: Any, root: Any = None) -> list[tuple[str, int | None]]:
    """(arg_key, index) steps from ``root`` (default: the tree's root) down to ``node``, innermost first."""
    path = []
    while node is not root and node.parent is not None:
        path.append((node.arg_key, node.index))
        node = node.parent
    return path


def _follow(copy: Any, path: list[tuple[str, int | None]]) -> Any:
    for key, index in reversed(path):
        value = copy.args[key]
        copy = value if index is None else value[index]
    return copy


def counterpart(node: Any, root_copy: exp.Expression) -> Any:
    """The node at the same place in ``root_copy`` (a copy of the root of ``node``'s tree)."""
    return _follow(root_copy, _path(node))


def replaced(root: exp.Expression, target: exp.Expression, replacement: exp.Expression) -> exp.Expression:
    """A copy of ``root`` with ``target`` (a node under ``root``, or ``root`` itself) replaced by ``replacement``."""
    path = _path(target, root)
    if not path:
        return replacement
    copy = root.copy()
    _follow(copy, path).replace(replacement)
    return copy


def conjoin(parts: list[exp.Expression]) -> exp.Expression:
    """``a AND b AND c``, with parentheses only around OR-ed parts (sqlglot's and_() also wraps ANDs)."""
    wrapped = [exp.Paren(this=p) if isinstance(p, exp.Or) else p for p in parts]
    result = wrapped[0]
    for part in wrapped[1:]:
        result = exp.And(this=result, expression=part)
    return result


def unqualified(node: exp.Expression) -> exp.Expression:
    """A copy of ``node`` with its column references unqualified (``o.email`` -> ``email``), as index expressions name them."""
    node = node.copy()
    for column in node.find_all(exp.Column):
        column.set("table", None)
    return node
