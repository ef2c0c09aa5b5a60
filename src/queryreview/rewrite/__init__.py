"""Rewrite recommendations: the query rules' rewrites, offered only where they return the same rows.

    from queryreview.rewrite import rewrite_recommendations
    recommendations = rewrite_recommendations(findings_or_statements, catalog=None, session=None)
"""

from __future__ import annotations

from queryreview.rewrite.recommend import REWRITES, rewrite_recommendations

__all__ = ["REWRITES", "rewrite_recommendations"]
