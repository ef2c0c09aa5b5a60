"""QR901 parse-error: a statement that could not be parsed is reported, not dropped."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Statement


def check(raw: Statement) -> Iterator[Hit]:
    if raw.kind != "sql" or raw.error is None:
        return
    offset = min(raw.error_offset, max(len(raw.text) - 1, 0))
    yield Hit(
        message=f"Cannot parse this statement: {raw.error}; no query rule checked it",
        span=(offset, offset + 1),
    )
