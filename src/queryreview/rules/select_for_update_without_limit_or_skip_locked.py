"""QR120 select-for-update-without-limit-or-skip-locked: a queue-style row lock that serialises workers."""

from __future__ import annotations

from functools import partial
from typing import Any, Iterator

from sqlglot import exp
from sqlglot.tokens import TokenType

from queryreview.model import Fix, Hit, Statement
from queryreview.sql.positions import node_span
from queryreview.sql.predicates import columns, conjuncts, copy_tree, render_rewrite, strip_parens
from queryreview.sql.rewrite import counterpart
from queryreview.sql.tokens import tokens


def check(stmt: Statement) -> Iterator[Hit]:
    for select in stmt.nodes(exp.Select):
        lock = _row_lock(select)
        if lock is None or _single_row(select):
            continue
        strength = _strength(lock)
        table = _first_table(select)
        if not _has_limit(select):
            waiters = (
                "every UPDATE and DELETE of those rows waits for it" if strength == "FOR SHARE"
                else "concurrent workers wait on those locks and run one at a time"
            )
            yield Hit(
                message=(
                    f"SELECT ... {strength} without LIMIT locks every matching row of {table} until the "
                    f"transaction ends: {waiters}"
                ),
                node=select,
                span=_lock_span(stmt, select),
                help=(
                    f"Claim a batch: add ORDER BY ... LIMIT n and {strength} SKIP LOCKED, or lock one row "
                    "by its primary key"
                ),
            )
        elif lock.args.get("wait") is None and strength != "FOR SHARE":  # shared locks do not queue readers
            yield Hit(
                message=(
                    f"SELECT ... LIMIT ... {strength} without SKIP LOCKED or NOWAIT: workers block on each "
                    f"other, each one waiting for the first to commit before it can lock the same rows of {table}"
                ),
                node=select,
                span=_lock_span(stmt, select),
                help="Add SKIP LOCKED so each worker claims rows no other worker holds",
                fix=Fix.later("Add SKIP LOCKED to the lock", partial(_with_skip_locked, stmt.ast, select)),
            )


def _row_lock(select: exp.Select) -> exp.Lock | None:
    """The first FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE of this SELECT (FOR KEY SHARE blocks little)."""
    for lock in select.args.get("locks") or ():
        if lock.args.get("update") or not lock.args.get("key"):
            return lock
    return None


def _strength(lock: exp.Lock) -> str:
    if lock.args.get("update"):
        return "FOR NO KEY UPDATE" if lock.args.get("key") else "FOR UPDATE"
    return "FOR SHARE"


def _has_limit(select: exp.Select) -> bool:
    limit = select.args.get("limit")
    if isinstance(limit, exp.Fetch):
        return True
    return isinstance(limit, exp.Limit) and not (
        isinstance(limit.expression, exp.Var) and limit.expression.name.upper() == "ALL"
    )


def _single_row(select: exp.Select) -> bool:
    """A lock by key: ``id = $1``, ``order_id = 42``, ``id = ANY($1)`` or ``id IN (1, 2)``."""
    where = select.args.get("where")
    if where is None:
        return False
    for part in conjuncts(where.this):
        part = strip_parens(part)
        if isinstance(part, exp.EQ):
            sides = [(part.this, part.expression), (part.expression, part.this)]
            if any(_key_column(key) and not columns(value) for key, value in sides):
                return True
        elif isinstance(part, exp.In) and not part.args.get("query") and part.expressions:
            if _key_column(part.this) and not any(columns(item) for item in part.expressions):
                return True
    return False


def _key_column(node: Any) -> bool:
    node = strip_parens(node)
    if not isinstance(node, exp.Column):
        return False
    name = node.name.lower()
    return name in ("id", "uuid") or name.endswith(("_id", "_uuid"))


def _first_table(select: exp.Select) -> str:
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None and isinstance(from_.this, exp.Table):
        return f"`{from_.this.name}`"
    return "the table"


def _lock_span(stmt: Statement, select: exp.Select) -> tuple[int, int] | None:
    """Where ``FOR [NO KEY] UPDATE`` / ``FOR SHARE`` of this SELECT stands: at its own parenthesis level."""
    span = node_span(select)
    if span is None:
        return None
    found = tokens(stmt)
    level = 0
    own_level: int | None = None
    for index, token in enumerate(found):
        if own_level is None and token.start >= span[0]:
            own_level = level
        if token.token_type == TokenType.L_PAREN:
            level += 1
        elif token.token_type == TokenType.R_PAREN:
            level -= 1
            if own_level is not None and level < own_level:
                return None
        elif own_level is not None and level == own_level and token.token_type == TokenType.FOR:
            for follower in found[index + 1 : index + 4]:
                if follower.text.upper() in ("UPDATE", "SHARE"):
                    return token.start, follower.end + 1
    return None


def _with_skip_locked(root: exp.Expression | None, select: exp.Select) -> str | None:
    """The statement with SKIP LOCKED added to this SELECT's lock, built on a copy of the tree."""
    if root is None:
        return None
    tree = copy_tree(root)
    lock = _row_lock(counterpart(select, tree))
    if lock is None:
        return None
    lock.set("wait", False)
    return render_rewrite(tree)
