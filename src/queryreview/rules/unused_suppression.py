"""QR902 unused-suppression: an ignore directive that suppressed nothing."""

from __future__ import annotations

from typing import Iterator

from queryreview.model import Hit
from queryreview.rules.registry import all_rules
from queryreview.suppress import Suppression


def check(unused: list[Suppression]) -> Iterator[Hit]:
    known = {rule.code for rule in all_rules()} | {rule.name for rule in all_rules()}
    for suppression in unused:
        unknown = [t for t in suppression.tokens if t not in known and t.upper() not in known]
        if unknown:
            message = f"Suppression names unknown rule(s) {', '.join(unknown)}"
        else:
            message = f"Suppression of {suppression.text} is unused: nothing here triggers it"
        yield Hit(
            message=message,
            help="Remove the directive, or correct the rule names in it",
            span=(suppression.offset, suppression.end_offset),  # offsets in the source
        )
