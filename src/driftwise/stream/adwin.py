"""ADWIN, adaptive windowing (Bifet & Gavaldà 2007, "Learning from time-changing data with
adaptive windowing", SDM; ADWIN2's exponential histogram of buckets)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from driftwise.errors import ConfigError, StateError
from driftwise.stream._base import (
    StreamDetector,
    _decode,
    as_finite_array,
    check_int,
    check_positive,
    finite_number,
)

_compiled: ModuleType | None
try:  # the optional C build of the same core (declared in setup.py)
    from driftwise.stream import _adwin as _compiled
except ImportError:  # pragma: no cover - only where the install had no C compiler
    _compiled = None

__all__ = ["ADWIN", "COMPILED"]

#: Whether the compiled ADWIN core was built with this install (else the Python core runs).
COMPILED = _compiled is not None

Engine = Literal["auto", "compiled", "python"]
_StateTuple = tuple[int, float, float, int, list[list[float]], list[list[float]], list[float]]


class _Core(Protocol):
    """What the two cores share (the compiled ``_adwin.Core`` and :class:`_PyCore`)."""

    def update(self, x: float, /) -> bool: ...
    def update_many(self, xs: npt.NDArray[np.float64], /) -> list[int]: ...
    def reset(self) -> None: ...
    def estimation(self) -> float: ...
    def width(self) -> int: ...
    def getstate(self) -> _StateTuple: ...
    def setstate(self, width: int, total: float, variance: float, tick: int,
                 totals: list[list[float]], variances: list[list[float]],
                 pending: list[float], /) -> None: ...


class ADWIN(StreamDetector):
    """ADWIN: drift when two sub-windows of the recent window have clearly different means.

    The window is kept as an exponential histogram: row ``i`` holds up to ``max_buckets``
    buckets of ``2**i`` values (their sum and sum of squared deviations). Every ``clock``
    values, once more than ``grace_period`` are held, each split of the window into an older
    part (``n0`` values, mean ``m0``) and a newer part (``n1``, ``m1``) at a bucket boundary,
    both at least ``min_window_length`` long, is tested:
    ``|m0 - m1| > sqrt(2 m sigma^2 ln(2 ln(W) / delta)) + 2/3 m ln(2 ln(W) / delta)`` with
    ``sigma^2`` the window variance, ``W`` its width and
    ``m = 1 / (n0 - min_window_length + 1) + 1 / (n1 - min_window_length + 1)``
    (the paper's bound with its ``delta' = delta / ln W`` union correction, in the form MOA
    and River use). An alarm restarts the detector with an empty window.

    Values are buffered and inserted into the histogram at the next check, which gives the
    same histogram as inserting them one by one (the window variance is updated per batch
    with Chan et al.'s pairwise formula, so it can differ from a value-by-value update in
    the last bits).

    Two cores run this algorithm in the same floating-point order: a compiled one (C, built
    at install where a compiler is present; :data:`COMPILED` says) and a pure-Python one.
    They give the same alarms and the same state, so a state saved by one restores in the
    other.

    Parameters
    ----------
    delta : float
        Confidence parameter in (0, 1) (default 0.002).
    clock : int
        Values between two checks (default 32).
    max_buckets : int
        Buckets per row before the two oldest merge (default 5).
    min_window_length : int
        Shortest sub-window tested (default 5).
    grace_period : int
        Values held before the first check (default 10).
    engine : {"auto", "compiled", "python"}
        Which core runs: ``"auto"`` (default) the compiled one when built, else Python;
        ``"compiled"`` raises :class:`ConfigError` when it was not built. Not part of the
        state.

    Example
    -------
    >>> det = ADWIN()
    >>> det.update_many([0.0, 1.0] * 500 + [3.0, 4.0] * 100).tolist()
    [1023]
    """

    kind = "adwin"
    _params = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")
    _state = ("width", "total", "variance", "tick", "totals", "variances", "pending")

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5,
                 min_window_length: int = 5, grace_period: int = 10, *,
                 engine: Engine = "auto") -> None:
        self.delta = check_positive("delta", delta)
        if not self.delta < 1.0:
            raise ConfigError(f"delta must be in (0, 1), got {delta!r}")
        self.clock = check_int("clock", clock, 1)
        self.max_buckets = check_int("max_buckets", max_buckets, 2)
        self.min_window_length = check_int("min_window_length", min_window_length, 1)
        self.grace_period = check_int("grace_period", grace_period, 0)
        if engine not in ("auto", "compiled", "python"):
            raise ConfigError(f"engine must be 'auto', 'compiled' or 'python', got {engine!r}")
        if engine == "compiled" and _compiled is None:
            raise ConfigError(
                "engine='compiled': the compiled ADWIN core was not built with this install "
                "(no C compiler?); reinstall driftwise with gcc available, or use engine='auto'"
            )
        args = (self.delta, self.clock, self.max_buckets, self.min_window_length,
                self.grace_period)
        core: _Core
        if engine != "python" and _compiled is not None:
            core = _compiled.Core(*args)
        else:
            core = _PyCore(*args)
        self._core = core
        # Per value, the core's own method is called, with no Python frame of ours between:
        # this is what makes the compiled per-value path cheap.
        self.update = core.update  # type: ignore[method-assign,assignment]

    @property
    def compiled(self) -> bool:
        """Whether this detector runs on the compiled core."""
        return not isinstance(self._core, _PyCore)

    def reset(self) -> None:
        self._core.reset()

    @property
    def width(self) -> int:
        """Number of values in the current window."""
        return self._core.width()

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty)."""
        return self._core.estimation()

    def update(self, x: float) -> bool:  # replaced per instance by the core's method
        return self._core.update(x)

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """:meth:`update` over a batch (the same alarms)."""
        arr = np.ascontiguousarray(as_finite_array(xs))
        return np.asarray(self._core.update_many(arr), dtype=np.int64)

    def _state_fields(self) -> dict[str, Any]:
        return dict(zip(self._state, self._core.getstate(), strict=True))

    def _load_state(self, fields: dict[str, Any]) -> None:
        values = _checked_state(fields, self.clock)
        self._core.setstate(*values)

    def __reduce__(self) -> tuple[Any, ...]:
        engine = "compiled" if self.compiled else "python"
        return (_restore, (self.to_state(), engine))


def _restore(state: dict[str, Any], engine: Engine) -> ADWIN:
    """Unpickle: the saved state, on the same engine where this install has it."""
    det = ADWIN(**_decode(state["params"]), engine="python" if engine == "python" else "auto")
    det._load_state(_decode(state["state"]))
    return det


def _checked_state(fields: dict[str, Any], clock: int) -> _StateTuple:
    """The state fields, checked to form a histogram this detector could have built."""

    def fail(why: str) -> StateError:
        return StateError(f"'adwin' state is inconsistent: {why}")

    def floats(name: str, value: Any) -> list[float]:
        if not isinstance(value, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise fail(f"{name} must be a list of numbers")
        return [float(v) for v in value]

    width, tick = fields["width"], fields["tick"]
    totals, variances = fields["totals"], fields["variances"]
    if not isinstance(totals, list) or not isinstance(variances, list) or not totals:
        raise fail("totals and variances must be non-empty lists of rows")
    if len(totals) != len(variances):
        raise fail(f"{len(totals)} rows of totals but {len(variances)} of variances")
    t_rows = [floats(f"totals[{i}]", row) for i, row in enumerate(totals)]
    v_rows = [floats(f"variances[{i}]", row) for i, row in enumerate(variances)]
    for i, (t, v) in enumerate(zip(t_rows, v_rows, strict=True)):
        if len(t) != len(v):
            raise fail(f"row {i} has {len(t)} totals but {len(v)} variances")
    pending = floats("pending", fields["pending"])
    if not isinstance(width, int) or not isinstance(tick, int) or width < 0 or tick < 0:
        raise fail("width and tick must be non-negative integers")
    held = sum(len(t) << i for i, t in enumerate(t_rows))
    if held != width:
        raise fail(f"width {width} but the buckets hold {held} values")
    if len(pending) > tick % clock:
        raise fail(f"{len(pending)} pending values but tick {tick} with clock {clock}")
    total, variance = fields["total"], fields["variance"]
    return (width, float(total), float(variance), tick, t_rows, v_rows, pending)


class _PyCore:
    """The pure-Python core; ``_adwin.c`` is the same code, operation for operation."""

    def __init__(self, delta: float, clock: int, max_buckets: int, min_window_length: int,
                 grace_period: int) -> None:
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self.reset()

    def reset(self) -> None:
        self._width = 0
        self._total = 0.0
        self._variance = 0.0
        self._tick = 0
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]
        self._pending: list[float] = []

    def width(self) -> int:
        return self._width + len(self._pending)

    def estimation(self) -> float:
        # Reads only, as the C core (a flush would change the later batching).
        s = self._total
        for x in self._pending:
            s += x
        n = self._width + len(self._pending)
        return s / n if n else 0.0

    def getstate(self) -> _StateTuple:
        return (self._width, self._total, self._variance, self._tick,
                [list(r) for r in self._totals], [list(r) for r in self._variances],
                list(self._pending))

    def setstate(self, width: int, total: float, variance: float, tick: int,
                 totals: list[list[float]], variances: list[list[float]],
                 pending: list[float], /) -> None:
        self._width, self._total, self._variance, self._tick = width, total, variance, tick
        self._totals = [list(r) for r in totals]
        self._variances = [list(r) for r in variances]
        self._pending = list(pending)

    def update(self, x: float, /) -> bool:
        x = finite_number(x)
        self._pending.append(x)
        tick = self._tick = self._tick + 1
        if tick % self.clock:
            return False
        self._flush()
        if self._width > self.grace_period and self._cut():
            self.reset()
            return True
        return False

    def update_many(self, xs: npt.NDArray[np.float64], /) -> list[int]:
        """One clock period at a time (the same alarms as :meth:`update`)."""
        values = xs.tolist()
        alarms: list[int] = []
        i, n, clock = 0, len(values), self.clock
        while i < n:
            take = values[i:i + clock - self._tick % clock]
            self._pending.extend(take)
            self._tick += len(take)
            i += len(take)
            if self._tick % clock == 0:
                self._flush()
                if self._width > self.grace_period and self._cut():
                    alarms.append(i - 1)
                    self.reset()
        return alarms

    def _flush(self) -> None:
        """Insert the buffered values: window sums, then the histogram rows, in batch.

        Inserting one value at a time merges the two oldest buckets of a row whenever it
        holds ``max_buckets + 1``; the merged buckets reach the next row in order. Over a
        batch this pairs up the oldest ``2q`` buckets of the row, with
        ``q = (len + added - max_buckets + 1) // 2``, which is the same histogram.
        """
        chunk = self._pending
        m = len(chunk)
        if not m:
            return
        width = self._width
        s = 0.0
        for x in chunk:  # left to right, as the C core (sum() compensates on Python >= 3.12)
            s += x
        mean_c = s / m
        m2_c = 0.0
        for x in chunk:
            m2_c += (x - mean_c) * (x - mean_c)
        if width:
            mean_w = self._total / width
            d = mean_c - mean_w
            self._variance += m2_c + d * d * width * m / (width + m)
        else:
            self._variance = m2_c
        self._total += s
        self._width = width + m
        self._totals[0].extend(chunk)
        self._variances[0].extend([0.0] * m)
        self._pending = []
        self._compress()

    def _compress(self) -> None:
        totals, variances, limit = self._totals, self._variances, self.max_buckets
        i, size = 0, 1.0
        while len(totals[i]) > limit:
            row_t, row_v = totals[i], variances[i]
            q = (len(row_t) - limit + 1) // 2
            if i + 1 == len(totals):
                totals.append([])
                variances.append([])
            old_t, old_v = row_t[:2 * q], row_v[:2 * q]
            a, b = old_t[0::2], old_t[1::2]
            totals[i + 1].extend([x + y for x, y in zip(a, b, strict=True)])
            if i == 0:
                variances[1].extend([(x - y) * (x - y) / 2.0 for x, y in zip(a, b, strict=True)])
            else:
                variances[i + 1].extend([
                    va + vb + (x - y) * (x - y) / (2.0 * size)
                    for x, y, va, vb in zip(a, b, old_v[0::2], old_v[1::2], strict=True)
                ])
            del row_t[:2 * q], row_v[:2 * q]
            i += 1
            size *= 2.0

    def _cut(self) -> bool:
        width, total = self._width, self._total
        if width < 2:  # no split to test (and ln(ln 1) is undefined)
            return False
        dd = math.log(2.0 * math.log(width) / self.delta)
        c1 = 2.0 * (self._variance / width) * dd
        c2 = 2.0 / 3.0 * dd
        shift = self.min_window_length - 1
        n0, u0 = 0, 0.0
        last = len(self._totals) - 1
        for i in range(last, -1, -1):
            size = 1 << i
            row = self._totals[i]
            stop = len(row) - 1 if i == 0 else len(row)  # never test an empty newer part
            for k in range(stop):
                n0 += size
                u0 += row[k]
                n1 = width - n0
                if n0 > shift and n1 > shift:
                    m = 1.0 / (n0 - shift) + 1.0 / (n1 - shift)
                    diff = u0 / n0 - (total - u0) / n1
                    # diff^2 > c1 m is necessary; the square root is taken only then.
                    if diff * diff > c1 * m and abs(diff) > math.sqrt(c1 * m) + c2 * m:
                        return True
        return False
