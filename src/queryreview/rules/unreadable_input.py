"""QR903 unreadable-input: an input that is binary, oversized or not UTF-8."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit, SourceText


def check(source: SourceText) -> Iterator[Hit]:
    if source.problem is None:
        return
    message, offset = source.problem
    yield Hit(message=message[0].upper() + message[1:], span=(offset, offset + 1))
