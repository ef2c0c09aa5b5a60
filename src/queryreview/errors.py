"""Errors a user can cause, each with its documented exit code."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3
EXIT_INTERRUPTED = 130


class QueryReviewError(Exception):
    """An error to report as one line (plus an optional hint), not a traceback."""

    exit_code = EXIT_RUNTIME

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class InputError(QueryReviewError):
    """Bad usage or unreadable input (exit 2)."""

    exit_code = EXIT_USAGE


class RuntimeFailure(QueryReviewError):
    """Database or runtime failure (exit 3)."""

    exit_code = EXIT_RUNTIME
