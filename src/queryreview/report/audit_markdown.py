"""Markdown report of ``queryreview audit`` (GitHub-flavoured): tables, fenced SQL, plans in <details>.

Every piece of text from the database goes through ``inline`` (specials escaped, pipes
escaped in tables) or into a fence longer than any backtick run inside it.
"""

from __future__ import annotations

import html

from queryreview.audit.model import AuditReport, QueryRow, Verification
from queryreview.model import Finding, Review
from queryreview.report import audit as story
from queryreview.workload import percent
from queryreview.report.markdown import _longest_backticks, _paragraph, _recommendation_block, inline

STATEMENT_CELL_CHARS = 80


def render(report: AuditReport) -> str:
    parts = [f"# {inline(story.clean(story.title(report)))}\n"]
    banner = story.partial_text(report)
    if banner:
        parts.append(f"> [!CAUTION]\n> **{inline(story.clean(banner))}**\n")
    parts.append(_header(report))
    parts.append(_top_table(report))
    parts += _statements(report)
    parts += _recommendations(report.review)
    parts += _capacity(report)
    if report.verification is not None:
        parts.append(_verification(report.verification))
    parts += _others(report)
    notes = _notes(report.review)
    if notes:
        parts.append(notes)
    return "\n".join(part.rstrip("\n") + "\n" for part in parts if part)


def _text(text: str) -> str:
    return inline(story.clean(text))


def _header(report: AuditReport) -> str:
    lines = [f"- **{label}:** {_text(value)}" for label, value in story.header_facts(report)]
    if report.skipped:
        lines.append("- **skipped:**")
        lines += [f"  - {_text(item)}" for item in report.skipped]
    return "\n".join(lines) + "\n"


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], right: int) -> str:
    """A GitHub table; the first ``right`` columns after the first are right-aligned (figures)."""
    align = ["---:" if 0 < index <= right else "---" for index in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def code_cell(text: str | None, limit: int = STATEMENT_CELL_CHARS) -> str:
    """A statement shortened for a table cell: a code span with its pipes escaped.

    A backslash would end up before an escaped pipe (``\\\\|`` splits the row in GitHub's
    table parser), and backslashes cannot be escaped inside a code span: such text is
    written as escaped plain text instead.
    """
    flat = story.shorten(text, limit)
    if "\\" in flat:
        return inline(flat, table=True)
    fence = "`" * (_longest_backticks(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}".replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code outside tables (one line)."""
    flat = " ".join(story.clean(text).split())
    fence = "`" * (_longest_backticks(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _fenced(text: str, language: str = "sql") -> str:
    body = story.clean(text).rstrip()
    fence = "`" * max(3, _longest_backticks(body) + 1)
    return f"{fence}{language}\n{body}\n{fence}\n"


# --- top statements ----------------------------------------------------------------------------------


def _top_table(report: AuditReport) -> str:
    heading = f"## Top statements by database time ({len(report.queries)})\n\n"
    if not report.queries:
        return heading + "No statement figures: pg_stat_statements was not available or held no entries.\n"
    rows = []
    for row in report.queries:
        cells = story.table_cells(row)
        rank = f"[{cells[0]}](#statement-{row.rank})" if row.findings or row.plan_error else cells[0]
        rows.append((rank, *cells[1:], code_cell(row.text)))
    return heading + _table(story.TABLE_HEADERS, rows, right=7)


# --- statements --------------------------------------------------------------------------------------


def _statements(report: AuditReport) -> list[str]:
    rows = story.storied_rows(report)
    if not rows:
        return []
    return [f"## Statements with findings ({len(rows)})\n"] + [_statement(report, row) for row in rows]


def _statement(report: AuditReport, row: QueryRow) -> str:
    parts = [f'<a id="statement-{row.rank}"></a>\n\n### #{row.rank} · {percent(row.share)} of database time\n',
             _text(" · ".join(story.statement_facts(row))) + "\n", _fenced(row.text)]
    plan = story.plan_text(row)
    if plan:
        parts.append(f"*{_text(plan)}*\n")
    for finding in row.findings:
        parts.append(_finding(finding, story.node_of(row, finding)))
    if row.plan is not None:
        from queryreview.plan.summary import render_tree

        tree = render_tree(row.plan, f"#{row.rank}", 100, False)
        headline, _, body = tree.partition("\n")
        parts.append(f"<details>\n<summary>{html.escape(story.clean(headline), quote=False)}</summary>\n\n"
                     + _fenced(body, "text") + "\n</details>\n")
    helpers = story.helped_by(report, row)
    if helpers:
        lines = ["**Helped by:**", ""]
        for rank, recommendation in helpers:
            lines.append(f"- [{rank}](#recommendation-{rank}). {_text(story.recommendation_line(recommendation))}: "
                         f"{_code(recommendation.sql)}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def _finding(finding: Finding, where: str | None) -> str:
    head = f"**{finding.code} {inline(finding.rule)}** · {finding.severity}"
    if where:
        head += f" · {_text(where)}"
    parts = [head, "", _paragraph(story.clean(finding.message)), ""]
    if finding.help:
        parts += ["**Help:** " + _paragraph(story.clean(finding.help)), ""]
    if finding.fix is not None:
        parts += ["**Fix:** " + _paragraph(story.clean(finding.fix.description)), ""]
        if finding.fix.sql:
            parts.append(_fenced(finding.fix.sql))
    return "\n".join(parts).rstrip("\n") + "\n"


# --- recommendations ---------------------------------------------------------------------------------


def _recommendations(review: Review) -> list[str]:
    groups = story.recommendation_groups(review)
    if not groups and not review.rejected:
        return []
    parts = [f"## Recommendations ({len(review.recommendations)})\n"]
    for heading, items in groups:
        parts.append(f"### {heading} ({len(items)})\n")
        for rank, recommendation in items:
            block = _recommendation_block(rank, recommendation)
            parts.append(f'<a id="recommendation-{rank}"></a>\n\n' + story.clean(block))
    if review.rejected:
        lines = [f"### Considered, rejected ({len(review.rejected)})", ""]
        lines += [f"- {_text(story.rejected_line(recommendation))}" for recommendation in review.rejected]
        parts.append("\n".join(lines) + "\n")
    return parts


# --- capacity, verification, others, notes -----------------------------------------------------------


def _capacity(report: AuditReport) -> list[str]:
    if not report.capacity:
        return []
    return [f"## Capacity notes ({len(report.capacity)})\n"] + [
        _finding(finding, story.place(report, finding)) for finding in report.capacity]


def _verification(verification: Verification) -> str:
    parts = ["## Verified before/after\n",
             "Indexes applied on a disposable database, the same workload run again.\n",
             _table(("", "before", "after", "change"),
                    [tuple(inline(cell, table=True) for cell in row) for row in story.verification_rows(verification)],
                    right=3),
             "\n".join(f"- {_text(fact)}" for fact in story.verification_facts(verification)) + "\n"]
    if verification.applied:
        parts.append(f"**Applied ({len(verification.applied)}):**\n")
        parts.append(_fenced("\n".join(sql.rstrip().rstrip(";") + ";" for sql in verification.applied)))
    if verification.failed:
        lines = [f"**Could not be built ({len(verification.failed)}):**", ""]
        lines += [f"- {_code(sql)}: {_text(why)}" for sql, why in verification.failed]
        parts.append("\n".join(lines) + "\n")
    if verification.statements:
        rows = [(*(inline(cell, table=True) for cell in story.change_cells(change)), code_cell(change.text))
                for change in verification.statements]
        parts.append("**Per statement:**\n")
        parts.append(_table(("calls before → after", "mean before", "mean after", "change", "statement"), rows,
                            right=3))
    if verification.notes:
        parts.append("\n".join(f"- note: {_text(note)}" for note in verification.notes) + "\n")
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def _others(report: AuditReport) -> list[str]:
    findings = story.other_findings(report)
    if not findings:
        return []
    return [f"## Other findings ({len(findings)})\n", "The schema and the workload as a whole.\n"] + [
        _finding(finding, story.place(report, finding)) for finding in findings]


def _notes(review: Review) -> str:
    lines = [f"- note: {_text(note)}" for note in review.notes]
    lines += [f"- skipped {_text(line)}" for line in story.skipped_rule_lines(review)]
    if not lines:
        return ""
    return "## Notes\n\n" + "\n".join(lines) + "\n"
