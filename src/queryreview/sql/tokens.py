"""A statement's sqlglot tokens, made once per statement and shared by the rules that need them.

Rules that must find keywords sqlglot gives no position (``FOR UPDATE``, the ``(`` of a
subquery, the ``=`` of a join) read tokens instead of the tree. Tokenizing costs about
as much as a rule, so it happens only when a rule reports, and at most once per statement.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queryreview.model import Statement

_CACHE: weakref.WeakKeyDictionary[Statement, list[Any]] = weakref.WeakKeyDictionary()


def tokens(stmt: Statement) -> list[Any]:
    """sqlglot tokens (postgres dialect) of ``stmt.text``, offsets relative to it; empty if it does not tokenize."""
    cached = _CACHE.get(stmt)
    if cached is None:
        from sqlglot.dialects.postgres import Postgres

        try:
            cached = Postgres().tokenize(stmt.text)
        except Exception:  # a text sqlglot parsed always tokenizes; stay safe all the same
            cached = []
        _CACHE[stmt] = cached
    return cached
