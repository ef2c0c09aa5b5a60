"""QR904 psql-meta-command: a psql backslash command is not SQL and is not reviewed."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, Statement


def check(raw: Statement) -> Iterator[Hit]:
    if raw.kind != "meta":
        return
    command = raw.text.split(None, 1)[0]
    yield Hit(
        message=f"psql meta-command {command} is not SQL; it was skipped",
        span=(0, len(command)),
    )
