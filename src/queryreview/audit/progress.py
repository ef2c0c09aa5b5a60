"""Progress of a long audit on stderr: rich bars on a terminal, nothing otherwise (or with --quiet).

    progress = stderr_progress(quiet=False)
    progress.say("loading the demo")
    update = progress.task("explaining", total=200); update(1, 200)
    progress.close()
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Update = Callable[[int, int], None]


class Progress:
    """Silent progress: what --quiet and a non-terminal stderr get."""

    def say(self, message: str) -> None:
        """One step, printed as a line above the bars (the current bar stays)."""

    def task(self, description: str, total: int | None = None) -> Update:
        """A counted step; the returned function takes (done, total)."""
        return lambda done, total: None

    def close(self) -> None:
        pass


class RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, SpinnerColumn, TextColumn
        from rich.progress import TimeElapsedColumn

        self._console = Console(stderr=True)
        self._bars = Bars(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=self._console, transient=True)
        self._bars.start()
        self._current = None
        self._closed = False

    def say(self, message: str) -> None:
        from rich.text import Text

        self._bars.console.print(Text.assemble(("· ", "dim"), message))

    def task(self, description: str, total: int | None = None) -> Update:
        self._finish()
        task_id = self._bars.add_task(description, total=total)
        self._current = task_id

        def update(done: int, total_now: int) -> None:
            if task_id in self._bars.task_ids:  # a later task may have replaced it
                self._bars.update(task_id, completed=done, total=total_now)

        return update

    def _finish(self) -> None:
        if self._current is not None:
            self._bars.remove_task(self._current)
            self._current = None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finish()
        self._bars.stop()


def stderr_progress(quiet: bool) -> Progress:
    if quiet or not sys.stderr.isatty():
        return Progress()
    return RichProgress()
