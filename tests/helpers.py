"""Waiting for a state by polling it, so a test waits exactly as long as the state takes to arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    poll: Callable[[], T],
    until: Callable[[T], Any] = bool,
    timeout: float = 60.0,
    interval: float = 0.05,
    what: str = "the expected state",
) -> T:
    """Call ``poll`` until ``until(value)`` holds and return that value; on timeout fail with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = poll()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout:g}s waiting for {what}; last value: {value!r}")
        time.sleep(interval)
