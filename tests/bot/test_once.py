"""shared_once: one object per process, built on the first call, even when threads race it."""

from __future__ import annotations

import threading
import time

import pytest

from bot.once import shared_once


def test_the_first_call_builds_and_later_calls_share_it() -> None:
    builds: list[object] = []

    @shared_once
    def thing() -> object:
        builds.append(object())
        return builds[-1]

    assert thing() is thing() is builds[0]
    assert len(builds) == 1


def test_threads_racing_the_first_call_build_it_once() -> None:
    builds: list[int] = []

    @shared_once
    def slow() -> int:
        time.sleep(0.05)
        builds.append(1)
        return len(builds)

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(slow())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1] * 8 and builds == [1]


def test_a_build_that_raises_keeps_nothing_and_the_next_call_tries_again() -> None:
    attempts: list[int] = []

    @shared_once
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("not yet")
        return "loaded"

    with pytest.raises(OSError, match="not yet"):
        flaky()
    assert flaky() == "loaded" and flaky() == "loaded"
    assert len(attempts) == 2
