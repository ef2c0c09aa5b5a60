"""Inline suppressions: ``-- queryreview: ignore[QR101, select-star]`` and ``ignore-file``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from queryreview.model import Comment, Finding, Location, SourceText, Statement

_DIRECTIVE = re.compile(r"queryreview:\s*(ignore-file|ignore)\b(?:\s*\[([^\]]*)\])?", re.I)


@dataclass
class Suppression:
    """One directive. ``tokens`` empty means every rule; ``line`` None means the whole statement."""

    tokens: tuple[str, ...]
    location: Location
    line: int | None
    offset: int  # where the directive stands in the source
    end_offset: int
    used: bool = field(default=False)

    def covers(self, finding: Finding) -> bool:
        if self.line is not None and finding.location.line != self.line:
            return False
        if self.tokens and not any(t.upper() == finding.code or t == finding.rule for t in self.tokens):
            return False
        return True

    @property
    def text(self) -> str:
        return ", ".join(self.tokens) if self.tokens else "all rules"


def file_ignored(comments: list[Comment]) -> bool:
    return any((m := _DIRECTIVE.search(c.text)) and m.group(1).lower() == "ignore-file" for c in comments)


def suppressions(statement: Statement) -> list[Suppression]:
    """Directives governing a statement: on their own line they cover it all, after code only their line."""
    found = []
    source: SourceText = statement.source
    for comment in statement.comments:
        for match in _DIRECTIVE.finditer(comment.text):
            if match.group(1).lower() != "ignore":
                continue
            tokens = tuple(t.strip() for t in (match.group(2) or "").split(",") if t.strip())
            offset, end_offset = comment.offset + match.start(), comment.offset + match.end()
            location = source.location(offset, end_offset)
            if comment.own_line and comment.offset < statement.start:
                line = None  # above the statement: all of it
            elif comment.own_line:
                line = source.position(comment.offset + len(comment.text))[0] + 1  # inside: the next line
            else:
                line = location.line  # after code: that line
            found.append(Suppression(tokens, location, line, offset, end_offset))
    return found
