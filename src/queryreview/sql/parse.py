"""Turn a source text into parsed Statements, guarding the parser against hostile input."""

from __future__ import annotations

import bisect
import logging
import re
import threading

from queryreview.model import SourceText, Statement
from queryreview.sql.split import split

# sqlglot recurses per nesting level; its compiled build can exhaust the C stack
# (SIGSEGV, not a RecursionError) on very deep nesting. Nothing legitimate nests this deep.
MAX_NESTING_DEPTH = 200
# sqlglot error messages carry this much context on each side; large enough that the
# context before the error gives its exact offset.
_ERROR_CONTEXT = 1_000_000

logging.getLogger("sqlglot").setLevel(logging.ERROR)
_PER_THREAD = threading.local()  # a sqlglot Tokenizer and Parser hold per-parse state

_TOKEN_REPR = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+, col: \d+, start: \d+, end: \d+, comments: \[.*?\]>")
_CLASS_REPR = re.compile(r"<class 'sqlglot\.expressions\.(?:\w+\.)*(\w+)'>")


def _clean_message(message: str) -> str:
    """sqlglot messages embed Python reprs; keep what a SQL author understands."""
    message = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), message)
    return _CLASS_REPR.sub(lambda m: m.group(1), message)


def parse_sql(text: str):
    """Parse one statement with the postgres dialect (raises sqlglot.errors.ParseError).

    Same result as ``sqlglot.parse_one(text, read="postgres")``, but the tokenizer and
    parser are built once per thread: building them costs ~15% of parsing a short statement.
    """
    from sqlglot import exp
    from sqlglot.errors import ParseError

    tokenizer, parser = _tools()
    result = parser.parse(tokenizer.tokenize(text), text)
    if not result or result[0] is None:
        raise ParseError(f"No expression was parsed from '{text}'")
    return exp.Block(expressions=result) if len(result) > 1 else result[0]


def _tools():
    tools = getattr(_PER_THREAD, "tools", None)
    if tools is None:
        from sqlglot.dialects.dialect import Dialect

        dialect = Dialect.get_or_raise("postgres")
        tools = _PER_THREAD.tools = (dialect.tokenizer(), dialect.parser(error_message_context=_ERROR_CONTEXT))
    return tools


def statements(source: SourceText) -> list[Statement]:
    """Split ``source`` and parse each statement; failures are recorded, never raised."""
    result = split_statements(source)
    for statement in result:
        parse_statement(statement)
    return result


def parse_text(text: str):
    """The tree of a text holding one statement (a pg_stat_statements entry…), with every guard
    ``check`` applies (nesting limit, ``$1,$2`` repair); None when it is not one parseable statement."""
    found = statements(SourceText("<statement>", text))
    if len(found) != 1:
        return None
    return found[0].ast


def split_statements(source: SourceText) -> list[Statement]:
    """Statements of ``source``, not parsed yet: cheap, so a caller can parse (and drop) one at a time."""
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
        if raw.unterminated is not None and raw.kind != "meta":
            what, opener = raw.unterminated
            statement.error = f"unterminated {what}"
            statement.error_offset = opener - raw.start
        result.append(statement)
    return result


def parse_statement(statement: Statement) -> None:
    """Fill ``statement.ast``, or ``statement.error`` when it cannot (or must not) be parsed."""
    if statement.kind == "meta" or statement.ast is not None or statement.error is not None:
        return
    if statement.nesting_depth > MAX_NESTING_DEPTH:
        statement.error = (
            f"nesting too deep to analyse ({statement.nesting_depth} levels of parentheses, brackets "
            f"or subscripts; limit {MAX_NESTING_DEPTH})"
        )
        return
    _parse_into(statement)


def _parse_spaced(statement: Statement) -> bool:
    """Retry with a space after each ``$n``: sqlglot reads ``$1,$2`` (common in pg_stat_statements
    texts) as a dollar quote. Node offsets are mapped back to the original text. True if it parsed."""
    from queryreview.sql.params import spaced_parameters

    spaced = spaced_parameters(statement.text)
    if spaced == statement.text:
        return False
    try:
        tree = parse_sql(spaced)
    except Exception:
        return False
    inserted, original = [], statement.text
    j = 0
    for i, char in enumerate(spaced):
        if j < len(original) and original[j] == char:
            j += 1
        else:
            inserted.append(i)
    for node in tree.walk():
        meta = getattr(node, "_meta", None)
        if meta and "start" in meta:
            meta["start"] -= bisect.bisect_left(inserted, meta["start"])
            meta["end"] -= bisect.bisect_left(inserted, meta["end"])
    statement.ast = tree
    return True


def _parse_into(statement: Statement) -> None:
    from sqlglot.errors import ParseError, TokenError

    try:
        try:
            statement.ast = parse_sql(statement.text)
        except (ParseError, TokenError):
            if not _parse_spaced(statement):
                raise
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        statement.error = _clean_message(first.get("description") or str(error).splitlines()[0])
        context = first.get("start_context")
        statement.error_offset = len(context) if isinstance(context, str) else 0
    except TokenError as error:
        statement.error = str(error).splitlines()[0]
    except RecursionError:
        statement.error = "statement too deeply nested to analyse"
    except Exception as error:  # a parser bug must cost one statement, not the whole review
        detail = (str(error).splitlines() or [""])[0][:200]
        statement.error = f"the SQL parser failed on this statement ({type(error).__name__}: {detail})"
    if statement.ast is None and statement.error is None:
        statement.error = "empty statement"
