"""Renderers: each turns a Review into text in one format and decides nothing."""

from __future__ import annotations

import importlib

from queryreview.model import Review

_MODULES = {
    "text": "queryreview.report.text",
    "json": "queryreview.report.json_report",
    "sarif": "queryreview.report.sarif",
    "markdown": "queryreview.report.markdown",
    "github": "queryreview.report.github",
}


def render(review: Review, output_format: str, color: bool | None = None) -> str:
    """The report as a string. ``color`` None means: colour only on a terminal without NO_COLOR."""
    module = importlib.import_module(_MODULES[output_format])
    if output_format == "text":
        return module.render(review, color=color)
    return module.render(review)
