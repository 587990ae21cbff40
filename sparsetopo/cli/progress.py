"""Progress bars of the command line: a rich bar fed by the library's progress callback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sparsetopo.api.plan import ProgressCallback, ProgressEvent


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback drawing one rich bar per label (None when not ``enabled``).

    Examples
    --------
    >>> with progress_bar() as bar:                        # doctest: +SKIP
    ...     store.analyze("zhang-prune", progress=bar)
    """
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  transient=False) as bar:
        ids: dict[str, TaskID] = {}

        def report(event: ProgressEvent) -> None:
            tid = ids.get(event.label)
            if tid is None:
                tid = ids[event.label] = bar.add_task(event.label, total=event.total)
            bar.update(tid, completed=event.done, total=event.total)

        yield report
