"""QR104 or-across-columns: ``a = 1 OR b = 2`` cannot be served by one index."""

from __future__ import annotations

import re
from typing import Iterator

from sqlglot import exp

from queryreview.model import Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import column_name, columns, disjuncts, render

_CONNECTIVES = (exp.And, exp.Paren)
_QUERIES = (exp.Select, exp.Update, exp.Delete)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
# Tokens sqlglot keeps no position for, so a node's span can start after them.
_OPENER = re.compile(r"(?:\b(?:cast|extract)\s*\(\s*(?:\w+\s+from\s+)?|\(\s*)$", re.IGNORECASE)
_MAX_SHOWN = 60


def check(stmt: Statement) -> Iterator[Hit]:
    for disjunction in stmt.nodes(exp.Or):
        if _inside_or(disjunction) or not _filters_rows(disjunction):
            continue
        branches = [_branch_columns(branch) for branch in disjuncts(disjunction)]
        branches = [names for names in branches if names]  # `$1 IS NULL OR …`: a switch, not a filter
        if len(branches) < 2 or set.intersection(*branches):
            continue  # one column (or one shared column) serves every branch
        names = list(dict.fromkeys(name for names in branches for name in sorted(names)))
        tables = {name.rsplit(".", 1)[0] if "." in name else "" for name in names}
        if len(tables) > 1 and "" not in tables:
            why = (
                f"spans tables {', '.join(sorted(tables))}: neither side can be filtered by an index "
                "before the join, so rows are joined first and tested afterwards"
            )
        else:
            why = (
                "cannot be answered by one index scan; PostgreSQL must combine one index per column "
                "(BitmapOr) or read the whole table"
            )
        yield Hit(
            message=f"OR across different columns ({', '.join(names)}): `{_shorten(render(disjunction))}` {why}",
            node=disjunction,
            span=_span(stmt.text, disjunction),
        )


def _inside_or(node: exp.Expression) -> bool:
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return isinstance(parent, exp.Or)


def _filters_rows(node: exp.Expression) -> bool:
    """True when the OR is (an AND-ed part of) a WHERE or JOIN ... ON condition."""
    child, parent = node, node.parent
    while isinstance(parent, _CONNECTIVES):
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Where):
        return isinstance(parent.parent, _QUERIES)
    return isinstance(parent, exp.Join) and child.arg_key == "on"


def _branch_columns(branch: exp.Expression) -> set[str]:
    return {name for column in columns(branch) if (name := column_name(column))}


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _span(text: str, node: exp.Expression) -> tuple[int, int] | None:
    """node_span widened over the tokens sqlglot gives no position: `$`, `(`, `)`, `CAST(`, `EXTRACT(x FROM`."""
    span = node_span(node)
    if span is None:
        return None
    start, end = span
    if start > 0 and text[start - 1] == "$":
        start -= 1
    inside = _QUOTED.sub("", text[start:end])
    opened = inside.count("(") - inside.count(")")
    while opened < 0 and (opener := _OPENER.search(text, 0, start)) is not None:
        start, opened = opener.start(), opened + 1
    if opened > 0:
        end = _matching_close(text, end, opened)
    return start, end


def _matching_close(text: str, end: int, depth: int) -> int:
    """Offset just past the parenthesis that closes ``depth`` open ones, scanning from ``end``."""
    index = end
    while index < len(text) and depth > 0:
        char = text[index]
        if char == "'":
            index = text.find("'", index + 1)
            if index == -1:
                return end
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        index += 1
    return index if depth == 0 else end
