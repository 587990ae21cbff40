"""Progress bars of the command line: rich bars fed by the library's progress callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # torch is imported only by the commands that train
    from sparsetopo.training.loop import TrainProgress


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


@contextmanager
def training_bar(enabled: bool = True) -> Iterator[Callable[[TrainProgress], None] | None]:
    """A callback drawing training as one rich bar with loss, metric and sparsity (or None).

    Examples
    --------
    >>> with training_bar() as bar:                        # doctest: +SKIP
    ...     Trainer("seq-digits", "rnn", "gradual").run(progress=bar)
    """
    if not enabled:
        yield None
        return
    # fits 80 columns: the figures matter more than the bar's length
    with Progress(TextColumn("[bold]training"), BarColumn(bar_width=12), MofNCompleteColumn(),
                  TimeElapsedColumn(),
                  TextColumn("loss {task.fields[loss]:.4f}  {task.fields[name]} "
                             "{task.fields[metric]:.4f}  sparsity {task.fields[sparsity]:.3f}"),
                  transient=False) as bar:
        tid: list[TaskID] = []

        def report(event: TrainProgress) -> None:
            fields: dict[str, Any] = {"loss": event.loss, "metric": event.metric,
                                      "sparsity": event.sparsity, "name": event.metric_name}
            if not tid:
                tid.append(bar.add_task("train", total=event.total, **fields))
            bar.update(tid[0], completed=event.done, total=event.total, **fields)

        yield report
