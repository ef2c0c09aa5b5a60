"""QR516 new-table-without-primary-key: CREATE TABLE with no primary key."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import Ddl, classify, context


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "create_table" or ddl.table is None:
        return
    if ddl.temporary or ddl.partition_of is not None or ddl.as_query or ddl.like:
        return  # temporary; a partition (its key comes from the parent); CREATE TABLE AS / LIKE / OF copies
    if any(constraint.kind == "primary_key" for constraint in ddl.constraints):
        return
    facts, position = context(raw, script)
    if _key_added_later(facts.ddls[position + 1 :], ddl):
        return
    what = "partitioned table" if ddl.partitioned else "table"
    yield Hit(
        message=(
            f"CREATE TABLE {ddl.table} has no primary key: its rows cannot be addressed reliably, UPDATE and DELETE "
            f"fail on it once it joins a logical-replication publication (no replica identity), and tools such as "
            f"pg_repack refuse the {what}"
        ),
        span=ddl.span,
    )


def _key_added_later(later: list[Ddl | None], created: Ddl) -> bool:
    """ALTER TABLE … ADD PRIMARY KEY later in the same migration."""
    for ddl in later:
        if ddl is None or ddl.kind != "alter_table" or ddl.table is None or not ddl.table.matches(created.table):
            continue
        if any(action.constraint is not None and action.constraint.kind == "primary_key" for action in ddl.actions):
            return True
    return False
