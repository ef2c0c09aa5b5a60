"""The gate's baseline: which full scans (and sorts) each statement is allowed, read, written and diffed.

    key, text = fingerprint("SELECT * FROM orders WHERE id = 42")   # ("5c0f…", "SELECT * FROM orders WHERE id = $1")
    baseline = read_baseline(".queryreview/baseline.json")           # None when the file does not exist
    diff = compare(baseline, observations)                           # new full scans, new sorts, fixed entries
    write_baseline(Baseline.from_observations(observations, baseline), path)

A statement is keyed by a fingerprint of its sqlglot-normalized text (literals and parameters
become ``$n``, identifiers folded, comments and layout dropped), never by pg_stat_statements'
queryid, which changes when a table is dropped and recreated. Within a statement, entries are
keyed by table. The file is JSON with sorted keys and a trailing newline, so that it diffs
cleanly in git (docs/gate.md shows it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from queryreview.errors import InputError

FORMAT = "queryreview-gate-baseline"
FORMAT_VERSION = 1
TEXT_LIMIT = 500  # characters of normalized text kept in the file, for the reader
_SPACES = re.compile(r"\s+")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w$])", re.I)


def fingerprint(text: str, tree: Any = None) -> tuple[str, str]:
    """(key, normalized text) of a statement; ``tree`` is its sqlglot parse if already made.

    >>> fingerprint("select * from Orders where id = 42 -- x")[1]
    'SELECT * FROM orders WHERE id = $1'
    """
    normalized = _normalized(text, tree)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16], normalized


def _normalized(text: str, tree: Any) -> str:
    from sqlglot.errors import SqlglotError

    if tree is None:
        tree = _parse(text)
    if tree is not None:
        try:
            return _render(tree.copy())
        except (SqlglotError, RecursionError, ValueError, TypeError):
            pass
    # sqlglot cannot read it: the text without comments, literals and layout
    plain = _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", text))
    plain = _NUMBER.sub("$n", _STRING.sub("$s", plain))
    return "-- unparsed: " + _SPACES.sub(" ", plain).strip().rstrip(";").lower()


def _parse(text: str) -> Any:
    """The parse of a single statement, through the project's guards (nesting depth), else None."""
    from queryreview.model import SourceText
    from queryreview.sql.parse import statements

    parsed = [s for s in statements(SourceText("<statement>", text)) if s.kind == "sql"]
    return parsed[0].ast if len(parsed) == 1 else None


def _render(tree: Any) -> str:
    from sqlglot import exp
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    tree = normalize_identifiers(tree, dialect="postgres")

    def placeholder(node: exp.Expression) -> exp.Expression:
        return exp.Parameter(this=exp.Literal.number(0)) if _is_constant(node) else node

    tree = tree.transform(placeholder, copy=False)
    for node in list(tree.find_all(exp.In)):
        # pg_stat_statements (PG 18) folds a list of constants into one entry; so does this key
        items = node.expressions
        if len(items) > 1 and all(isinstance(item, exp.Parameter) for item in items):
            node.set("expressions", [items[0]])
    numbers = iter(range(1, 1_000_000))
    return _MARK.sub(lambda _: f"${next(numbers)}", tree.sql(dialect="postgres", comments=False))


_MARK = re.compile(r"\$0(?!\d)")


def _is_constant(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, (exp.Literal, exp.Boolean, exp.Parameter, exp.Placeholder)) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))


# -- observations and the baseline -------------------------------------------------------------


@dataclass
class Observation:
    """What one run saw of one statement: planned or not, and its full scans and sorts by table."""

    key: str
    text: str  # normalized
    planned: bool = True
    full_scans: set[str] = field(default_factory=set)
    sorts: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Entry:
    text: str
    full_scans: tuple[str, ...] = ()
    sorts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "full_scans": list(self.full_scans), "sorts": list(self.sorts)}


@dataclass
class Baseline:
    statements: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def from_observations(cls, observations: list[Observation], previous: Baseline | None = None) -> Baseline:
        """The baseline accepting what was observed; a statement that could not be planned this time
        keeps its previous entry (nothing is known to have changed)."""
        statements: dict[str, Entry] = {}
        for seen in observations:
            if seen.planned:
                statements[seen.key] = Entry(_short(seen.text), tuple(sorted(seen.full_scans)), tuple(sorted(seen.sorts)))
            elif previous is not None and seen.key in previous.statements:
                statements[seen.key] = previous.statements[seen.key]
        return cls(statements)

    def full_scan_count(self) -> int:
        return sum(len(entry.full_scans) for entry in self.statements.values())

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "statements": {key: entry.to_dict() for key, entry in self.statements.items()},
        }
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _short(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def read_baseline(path: str | Path) -> Baseline | None:
    """The baseline file, or None when it does not exist; InputError when it is not one."""
    target = Path(path)
    try:
        raw = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read baseline {path}: {getattr(error, 'strerror', None) or error}") from None
    hint = "write a new one with: queryreview gate … --update-baseline"
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InputError(f"baseline {path} is not valid JSON (line {error.lineno}: {error.msg})", hint=hint) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(f'baseline {path} is not a queryreview gate baseline (no "format": "{FORMAT}")', hint=hint)
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InputError(f"baseline {path} has format_version {version!r}; this queryreview reads "
                         f"{FORMAT_VERSION}", hint="upgrade queryreview, or " + hint)
    statements: dict[str, Entry] = {}
    try:
        for key, entry in (document.get("statements") or {}).items():
            statements[str(key)] = Entry(str(entry.get("text", "")), tuple(str(t) for t in entry.get("full_scans") or ()),
                                         tuple(str(t) for t in entry.get("sorts") or ()))
    except AttributeError:
        raise InputError(f"baseline {path}: each statement must be an object", hint=hint) from None
    return Baseline(statements)


def write_baseline(baseline: Baseline, path: str | Path) -> None:
    """Write atomically (a half-written baseline would fail every later run)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(baseline.to_json())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise InputError(f"cannot write baseline {path}: {error.strerror or error}") from None


# -- the diff --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    """A baseline entry that no longer occurs; ``gone`` when the statement itself is no longer checked."""

    key: str
    table: str
    kind: str  # "full-scan" | "sort"
    text: str
    gone: bool


@dataclass
class Diff:
    new_full_scans: set[tuple[str, str]] = field(default_factory=set)  # (statement key, table)
    new_sorts: set[tuple[str, str]] = field(default_factory=set)
    fixed: list[Fixed] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)  # baseline statements not planned this time


def compare(baseline: Baseline | None, observations: list[Observation]) -> Diff:
    """What is new since the baseline, and what it held that no longer occurs.

    A full scan is new unless the baseline holds it for that statement. A sort is new only for a
    statement the baseline knows, whose plan then had no sort of that table (an index avoided it),
    and only when the table's full scan is not new already (one finding for one cause).
    """
    diff = Diff()
    known = baseline.statements if baseline is not None else {}
    seen_keys = set()
    for seen in observations:
        seen_keys.add(seen.key)
        entry = known.get(seen.key)
        if not seen.planned:
            if entry is not None:
                diff.unplanned.append(seen.key)
            continue
        accepted = set(entry.full_scans) if entry is not None else set()
        for table in sorted(seen.full_scans - accepted):
            diff.new_full_scans.add((seen.key, table))
        if entry is not None:
            for table in sorted(seen.sorts - set(entry.sorts)):
                if (seen.key, table) not in diff.new_full_scans:
                    diff.new_sorts.add((seen.key, table))
            for table in sorted(set(entry.full_scans) - seen.full_scans):
                diff.fixed.append(Fixed(seen.key, table, "full-scan", entry.text, gone=False))
            for table in sorted(set(entry.sorts) - seen.sorts):
                diff.fixed.append(Fixed(seen.key, table, "sort", entry.text, gone=False))
    for key in sorted(set(known) - seen_keys):
        entry = known[key]
        for table in entry.full_scans:
            diff.fixed.append(Fixed(key, table, "full-scan", entry.text, gone=True))
    return diff
