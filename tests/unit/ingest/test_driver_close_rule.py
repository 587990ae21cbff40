"""A Recorder closes a driver only after every thread that uses it ended (decision 0020: closing
a driver another thread is inside races that thread's socket call into the connection's buffers,
the driver's BufferError)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.extras import requires

requires("torch")

from sparsetopo.ingest.recorder import _close_when_unused  # noqa: E402


class _Driver:
    def __init__(self) -> None:
        self.closed = threading.Event()
        self.closed_by: str | None = None

    def close(self) -> None:
        self.closed_by = threading.current_thread().name
        self.closed.set()


def _user(release: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=release.wait, args=(30,), name="writing", daemon=True)
    thread.start()
    return thread


def test_no_user_left_closes_at_once_in_the_caller():
    driver = _Driver()
    done = threading.Thread(target=lambda: None)
    done.start()
    done.join()
    bystander = _user(threading.Event())  # not a user of this driver
    _close_when_unused(driver, [done], "r")  # type: ignore[arg-type]
    assert driver.closed.is_set() and driver.closed_by == threading.current_thread().name
    assert bystander.is_alive()


def test_close_waits_for_a_thread_still_inside_the_driver():
    driver = _Driver()
    release = threading.Event()
    writing = _user(release)
    _close_when_unused(driver, [writing], "r")  # type: ignore[arg-type]
    assert not driver.closed.wait(0.3), "closed while a thread was still using the driver"
    release.set()
    assert driver.closed.wait(10), "not closed after its last user ended"
    assert driver.closed_by == "sparsetopo-driver-close-r"
    assert not writing.is_alive()


def test_the_calling_thread_does_not_wait_for_itself():
    driver = _Driver()
    out: list[bool] = []

    def db_thread() -> None:
        _close_when_unused(driver, [threading.current_thread()], "r")  # type: ignore[arg-type]
        out.append(driver.closed.is_set())

    thread = threading.Thread(target=db_thread)
    start = time.monotonic()
    thread.start()
    thread.join(10)
    assert out == [True] and time.monotonic() - start < 10


@pytest.mark.parametrize("users", [0, 2])
def test_every_named_user_is_waited_for(users):
    driver = _Driver()
    releases = [threading.Event() for _ in range(users)]
    threads = [_user(r) for r in releases]
    _close_when_unused(driver, threads, "r")  # type: ignore[arg-type]
    for release in releases:
        assert not driver.closed.wait(0.1)
        release.set()
    assert driver.closed.wait(10)
