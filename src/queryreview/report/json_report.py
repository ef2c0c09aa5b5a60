"""JSON report: the versioned document described in docs/json-schema.md."""

from __future__ import annotations

import json
from typing import Any

from queryreview import __version__
from queryreview.model import Review

SCHEMA_VERSION = 1


def document(review: Review) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "queryreview", "version": __version__},
        "findings": [finding.to_dict() for finding in review.findings],
        "summary": review.summary(),
        "skipped_rules": list(review.skipped_rules),
        "notes": list(review.notes),
        "recommendations": [recommendation.to_dict() for recommendation in review.recommendations],
        "rejected": [recommendation.to_dict() for recommendation in review.rejected],
    }


def render(review: Review) -> str:
    return json.dumps(document(review), indent=2, ensure_ascii=False) + "\n"
