"""Terminal report: findings grouped by file, each with a code frame and a help line."""

from __future__ import annotations

import io
import os
import sys

from queryreview.model import Finding, Review, SourceText

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MAX_FRAME_LINES = 3


def _use_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(review: Review, color: bool | None = None) -> str:
    from rich.console import Console
    from rich.text import Text

    use_color = _use_color(color)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=use_color, no_color=not use_color, color_system="standard"
                      if use_color else None, width=100, highlight=False, soft_wrap=True)
    current_path = None
    for finding in review.findings:
        if finding.location.path != current_path:
            current_path = finding.location.path
            console.print(Text(current_path, style="bold underline"))
        _print_finding(console, finding, review.sources.get(current_path))
    console.print(Text(_summary_line(review), style="bold"))
    for skipped in review.skipped_rules:
        console.print(Text(f"skipped {skipped}", style="dim"))
    for note in review.notes:
        console.print(Text(f"note: {note}", style="dim"))
    return buffer.getvalue()


def _print_finding(console, finding: Finding, source: SourceText | None) -> None:
    from rich.text import Text

    loc = finding.location
    head = Text()
    head.append(f"{loc.path}:{loc.line}:{loc.column}: ", style="bold")
    head.append(f"{finding.code} ", style=_STYLE[finding.severity])
    head.append(f"{finding.rule} ", style="bold")
    head.append(f"[{finding.severity}]", style=_STYLE[finding.severity])
    console.print(head)
    console.print(Text("  " + finding.message))
    if source is not None:
        for line in _frame(finding, source):
            console.print(line)
    console.print(Text(f"  = help: {finding.help}", style="green"))
    if finding.fix is not None and finding.fix.sql:
        console.print(Text(f"  = fix: {finding.fix.description}", style="green"))
        for fix_line in finding.fix.sql.splitlines():
            console.print(Text(f"      {fix_line}", style="green"))
    console.print()


def _frame(finding: Finding, source: SourceText) -> list:
    """The offending lines with a caret underline under the reported span."""
    from rich.text import Text

    loc = finding.location
    lines = source.text.splitlines() or [""]
    last = min(loc.end_line, loc.line + _MAX_FRAME_LINES - 1, len(lines))
    width = len(str(last))
    out = []
    for number in range(loc.line, max(last, loc.line) + 1):
        if number - 1 >= len(lines):
            break
        content = lines[number - 1].expandtabs(1)
        if len(content) > 200:
            content = content[:200] + " …"
        out.append(Text(f"  {number:>{width}} | {content}", style="dim"))
        start = loc.column if number == loc.line else 1
        end = loc.end_column if number == loc.end_line else len(content) + 1
        end = max(end, start + 1)
        marks = min(end - start, max(len(content) - start + 1, 1))
        out.append(Text(f"  {'':>{width}} | " + " " * (start - 1) + "^" * max(marks, 1),
                        style=_STYLE[finding.severity]))
    return out


def _summary_line(review: Review) -> str:
    counts = review.by_severity()
    if not review.findings:
        head = "No findings"
    else:
        parts = [f"{n} {name if n == 1 or name == 'info' else name + 's'}" for name, n in counts.items() if n]
        head = f"Found {len(review.findings)} finding{'s' if len(review.findings) != 1 else ''} ({', '.join(parts)})"
    return (f"{head} in {review.files} file{'s' if review.files != 1 else ''}, "
            f"{review.statements} statement{'s' if review.statements != 1 else ''} ({review.parsed} parsed).")
