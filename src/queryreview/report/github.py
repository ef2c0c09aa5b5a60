"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding,
and one ``::notice`` per recommendation (rejected ones are left to the other formats).

GitHub turns them into annotations on the pull request's diff. Example::

    ::warning file=q.sql,line=1,col=8,endLine=1,endColumn=9,title=QR101 select-star::SELECT * …%0AList the columns…
"""

from __future__ import annotations

from queryreview.model import Finding, Recommendation, Review
from queryreview.report import recommendations as words
from queryreview.report.sarif import logical_name, relative_path

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message: %, CR and LF (as the Actions toolkit does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` and ``,`` which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _file(path: str) -> str | None:
    """The annotation's ``file``: relative to the workspace; None for stdin, catalog objects, outside files."""
    if logical_name(path) is not None:
        return None
    relative = relative_path(path)
    return None if relative is None or relative.startswith("/") else relative


def command(finding: Finding) -> str:
    """The workflow command for one finding."""
    return _command(finding, _file(finding.location.path))


def _command(finding: Finding, file: str | None) -> str:
    loc = finding.location
    properties: list[tuple[str, object]] = []
    message = finding.message
    if file is not None:
        properties += [("file", file), ("line", loc.line), ("col", loc.column)]
        if (loc.end_line, loc.end_column) > (loc.line, loc.column):
            properties += [("endLine", loc.end_line), ("endColumn", loc.end_column)]
    else:  # stdin, a catalog object or a file outside the workspace: say where in the message
        where = "stdin" if loc.path == "-" else loc.path
        message = f"{where}:{loc.line}:{loc.column}: {message}" if logical_name(loc.path) is None \
            else f"{where}: {message}"
    properties.append(("title", f"{finding.code} {finding.rule}"))
    if finding.help:
        message = f"{message}\n{finding.help}"
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(message)}"


def recommendation_command(rank: int, recommendation: Recommendation) -> str:
    """A ``::notice`` for one recommendation: its SQL, its numbers and why (about the database: no file)."""
    lines = [recommendation.sql, " · ".join(words.facts(recommendation))]
    lines.extend(f"helps {words.statement_line(impact)}" for impact in recommendation.statements)
    if recommendation.write_overhead:
        lines.append(f"writes: {recommendation.write_overhead}")
    lines.append(recommendation.reason)
    title = f"queryreview recommendation {rank}: {words.title(recommendation)}"
    return f"::notice title={escape_property(title)}::{escape_data(chr(10).join(lines))}"


def render(review: Review) -> str:
    files = {path: _file(path) for path in {finding.location.path for finding in review.findings}}
    lines = [_command(finding, files[finding.location.path]) for finding in review.findings]
    counts = review.by_severity()
    parts = ", ".join(f"{count} {name}{'s' if count != 1 and name != 'info' else ''}"
                      for name, count in counts.items() if count)
    lines.extend(recommendation_command(rank, r) for rank, r in enumerate(review.recommendations, start=1))
    lines.append(f"queryreview: {len(review.findings)} finding{'s' if len(review.findings) != 1 else ''}"
                 + (f" ({parts})" if parts else "")
                 + f" in {review.files} file{'s' if review.files != 1 else ''}"
                 + (f"; {words.summary(review.recommendations, review.rejected)}"
                    if review.recommendations or review.rejected else ""))
    return "\n".join(lines) + "\n"
