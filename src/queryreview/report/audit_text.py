"""Terminal report of ``queryreview audit``: at most 100 columns, readable without colour.

Prose is wrapped to the width; SQL (statements, CREATE INDEX, rewrites, fixes) is never
wrapped, so it can be copied as it is — the same policy as report/text.py.
"""

from __future__ import annotations

from rich.cells import cell_len

from queryreview.audit.model import AuditReport, QueryRow, Verification
from queryreview.model import Finding, Review
from queryreview.report import audit as story
from queryreview.report.text import _STYLE, _painter, _recommendation, _use_color, _width
from queryreview.report.text import _wrap as _wrap_chars

MAX_SQL_LINES = 30  # a statement's text in its section; the JSON report has it whole
LABEL_WIDTH = 14


def render(report: AuditReport, color: bool | None = None, width: int | None = None) -> str:
    use_color = _use_color(color)
    paint = _painter(use_color)
    width = _width(width)
    out: list[str] = []
    banner = story.partial_text(report)
    if banner:
        out += [paint(line, "bold red") for line in _wrap(banner, width, "!! ", "   ")] + [""]
    out += _header(report, width, paint)
    out += _top_table(report, width, paint)
    out += _statements(report, width, paint, use_color)
    out += _recommendations(report.review, width, paint)
    out += _capacity(report, width, paint)
    if report.verification is not None:
        out += _verification(report.verification, width, paint)
    out += _others(report, width, paint)
    out += _notes(report, width, paint)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """report/text.py's wrap, measured in terminal cells: wide characters (CJK) take two columns."""
    lines = _wrap_chars(text, width, first, rest)
    if text.isascii():
        return lines
    target = width
    while target > 20:
        excess = max(cell_len(line) for line in lines) - width
        if excess <= 0:
            break
        target -= excess
        lines = _wrap_chars(text, target, first, rest)
    return lines


def _heading(text: str, paint) -> list[str]:
    return [paint(text, "bold"), paint("─" * min(len(text), 100), "dim")]


def _header(report: AuditReport, width: int, paint) -> list[str]:
    out = [paint(line, "bold") for line in _wrap(story.title(report), width, "", "  ")]
    for label, value in story.header_facts(report):
        out += _wrap(value, width, f"  {label:<{LABEL_WIDTH}} ", " " * (LABEL_WIDTH + 3))
    if report.skipped:
        out.append(f"  {'skipped':<{LABEL_WIDTH}} {len(report.skipped)} item{'s' if len(report.skipped) != 1 else ''}:")
        for item in report.skipped:
            out += _wrap(item, width, " " * (LABEL_WIDTH + 3) + "- ", " " * (LABEL_WIDTH + 5))
    return out + [""]


# --- the top statements table ------------------------------------------------------------------------


def _top_table(report: AuditReport, width: int, paint) -> list[str]:
    if not report.queries:
        return _heading("Top statements by database time", paint) + [
            "  No statement figures: pg_stat_statements was not available or held no entries.", ""]
    rows = [story.table_cells(row) for row in report.queries]
    headers = story.TABLE_HEADERS[:-1]
    widths = [max(len(headers[i]), *(len(cells[i]) for cells in rows)) for i in range(len(headers))]
    used = 2 + sum(widths) + len(widths)  # indent, columns, one space after each
    room = max(width - used, 12)

    def line(cells: tuple[str, ...], statement: str) -> str:
        return "  " + " ".join(cell.rjust(w) for cell, w in zip(cells, widths)) + " " + statement

    out = _heading(f"Top statements by database time ({len(report.queries)})", paint)
    out.append(paint(line(headers, "statement").rstrip(), "dim"))
    for row, cells in zip(report.queries, rows):
        text = line(cells, story.shorten(row.text, room))
        out.append(paint(text, "bold") if row.findings else text)
    return out + [""]


# --- each statement's story --------------------------------------------------------------------------


def _statements(report: AuditReport, width: int, paint, use_color: bool) -> list[str]:
    rows = story.storied_rows(report)
    if not rows:
        return []
    out = _heading(f"Statements with findings ({len(rows)})", paint)
    for row in rows:
        out += _statement(report, row, width, paint, use_color)
    return out


def _statement(report: AuditReport, row: QueryRow, width: int, paint, use_color: bool) -> list[str]:
    head = f"#{row.rank} "
    out = [paint(line, "bold") for line in _wrap(" · ".join(story.statement_facts(row)), width, head,
                                                   " " * len(head))]
    out += _sql_lines(row.text, "    ", paint, MAX_SQL_LINES)
    plan = story.plan_text(row)
    if plan:
        out += [paint(line, "yellow" if row.plan_error else "dim") for line in _wrap(plan, width, "    ", "      ")]
    out.append("")
    for finding in row.findings:
        out += _finding(finding, story.node_of(row, finding), width, paint, "    ")
    if row.plan is not None:
        from queryreview.plan.summary import render_tree

        tree = render_tree(row.plan, f"#{row.rank}", width - 4, use_color)
        out += ["    " + line if line else "" for line in tree.rstrip("\n").split("\n")] + [""]
    helpers = story.helped_by(report, row)
    if helpers:
        out.append("    helped by:")
        for rank, recommendation in helpers:
            out += _wrap(story.recommendation_line(recommendation), width, f"    {rank:>3}. ", " " * 9)
            out += [paint(f"         {story.clean(line)}", "green") for line in recommendation.sql.splitlines()]
        out.append("")
    return out


def _finding(finding: Finding, where: str | None, width: int, paint, indent: str) -> list[str]:
    style = _STYLE.get(finding.severity, "bold")
    head = (paint(finding.code, style) + " " + paint(finding.rule, "bold") + " "
            + paint(f"[{finding.severity}]", style))
    if where:
        # the place goes on its own line when it would push the head past the width
        head_len = len(indent) + len(f"{finding.code} {finding.rule} [{finding.severity}] · ")
        if head_len + len(where) <= width:
            out = [indent + head + " · " + story.clean(where)]
        else:
            out = [indent + head] + _wrap(where, width, indent + "  at ", indent + "     ")
    else:
        out = [indent + head]
    body = indent + "  "
    out += _wrap(finding.message, width, body, body)
    if finding.help:
        out += [paint(line, "green") for line in _wrap(finding.help, width, body + "= help: ", body + " " * 8)]
    if finding.fix is not None:
        out += [paint(line, "green") for line in _wrap(finding.fix.description, width, body + "= fix: ",
                                                        body + " " * 7)]
        out += _sql_lines(finding.fix.sql or "", body + "    ", paint, None, "green")
    return out + [""]


def _sql_lines(sql: str, indent: str, paint, limit: int | None, style: str = "") -> list[str]:
    """SQL as it is, line by line (never wrapped), trailing blank lines dropped; at most ``limit`` lines."""
    lines = story.clean(sql).expandtabs(4).rstrip().split("\n") if sql.strip() else []
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    shown = lines if limit is None else lines[:limit]
    out = [paint(indent + line, style) if style else indent + line for line in shown]
    if len(shown) < len(lines):
        more = len(lines) - len(shown)
        out.append(paint(f"{indent}… {more} more line{'s' if more != 1 else ''} (--format json has the whole text)",
                         "dim"))
    return out


# --- recommendations ---------------------------------------------------------------------------------


def _recommendations(review: Review, width: int, paint) -> list[str]:
    out: list[str] = []
    for heading, items in story.recommendation_groups(review):
        out += _heading(f"{heading} ({len(items)})", paint)
        for rank, recommendation in items:
            out += _recommendation(rank, recommendation, width, paint)
    if review.rejected:
        out += _heading(f"Considered, rejected ({len(review.rejected)})", paint)
        for recommendation in review.rejected:
            out += _wrap(story.rejected_line(recommendation), width, "  - ", "    ")
        out.append("")
    return out


# --- capacity, verification, other findings, notes ---------------------------------------------------


def _capacity(report: AuditReport, width: int, paint) -> list[str]:
    if not report.capacity:
        return []
    out = _heading(f"Capacity notes ({len(report.capacity)})", paint)
    for finding in report.capacity:
        out += _finding(finding, story.place(report, finding), width, paint, "  ")
    return out


def _verification(verification: Verification, width: int, paint) -> list[str]:
    out = _heading("Verified before/after: indexes applied on a disposable database, workload run again", paint)
    rows = [("", "before", "after", "change"), *story.verification_rows(verification)]
    widths = [max(cell_len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        text = "  " + row[0].ljust(widths[0]) + "  " + "  ".join(
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:]))
        out.append(paint(text.rstrip(), "dim" if index == 0 else "bold" if index == 1 else ""))
    out.append("")
    for fact in story.verification_facts(verification):
        out += _wrap(fact, width, "  - ", "    ")
    out.append("")
    if verification.applied:
        out.append(f"  applied ({len(verification.applied)}):")
        for sql in verification.applied:
            out += _sql_lines(sql, "      ", paint, None, "green")
    if verification.failed:
        out.append(f"  could not be built ({len(verification.failed)}):")
        for sql, why in verification.failed:
            out += _sql_lines(sql, "      ", paint, None)
            out += [paint(line, "yellow") for line in _wrap(why, width, "        because ", " " * 16)]
    if verification.applied or verification.failed:
        out.append("")
    if verification.statements:
        out += _changes(verification, width, paint)
    for note in verification.notes:
        out += [paint(line, "dim") for line in _wrap(note, width, "  note: ", "        ")]
    if verification.notes:
        out.append("")
    return out


def _changes(verification: Verification, width: int, paint) -> list[str]:
    headers = ("calls before → after", "mean before", "mean after", "change")
    rows = [story.change_cells(change) for change in verification.statements]
    widths = [max(len(headers[i]), *(len(cells[i]) for cells in rows)) for i in range(4)]
    room = max(width - 2 - sum(widths) - 4, 12)

    def line(cells: tuple[str, ...], statement: str) -> str:
        return "  " + " ".join(cell.rjust(w) for cell, w in zip(cells, widths)) + " " + statement

    out = ["  per statement:", paint(line(headers, "statement").rstrip(), "dim")]
    out += [line(cells, story.shorten(change.text, room)) for change, cells in zip(verification.statements, rows)]
    return out + [""]


def _others(report: AuditReport, width: int, paint) -> list[str]:
    findings = story.other_findings(report)
    if not findings:
        return []
    out = _heading(f"Other findings ({len(findings)}): the schema and the workload as a whole", paint)
    for finding in findings:
        out += _finding(finding, story.place(report, finding), width, paint, "  ")
    return out


def _notes(report: AuditReport, width: int, paint) -> list[str]:
    review = report.review
    skipped = story.skipped_rule_lines(review)
    if not review.notes and not skipped:
        return []
    out = _heading("Notes", paint)
    for note in review.notes:
        out += [paint(line, "dim") for line in _wrap(note, width, "  note: ", "        ")]
    for line in skipped:
        out += [paint(text, "dim") for text in _wrap(line, width, "  skipped ", "          ")]
    return out + [""]

