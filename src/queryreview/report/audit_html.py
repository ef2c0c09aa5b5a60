"""HTML report of ``queryreview audit``: one self-contained file to open in a browser.

Inline CSS only: no script, no stylesheet, font or image fetched from anywhere; light and
dark through ``prefers-color-scheme``. Every text from the database or the rules is
escaped; the only attributes written are class names and ids chosen here.
"""

from __future__ import annotations

import html
import re

from queryreview import __version__
from queryreview.audit.model import AuditReport, QueryRow, Verification
from queryreview.model import SEVERITIES, Finding, Recommendation, Review
from queryreview.report import audit as story
from queryreview.report import recommendations as words
from queryreview.workload import percent

STATEMENT_CELL_CHARS = 90
_CODE_SPAN = re.compile(r"`([^`\n]+)`")

CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --card: #f6f8fa;
  --border: #d1d9e0; --accent: #0969da; --error: #cf222e; --warning: #9a6700; --info: #0969da;
  --good: #1a7f37; --bar: #54aeff; --alert: #ffebe9; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --card: #151b23; --border: #3d444d;
    --accent: #4493f8; --error: #f85149; --warning: #d29922; --info: #4493f8; --good: #3fb950;
    --bar: #1f6feb; --alert: #3c1618; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 1.3em; border-bottom: 1px solid var(--border); padding-bottom: 6px; margin: 36px 0 12px; }
h3 { font-size: 1.1em; margin: 0 0 6px; }
h4 { font-size: 1em; margin: 16px 0 6px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 16px 20px;
  margin: 16px 0; }
.partial { background: var(--alert); border: 2px solid var(--error); color: var(--error); font-weight: 700;
  border-radius: 8px; padding: 12px 16px; margin: 0 0 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
nav { margin: 12px 0 0; font-size: .95em; }
nav a { margin-right: 14px; white-space: nowrap; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid var(--border); padding: 5px 8px; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, monospace; font-size: .88em; }
td code { word-break: break-all; }
pre { background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 8px 12px;
  overflow-x: auto; white-space: pre; margin: 8px 0; }
pre.statement { max-height: 24em; }
.muted { color: var(--muted); }
.msg { white-space: pre-line; margin: 4px 0; }
.bar { display: inline-block; height: .6em; background: var(--bar); border-radius: 2px; margin-right: 6px;
  vertical-align: middle; }
.sev { display: inline-block; font-size: .78em; font-weight: 600; padding: 0 7px; border-radius: 10px;
  border: 1px solid currentColor; margin-right: 6px; }
.sev.error { color: var(--error); } .sev.warning { color: var(--warning); } .sev.info { color: var(--info); }
.finding { border-left: 3px solid var(--border); padding: 2px 0 2px 12px; margin: 14px 0; }
.finding.error { border-color: var(--error); } .finding.warning { border-color: var(--warning); }
.finding.info { border-color: var(--info); }
.help { color: var(--good); }
.warn { color: var(--warning); }
details { margin: 8px 0; }
details > summary { cursor: pointer; color: var(--muted); }
.speedup { font-size: 2em; font-weight: 700; color: var(--good); margin: 0; }
.kind { font-size: .8em; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
footer { margin: 40px 0 8px; color: var(--muted); font-size: .85em; }
"""


def render(report: AuditReport) -> str:
    body = [_partial(report), _header(report), _top_table(report), _statements(report),
            _recommendations(report.review), _capacity(report),
            _verification(report.verification) if report.verification is not None else "",
            _others(report), _notes(report.review),
            f'<footer>Written by queryreview {_e(__version__)}.</footer>']
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(story.title(report))}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(part for part in body if part) + "\n</main>\n</body>\n</html>\n")


def _e(text: str) -> str:
    return html.escape(story.clean(text))


def _prose(text: str) -> str:
    """Escaped text whose `code spans` (as rules write them) become <code>."""
    cleaned = story.clean(text)
    out, last = [], 0
    for match in _CODE_SPAN.finditer(cleaned):
        out.append(html.escape(cleaned[last:match.start()]))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    out.append(html.escape(cleaned[last:]))
    return "".join(out)


def _pre(text: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<pre{attribute}>{html.escape(story.clean(text).rstrip())}</pre>"


def _severity(severity: str) -> str:
    return severity if severity in SEVERITIES else "info"


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], numeric: set[int]) -> str:
    """A table of already escaped cells; columns in ``numeric`` are right-aligned."""
    num = ' class="num"'
    head = "".join(f"<th{num if i in numeric else ''}>{h}</th>" for i, h in enumerate(headers))
    lines = [f'<div class="table-wrap"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>']
    for cells in rows:
        lines.append("<tr>" + "".join(f"<td{num if i in numeric else ''}>{cell}</td>"
                                      for i, cell in enumerate(cells)) + "</tr>")
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


# --- header --------------------------------------------------------------------------------------


def _partial(report: AuditReport) -> str:
    banner = story.partial_text(report)
    return f'<div class="partial" role="alert">{_e(banner)}</div>' if banner else ""


def _header(report: AuditReport) -> str:
    facts = "".join(f"<dt>{_e(label)}</dt><dd>{_prose(value)}</dd>" for label, value in story.header_facts(report))
    if report.skipped:
        items = "".join(f"<li>{_prose(item)}</li>" for item in report.skipped)
        facts += f'<dt>skipped</dt><dd><ul style="margin:0;padding-left:18px">{items}</ul></dd>'
    return (f'<header class="card">\n<h1>{_e(story.title(report))}</h1>\n'
            f'<dl class="facts">{facts}</dl>\n{_nav(report)}\n</header>')


def _nav(report: AuditReport) -> str:
    links = [("top", "Top statements")]
    if story.storied_rows(report):
        links.append(("statements", "Statements with findings"))
    if report.review.recommendations or report.review.rejected:
        links.append(("recommendations", "Recommendations"))
    if report.capacity:
        links.append(("capacity", "Capacity"))
    if report.verification is not None:
        links.append(("verification", "Verified before/after"))
    if story.other_findings(report):
        links.append(("other", "Other findings"))
    if report.review.notes or report.review.skipped_rules:
        links.append(("notes", "Notes"))
    return "<nav>" + "".join(f'<a href="#{anchor}">{_e(label)}</a>' for anchor, label in links) + "</nav>"


# --- top statements ----------------------------------------------------------------------------------


def _top_table(report: AuditReport) -> str:
    heading = f'<section id="top">\n<h2>Top statements by database time ({len(report.queries)})</h2>\n'
    if not report.queries:
        return (heading + "<p>No statement figures: pg_stat_statements was not available or held no entries.</p>\n"
                "</section>")
    rows = []
    for row in report.queries:
        cells = [_e(cell) for cell in story.table_cells(row)]
        if row.findings or row.plan_error:
            cells[0] = f'<a href="#statement-{row.rank}">{cells[0]}</a>'
        width = max(1, round(row.share * 60))
        cells[5] = f'<span class="bar" style="width:{width}px"></span>{cells[5]}'
        rows.append((*cells, f"<code>{_e(story.shorten(row.text, STATEMENT_CELL_CHARS))}</code>"))
    return heading + _table(story.TABLE_HEADERS, rows, numeric=set(range(1, 8))) + "\n</section>"


# --- statements --------------------------------------------------------------------------------------


def _statements(report: AuditReport) -> str:
    rows = story.storied_rows(report)
    if not rows:
        return ""
    return (f'<section id="statements">\n<h2>Statements with findings ({len(rows)})</h2>\n'
            + "\n".join(_statement(report, row) for row in rows) + "\n</section>")


def _statement(report: AuditReport, row: QueryRow) -> str:
    parts = [f'<article class="card" id="statement-{row.rank}">',
             f"<h3>#{row.rank} · {_e(percent(row.share))} of database time</h3>",
             f'<div class="muted">{_e(" · ".join(story.statement_facts(row)))}</div>',
             _pre(row.text, "statement")]
    plan = story.plan_text(row)
    if plan:
        parts.append(f'<p class="{"warn" if row.plan_error else "muted"}">{_prose(plan)}</p>')
    parts += [_finding(finding, story.node_of(row, finding)) for finding in row.findings]
    if row.plan is not None:
        from queryreview.plan.summary import render_tree

        headline, _, body = render_tree(row.plan, f"#{row.rank}", 110, False).partition("\n")
        parts.append(f"<details><summary>{_e(headline)}</summary>{_pre(body)}</details>")
    helpers = story.helped_by(report, row)
    if helpers:
        items = "".join(f'<li><a href="#recommendation-{rank}">#{rank}</a> '
                        f"{_e(story.recommendation_line(recommendation))}{_pre(recommendation.sql)}</li>"
                        for rank, recommendation in helpers)
        parts.append(f"<h4>Helped by</h4><ul>{items}</ul>")
    parts.append("</article>")
    return "\n".join(parts)


def _finding(finding: Finding, where: str | None) -> str:
    severity = _severity(finding.severity)
    head = (f'<span class="sev {severity}">{severity}</span><strong>{_e(finding.code)}</strong> '
            f"{_e(finding.rule)}" + (f' <span class="muted">· {_e(where)}</span>' if where else ""))
    parts = [f'<div class="finding {severity}">', f"<div>{head}</div>", f'<p class="msg">{_prose(finding.message)}</p>']
    if finding.help:
        parts.append(f'<p class="msg help"><strong>Help:</strong> {_prose(finding.help)}</p>')
    if finding.fix is not None:
        parts.append(f'<p class="msg"><strong>Fix:</strong> {_prose(finding.fix.description)}</p>')
        if finding.fix.sql:
            parts.append(_pre(finding.fix.sql))
    parts.append("</div>")
    return "\n".join(parts)


# --- recommendations ---------------------------------------------------------------------------------


def _recommendations(review: Review) -> str:
    groups = story.recommendation_groups(review)
    if not groups and not review.rejected:
        return ""
    parts = [f'<section id="recommendations">\n<h2>Recommendations ({len(review.recommendations)})</h2>']
    for heading, items in groups:
        parts.append(f"<h3>{_e(heading)} ({len(items)})</h3>")
        parts += [_recommendation(rank, recommendation) for rank, recommendation in items]
    if review.rejected:
        items = "".join(f"<li>{_prose(story.rejected_line(r))}</li>" for r in review.rejected)
        parts.append(f"<h3>Considered, rejected ({len(review.rejected)})</h3>\n<ul>{items}</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _recommendation(rank: int, recommendation: Recommendation) -> str:
    parts = [f'<div class="card" id="recommendation-{rank}">',
             f'<div class="kind">{_e(recommendation.kind)}</div>',
             f"<h4>{rank}. {_e(words.title(recommendation))}</h4>", _pre(recommendation.sql),
             f"<div>{_e(' · '.join(words.facts(recommendation)))}</div>"]
    if recommendation.statements:
        items = "".join(f"<li>{_prose(line)}</li>" for line in story.impact_lines(recommendation))
        parts.append(f"<div>helps:</div><ul>{items}</ul>")
    if recommendation.write_overhead:
        parts.append(f'<p class="msg muted"><strong>writes:</strong> {_prose(recommendation.write_overhead)}</p>')
    parts.append(f'<p class="msg muted"><strong>why:</strong> {_prose(recommendation.reason)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


# --- capacity, verification, others, notes -----------------------------------------------------------


def _capacity(report: AuditReport) -> str:
    if not report.capacity:
        return ""
    return (f'<section id="capacity">\n<h2>Capacity notes ({len(report.capacity)})</h2>\n'
            + "\n".join(_finding(finding, story.place(report, finding)) for finding in report.capacity)
            + "\n</section>")


def _verification(verification: Verification) -> str:
    speedup = story.factor(verification.before.mean_ms, verification.after.mean_ms)
    parts = ['<section id="verification">\n<h2>Verified before/after</h2>', '<div class="card">',
             f'<p class="speedup">{_e(speedup or "speedup unknown")}</p>',
             "<p class=\"muted\">mean latency of the workload; indexes applied on a disposable database, "
             "the same workload run again</p>",
             _table(("", "before", "after", "change"),
                    [tuple(_e(cell) for cell in row) for row in story.verification_rows(verification)],
                    numeric={1, 2, 3}),
             "<ul>" + "".join(f"<li>{_e(fact)}</li>" for fact in story.verification_facts(verification)) + "</ul>",
             "</div>"]
    if verification.applied:
        parts.append(f"<h3>Applied ({len(verification.applied)})</h3>")
        parts.append(_pre("\n".join(sql.rstrip().rstrip(";") + ";" for sql in verification.applied)))
    if verification.failed:
        items = "".join(f"<li>{_pre(sql)}{_prose(why)}</li>" for sql, why in verification.failed)
        parts.append(f"<h3>Could not be built ({len(verification.failed)})</h3><ul>{items}</ul>")
    if verification.statements:
        rows = [(*(_e(cell) for cell in story.change_cells(change)),
                 f"<code>{_e(story.shorten(change.text, STATEMENT_CELL_CHARS))}</code>")
                for change in verification.statements]
        parts.append("<h3>Per statement</h3>")
        parts.append(_table(("calls before → after", "mean before", "mean after", "change", "statement"), rows,
                            numeric={0, 1, 2, 3}))
    if verification.notes:
        parts.append("<ul>" + "".join(f'<li class="muted">{_prose(note)}</li>' for note in verification.notes)
                     + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _others(report: AuditReport) -> str:
    findings = story.other_findings(report)
    if not findings:
        return ""
    return (f'<section id="other">\n<h2>Other findings ({len(findings)})</h2>\n'
            '<p class="muted">The schema and the workload as a whole.</p>\n'
            + "\n".join(_finding(finding, story.place(report, finding)) for finding in findings) + "\n</section>")


def _notes(review: Review) -> str:
    items = [f"<li>{_prose(note)}</li>" for note in review.notes]
    items += [f'<li class="muted">skipped {_prose(line)}</li>' for line in story.skipped_rule_lines(review)]
    if not items:
        return ""
    return '<section id="notes">\n<h2>Notes</h2>\n<ul>' + "".join(items) + "</ul>\n</section>"
