"""--redact: take data values out of a snapshot, keep everything the rules need.

    redact_query("SELECT * FROM users WHERE email = 'bob@example.com' AND id = $1")
    # -> "SELECT * FROM users WHERE email = $2 AND id = $1"

What goes:
- literals in query texts (strings, numbers, dollar-quoted bodies, E'', B'', X'', U&''),
  replaced by $n placeholders numbered after the text's own; comments, which may carry
  values too (sqlcommenter tags), are dropped. The text is rebuilt from sqlglot's tokens,
  so nothing the tokenizer did not recognise survives, and the result is tokenized again to
  prove it holds no literal. A text that cannot be tokenized becomes UNPARSABLE.
- pg_stats most_common_vals and histogram_bounds (real column values). null_frac,
  n_distinct, correlation, avg_width and most_common_freqs stay: they are numbers about
  the distribution, not values from it.
- literals in column defaults ('active'::text -> $1::text); defaults without literals
  (now(), gen_random_uuid()) and sequence defaults nextval('orders_id_seq'::regclass) stay.

What stays: schema text the rules read: index definitions and predicates, constraint
definitions, types. They are the database's design, not its data.
"""

from __future__ import annotations

import re
from dataclasses import replace

from queryreview.catalog import Catalog, ColumnStats, Table, WorkloadStats

UNPARSABLE = "<redacted: unparsable>"

_LITERAL_TOKENS = frozenset({
    "STRING", "NUMBER", "NATIONAL_STRING", "RAW_STRING", "HEREDOC_STRING", "HEX_STRING", "BIT_STRING",
    "BYTE_STRING", "UNICODE_STRING",
})
_TYPMOD_TYPES = frozenset({"VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "BPCHAR", "DECIMAL", "BIT", "TIME", "TIMETZ",
                           "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "DOUBLE"})
_COMMAND_TOKENS = frozenset({"COMMAND", "EXECUTE", "FETCH", "LOCK", "RENAME", "SHOW"})
_NEXTVAL_DEFAULT = re.compile(r"nextval\('(?:[^']|'')+'::regclass\)")
_PLACEHOLDER = re.compile(r"\$(\d+)")


def redact_query(text: str | None) -> str | None:
    """The text with every literal replaced by a $n placeholder and comments dropped; UNPARSABLE if that is unsafe."""
    if text is None:
        return None
    try:
        redacted = _replace_literals(text)
        # Belt and braces: a changed text must tokenize again without a literal. An unchanged one
        # already did (any literal would have been replaced): most pg_stat_statements texts.
        if redacted != text and _has_literal(redacted):
            return UNPARSABLE
    except Exception:  # the tokenizer rejects the text (unterminated quote…): never guess
        return UNPARSABLE
    return redacted


def redact_default(default: str | None) -> str | None:
    """A column default without data: literals become $n, except a sequence's nextval('name'::regclass)."""
    if default is None or _NEXTVAL_DEFAULT.fullmatch(default.strip()):
        return default
    return redact_query(default)


def redact_column_stats(stats: ColumnStats) -> ColumnStats:
    return replace(stats, most_common_vals=None, histogram_bounds=None)


def redact_table(table: Table) -> Table:
    return replace(
        table,
        columns=tuple(replace(column, default=redact_default(column.default)) for column in table.columns),
        column_stats=tuple(redact_column_stats(stats) for stats in table.column_stats),
    )


def redact_catalog(catalog: Catalog) -> Catalog:
    return replace(catalog, tables={name: redact_table(table) for name, table in catalog.tables.items()})


def redact_workload(workload: WorkloadStats) -> WorkloadStats:
    statements = [replace(stat, query=redact_query(stat.query)) for stat in workload.statements]
    return replace(workload, statements=statements)


# -- tokens ------------------------------------------------------------------------------------------


class _Kinds:
    """sqlglot's token types, resolved once on first use (sqlglot stays out of the import path)."""

    tokenizer = None
    literal: frozenset = frozenset()
    command: frozenset = frozenset()
    typmod: frozenset = frozenset()
    number = parameter = string = l_paren = comma = var = None


def _tokens(text: str) -> list:
    if _Kinds.tokenizer is None:
        from sqlglot.dialects.postgres import Postgres
        from sqlglot.tokens import TokenType

        _Kinds.literal = frozenset(TokenType[name] for name in _LITERAL_TOKENS)
        _Kinds.command = frozenset(TokenType[name] for name in _COMMAND_TOKENS)
        _Kinds.typmod = frozenset(TokenType[name] for name in _TYPMOD_TYPES if name in TokenType.__members__)
        _Kinds.number, _Kinds.parameter, _Kinds.string = TokenType.NUMBER, TokenType.PARAMETER, TokenType.STRING
        _Kinds.l_paren, _Kinds.comma, _Kinds.var = TokenType.L_PAREN, TokenType.COMMA, TokenType.VAR
        _Kinds.tokenizer = Postgres().tokenizer()
    return _Kinds.tokenizer.tokenize(text)


def _is_literal(token) -> bool:
    return token.token_type in _Kinds.literal


def _command_rest(text: str, tokens: list, index: int) -> str | None:
    """After DO, CALL, EXPLAIN, VACUUM… sqlglot keeps the rest of the statement as one unquoted STRING token.

    Its ``start`` is unreliable; the text ends at ``end``. None when the token is an ordinary literal.
    """
    token = tokens[index]
    if (token.token_type is not _Kinds.string or index == 0 or index != len(tokens) - 1
            or tokens[index - 1].token_type not in _Kinds.command):
        return None
    start = token.end - len(token.text) + 1
    rest = text[start:token.end + 1]
    if rest != token.text or rest.startswith("'") or start <= tokens[index - 1].end:
        raise ValueError("cannot place the rest of a command")  # -> UNPARSABLE
    return rest


def _has_literal(text: str) -> bool:
    tokens = _tokens(text)
    for index, token in enumerate(tokens):
        rest = _command_rest(text, tokens, index)
        if rest is not None:
            if _has_literal(rest):
                return True
        elif _is_literal(token) and not _is_placeholder_number(tokens, index) and not _is_typmod(tokens, index):
            return True
    return False


def _replace_literals(text: str) -> str:
    used = [int(number) for number in _PLACEHOLDER.findall(text)]
    return _Replacer(max(used, default=0) + 1).run(text)


class _Replacer:
    """Rebuilds a text from its tokens, literals swapped for $n (numbering shared with nested command text)."""

    def __init__(self, next_number: int) -> None:
        self.next_number = next_number

    def placeholder(self) -> str:
        self.next_number += 1
        return f"${self.next_number - 1}"

    def run(self, text: str) -> str:
        tokens = _tokens(text)
        pieces: list[str] = []
        previous_end = -1
        index = 0
        while index < len(tokens):
            token = tokens[index]
            gap = text[previous_end + 1:token.start]
            # Whitespace is kept; anything else between tokens is a comment: dropped.
            if gap.strip():
                gap = " " if pieces else ""
            pieces.append(gap)
            last = index
            rest = _command_rest(text, tokens, index)
            if rest is not None:
                gap = text[previous_end + 1:token.end - len(rest) + 1]
                pieces[-1] = gap if not gap.strip() else " "
                pieces.append(self.run(rest))
            elif _is_literal(token) and not _is_placeholder_number(tokens, index) and not _is_typmod(tokens, index):
                # 1_000 or 0o17 tokenize as NUMBER followed by glued VAR/NUMBER pieces: one literal.
                while (token.token_type is _Kinds.number and last + 1 < len(tokens)
                       and tokens[last + 1].start == tokens[last].end + 1
                       and tokens[last + 1].token_type in (_Kinds.var, _Kinds.number)):
                    last += 1
                pieces.append(self.placeholder())
            else:
                pieces.append(text[token.start:token.end + 1])
            previous_end = tokens[last].end
            index = last + 1
        tail = text[previous_end + 1:]
        pieces.append(tail if not tail.strip() else "")
        return "".join(pieces)


def _is_placeholder_number(tokens: list, index: int) -> bool:
    """The 1 of $1: sqlglot tokenizes a placeholder as PARAMETER '$' then NUMBER, glued together."""
    token = tokens[index]
    if token.token_type is not _Kinds.number or index == 0:
        return False
    before = tokens[index - 1]
    return before.token_type is _Kinds.parameter and before.end + 1 == token.start


def _is_typmod(tokens: list, index: int) -> bool:
    """The 10 of varchar(10) or numeric(10, 2): part of a type, not a value.

    Only types that take a modifier count: int4(5) is a function-style cast of a value.
    """
    if tokens[index].token_type is not _Kinds.number:
        return False
    position = index - 1
    while position >= 0 and tokens[position].token_type in (_Kinds.number, _Kinds.comma):
        position -= 1
    return (position >= 1 and tokens[position].token_type is _Kinds.l_paren
            and tokens[position - 1].token_type in _Kinds.typmod)
