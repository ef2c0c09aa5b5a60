"""Terminal report, ruff-style: ``path:line:col: CODE rule [severity]``, message, code frame, help.

Wrapped to the terminal (at most 100 columns), readable without colour, and colour only
on a terminal without ``NO_COLOR``. Fix SQL is never wrapped, so it can be copied as is.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import unicodedata

from queryreview.model import Finding, Recommendation, Review, SourceText
from queryreview.report import recommendations as words
from queryreview.report.sarif import logical_name

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
# ANSI SGR codes: plain strings are much faster than a rich Console per line (thousands of findings)
_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}
_MAX_FRAME_LINES = 3
MAX_WIDTH = 100
MIN_WIDTH = 40


def _use_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _width(width: int | None) -> int:
    if width is None:
        width = shutil.get_terminal_size((MAX_WIDTH, 24)).columns if sys.stdout.isatty() else MAX_WIDTH
    return max(MIN_WIDTH, min(width, MAX_WIDTH))


def _painter(use_color: bool):
    def paint(text: str, style: str) -> str:
        if not use_color or not text:
            return text
        codes = ";".join(_SGR[word] for word in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"

    return paint


def render(review: Review, color: bool | None = None, width: int | None = None) -> str:
    paint = _painter(_use_color(color))
    width = _width(width)
    out: list[str] = []
    split_sources: dict[str, list[str]] = {}  # each input split into lines once, not per finding
    for finding in review.findings:
        path = finding.location.path
        if path in review.sources and path not in split_sources:
            split_sources[path] = _source_lines(review.sources[path])
        out.extend(_finding_lines(finding, split_sources.get(path), width, paint))
    out.extend(_recommendation_lines(review, width, paint))
    out.append(paint(_summary_line(review), "bold"))
    out.extend(paint(f"skipped {clean(line)}", "dim") for line in _skipped_lines(review.skipped_rules))
    out.extend(paint(f"note: {clean(note)}", "dim") for note in review.notes)
    return "\n".join(out) + "\n"


def _skipped_lines(skipped: list[str]) -> list[str]:
    """One line per reason: "QR201, QR202 (2 rules): needs a database catalog …" (JSON keeps one per rule)."""
    by_reason: dict[str, list[str]] = {}
    for entry in skipped:
        rule, _, reason = entry.partition(": ")
        by_reason.setdefault(reason, []).append(rule)
    lines = []
    for reason, rules in by_reason.items():
        if len(rules) == 1:
            lines.append(f"{rules[0]}: {reason}")
        else:
            codes = ", ".join(rule.split(" ", 1)[0] for rule in rules)
            lines.append(f"{codes} ({len(rules)} rules): {reason}")
    return lines


def _finding_lines(finding: Finding, lines: list[str] | None, width: int, paint) -> list[str]:
    loc = finding.location
    style = _STYLE[finding.severity]
    where = loc.path if logical_name(loc.path) else f"{loc.path}:{loc.line}:{loc.column}"
    out = [paint(f"{clean(where)}:", "bold") + " " + paint(finding.code, style) + " "
           + paint(finding.rule, "bold") + " " + paint(f"[{finding.severity}]", style)]
    out.extend(_wrap(finding.message, width, "  ", "  "))
    if lines is not None:
        out.extend(_frame(finding, lines, width, paint))
    if finding.help:
        out.extend(paint(line, "green") for line in _wrap(finding.help, width, "  = help: ", " " * 10))
    if finding.fix is not None:
        out.extend(paint(line, "green") for line in _wrap(finding.fix.description, width, "  = fix: ", " " * 9))
        out.extend(paint(f"      {clean(fix_line)}", "green") for fix_line in (finding.fix.sql or "").splitlines())
    out.append("")
    return out


def _recommendation_lines(review: Review, width: int, paint) -> list[str]:
    """"Recommendations", ranked, then "Considered, rejected" with the reasons; SQL never wrapped."""
    out: list[str] = []
    if review.recommendations:
        out += [paint(f"Recommendations ({len(review.recommendations)})", "bold"), ""]
        for rank, recommendation in enumerate(review.recommendations, start=1):
            out.extend(_recommendation(rank, recommendation, width, paint))
    if review.rejected:
        out += [paint(f"Considered, rejected ({len(review.rejected)})", "bold"), ""]
        for recommendation in review.rejected:
            out.extend(_wrap(f"{words.title(recommendation)}: {recommendation.reason}", width, "  - ", "    "))
            out.extend(paint(f"      {clean(line)}", "dim") for line in recommendation.sql.splitlines())
            out.append("")
    return out


def _recommendation(rank: int, recommendation: Recommendation, width: int, paint) -> list[str]:
    head = f"{rank:>3}. "
    out = [paint(head + words.title(recommendation), "bold")]
    out.extend(paint(f"{' ' * len(head)}{clean(line)}", "green") for line in recommendation.sql.splitlines())
    out.extend(_wrap(" · ".join(words.facts(recommendation)), width, "     ", "     "))
    if recommendation.statements:
        count = len(recommendation.statements)
        out.append(f"     helps {count} statement{'s' if count != 1 else ''}:")
        for impact in recommendation.statements:
            out.extend(_wrap(words.statement_line(impact), width, "       - ", "         "))
    if recommendation.write_overhead:
        out.extend(_wrap(recommendation.write_overhead, width, "     writes: ", " " * 13))
    out.extend(_wrap(recommendation.reason, width, "     why: ", " " * 10))
    out.append("")
    return out


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Paragraph-preserving wrap; long words (SQL fragments, URLs) are never split."""
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        wrapped = textwrap.wrap(paragraph, width=width, initial_indent=first if not lines else rest,
                                subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)
        lines.extend(wrapped or [(first if not lines else rest).rstrip()])
    return lines


def clean(text: str) -> str:
    """Control characters (ESC, CR, …) would garble a terminal: show them as U+FFFD; keep newlines."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n")
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else "\ufffd" for ch in text)


def _source_lines(source: SourceText) -> list[str]:
    # Split on "\n" only, as SourceText numbers lines: str.splitlines also splits on \f, \x1c, \u2028…
    return [line[:-1] if line.endswith("\r") else line for line in source.text.split("\n")]


def _frame(finding: Finding, lines: list[str], width: int, paint) -> list[str]:
    """The offending lines with a caret underline under the reported span."""
    loc = finding.location
    last = min(loc.end_line, loc.line + _MAX_FRAME_LINES - 1, len(lines))
    gutter = len(str(max(last, loc.line)))
    room = max(width - gutter - 5, 10)  # "  NN | " takes gutter + 5 columns
    out = []
    for number in range(loc.line, max(last, loc.line) + 1):
        if number - 1 >= len(lines):
            break
        content = clean(lines[number - 1]).replace("\t", " ")  # one column per tab keeps columns aligned
        start = loc.column if number == loc.line else 1
        end = loc.end_column if number == loc.end_line else len(content) + 1
        shown, caret_at, caret_len = _window(content, start - 1, max(end, start + 1) - 1, room)
        out.append(paint(f"  {number:>{gutter}} |", "blue") + (" " + shown.rstrip() if shown.strip() else ""))
        out.append(paint(f"  {'':>{gutter}} |", "blue") + " " + " " * caret_at
                   + paint("^" * caret_len, _STYLE[finding.severity]))
    return out


def _window(content: str, start: int, end: int, room: int) -> tuple[str, int, int]:
    """The part of a line that fits in ``room`` columns around [start, end), and the caret's place."""
    from rich.cells import cell_len

    start = min(start, len(content))
    end = max(min(end, len(content)), start + 1)
    lo, prefix = 0, ""
    if cell_len(content) > room:
        if cell_len(content[:start]) > room * 2 // 3:  # scroll right so the span start shows
            lo, prefix = start - room // 3, "…"
        hi = lo
        while hi < len(content) and cell_len(prefix + content[lo:hi + 1]) <= room - 1:
            hi += 1
        shown = prefix + content[lo:hi] + ("…" if hi < len(content) else "")
    else:
        shown, hi = content, len(content)
    caret_at = cell_len(prefix + content[lo:start])
    visible_end = min(end, hi)
    caret_len = max(cell_len(content[start:visible_end]), 1)
    return shown, caret_at, caret_len


def _summary_line(review: Review) -> str:
    counts = review.by_severity()
    if not review.findings:
        head = "No findings"
    else:
        parts = [f"{n} {name if n == 1 or name == 'info' else name + 's'}" for name, n in counts.items() if n]
        head = f"Found {len(review.findings)} finding{'s' if len(review.findings) != 1 else ''} ({', '.join(parts)})"
    return (f"{head} in {review.files} file{'s' if review.files != 1 else ''}, "
            f"{review.statements} statement{'s' if review.statements != 1 else ''} ({review.parsed} parsed).")
