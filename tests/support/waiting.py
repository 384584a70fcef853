"""Waiting in tests for something another thread or process does: poll a condition, and fail
with what was awaited when it does not come in time (a wait that returns quietly on timeout
lets the test go on to a misleading failure, or to none)."""

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], seconds: float = 10, what: str = "") -> None:
    """Return once `condition()` is true; AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what or condition}")
        time.sleep(0.01)
