"""Split SQL text into statements with exact offsets.

Understands what makes naive splitting on ``;`` wrong in PostgreSQL: quoted
strings (``'it''s'``, ``E'\\''``), quoted identifiers, dollar-quoted bodies
(``$fn$ … ; … $fn$``), nested block comments, line comments, and psql
meta-commands (a backslash outside quotes runs to the end of the line).

It also measures nesting (parentheses, brackets, and chained subscripts such as
``a[1][2]``, which sqlglot parses in quadratic time) so the parser can be
spared input deep enough to exhaust its stack or its time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from queryreview.model import Comment

# Runs of characters that can never start or end anything interesting.
_PLAIN = re.compile(r"""[^'"$;()\[\]\\/\-\s]+""")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z_0-9\u0080-\U0010ffff$]")
_E_STRING_END = re.compile(r"(?:[^'\\]|\\.|'')*'", re.S)
_STRING_END = re.compile(r"(?:[^']|'')*'", re.S)
_QUOTED_END = re.compile(r'(?:[^"]|"")*"', re.S)
_NEWLINE = re.compile(r"[\r\n]")
_WORD = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*")
# CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END: psql keeps the ';' inside as part of it
_ROUTINE_HEADS = (("create", "function"), ("create", "procedure"),
                  ("create", "or", "replace", "function"), ("create", "or", "replace", "procedure"))
# COPY … FROM STDIN (SQL or psql's \copy) is followed in a script by data lines up to "\."
_COPY_FROM_STDIN = re.compile(r"\\?copy\s+[^(;']*?(?:\([^)']*\)\s*)?\bfrom\s+stdin\b", re.I)
_END_OF_COPY_DATA = re.compile(r"^\\\.\r?$", re.M)


@dataclass
class RawStatement:
    """A statement's code span [start, end) plus what the splitter saw in it."""

    start: int
    end: int
    kind: str = "sql"  # "sql" | "meta"
    comments: list[Comment] = field(default_factory=list)
    max_depth: int = 0
    unterminated: tuple[str, int] | None = None  # (what, offset of its opener)


def split(text: str) -> list[RawStatement]:
    """Statements of ``text`` in order; comment-only or empty statements are dropped.

    >>> [text[s.start:s.end] for s in split(text := "SELECT ';'; SELECT 2")]
    ["SELECT ';'", 'SELECT 2']
    """
    return _Splitter(text).run()


def _line_end(text: str, pos: int) -> int:
    """Where a ``--`` comment starting at ``pos`` ends: at ``\\r`` or ``\\n``, as in PostgreSQL's lexer."""
    match = _NEWLINE.search(text, pos)
    return len(text) if match is None else match.start()


class _Splitter:
    def __init__(self, text: str) -> None:
        self.text = text
        self.statements: list[RawStatement] = []
        self.pending_comments: list[Comment] = []
        self._reset()

    def _reset(self) -> None:
        self.code_start = -1  # offset of the first code token of the current statement
        self.code_end = -1
        self.depth = 0
        self.max_depth = 0
        self.subscript_chain = 0  # length of the current a[1][2]… chain
        self.head: list[str] = []  # the statement's first words, until we know whether it creates a routine
        self.routine: bool | None = None
        self.begin_depth = 0  # BEGIN [ATOMIC] … END nesting inside a routine body, as psql counts it
        self.comments: list[Comment] = []
        self.line_has_code = False

    def _mark_code(self, start: int, end: int) -> None:
        if self.code_start < 0:
            self.code_start = start
        self.code_end = end
        self.line_has_code = True

    def _finish(self, kind: str = "sql", unterminated: tuple[str, int] | None = None) -> RawStatement | None:
        statement = None
        if self.code_start >= 0:
            statement = RawStatement(
                self.code_start,
                self.code_end,
                kind,
                self.pending_comments + self.comments,
                self.max_depth,
                unterminated,
            )
            self.statements.append(statement)
            self.pending_comments = []
        else:
            self.pending_comments.extend(self.comments)
        self._reset()
        return statement

    def run(self) -> list[RawStatement]:
        text = self.text
        length = len(text)
        pos = 0
        while pos < length:
            plain = _PLAIN.match(text, pos)
            if plain:
                end = plain.end()
                e_string = text.startswith("'", end) and text[end - 1] in "eE" and not self._ident_before(end - 1)
                if self.routine is not False:
                    self._track_words(pos, end - 1 if e_string else end)
                if e_string:
                    if end - 1 > pos:
                        self._mark_code(pos, end - 1)
                    pos = self._quoted(end - 1, end + 1, _E_STRING_END, "string literal")
                else:
                    self._mark_code(pos, end)
                    pos = end
                if pos < 0:
                    return self.statements
                continue
            char = text[pos]
            if char == "\n":
                self.line_has_code = False
                pos += 1
            elif char.isspace():
                pos += 1
            elif char == ";" and self.begin_depth > 0:
                self._mark_code(pos, pos + 1)  # inside BEGIN ATOMIC … END
                pos += 1
            elif char == ";":
                finished = self._finish()
                pos = self._trailing_comment(pos + 1)
                if finished is not None and self._copies_from_stdin(finished):
                    pos = self._skip_copy_data(pos)
            elif char == "-" and text.startswith("--", pos):
                end = _line_end(text, pos)
                self.comments.append(Comment(pos, text[pos:end], not self.line_has_code))
                pos = end
            elif char == "/" and text.startswith("/*", pos):
                pos = self._block_comment(pos)
            elif char == "'":
                pos = self._quoted(pos, pos + 1, _STRING_END, "string literal")
            elif char == '"':
                pos = self._quoted(pos, pos + 1, _QUOTED_END, "quoted identifier")
            elif char == "$":
                pos = self._dollar(pos)
            elif char == "\\":
                pos = self._meta(pos)
            elif char == "(":
                self.depth += 1
                self.max_depth = max(self.max_depth, self.depth)
                self._mark_code(pos, pos + 1)
                pos += 1
            elif char == ")" or char == "]":
                self.depth = max(0, self.depth - 1)
                self._mark_code(pos, pos + 1)
                pos += 1
            elif char == "[":
                chained = self.code_start >= 0 and text[self.code_end - 1] == "]"
                self.subscript_chain = self.subscript_chain + 1 if chained else 1
                self.depth += 1
                self.max_depth = max(self.max_depth, self.depth, self.subscript_chain)
                self._mark_code(pos, pos + 1)
                pos += 1
            else:  # a lone '-' or '/'
                self._mark_code(pos, pos + 1)
                pos += 1
            if pos < 0:  # an unterminated construct consumed the rest of the text
                return self.statements
        self._finish()
        return self.statements

    def _track_words(self, start: int, end: int) -> None:
        """psql's heuristic: in CREATE [OR REPLACE] FUNCTION|PROCEDURE, count BEGIN/CASE … END outside parentheses."""
        text = self.text
        for word in _WORD.finditer(text, start, end):
            if self._ident_before(word.start()) or text.startswith("$", word.end()):
                continue  # part of an identifier such as a$end
            lowered = word.group().lower()
            if self.routine is None:
                self.head.append(lowered)
                prefixes = [h for h in _ROUTINE_HEADS if h[: len(self.head)] == tuple(self.head)]
                if not prefixes:
                    self.routine = False
                    return
                if tuple(self.head) in _ROUTINE_HEADS:
                    self.routine = True
                continue
            if self.depth:
                continue
            if lowered == "begin" or lowered == "case" and self.begin_depth:
                self.begin_depth += 1
            elif lowered == "end" and self.begin_depth:
                self.begin_depth -= 1

    def _ident_before(self, pos: int) -> bool:
        return pos > 0 and bool(_IDENT_CHAR.match(self.text, pos - 1))

    def _trailing_comment(self, pos: int) -> int:
        """A ``-- comment`` on the same line after ``;`` belongs to the statement it ends."""
        text = self.text
        while pos < len(text) and text[pos] in " \t\r":
            pos += 1
        if text.startswith("--", pos) and self.statements:
            end = _line_end(text, pos)
            self.statements[-1].comments.append(Comment(pos, text[pos:end], False))
            return end
        return pos

    def _block_comment(self, pos: int) -> int:
        text = self.text
        depth = 0
        scan = pos
        while True:
            opener = text.find("/*", scan)
            closer = text.find("*/", scan)
            if closer == -1:
                return self._unterminated("block comment", pos)
            if opener != -1 and opener < closer:
                depth += 1
                scan = opener + 2
                continue
            depth -= 1
            scan = closer + 2
            if depth == 0:
                self.comments.append(Comment(pos, text[pos:scan], not self.line_has_code))
                return scan

    def _quoted(self, opener: int, body: int, end_pattern: re.Pattern[str], what: str) -> int:
        match = end_pattern.match(self.text, body)
        if match is None:
            return self._unterminated(what, opener)
        self._mark_code(opener, match.end())
        return match.end()

    def _dollar(self, pos: int) -> int:
        tag = _DOLLAR_TAG.match(self.text, pos)
        if tag is None or self._ident_before(pos):
            # $1 placeholders, or a $ inside an identifier
            self._mark_code(pos, pos + 1)
            return pos + 1
        closer = self.text.find(tag.group(), tag.end())
        if closer == -1:
            return self._unterminated(f"dollar-quoted string {tag.group()}", pos)
        end = closer + len(tag.group())
        self._mark_code(pos, end)
        return end

    def _meta(self, pos: int) -> int:
        """psql meta-command: ends the current statement, runs to the end of the line."""
        self._finish()
        end = self.text.find("\n", pos)
        end = len(self.text) if end == -1 else end
        code_end = end - 1 if self.text[end - 1] == "\r" else end  # a CRLF file's \r is not part of it
        self._mark_code(pos, max(code_end, pos + 1))
        finished = self._finish(kind="meta")
        if finished is not None and self._copies_from_stdin(finished):
            return self._skip_copy_data(end)
        return end

    def _copies_from_stdin(self, statement: RawStatement) -> bool:
        head = self.text[statement.start : statement.start + 5].lower()
        if not (head.startswith("copy") or head.startswith("\\copy")):
            return False
        return bool(_COPY_FROM_STDIN.match(self.text, statement.start, statement.end))

    def _skip_copy_data(self, pos: int) -> int:
        """Data lines after COPY … FROM STDIN are not SQL: skip them, through the line "\\."."""
        line_end = self.text.find("\n", pos)
        if line_end == -1:
            return len(self.text)
        terminator = _END_OF_COPY_DATA.search(self.text, line_end + 1)
        return len(self.text) if terminator is None else terminator.end()

    def _unterminated(self, what: str, opener: int) -> int:
        self._mark_code(opener, len(self.text))
        self._finish(unterminated=(what, opener))
        return -1
