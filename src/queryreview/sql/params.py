"""Parameter placeholders in SQL text: ``$1,$2`` needs a space for sqlglot.

    spaced_parameters("SELECT * FROM t WHERE a IN ($1,$2)")  ->  "... IN ($1 ,$2 )"
"""

from __future__ import annotations

import re

_IDENT_CHAR = re.compile(r"[A-Za-z_0-9\u0080-\U0010ffff$]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*)?\$")
_PARAMETER = re.compile(r"\$(\d+)")


def spaced_parameters(text: str) -> str:
    """``$1,$2`` -> ``$1 ,$2`` outside strings, quoted names and comments (sqlglot misreads the former).

    A space after a parameter changes nothing for PostgreSQL. Dollar-quote tags cannot start
    with a digit, and a ``$`` inside an identifier (``a$1``) is part of it, as in PostgreSQL's lexer.
    """
    pieces: list[str] = []
    position, size, copied = 0, len(text), 0
    while position < size:
        char = text[position]
        if char == "'":
            escaped = position > 0 and text[position - 1] in "eE" and (
                position < 2 or not _IDENT_CHAR.match(text[position - 2]))
            position = _string_end(text, position + 1, escaped)
        elif char == '"':
            end = text.find('"', position + 1)
            while end != -1 and text.startswith('""', end):
                end = text.find('"', end + 2)
            position = size if end == -1 else end + 1
        elif text.startswith("--", position):
            end = text.find("\n", position)
            position = size if end == -1 else end + 1
        elif text.startswith("/*", position):
            position = _comment_end(text, position)
        elif char == "$" and not (position > 0 and _IDENT_CHAR.match(text[position - 1])):
            parameter = _PARAMETER.match(text, position)
            tag = None if parameter else _DOLLAR_TAG.match(text, position)
            if parameter:
                position = parameter.end()
                if position < size and not text[position].isspace():
                    pieces.append(text[copied:position] + " ")
                    copied = position
            elif tag:
                end = text.find(tag.group(), tag.end())
                position = size if end == -1 else end + len(tag.group())
            else:
                position += 1
        elif _IDENT_CHAR.match(char):
            match = re.compile(r"[A-Za-z_0-9\u0080-\U0010ffff$]+").match(text, position)
            position = match.end() if match else position + 1
        else:
            position += 1
    pieces.append(text[copied:])
    return "".join(pieces)


def _string_end(text: str, position: int, escaped: bool) -> int:
    size = len(text)
    while position < size:
        char = text[position]
        if escaped and char == "\\":
            position += 2
            continue
        if char == "'":
            if text.startswith("''", position):
                position += 2
                continue
            return position + 1
        position += 1
    return size


def _comment_end(text: str, position: int) -> int:
    depth, position, size = 0, position, len(text)
    while position < size:
        if text.startswith("/*", position):
            depth += 1
            position += 2
        elif text.startswith("*/", position):
            depth -= 1
            position += 2
            if depth == 0:
                return position
        else:
            position += 1
    return size
