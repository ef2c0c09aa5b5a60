"""Turn a source text into parsed Statements, guarding the parser against hostile input."""

from __future__ import annotations

import logging
import re

from queryreview.model import SourceText, Statement
from queryreview.sql.split import split

# sqlglot recurses per nesting level; its compiled build can exhaust the C stack
# (SIGSEGV, not a RecursionError) on very deep nesting. Nothing legitimate nests this deep.
MAX_NESTING_DEPTH = 200
# sqlglot error messages carry this much context on each side; large enough that the
# context before the error gives its exact offset.
_ERROR_CONTEXT = 1_000_000

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_TOKEN_REPR = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+, col: \d+, start: \d+, end: \d+, comments: \[.*?\]>")
_CLASS_REPR = re.compile(r"<class 'sqlglot\.expressions\.(?:\w+\.)*(\w+)'>")


def _clean_message(message: str) -> str:
    """sqlglot messages embed Python reprs; keep what a SQL author understands."""
    message = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), message)
    return _CLASS_REPR.sub(lambda m: m.group(1), message)


def parse_sql(text: str):
    """Parse one statement with the postgres dialect (raises sqlglot.errors.ParseError)."""
    import sqlglot

    return sqlglot.parse_one(text, read="postgres", error_message_context=_ERROR_CONTEXT)


def statements(source: SourceText) -> list[Statement]:
    """Split ``source`` and parse each statement; failures are recorded, never raised."""
    result = []
    for index, raw in enumerate(split(source.text)):
        statement = Statement(
            source=source,
            index=index,
            text=source.text[raw.start : raw.end],
            start=raw.start,
            kind=raw.kind,
            comments=tuple(raw.comments),
            nesting_depth=raw.max_depth,
        )
        if raw.kind == "meta":
            pass
        elif raw.unterminated is not None:
            what, opener = raw.unterminated
            statement.error = f"unterminated {what}"
            statement.error_offset = opener - raw.start
        elif raw.max_depth > MAX_NESTING_DEPTH:
            statement.error = (
                f"nesting too deep to analyse ({raw.max_depth} levels of parentheses, "
                f"limit {MAX_NESTING_DEPTH})"
            )
        else:
            _parse_into(statement)
        result.append(statement)
    return result


def _parse_into(statement: Statement) -> None:
    from sqlglot.errors import ParseError, TokenError

    try:
        statement.ast = parse_sql(statement.text)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        statement.error = _clean_message(first.get("description") or str(error).splitlines()[0])
        context = first.get("start_context")
        statement.error_offset = len(context) if isinstance(context, str) else 0
    except TokenError as error:
        statement.error = str(error).splitlines()[0]
    except RecursionError:
        statement.error = "statement too deeply nested to analyse"
    if statement.ast is None and statement.error is None:
        statement.error = "empty statement"
