"""Words of a statement: sqlglot's PostgreSQL tokens, folded as PostgreSQL folds them, with exact offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True, slots=True)
class Word:
    """One token: ``kind`` word (bare word or keyword), quoted (identifier), string, number or punct.

    ``text`` is what PostgreSQL sees: bare words folded to lower case, quoted identifiers and
    strings without their quotes, punctuation as written. ``key`` is the upper-cased bare
    word for keyword tests ("" for anything else). ``end`` is exclusive.
    """

    kind: str
    text: str
    start: int
    end: int
    key: str = ""


_STRING_TOKENS = frozenset({
    "STRING", "NATIONAL_STRING", "BYTE_STRING", "HEREDOC_STRING", "RAW_STRING", "BIT_STRING",
    "HEX_STRING", "UNICODE_STRING",
})
_COMMAND_TOKENS = frozenset({"COMMAND", "LOCK", "EXECUTE", "FETCH", "SHOW", "RENAME"})
_HAS_WORD_CHAR = re.compile(r"\w")
_NON_SPACE = re.compile(r"\S+")
_TOKENIZER: Any = None  # one reusable sqlglot PostgreSQL tokenizer (tokenize() resets its state)


def words(text: str) -> list[Word] | None:
    """The statement's tokens as Words; None when the tokenizer rejects the text."""
    global _TOKENIZER
    if _TOKENIZER is None:
        from sqlglot.dialects.postgres import Postgres

        _TOKENIZER = Postgres().tokenizer()
    found: list[Word] = []
    try:
        _read_tokens(text, 0, found)
    except Exception:  # TokenError, or a tokenizer bug: the statement is simply not read
        return None
    return found


def _read_tokens(text: str, offset: int, found: list[Word]) -> None:
    tokens = _TOKENIZER.tokenize(text[offset:] if offset else text)
    # sqlglot keeps the rest of a "command" (VACUUM, LOCK, REINDEX, REFRESH…) as one raw string
    # token: read that rest as tokens too
    if len(tokens) == 2 and tokens[0].token_type.name in _COMMAND_TOKENS and tokens[1].token_type.name == "STRING":
        rest = offset + tokens[0].end + 1  # (the string token's own offsets are not the text's)
        tokens = tokens[:1]
    else:
        rest = None
    for token in tokens:
        kind = token.token_type.name
        start, end = offset + token.start, offset + token.end + 1
        if kind in _STRING_TOKENS:
            found.append(Word("string", token.text, start, end))
        elif kind == "IDENTIFIER":
            found.append(Word("quoted", token.text, start, end))
        elif kind == "NUMBER":
            found.append(Word("number", token.text, start, end))
        elif not _HAS_WORD_CHAR.search(token.text):
            found.append(Word("punct", token.text, start, end))
        else:
            raw = text[start:end]
            # sqlglot merges some keyword pairs ("FOREIGN KEY", "DOUBLE PRECISION"): split them back
            for match in _NON_SPACE.finditer(raw):
                piece = match.group()
                found.append(Word("word", piece.lower(), start + match.start(), start + match.end(), piece.upper()))
    if rest is not None and rest > offset:
        _read_tokens(text, rest, found)


def ident(word: Word | None) -> str:
    """An identifier's name as PostgreSQL folds it."""
    return "" if word is None else word.text


@dataclass(frozen=True)
class Name:
    """A possibly schema-qualified relation name, as folded by PostgreSQL, and where it was written."""

    parts: tuple[str, ...]
    start: int
    end: int

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def schema(self) -> str | None:
        return self.parts[-2] if len(self.parts) > 1 else None

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    def matches(self, other: Name) -> bool:
        """Same relation, as far as text can tell: equal names, and equal schemas where both are given."""
        if self.name != other.name:
            return False
        return self.schema is None or other.schema is None or self.schema == other.schema

    def lookup(self) -> str:
        """``schema.name`` or ``name``, for Catalog.table()."""
        return ".".join(self.parts[-2:])

    def __str__(self) -> str:
        from queryreview.sql.resolve import quote_ident

        return ".".join(quote_ident(part) for part in self.parts)


_NO_SPACE_AFTER = frozenset({"(", "[", ".", "::"})
_NO_SPACE_BEFORE = frozenset({")", "]", ",", ".", "::", "(", "["})


def render_words(items: Sequence[Word]) -> str:
    """Words back to compact SQL text: ``character varying(20)``, ``numeric(10, 2)``, ``now()``."""
    pieces: list[str] = []
    previous: Word | None = None
    for word in items:
        if word.kind == "quoted":
            piece = '"' + word.text.replace('"', '""') + '"'
        elif word.kind == "string":
            piece = "'" + word.text.replace("'", "''") + "'"
        else:
            piece = word.text
        if previous is not None:
            glued = (previous.kind == "punct" and previous.text in _NO_SPACE_AFTER) or (
                word.kind == "punct" and word.text in _NO_SPACE_BEFORE)
            if not glued:
                pieces.append(" ")
        pieces.append(piece)
        previous = word
    return "".join(pieces)
