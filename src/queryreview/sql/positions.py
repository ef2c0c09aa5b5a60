"""Where a sqlglot node stands in its statement's text.

sqlglot records positions only on token-backed nodes (identifiers, literals, stars,
function names). Keywords, operators and punctuation have none, so a node's raw span
can miss the ``$`` of ``$1``, the parentheses around it, the ``CAST(`` or
``EXTRACT(year FROM`` before it and the ``NOT (`` of a negation. The helpers here widen
spans over those tokens by reading the text, so that every rule points at the same
characters for the same node.
"""

from __future__ import annotations

import re
from typing import Any

# A quoted string or identifier: its parentheses are not the query's.
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
# Tokens that can stand right before a node's first positioned token and open a parenthesis it closes.
_OPENER = re.compile(r"(?:\b(?:cast|extract)\s*\(\s*(?:\w+\s+from\s+)?|\(\s*)$", re.IGNORECASE)
# The NOT of a negation, and the parentheses it opens: `NOT x = 1`, `NOT (x IN (…))`.
_NOT_BEFORE = re.compile(r"\bnot\s*((?:\(\s*)*)$", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
# Between a subquery's "(" and its first positioned token.
_SUBQUERY_OPEN = re.compile(r"\(\s*(?:select\s+(?:all\s+|distinct\s+)?|with\s+(?:recursive\s+)?)$", re.IGNORECASE)
_SUBQUERY_LOOKBACK = 100

Span = tuple[int, int]
_EXPR: Any = None  # sqlglot's node base class, imported on first use (the CLI's start-up path imports this module)


def _expr_class() -> Any:
    global _EXPR
    from sqlglot.expressions.core import Expr

    _EXPR = Expr
    return Expr


def node_span(node: Any) -> Span | None:
    """Half-open [start, end) offsets of ``node`` relative to the parsed text, if known.

    sqlglot records positions on tokens-backed nodes (identifiers, literals, stars,
    functions); a composite node spans its positioned descendants.
    """
    expr = _EXPR or _expr_class()
    start: int | None = None
    end: int | None = None
    pending = [node]  # every node under ``node``, as walk() gives them but without its generators
    pop, push = pending.pop, pending.append
    while pending:
        descendant = pop()
        meta = getattr(descendant, "_meta", None)
        if meta and "start" in meta:
            node_start, node_end = meta["start"], meta["end"] + 1
            if start is None or node_start < start:
                start = node_start
            if end is None or node_end > end:
                end = node_end
        for value in descendant.args.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, expr):
                        push(item)
            elif isinstance(value, expr):
                push(value)
    if start is None or end is None:
        return None
    return start, end


def widened_span(text: str, node: Any) -> Span | None:
    """node_span widened over the tokens sqlglot gives no position.

    A leading ``$`` (``$1``) or minus sign (``-amount > 0``, ``-(a + b) > 0``), and
    parentheses the node's tokens leave unbalanced: a missing ``)`` is taken from the
    text after it, a missing ``(`` with what opens it (``(``, ``CAST(``,
    ``EXTRACT(year FROM``) from the text before it. For a negation written with a
    leading NOT, the keyword and the parentheses after it too: ``NOT (x IN (SELECT …))``
    rather than ``x IN (SELECT …)`` (``x NOT IN (…)`` starts at x).
    """
    # sqlglot is imported lazily: the CLI's start-up path imports this module
    from sqlglot import exp

    span = node_span(node)
    if span is None:
        return None
    start, end = span
    if start > 0 and text[start - 1] == "$":
        start -= 1
    if _starts_with_minus(node):
        before = start
        while before > 0 and (text[before - 1].isspace() or text[before - 1] == "("):
            before -= 1
        if before > 0 and text[before - 1] == "-":
            start = before - 1  # the parentheses passed over are balanced below
    inside = _QUOTED.sub("", text[start:end])
    opened = inside.count("(") - inside.count(")")
    while opened < 0 and (opener := _OPENER.search(text, 0, start)) is not None:
        start, opened = opener.start(), opened + 1
    if opened > 0:
        end = close_parens(text, end, opened)
    if isinstance(node, exp.Not):
        keyword = _NOT_BEFORE.search(text, 0, start)
        if keyword is not None:
            start, end = keyword.start(), close_parens(text, end, keyword.group(1).count("("))
    return start, end


def _starts_with_minus(node: Any) -> bool:
    """Whether the leftmost operand (``-a * b > 0``, ``-random() DESC``) is a negation, whose sign has no position."""
    from sqlglot import exp

    while not isinstance(node, exp.Neg):
        if not isinstance(node, (exp.Binary, exp.Paren, exp.Ordered)):
            return False
        node = node.this
    return True


def closing_paren(text: str, open_index: int) -> int | None:
    """Index of the ``)`` matching the ``(`` at ``open_index``, skipping strings, quoted names and comments."""
    return _closing(text, open_index, 0)


def close_parens(text: str, end: int, depth: int) -> int:
    """Offset just past the ``)`` that closes ``depth`` parentheses still open at ``end`` (``end`` if none does)."""
    if depth <= 0:
        return end
    closing = _closing(text, end, depth)
    return end if closing is None else closing + 1


def _closing(text: str, index: int, depth: int) -> int | None:
    """Scanning from ``index`` with ``depth`` parentheses open: the index of the ``)`` that brings depth to 0."""
    length = len(text)
    while index < length:
        char = text[index]
        if char in "'\"":
            close = text.find(char, index + 1)
            while close != -1 and text.startswith(char, close + 1):
                close = text.find(char, close + 2)
            if close == -1:
                return None
            index = close
        elif text.startswith("--", index):
            newline = text.find("\n", index)
            index = length if newline == -1 else newline
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = length if close == -1 else close + 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def subquery_span(text: str, span: Span | None) -> Span | None:
    """A subquery's token span extended to its ``(`` and the matching ``)``: ``(SELECT count(*) FROM t)``."""
    if span is None:
        return None
    start, end = span
    opening = _SUBQUERY_OPEN.search(text, max(0, start - _SUBQUERY_LOOKBACK), start)
    if opening is None:
        return span
    closing = closing_paren(text, opening.start())
    return opening.start(), closing + 1 if closing is not None else end


def keyword_span(text: str, keyword: re.Pattern[str], start: int, end: int, last: bool = False) -> Span | None:
    """Where ``keyword`` matches in ``text[start:end]`` outside comments: the first match, or the last one."""
    window = _COMMENT.sub(lambda m: " " * len(m.group()), text[start:end])
    if last:
        match = None
        for match in keyword.finditer(window):
            pass
    else:
        match = keyword.search(window)
    if match is None:
        return None
    return start + match.start(), start + match.end()


def excerpt(text: str, span: Span | None, node: Any, limit: int | None = None) -> str:
    """``node`` as written at ``span``, on one line (whitespace runs become one space); rendered by sqlglot
    when its place is unknown. Cut to ``limit`` characters with an ellipsis."""
    quoted = " ".join(text[span[0] : span[1]].split()) if span else node.sql(dialect="postgres")
    if limit is not None and len(quoted) > limit:
        quoted = quoted[: limit - 1].rstrip() + "…"
    return quoted
