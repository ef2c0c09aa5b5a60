"""QR512 drop-table: dropping a table breaks the code that still uses it, and the data is gone."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import classify, context


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or ddl.kind != "drop_table":
        return
    facts, position = context(raw, script)
    for name in ddl.tables:
        if facts.introduced_before(name, position):
            continue  # created (or renamed to this name) earlier in this migration
        table = str(name)
        yield Hit(
            message=(
                f"DROP TABLE {table} breaks every running query and deployed application version that still uses "
                f"{table}, and its data is gone: rolling the release back cannot bring it back"
            ),
            span=name.span,
        )
