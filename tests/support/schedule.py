"""Longest files first: the order in which pytest-xdist hands test files to its workers.

xdist's ``--dist loadfile`` hands out files in collection order (or by number of tests), so a
file of a few long server tests handed out last keeps one worker busy while the other idles.
Handing out the longest first (LPT scheduling) ends both workers within about the length of the
shortest files. A file's cost is the figure below (seconds, measured in a whole run on the 2-core
machine), else 0.1 s per test; it is only an order, so a stale figure costs time, not results.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

#: seconds per file in a whole run with two workers (C1-only test servers); only files of 8 s
#: and more, the rest are short enough for any order
KNOWN_SECONDS = {
    "tests/faults/test_campaign.py": 117,
    "tests/integration/test_writer_lease.py": 90,
    "tests/integration/test_browser.py": 53,
    "tests/integration/test_architectures.py": 42,
    "tests/integration/test_server.py": 40,
    "tests/integration/test_reproduce.py": 36,
    "tests/integration/test_queries.py": 29,
    "tests/integration/test_ingest.py": 28,
    "tests/integration/test_recorder_outages.py": 27,
    "tests/integration/test_reliability_issue24.py": 26,
    "tests/integration/test_overlap_plugin.py": 21,
    "tests/unit/analysis/test_null_uniformity.py": 21,
    "tests/integration/test_executors.py": 20,
    "tests/unit/ingest/test_spool_errors.py": 19,
    "tests/integration/test_writers.py": 18,
    "tests/integration/test_concurrency.py": 17,
    "tests/unit/api/test_figure_layout.py": 16,
    "tests/integration/test_analyze_any_architecture.py": 14,
    "tests/integration/test_analyze.py": 13,
    "tests/faults/test_malformed.py": 13,
    "tests/integration/test_huggingface.py": 9,
}


class LongestFirstScheduling(LoadFileScheduling):
    """``--dist loadfile`` with the work queue sorted by each file's expected seconds."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._sorted = False

    def _cost(self, scope: str) -> float:
        return float(KNOWN_SECONDS.get(scope, 0.1 * len(self.workqueue[scope])))

    def _assign_work_unit(self, node: Any) -> None:
        # the queue is complete by the first assignment (xdist fills it, then assigns)
        if not self._sorted:
            order = sorted(self.workqueue, key=self._cost, reverse=True)
            self.workqueue = OrderedDict((scope, self.workqueue[scope]) for scope in order)
            self._sorted = True
        super()._assign_work_unit(node)
