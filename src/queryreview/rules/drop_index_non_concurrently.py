"""QR502 drop-index-non-concurrently: DROP INDEX without CONCURRENTLY locks the table against reads and writes."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import ACCESS_EXCLUSIVE, ScriptFacts, classify, context, what_it_blocks


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "drop_index" or ddl.concurrently or not ddl.indexes:
        return
    facts, position = context(raw, script)
    if all(_on_new_table(facts, name.name, position) for name in ddl.indexes):
        return
    names = ", ".join(str(name) for name in ddl.indexes)
    noun = "index" if len(ddl.indexes) == 1 else "indexes"
    table = _table_of(facts, ddl.indexes[0].name, position) or f"the table of {names}"
    yield Hit(
        message=(
            f"DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on {table}: it "
            f"{what_it_blocks(ACCESS_EXCLUSIVE, table)}, and while it waits for running queries to finish "
            "every new query on it queues behind the DROP"
        ),
        span=ddl.span,
        help=_help(ddl.cascade, len(ddl.indexes)),
        fix=_fix(raw, ddl, noun),
    )


def _on_new_table(facts: ScriptFacts, index_name: str, position: int) -> bool:
    """The index was created by this script on a table the script created before: nobody uses it."""
    return facts.created_before(facts.index_table(index_name, position), position)


def _table_of(facts: ScriptFacts, index_name: str, position: int) -> str | None:
    table = facts.index_table(index_name, position)
    return str(table) if table is not None else None


def _help(cascade: bool, count: int) -> str:
    if cascade:
        return ("Drop what depends on the index first, then DROP INDEX CONCURRENTLY it "
                "(CONCURRENTLY refuses CASCADE); outside any transaction block")
    if count > 1:
        return "Use one DROP INDEX CONCURRENTLY statement per index (CONCURRENTLY drops one at a time), outside any transaction block"
    return "Use DROP INDEX CONCURRENTLY, outside any transaction block: it waits for running queries without blocking new ones"


def _fix(raw: Statement, ddl, noun: str) -> Fix | None:
    if ddl.cascade:
        return None
    if len(ddl.indexes) == 1:
        text = raw.text[: ddl.index_word_end] + " CONCURRENTLY" + raw.text[ddl.index_word_end :]
        return Fix(f"Drop the {noun} concurrently", text)
    exists = " IF EXISTS" if ddl.if_exists else ""
    text = "\n".join(f"DROP INDEX CONCURRENTLY{exists} {raw.text[n.start:n.end]};" for n in ddl.indexes)
    return Fix(f"Drop the {noun} concurrently, one statement each", text.rstrip(";"))
