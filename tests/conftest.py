from __future__ import annotations

import pytest
from pgservers import *  # noqa: F401,F403

from queryreview.engine import Context, Engine
from queryreview.model import Review, SourceText
from queryreview.rules.registry import all_rules, find_rule


def review_text(text: str, select: list[str] | None = None, settings: dict | None = None,
                path: str = "case.sql") -> Review:
    """Run the engine in-process over one text with the chosen rules (all by default)."""
    rules = [find_rule(token) for token in select] if select else list(all_rules())
    engine = Engine(rules, Context(settings=settings or {}))
    return engine.review([SourceText(path, text)])


@pytest.fixture
def review():
    return review_text
