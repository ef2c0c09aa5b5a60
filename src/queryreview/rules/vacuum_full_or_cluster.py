"""QR514 vacuum-full-or-cluster: VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Script, Statement
from queryreview.sql.ddl import ACCESS_EXCLUSIVE, classify, context, what_it_blocks


def check(raw: Statement, script: Script) -> Iterator[Hit]:
    ddl = classify(raw)
    if ddl is None or not (ddl.kind == "vacuum" and ddl.full or ddl.kind == "cluster"):
        return
    facts, position = context(raw, script)
    command = "VACUUM FULL" if ddl.kind == "vacuum" else "CLUSTER"
    tables = [name for name in ddl.tables if not facts.created_before(name, position)]
    if ddl.tables and not tables:
        return  # only tables this migration created
    if tables:
        names = ", ".join(str(name) for name in tables)
        blocked = what_it_blocks(ACCESS_EXCLUSIVE, names)
        message = (f"{command} rewrites {names} into a new copy and rebuilds every index under an ACCESS EXCLUSIVE "
                   f"lock: it {blocked} until the copy is complete (and needs free disk for a second copy)")
    else:
        scope = "every table of the database" if ddl.kind == "vacuum" else "every table clustered before"
        message = (f"{command} without a table rewrites {scope}, one after another, each under an ACCESS EXCLUSIVE "
                   "lock that blocks all reads and writes on it until its copy is complete")
    yield Hit(message=message, span=ddl.span)
