"""Read PostgreSQL DDL at the token level: what a statement does, to which table, under which lock.

sqlglot parses much DDL, but it falls back to an opaque ``Command`` for forms migrations
use every day (``VALIDATE CONSTRAINT``, ``REINDEX``, ``VACUUM FULL``, ``ATTACH PARTITION``,
``ADD CONSTRAINT … UNIQUE USING INDEX``), fails on others (``CLUSTER t USING i``,
``DROP INDEX a, b``, ``CREATE INDEX ON ONLY t``) and reads ``START TRANSACTION`` as an
alias. The migration rules need the same facts whichever way sqlglot went, so this package
reads the statement's tokens (sqlglot's PostgreSQL tokenizer) with a small grammar of the
DDL forms that matter, and the statements before it in the same file:

    ddl = classify(stmt)          # Ddl(kind="alter_table", table=orders, actions=(Action("set_not_null"…),))
    facts, position = context(stmt, script)  # open BEGIN, lock_timeout in force, tables created so far…

What it does not understand classifies as kind ``"other"`` with no lock: rules then stay
silent rather than guess. Every span is a half-open ``(start, end)`` relative to the
statement's text, ready for ``Hit(span=...)``.

Modules: ``words`` (tokens, names), ``reader`` and ``grammar`` / ``clauses`` (the statement
grammar), ``statements`` (what it produces), ``locks`` (lock modes, what a statement locks),
``rewrites`` (volatile defaults, type changes), ``script`` (what earlier statements did).
"""

from __future__ import annotations

from queryreview.sql.ddl.clauses import check_proves_not_null
from queryreview.sql.ddl.grammar import classify, classify_text
from queryreview.sql.ddl.locks import (
    ACCESS_EXCLUSIVE,
    ACCESS_SHARE,
    EXCLUSIVE,
    LOCK_RANK,
    ROW_EXCLUSIVE,
    ROW_SHARE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    RelationLock,
    a_lock,
    blocks_traffic,
    foreign_keys,
    relation_locks,
    strongest,
    what_it_blocks,
)
from queryreview.sql.ddl.rewrites import (
    MAYBE_FREE_TARGETS,
    VOLATILE_FUNCTIONS,
    PgType,
    add_column_rewrite,
    is_int4_or_smaller,
    new_type_always_rewrites,
    parse_type,
    type_change_rewrites,
    using_changes_value,
    volatile_call,
)
from queryreview.sql.ddl.script import (
    alter_of_existing_table,
    NotNullProof,
    ScriptFacts,
    ScriptIndex,
    compute_facts,
    context,
    index_serves,
    is_utc,
    script_facts,
    statement_line,
)
from queryreview.sql.ddl.statements import Action, ColumnDef, Constraint, Ddl, Reference
from queryreview.sql.ddl.words import Name, Word, ident, render_words, words

__all__ = [
    "alter_of_existing_table",
    "ACCESS_EXCLUSIVE", "ACCESS_SHARE", "EXCLUSIVE", "LOCK_RANK", "ROW_EXCLUSIVE", "ROW_SHARE", "SHARE",
    "SHARE_ROW_EXCLUSIVE", "SHARE_UPDATE_EXCLUSIVE", "MAYBE_FREE_TARGETS", "VOLATILE_FUNCTIONS",
    "Action", "ColumnDef", "Constraint", "Ddl", "Name", "NotNullProof", "PgType", "Reference", "RelationLock",
    "ScriptFacts", "ScriptIndex", "Word",
    "a_lock", "add_column_rewrite", "blocks_traffic", "check_proves_not_null", "classify", "classify_text",
    "compute_facts", "context", "foreign_keys", "ident", "index_serves", "is_int4_or_smaller", "is_utc",
    "new_type_always_rewrites", "parse_type", "relation_locks", "render_words", "script_facts",
    "statement_line", "strongest", "type_change_rewrites", "using_changes_value", "volatile_call",
    "what_it_blocks", "words",
]
