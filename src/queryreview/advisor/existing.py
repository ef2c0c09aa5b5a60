"""Does an index the database already has serve a candidate? Then the candidate is never recommended.

    served_by(candidate, catalog)     # Index orders_pkey for candidate (id) when PRIMARY KEY (id) exists

An existing btree serves a candidate when the candidate's keys are a prefix of its keys
(same expressions, operator classes, and directions, or all of them reversed: a btree
scans backwards as well), its predicate is the same (both none, or the same WHERE), and
the candidate's INCLUDE columns are among its keys or INCLUDE columns. Invalid indexes
(a failed CREATE INDEX CONCURRENTLY) serve nothing.
"""

from __future__ import annotations

import re

from queryreview.advisor.candidates import Candidate
from queryreview.catalog import Catalog, Index
from queryreview.sql.resolve import key_columns, key_items, read_indexes


def served_by(candidate: Candidate, catalog: Catalog) -> Index | None:
    table = catalog.table(candidate.table)
    if table is None:
        return None
    wanted = [_normal_key(key.sql()) for key in candidate.keys]
    for index in sorted(read_indexes(catalog, table), key=lambda item: item.name):
        if not index.valid or index.method != candidate.method:
            continue
        if _normal(index.predicate or "") != _normal(candidate.predicate or ""):
            continue
        have = [_normal_key(item) for item in key_items(index)]
        if len(have) < len(wanted) or not _prefix(wanted, have):
            continue
        carried = set(key_columns(index)) | set(index.include)
        if set(candidate.include) <= carried:
            return index
    return None


def _prefix(wanted: list[tuple[str, bool, bool]], have: list[tuple[str, bool, bool]]) -> bool:
    head = have[: len(wanted)]
    if [item[0] for item in head] != [item[0] for item in wanted]:
        return False
    same = all(w[1:] == h[1:] for w, h in zip(wanted, head))
    flipped = all((not w[1], not w[2]) == h[1:] for w, h in zip(wanted, head))
    # a one-column candidate without direction is served by any direction
    return same or flipped


_DIRECTION = re.compile(r"\s+(asc|desc)?\s*(nulls\s+(first|last))?\s*$")
_OPCLASS = re.compile(r"\s+([A-Za-z_][\w.]*_ops)$")


def _normal_key(text: str) -> tuple[str, bool, bool]:
    """(body and operator class, descending, nulls first) of a key item, the body normalized like a predicate."""
    body = " ".join(text.strip().split())
    match = _DIRECTION.search(body.lower())
    descending = nulls_first = False
    if match and match.group(0).strip():
        descending = match.group(1) == "desc"
        nulls_first = (match.group(3) == "first") if match.group(3) else descending
        body = body[: match.start()]
    opclass = _OPCLASS.search(body)
    suffix = ""
    if opclass:
        suffix = " " + opclass.group(1).lower()
        body = body[: opclass.start()]
    return _normal(body) + suffix, descending, nulls_first


def _normal(text: str) -> str:
    """An expression or predicate in comparable form: parsed and re-rendered, without the casts to text
    pg_get_indexdef adds (``lower((email)::text)`` -> ``lower(email)``) or redundant parentheses."""
    if not text.strip():
        return ""
    cached = _NORMAL.get(text)
    if cached is None:
        cached = _NORMAL[text] = _render_normal(text)
    return cached


_NORMAL: dict[str, str] = {}
_TEXT_TYPES = {"TEXT", "VARCHAR", "CHAR", "BPCHAR", "NAME"}


def _render_normal(text: str) -> str:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    def simplify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Paren):
            return node.this
        if isinstance(node, exp.Cast) and node.to.this.name in _TEXT_TYPES:
            return node.this
        return node

    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    try:
        tree = normalize_identifiers(sqlglot.parse_one(text, read="postgres"), dialect="postgres")
    except (ParseError, TokenError, ValueError):
        return " ".join(text.split())
    previous = None
    rendered = tree.sql(dialect="postgres")
    while rendered != previous:  # removing one paren can expose a cast, and the other way round
        previous = rendered
        tree = tree.transform(simplify)
        rendered = tree.sql(dialect="postgres")
    return rendered
