"""Markdown report for a pull-request comment: summary, a findings table, details per finding.

Kept under GitHub's 65,536-character comment limit: when the findings do not fit, the
details and then table rows are cut and a note says how many were left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from queryreview.model import Finding, Recommendation, Review
from queryreview.report import recommendations as words
from queryreview.report.sarif import logical_name
from queryreview.workload import ms, size

COMMENT_LIMIT = 65_536
_BUDGET = COMMENT_LIMIT - 1_024  # room for the truncation note and a bot's own wrapper text
TABLE_MESSAGE_CHARS = 140  # the table stays narrow; the full message is in the details
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)  # CommonMark code spans
_SPECIAL = re.compile(r"([\\*_<>\[\]~#|`])")
_BACKTICKS = re.compile(r"`+")
_ORDERED = re.compile(r"^(\d+)([.)])")


def render(review: Review) -> str:
    head = _head(review)
    advice = _advice(review, _BUDGET // 2 - len(head))
    if not review.findings:
        return head + ("\n" + advice if advice else "")
    findings = review.findings
    budget = _BUDGET - len(advice) - (1 if advice else 0)
    # One table for all findings; when it is too long, keep its first rows (padding unchanged).
    table_lines = _table(findings).splitlines()
    used = len(head) + 1 + sum(len(line) + 1 for line in table_lines[:2])
    rows = _fit((len(line) + 1 for line in table_lines[2:]), budget - used)
    used += sum(len(line) + 1 for line in table_lines[2:2 + rows])
    details = [_details(finding) for finding in findings[:rows]]
    shown_details = _fit((len(text) + 1 for text in details), budget - used)
    parts = [head, "\n".join(table_lines[:2 + rows]) + "\n", *details[:shown_details]]
    note = _truncation_note(len(findings), rows, shown_details)
    if note:
        parts.append(note)
    if advice:
        parts.append(advice)
    return "\n".join(parts).rstrip("\n") + "\n"


def _advice(review: Review, budget: int) -> str:
    """Recommendations (a table, then each one's SQL and evidence) and the rejected ones, within ``budget``:
    when they do not fit, the first table rows and blocks are kept and a note says how many were left out."""
    recommendations, rejected = review.recommendations, review.rejected
    if not recommendations and not rejected:
        return ""
    parts: list[str] = []
    shown_blocks = shown_rejected = 0
    if recommendations:
        table_lines = _recommendation_table(recommendations).splitlines()
        heading = "### Recommendations\n\n" + "\n".join(table_lines[:2])
        budget -= len(heading) + 2
        blocks = [_recommendation_block(rank, r) for rank, r in enumerate(recommendations, start=1)]
        # a row is worth little without its SQL: rows and blocks are kept (or cut) together
        sizes = [len(row) + 1 + len(block) + 1 for row, block in zip(table_lines[2:], blocks)]
        shown_blocks = _fit(sizes, budget)
        budget -= sum(sizes[:shown_blocks])
        parts.append("\n".join([heading, *table_lines[2:2 + shown_blocks]]) + "\n")
        parts.extend(blocks[:shown_blocks])
    if rejected:
        lines = [f"- **{inline(words.title(r))}**: {inline(r.reason)}" for r in rejected]
        heading = "### Considered, rejected\n"
        shown_rejected = _fit((len(line) + 1 for line in lines), budget - len(heading) - 2)
        if shown_rejected:
            parts.append(heading + "\n" + "\n".join(lines[:shown_rejected]) + "\n")
    left_out = len(recommendations) - shown_blocks + len(rejected) - shown_rejected
    if left_out:
        parts.append(f"> [!NOTE]\n> {left_out} recommendation{'s' if left_out != 1 else ''} "
                     "left out to stay under GitHub's comment limit: `--format json` has them all.\n")
    return "\n".join(parts)


def _recommendation_table(recommendations: list[Recommendation]) -> str:
    from tabulate import tabulate

    rows = []
    for rank, r in enumerate(recommendations, start=1):
        rows.append((str(rank), r.kind, inline(r.table or "", table=True),
                     inline(words.cost_change(r.cost_before, r.cost_after) or "", table=True),
                     size(r.size_bytes) if r.size_bytes is not None else "",
                     f"{ms(r.saving_ms_per_day)}" if r.saving_ms_per_day is not None else "", r.validated_by))
    return tabulate(rows, headers=("#", "kind", "table", "cost before → after", "size", "saved per day",
                                   "validated by"), tablefmt="github", disable_numparse=True) + "\n"


def _recommendation_block(rank: int, recommendation: Recommendation) -> str:
    fence = "`" * max(3, _longest_backticks(recommendation.sql) + 1)
    lines = [f"**{rank}. {inline(words.title(recommendation))}**", "", fence + "sql", recommendation.sql.rstrip("\n"),
             fence, ""]
    for impact in recommendation.statements:
        lines.append(f"- helps {inline(words.statement_line(impact))}")
    if recommendation.write_overhead:
        lines.append(f"- writes: {inline(recommendation.write_overhead)}")
    lines.append(f"- why: {inline(recommendation.reason)}")
    return "\n".join(lines) + "\n"


def _fit(sizes: Iterable[int], budget: int) -> int:
    """How many of the leading items fit in ``budget`` characters."""
    count = 0
    for size in sizes:
        budget -= size
        if budget < 0:
            break
        count += 1
    return count


def _head(review: Review) -> str:
    lines = ["## queryreview", ""]
    files = f"{review.files} file{'s' if review.files != 1 else ''}"
    statements = f"{review.statements} statement{'s' if review.statements != 1 else ''}"
    if not review.findings:
        lines.append(f"No findings in {files} ({statements}).")
    else:
        counts = ", ".join(f"{count} {name}{'s' if count != 1 and name != 'info' else ''}"
                           for name, count in review.by_severity().items() if count)
        total = len(review.findings)
        lines.append(f"**{total} finding{'s' if total != 1 else ''}** ({counts}) in {files} ({statements}).")
    for skipped in review.skipped_rules:
        lines.append(f"- skipped {inline(skipped)}")
    for note in review.notes:
        lines.append(f"- note: {inline(note)}")
    return "\n".join(lines) + "\n"


def _table(findings: list[Finding]) -> str:
    from tabulate import tabulate

    rows = [
        (finding.severity, inline(_where(finding), table=True), finding.code, inline(finding.rule, table=True),
         inline(_shorten(finding.message), table=True))
        for finding in findings
    ]
    return tabulate(rows, headers=("severity", "location", "code", "rule", "message"), tablefmt="github",
                    disable_numparse=True) + "\n"


def _details(finding: Finding) -> str:
    summary = html.escape(f"{finding.code} {finding.rule} · {_where(finding)}", quote=False)
    parts = ["<details>", f"<summary>{summary}</summary>", "", _paragraph(finding.message), ""]
    if finding.help:
        parts += ["**Help:** " + _paragraph(finding.help), ""]
    if finding.fix is not None:
        parts += ["**Fix:** " + _paragraph(finding.fix.description), ""]
        if finding.fix.sql:
            fence = "`" * max(3, _longest_backticks(finding.fix.sql) + 1)
            parts += [fence + "sql", finding.fix.sql.rstrip("\n"), fence, ""]
    parts.append("</details>")
    return "\n".join(parts) + "\n"


def _truncation_note(total: int, rows: int, details: int) -> str:
    if rows == total and details == total:
        return ""
    if rows < total:
        shown = f"The table shows {rows} of {total} findings"
    else:
        shown = f"Details are shown for {details} of {total} findings"
    return (f"> [!NOTE]\n> {shown}: this comment would exceed GitHub's {COMMENT_LIMIT:,}-character limit. "
            "Run `queryreview check --format json` for the full report.\n")


def _where(finding: Finding) -> str:
    loc = finding.location
    if logical_name(loc.path) is not None:
        return loc.path
    return f"{'stdin' if loc.path == '-' else loc.path}:{loc.line}"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TABLE_MESSAGE_CHARS:
        return text
    cut = text[: TABLE_MESSAGE_CHARS - 1]
    if cut.count("`") % 2:  # do not leave a code span open
        cut = cut[: cut.rfind("`")].rstrip()
    return cut + "…"


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def inline(text: str, table: bool = False) -> str:
    """Text for one line of Markdown: specials escaped outside code spans, pipes escaped in tables.

    >>> inline("a|b `x|y` *z*", table=True)
    'a\\\\|b `x\\\\|y` \\\\*z\\\\*'
    """
    out = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last:match.start()]))
        span = match.group(0).replace("\n", " ")
        out.append(span.replace("|", "\\|") if table else span)
        last = match.end()
    out.append(_escape_plain(text[last:]))
    joined = "".join(out)
    return joined.replace("\r", "").replace("\n", "<br>" if table else " ")


def _escape_plain(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _paragraph(text: str) -> str:
    """Multi-line text as Markdown lines: escaped, with hard line breaks kept."""
    lines = [_block_safe(inline(line.strip())) for line in text.replace("\r", "").split("\n")]
    return "  \n".join(lines)


def _block_safe(line: str) -> str:
    """A line that cannot start a list, a heading underline or a code block."""
    if line[:1] in ("-", "+", "="):
        return "\\" + line
    return _ORDERED.sub(r"\1\\\2", line, count=1)
