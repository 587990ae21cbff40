"""What the notebook shows: progress lines and the HTML of an analysis report.

The library reports progress as :class:`~sparsetopo.api.plan.ProgressEvent` s to a callback;
this module turns ``True`` into one.

In a Jupyter kernel the callback is an HTML progress line updated in place (it needs nothing
but IPython); elsewhere it logs a line per tenth of the work (``logging``, never print). The
command line passes its own callback (a rich progress bar, ``sparsetopo.cli.progress``).
"""

from __future__ import annotations

import html
import logging
import time
from typing import TYPE_CHECKING, Any

from sparsetopo.api.plan import ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from sparsetopo.api.analyze import AnalysisReport

__all__ = ["LogProgress", "NotebookProgress", "in_notebook", "progress_callback", "report_html"]

_log = logging.getLogger("sparsetopo.progress")


def in_notebook() -> bool:
    """Tell whether this runs inside a Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class NotebookProgress:
    """A progress line for Jupyter.

    One HTML output (a ``<progress>`` element and a count) updated in place; a new line for
    every new label.
    """

    def __init__(self) -> None:
        self.label: str | None = None
        self.handle: Any = None
        self.started = time.perf_counter()

    def _render(self, event: ProgressEvent) -> Any:
        from IPython.display import HTML

        seconds = time.perf_counter() - self.started
        return HTML(
            f"<code>{html.escape(event.label)}</code> <progress value='{event.done}' "
            f"max='{event.total}'></progress> {event.done}/{event.total} ({seconds:.0f} s)"
        )

    def __call__(self, event: ProgressEvent) -> None:
        """Show ``event``."""
        from IPython.display import display

        if event.label != self.label:
            self.label, self.started = event.label, time.perf_counter()
            self.handle = display(self._render(event), display_id=True)
        elif self.handle is not None:
            self.handle.update(self._render(event))


class LogProgress:
    """Log the start, every tenth of the work and the end (INFO on ``sparsetopo.progress``)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.step = 1

    def __call__(self, event: ProgressEvent) -> None:
        """Log ``event`` when it crosses a tenth of the work."""
        if event.done == 0:
            self.started, self.step = time.perf_counter(), max(1, event.total // 10)
        if event.done == 0 or event.done == event.total or event.done % self.step == 0:
            _log.info("%s: %d/%d (%.0f s)", event.label, event.done, event.total,
                      time.perf_counter() - self.started)


def progress_callback(progress: bool | ProgressCallback | None) -> ProgressCallback | None:
    """Return the callback a ``progress=`` argument means.

    Parameters
    ----------
    progress : bool, callable or None
        A callback of :class:`~sparsetopo.api.plan.ProgressEvent`; True: a progress line in
        Jupyter, log lines elsewhere; False or None: no reports.

    Returns
    -------
    callable or None
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        return NotebookProgress() if in_notebook() else LogProgress()
    if callable(progress):
        return progress
    raise TypeError(f"progress must be a bool or a callable, not {type(progress).__name__}")


def report_html(report: AnalysisReport) -> str:
    """Render the HTML table Jupyter shows for an :class:`~sparsetopo.api.analyze.AnalysisReport`."""
    compared = "".join(f"<tr><td>compared with {html.escape(str(k))}</td><td>{v} pairs</td></tr>"
                       for k, v in report.compared.items())
    return (
        f"<table><caption>analysis of <b>{html.escape(str(report.run))}</b></caption>"
        f"<tr><td>snapshots</td><td>{report.snapshots}</td></tr>"
        f"<tr><td>computed</td><td>{len(report.computed)}</td></tr>"
        f"<tr><td>already stored</td><td>{report.skipped}</td></tr>"
        f"<tr><td>NNSTD / overlap pairs</td><td>{report.pairs}</td></tr>{compared}"
        f"<tr><td>seconds</td><td>{report.seconds:.1f}</td></tr></table>"
    )
