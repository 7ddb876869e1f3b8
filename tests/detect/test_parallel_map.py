"""The column thread pool: results in order, the first error in order, the thread setting."""

from __future__ import annotations

import threading
import time

import pytest

from driftwise._parallel import default_threads, parallel_map
from driftwise.errors import ConfigError


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_results_and_progress_come_in_order(threads: int) -> None:
    seen: list[int] = []

    def slow_first(x: int) -> int:
        time.sleep(0.02 if x == 0 else 0.0)
        return x * x

    assert parallel_map(slow_first, list(range(6)), threads, seen.append) == [
        0, 1, 4, 9, 16, 25]
    assert seen == list(range(6))


def test_columns_run_on_several_threads_and_the_first_error_wins() -> None:
    names: set[str] = set()
    barrier = threading.Barrier(2, timeout=5)

    def work(x: int) -> int:
        names.add(threading.current_thread().name)
        if x < 2:
            barrier.wait()  # only passes if two items run at the same time
        if x in (1, 3):
            raise ValueError(f"item {x}")
        return x

    with pytest.raises(ValueError, match="item 1"):
        parallel_map(work, [0, 1, 2, 3], 2)
    assert len(names) == 2


def test_the_thread_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTWISE_THREADS", "3")
    assert default_threads() == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("DRIFTWISE_THREADS", bad)
        with pytest.raises(ConfigError, match="DRIFTWISE_THREADS"):
            default_threads()
