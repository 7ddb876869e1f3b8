"""Column work on a thread pool: NumPy's sort and SciPy's kernels release the GIL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

from driftwise.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    """The cores this process may run on (``DRIFTWISE_THREADS`` overrides)."""
    configured = os.environ.get("DRIFTWISE_THREADS", "").strip()
    if configured:
        try:
            value = int(configured)
        except ValueError:
            raise ConfigError(f"DRIFTWISE_THREADS={configured!r} is not a whole number")\
                from None
        if value < 1:
            raise ConfigError(f"DRIFTWISE_THREADS={configured!r} must be at least 1")
        return value
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return os.cpu_count() or 1


def parallel_map(fn: Callable[[T], R], items: list[T], threads: int,
                 progress: Callable[[T], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]`` on ``threads`` threads, in order; the first error raised
    in order of ``items``, as a plain loop would."""
    with ExitStack() as stack:
        results: Iterator[R]
        if threads <= 1 or len(items) <= 1:
            results = map(fn, items)
        else:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=min(threads,
                                                                          len(items))))
            results = pool.map(fn, items)
        out = []
        for item in items:
            out.append(next(results))
            if progress is not None:
                progress(item)
        return out
