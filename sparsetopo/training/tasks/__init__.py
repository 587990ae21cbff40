"""Built-in tasks. Registry names: digits, seq-digits, adding, mackey-glass, navigation,
inverse-control, and mnist / seq-mnist (from local IDX files, option ``data_dir``). Each task
class documents its metric."""

from __future__ import annotations

from typing import Any

from sparsetopo.errors import InputError
from sparsetopo.training.models import check_name
from sparsetopo.training.tasks.adding import AddingTask
from sparsetopo.training.tasks.base import Task, TaskData
from sparsetopo.training.tasks.digits import DigitsTask, SeqDigitsTask
from sparsetopo.training.tasks.inverse_control import InverseControlTask
from sparsetopo.training.tasks.mackey_glass import MackeyGlassTask
from sparsetopo.training.tasks.mnist import MnistTask, SeqMnistTask
from sparsetopo.training.tasks.navigation import NavigationTask

TASKS: dict[str, type[Task]] = {
    "digits": DigitsTask,
    "seq-digits": SeqDigitsTask,
    "adding": AddingTask,
    "mackey-glass": MackeyGlassTask,
    "navigation": NavigationTask,
    "inverse-control": InverseControlTask,
    "mnist": MnistTask,
    "seq-mnist": SeqMnistTask,
}
TASK_NAMES = tuple(TASKS)


def build_task(name: str, options: dict[str, Any] | None = None) -> Task:
    """Instantiate task ``name`` with keyword ``options`` (sizes; see each task class)."""
    cls = TASKS[check_name("task", name, TASK_NAMES)]
    try:
        return cls(**(options or {}))
    except TypeError as exc:
        raise InputError(f"bad option for task {name!r}: {exc}") from exc


__all__ = ["TASKS", "TASK_NAMES", "Task", "TaskData", "build_task"]
