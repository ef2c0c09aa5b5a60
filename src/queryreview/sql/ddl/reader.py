"""A cursor over words, and the splitting helpers the grammar shares."""

from __future__ import annotations

from typing import Sequence

from queryreview.sql.ddl.words import Name, Word


class Stop(Exception):
    """The words ran out or made no sense: the statement is "other"."""


OPEN = {"(": ")", "[": "]"}
CLOSE = {")", "]"}


def split(items: Sequence[Word], separator: str = ",") -> list[list[Word]]:
    """Split at top-level punctuation ``separator`` (not inside parentheses or brackets)."""
    parts: list[list[Word]] = [[]]
    depth = 0
    for word in items:
        if word.kind == "punct":
            if word.text in OPEN:
                depth += 1
            elif word.text in CLOSE:
                depth = max(depth - 1, 0)
            elif word.text == separator and depth == 0:
                parts.append([])
                continue
        parts[-1].append(word)
    return [part for part in parts if part]


class Reader:
    """A cursor over words with the few moves the grammar needs."""

    def __init__(self, items: Sequence[Word]) -> None:
        self.items = items
        self.i = 0

    def done(self) -> bool:
        return self.i >= len(self.items)

    def peek(self, offset: int = 0) -> Word | None:
        position = self.i + offset
        return self.items[position] if position < len(self.items) else None

    def key(self, offset: int = 0) -> str:
        word = self.peek(offset)
        return word.key if word is not None else ""

    def at(self, *keys: str) -> bool:
        return self.key() in keys

    def at_seq(self, *keys: str) -> bool:
        return all(self.key(offset) == key for offset, key in enumerate(keys))

    def at_punct(self, text: str) -> bool:
        word = self.peek()
        return word is not None and word.kind == "punct" and word.text == text

    def take(self, *keys: str) -> Word | None:
        word = self.peek()
        if word is not None and word.key and word.key in keys:
            self.i += 1
            return word
        return None

    def take_seq(self, *keys: str) -> bool:
        if self.at_seq(*keys):
            self.i += len(keys)
            return True
        return False

    def take_punct(self, text: str) -> Word | None:
        if self.at_punct(text):
            self.i += 1
            return self.items[self.i - 1]
        return None

    def last_end(self) -> int:
        position = min(self.i, len(self.items))
        return self.items[position - 1].end if position else 0

    def identifier(self) -> Word | None:
        word = self.peek()
        if word is not None and word.kind in ("word", "quoted"):
            self.i += 1
            return word
        return None

    def name(self) -> Name | None:
        first = self.identifier()
        if first is None:
            return None
        parts = [first.text]
        end = first.end
        while self.at_punct(".") and self.peek(1) is not None and self.peek(1).kind in ("word", "quoted"):
            self.i += 1
            part = self.identifier()
            parts.append(part.text)
            end = part.end
        return Name(tuple(parts), first.start, end)

    def group(self) -> list[Word] | None:
        """A balanced ``( … )`` at the cursor: its inner words (the cursor moves past it)."""
        if not self.at_punct("("):
            return None
        depth = 0
        start = self.i
        while self.i < len(self.items):
            word = self.items[self.i]
            self.i += 1
            if word.kind == "punct":
                if word.text in OPEN:
                    depth += 1
                elif word.text in CLOSE:
                    depth -= 1
                    if depth == 0:
                        return list(self.items[start + 1 : self.i - 1])
        return list(self.items[start + 1 :])

    def skip_one(self) -> None:
        """Move past one word, or one whole parenthesized group."""
        if self.at_punct("(") or self.at_punct("["):
            if self.at_punct("["):
                self.i += 1
                depth = 1
                while self.i < len(self.items) and depth:
                    text = self.items[self.i].text if self.items[self.i].kind == "punct" else ""
                    depth += 1 if text in OPEN else -1 if text in CLOSE else 0
                    self.i += 1
            else:
                self.group()
        else:
            self.i += 1

    def until(self, stops: frozenset[str]) -> list[Word]:
        """Words up to (not including) a top-level keyword in ``stops``, groups kept whole."""
        start = self.i
        while not self.done() and not (self.key() in stops):
            self.skip_one()
        return list(self.items[start : self.i])

    def rest(self) -> list[Word]:
        found = list(self.items[self.i :])
        self.i = len(self.items)
        return found


def names(items: Sequence[Word] | None) -> tuple[str, ...]:
    """``(a, "B", c)`` -> ("a", "B", "c"): the first identifier of each comma-separated item."""
    if not items:
        return ()
    found = []
    for part in split(items):
        first = part[0]
        if first.kind in ("word", "quoted"):
            found.append(first.text)
    return tuple(found)


def span_of(items: Sequence[Word]) -> tuple[int, int]:
    return (items[0].start, items[-1].end) if items else (0, 0)


VALUE_TRUE = frozenset({"TRUE", "ON", "YES", "1", "T"})
VALUE_FALSE = frozenset({"FALSE", "OFF", "NO", "0", "F"})


def option_enabled(options: Sequence[Word], name: str) -> bool:
    """``(FULL, ANALYZE)`` / ``(CONCURRENTLY true)``: is option ``name`` on?"""
    for part in split(options):
        if part[0].key == name:
            if len(part) == 1:
                return True
            value = (part[1].key or part[1].text).upper()
            return value not in VALUE_FALSE
    return False


def split_and(items: Sequence[Word]) -> list[list[Word]]:
    parts: list[list[Word]] = [[]]
    depth = 0
    for word in items:
        if word.kind == "punct":
            depth += 1 if word.text in OPEN else -1 if word.text in CLOSE else 0
        if word.key == "AND" and depth == 0:
            parts.append([])
            continue
        parts[-1].append(word)
    return [part for part in parts if part]


def closes_at_end(items: Sequence[Word]) -> bool:
    """``( … )`` wraps the whole of ``items``."""
    depth = 0
    for position, word in enumerate(items):
        if word.kind == "punct":
            depth += 1 if word.text in OPEN else -1 if word.text in CLOSE else 0
        if depth == 0:
            return position == len(items) - 1
    return False
