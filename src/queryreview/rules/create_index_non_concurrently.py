"""QR501 create-index-non-concurrently: CREATE INDEX without CONCURRENTLY blocks writes for the whole build."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Fix, Hit, Script, Statement
from queryreview.sql.ddl import SHARE, classify, context, statement_line, what_it_blocks


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "create_index" or ddl.concurrently or ddl.only or ddl.table is None:
        return  # ON ONLY builds nothing: it creates an invalid parent index for partitions to attach to
    facts, position = context(raw, script)
    if facts.created_before(ddl.table, position):
        return  # a table created earlier in this migration is empty and unused: a plain build is instant
    table = str(ddl.table)
    what = "CREATE UNIQUE INDEX" if ddl.unique else "CREATE INDEX"
    fixed = raw.text[: ddl.index_word_end] + " CONCURRENTLY" + raw.text[ddl.index_word_end :]
    block = facts.block_at(position)
    outside = ""
    if block is not None and script is not None:
        outside = f" and move it out of the transaction block opened on line {statement_line(script, block)}"
    yield Hit(
        message=(
            f"{what} without CONCURRENTLY takes a SHARE lock on {table}: it {what_it_blocks(SHARE, table)} "
            f"for the whole build, which reads all of {table} and sorts it"
        ),
        span=ddl.span,
        help=f"Build it with {what} CONCURRENTLY{outside}: writes continue while it builds",
        fix=Fix(f"Build the index concurrently{' (outside the transaction block)' if outside else ''}", fixed),
    )
