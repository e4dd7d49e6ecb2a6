"""One object per process, built on first use: ``@shared_once`` on a function without arguments.

Threads that race the first call build the object once (a lock, checked again inside); later
calls take no lock. A build that raises stores nothing, so the next call tries again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def shared_once(build: Callable[[], T]) -> Callable[[], T]:
    """``build()`` on the first call; the same object on every call after it."""
    lock = threading.Lock()
    built: list[T] = []

    @functools.wraps(build)
    def get() -> T:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    return get
