"""Where a sqlglot node stands in its statement's text."""

from __future__ import annotations

from typing import Any


def node_span(node: Any) -> tuple[int, int] | None:
    """Half-open [start, end) offsets of ``node`` relative to the parsed text, if known.

    sqlglot records positions on tokens-backed nodes (identifiers, literals, stars,
    functions); a composite node spans its positioned descendants.
    """
    start: int | None = None
    end: int | None = None
    for descendant in node.walk():
        meta = getattr(descendant, "_meta", None)
        if not meta or "start" not in meta:
            continue
        node_start, node_end = meta["start"], meta["end"] + 1
        if start is None or node_start < start:
            start = node_start
        if end is None or node_end > end:
            end = node_end
    if start is None or end is None:
        return None
    return start, end
