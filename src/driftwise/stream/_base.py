"""The protocol every sequential detector shares, its JSON state, and input validation."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri, stdtr

from driftwise.errors import (
    ConfigError,
    InsufficientDataError,
    NotFittedError,
    SchemaError,
    StateError,
)

__all__ = ["AFTER_ALARM", "AUTOCORRELATION", "ReferenceStreamDetector", "StreamDetector",
           "long_run_factor"]

_D = TypeVar("_D", bound="StreamDetector")
_REGISTRY: dict[str, type[StreamDetector]] = {}


def _encode(value: Any) -> Any:
    """Plain JSON: non-finite floats become the strings "inf", "-inf", "nan"."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def _same_kind(expected: Any, value: Any) -> bool:
    """Whether a restored field has the type the detector keeps there."""
    if isinstance(expected, bool):
        return isinstance(value, bool)
    if isinstance(expected, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(expected, list):
        return isinstance(value, list)
    return True


def as_finite_array(xs: Iterable[float] | npt.ArrayLike, what: str = "update_many",
                    hint: str = "drop or impute them before the detector; no value of this "
                                "batch was consumed") -> npt.NDArray[np.float64]:
    """Validate values: one-dimensional, numeric, every one finite (the message names the
    first that is not, its position, and ``hint``)."""
    try:
        arr = np.asarray(xs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what}: values must be numbers ({exc})") from None
    if arr.ndim != 1:
        raise SchemaError(f"{what}: expected a one-dimensional sequence, got shape {arr.shape}")
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.argmin(finite))
        raise SchemaError(
            f"{what}: value {arr[i]!r} at position {i} is not finite; NaN and inf are rejected "
            f"({hint})"
        )
    return arr


class StreamDetector:
    """Base of the sequential detectors: ``update``, ``update_many``, ``reset``, JSON state.

    Subclasses list their constructor parameters in ``_params`` and the attributes that make
    up their running state in ``_state``; everything else (the protocol, state round trip,
    NaN policy) lives here. After an alarm every detector restarts from its initial state
    (a learned reference is kept), so the alarms of one stream are separate detections.
    """

    kind: ClassVar[str] = ""
    state_version: ClassVar[int] = 1
    _params: ClassVar[tuple[str, ...]] = ()
    _state: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    def update(self, x: float) -> bool:
        """Feed one value; return whether the detector raises an alarm at this value."""
        raise NotImplementedError

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Feed a batch; return the 0-based positions in ``xs`` where an alarm was raised.

        Gives exactly the alarms of calling :meth:`update` on each value in turn. The whole
        batch is validated first: a non-finite value raises :class:`SchemaError` and leaves
        the detector untouched.
        """
        arr = as_finite_array(xs)
        update = self.update
        return np.fromiter(
            (i for i, v in enumerate(arr.tolist()) if update(v)), dtype=np.int64
        )

    def reset(self) -> None:
        """Forget the stream seen so far (a learned or given reference is kept)."""
        raise NotImplementedError

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, as given."""
        return {name: getattr(self, name) for name in self._params}

    def to_state(self) -> dict[str, Any]:
        """Plain-JSON state; :meth:`from_state` restores a detector that continues exactly."""
        return {
            "detector": self.kind,
            "version": self.state_version,
            "params": _encode(self.get_params()),
            "state": {name: _encode(value) for name, value in self._state_fields().items()},
        }

    def _state_fields(self) -> dict[str, Any]:
        """The running state, one entry per name of ``_state`` (default: ``self._<name>``)."""
        return {name: getattr(self, "_" + name) for name in self._state}

    def _load_state(self, fields: dict[str, Any]) -> None:
        """Set the running state from checked fields (the inverse of :meth:`_state_fields`)."""
        for name, value in fields.items():
            setattr(self, "_" + name, value)

    @classmethod
    def from_state(cls: type[_D], state: Mapping[str, Any]) -> _D:
        """Rebuild a detector from :meth:`to_state`'s output.

        Raises
        ------
        StateError
            The mapping is not a detector state, is of another detector type than the class
            it is restored with, of another format version, or misses fields.
        """
        if not isinstance(state, Mapping) or "detector" not in state:
            raise StateError("not a driftwise stream detector state (no 'detector' key)")
        kind = state["detector"]
        target = _REGISTRY.get(kind) if isinstance(kind, str) else None
        if target is None:
            raise StateError(f"unknown detector type {kind!r} in state; known: {sorted(_REGISTRY)}")
        if cls.kind and cls is not target:
            raise StateError(
                f"state is of a {kind!r} detector, cannot restore it as {cls.kind!r}"
            )
        state = target._upgraded(state)
        if state.get("version") != target.state_version:
            raise StateError(
                f"{kind!r} state has format version {state.get('version')!r}; this driftwise "
                f"reads version {target.state_version} (refit the detector rather than reset it)"
            )
        params, fields = state.get("params"), state.get("state")
        if not isinstance(params, Mapping) or not isinstance(fields, Mapping):
            raise StateError(f"{kind!r} state lacks its 'params' or 'state' mapping")
        missing = [n for n in target._state if n not in fields]
        if missing:
            raise StateError(f"{kind!r} state lacks field(s) {missing}")
        try:
            detector = target(**_decode(dict(params)))
        except (TypeError, ConfigError) as exc:
            raise StateError(f"{kind!r} state has invalid params: {exc}") from None
        current = detector._state_fields()
        values = {}
        for name in target._state:
            value = _decode(fields[name])
            expected = current[name]
            if not _same_kind(expected, value):
                raise StateError(
                    f"{kind!r} state field {name!r} should be a {type(expected).__name__}, "
                    f"got {value!r}"
                )
            values[name] = value
        detector._load_state(values)
        detector._restored()
        if not isinstance(detector, cls):  # pragma: no cover - guarded by the kind check
            raise StateError(f"state is of a {kind!r} detector")
        return detector

    def _restored(self) -> None:
        """Hook: rebuild derived attributes after the state fields were set."""

    @classmethod
    def _upgraded(cls, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Hook: a state of an older format version in the current one (default: as is)."""
        return state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """A finite positive (or non-negative) number, else a ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ConfigError(f"{name} must be a finite {'non-negative' if allow_zero else 'positive'}"
                          f" number, got {value!r}")
    return float(value)


def check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


#: What a chart does after an alarm (see :class:`ReferenceStreamDetector`).
AFTER_ALARM = ("relearn", "hold", "keep")
#: How a chart treats serial dependence in the values its reference is learned from.
AUTOCORRELATION = ("auto", "ignore")
#: The running state every chart adds to its own: its phase, the episodes it opened, the
#: running mean and sum of squares of the values it is learning from, and what estimates
#: their lag-1 autocorrelation (sums of the values less the first, of the products of
#: neighbours, the last value), and the autocorrelation the reference was corrected for.
EPISODE_STATE = ("phase", "episodes", "ln", "lmean", "lm2", "base_mu", "base_sd",
                 "lfirst", "lsum", "lcross", "llast", "rho", "base_rho")
_WATCH, _LEARN, _HOLD = "watch", "learn", "hold"
_PHASES = (_WATCH, _LEARN, _HOLD)
_Q_LIMIT = 8.3  # |Q| beyond this is outside float precision of the normal quantile anyway
_WATCH_CHUNK = 4096
# Lag-1 autocorrelation is corrected for when it exceeds its one-sided 1 % point under
# independence: the sample autocorrelation of n independent values is about N(0, 1/n)
# (Bartlett 1946; Box, Jenkins & Reinsel, "Time Series Analysis", sec. 2.1.6).
_RHO_Z = 2.326
_RHO_MAX = 0.99  # beyond it the level is a random walk; the factor is capped (at 14.1)


def long_run_factor(rho: float) -> float:
    """``sqrt((1 + rho) / (1 - rho))``: for an AR(1) process with lag-1 autocorrelation
    ``rho``, the ratio of its long-run sd (the sd of a sum of n values over sqrt(n), for
    large n) to the sd of one value (Box, Jenkins & Reinsel, sec. 2.1; the scale under which
    a CUSUM of serially correlated values keeps its run lengths, Johnson & Bagshaw 1974)."""
    return math.sqrt((1.0 + rho) / (1.0 - rho))


def significant_lag1(rho: float, n: int) -> float:
    """``rho`` (capped at 0.99) when it is significantly positive for ``n`` values, else 0."""
    if n < 3 or not rho > _RHO_Z / math.sqrt(n):
        return 0.0
    return min(rho, _RHO_MAX)


def lag1_autocorrelation(arr: npt.NDArray[np.float64]) -> float:
    """The lag-1 sample autocorrelation (0 for fewer than 3 values or a constant run)."""
    if arr.size < 3:
        return 0.0
    d = arr - arr.mean()
    den = float(d @ d)
    return float(d[1:] @ d[:-1]) / den if den > 0.0 else 0.0


class ReferenceStreamDetector(StreamDetector):
    """A control chart on a standardised statistic: reference mean and sd given, learned by
    :meth:`fit`, or learned as the values come (``self_starting``).

    **One alarm per change.** An alarm opens a change *episode*; what the chart does next
    is ``after_alarm``:

    - ``"relearn"`` (the default, for monitoring): the chart re-learns the in-control level
      from the next ``relearn_n`` values and then watches the new level with them as its
      reference. While it learns it stays armed, self-starting: each value is standardised
      by the mean and sd of the values since the alarm with the t-to-normal correction of
      Quesenberry (1991, "SPC Q charts for start-up processes") and Hawkins (1987,
      "Self-starting CUSUM charts for location and scale"), so its false-alarm rate holds
      from the third value and a second change is still caught. A level that moved for good
      is one alarm, not one every few values.
    - ``"hold"``: the alarm holds; the chart ignores values until :meth:`reset`.
    - ``"keep"``: the chart restarts with its original reference (a fixed specification;
      after a lasting change it alarms again every few values).

    ``relearn_n`` is 500 by default: a reference estimated from m values shifts the
    in-control run length, and for long-memory charts it takes a few hundred values to keep
    it within 15 %. Measured on N(0, 1) streams, for charts calibrated for an ARL0 of 500
    (docs/stream.md has the table), with ``arm_after=30``: CUSUM (k 0.5) 598 at m=100 and
    544 at 500; EWMA (lam 0.05) 442 at 100, 516 at 500; Shewhart (L 3, nominal 370) 468 at
    100, 411 at 500. While it learns the chart runs self-starting, about 2 µs a value.

    **Armed after the first values.** While it (re-)learns, the chart judges each value
    against those before it once there are ``arm_after`` of them (default 30). Quesenberry's
    Q are exactly normal from the third value for independent normal values, but real
    series are neither: a 0/1 error stream whose first values are all 0 makes its first
    error look infinitely far out, and a few values of a daily cycle sampled every half hour
    look like a trend. Thirty values are enough for the autocorrelation test below to find
    a lag-1 autocorrelation above 0.42 (2.326 / sqrt(30)); on Elec2's demand and Usenet's
    error stream an armed-from-the-third-value chart raised an alarm every 10-30 values
    after a change, and one armed after 30 values raised one per change. Fewer values
    before it is armed is the price: a second change within them is caught only after
    them. ``arm_after=2`` is the textbook self-starting chart.

    **Self-starting.** With ``self_starting=True`` and no reference, the chart starts in the
    learning phase: no clean reference period is needed. After ``relearn_n`` values the
    learned mean and sd become its reference.

    **Serially correlated values.** CUSUM and EWMA add values up, so a series whose
    neighbours are correlated (a daily cycle sampled every half hour, a slowly wandering
    sensor, per-window metrics of overlapping windows) drives them over their limits again
    and again though nothing changed: on Elec2's demand and price series, charts with the
    values' own sd raised 48-162 alarms per 1,000 values where 2 are nominal
    (benchmarks/autocorrelation.py). With
    ``autocorrelation="auto"`` (the default) a reference learned from values (by
    :meth:`fit`, or while (re-)learning) whose lag-1 autocorrelation ``rho`` is
    significantly positive (above 2.326 / sqrt(n), its one-sided 1 % point under
    independence) standardises by the AR(1) long-run sd, ``sd * sqrt((1 + rho) / (1 -
    rho))`` (:func:`long_run_factor`), and so does the self-starting statistic while it
    learns; independent values are charted as before. The chart then looks for shifts of
    the level that are large against the series' own wandering: it is slower on a
    strongly correlated series, as it must be. ``lag1_`` is the autocorrelation corrected
    for (0 when none), ``std_`` the sd of one value and ``scale_`` the sd the chart
    divides by. ``"ignore"`` charts the values as independent. A reference given as
    ``mean`` and ``std`` is used as given.
    """

    #: Whether the chart adds values up, and so corrects for autocorrelation.
    _accumulates: ClassVar[bool] = False

    def __init__(self, mean: float | None = None, std: float | None = None,
                 after_alarm: str = "relearn", relearn_n: int = 500,
                 self_starting: bool = False, autocorrelation: str = "auto",
                 arm_after: int = 30) -> None:
        if mean is not None and (isinstance(mean, bool) or not isinstance(mean, (int, float))
                                 or not math.isfinite(mean)):
            raise ConfigError(f"mean must be a finite number or None, got {mean!r}")
        if std is not None:
            check_positive("std", std)
        if (mean is None) != (std is None):
            raise ConfigError("give both mean and std, or neither (and call fit(reference))")
        if after_alarm not in AFTER_ALARM:
            raise ConfigError(f"after_alarm must be one of {', '.join(AFTER_ALARM)}, got "
                              f"{after_alarm!r}")
        self.relearn_n = check_int("relearn_n", relearn_n, 3)
        self.arm_after = check_int("arm_after", arm_after, 2)
        if not isinstance(self_starting, bool):
            raise ConfigError(f"self_starting must be true or false, got {self_starting!r}")
        if self_starting and mean is not None:
            raise ConfigError("self_starting learns the mean and sd from the stream: give "
                              "mean and std, or self_starting, not both")
        if autocorrelation not in AUTOCORRELATION:
            raise ConfigError(f"autocorrelation must be one of {', '.join(AUTOCORRELATION)}, "
                              f"got {autocorrelation!r}")
        self.mean = mean
        self.std = std
        self.after_alarm = after_alarm
        self.self_starting = self_starting
        self.autocorrelation = autocorrelation
        self._corrects = self._accumulates and autocorrelation == "auto"
        self._mu = math.nan if mean is None else float(mean)
        self._sd = math.nan if std is None else float(std)
        self._phase = _LEARN if self_starting else _WATCH
        self._episodes = 0
        self._clear_learning()
        self._rho = self._base_rho = 0.0
        self._base_mu, self._base_sd = self._mu, self._sd  # what reset() returns to

    # -- what subclasses provide ------------------------------------------------------
    def _watch(self, x: float) -> bool:
        """One value against the reference (the chart's fast path); resets on an alarm."""
        raise NotImplementedError

    def _watch_many(self, arr: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """:meth:`_watch` over validated values, restarting after each alarm."""
        raise NotImplementedError

    def _chart_step(self, y: float) -> bool:
        """One standardised value (mean 0, sd 1) into the chart; resets on an alarm."""
        raise NotImplementedError

    def _chart_reset(self) -> None:
        """The chart's statistic at its start (in the current phase's units)."""
        raise NotImplementedError

    def _chart_rescaled(self) -> None:
        """Hook: the reference was just learned; move the statistic from standardised
        units into the reference's (default: nothing to move)."""

    # -- the protocol -----------------------------------------------------------------
    @property
    def phase(self) -> str:
        """``"watch"`` (against the reference), ``"learn"`` (re-learning or starting up) or
        ``"hold"`` (an alarm held until :meth:`reset`)."""
        return self._phase

    @property
    def episodes(self) -> int:
        """Change episodes opened so far (alarms raised)."""
        return self._episodes

    def update(self, x: float) -> bool:
        """Feed one value; return whether it opens a change episode (raises an alarm)."""
        if self._phase is _WATCH:
            if self._watch(x):
                self._alarmed()
                return True
            return False
        return self._update_other(x)

    def _update_other(self, x: float) -> bool:
        value = finite_number(x)
        if self._phase == _HOLD:
            return False
        return self._learn(value)

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Feed a batch; the 0-based positions in ``xs`` that opened an episode.

        Exactly the alarms of :meth:`update` on each value in turn. The whole batch is
        validated first: a non-finite value raises :class:`SchemaError` and leaves the
        detector untouched.
        """
        arr = as_finite_array(xs)
        self._check_fitted()
        found: list[npt.NDArray[np.int64]] = []
        pos, n = 0, arr.size
        while pos < n:
            if self._phase is _WATCH:
                if self.after_alarm == "keep":
                    alarms = self._watch_many(arr[pos:])
                    self._episodes += int(alarms.size)
                    found.append(alarms + pos)
                    break
                chunk = arr[pos:pos + _WATCH_CHUNK]
                alarms = self._watch_many(chunk)
                if alarms.size == 0:
                    pos += chunk.size
                    continue
                # The chart restarts after an alarm, so its state right after the first
                # one is its start, whatever _watch_many went on to do.
                first = int(alarms[0])
                self._chart_reset()
                self._alarmed()
                found.append(np.array([pos + first], dtype=np.int64))
                pos += first + 1
            elif self._phase == _LEARN:
                learn = self._learn
                hits = []
                while pos < n and self._phase == _LEARN:
                    if learn(float(arr[pos])):
                        hits.append(pos)
                    pos += 1
                found.append(np.asarray(hits, dtype=np.int64))
            else:
                break  # holding: the values are ignored until reset
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def reset(self) -> None:
        """Forget the stream seen so far: end a held alarm, drop a re-learned level and
        the episode count, and go back to the given or fitted reference (a self-starting
        chart without one learns again)."""
        self._mu, self._sd, self._rho = self._base_mu, self._base_sd, self._base_rho
        self._phase = _LEARN if math.isnan(self._mu) else _WATCH
        self._episodes = 0
        self._clear_learning()
        self._restored()
        self._chart_reset()

    def _clear_learning(self) -> None:
        self._ln, self._lmean, self._lm2 = 0, 0.0, 0.0
        self._lfirst, self._lsum, self._lcross, self._llast = 0.0, 0.0, 0.0, 0.0

    def _learned_rho(self, n: int, m2: float) -> float:
        """The lag-1 autocorrelation of the n values learned from, if significant, else 0.

        From shifted running sums (y = x - first value, so y_1 = 0):
        sum_{t>=2} (y_t - ybar)(y_{t-1} - ybar) = S_xy - ybar (2 S - y_n) + (n - 1) ybar^2,
        over sum (y - ybar)^2 = m2.
        """
        if n < 3 or not m2 > 0.0:
            return 0.0
        total = self._lsum
        ybar = total / n
        num = self._lcross - ybar * (2.0 * total - self._llast) + (n - 1) * ybar * ybar
        return significant_lag1(num / m2, n)

    # -- episodes ---------------------------------------------------------------------
    def _alarmed(self) -> None:
        """An alarm was raised (the chart restarted): open the episode, move to the phase
        ``after_alarm`` asks for."""
        self._episodes += 1
        if self.after_alarm == "hold":
            self._phase = _HOLD
        elif self.after_alarm == "relearn" or self._phase == _LEARN:
            self._phase = _LEARN
            self._clear_learning()
            self._chart_reset()

    def _learn(self, x: float) -> bool:
        """One value while (re-)learning: a self-starting step, then the running mean/sd."""
        n, mean, m2 = self._ln, self._lmean, self._lm2
        y = None
        if n >= 2:
            sd = math.sqrt(m2 / (n - 1))
            if sd > 0.0:
                if self._corrects:  # serially correlated so far: the long-run sd
                    rho = self._learned_rho(n, m2)
                    if rho:
                        sd *= long_run_factor(rho)
                # Quesenberry's Q: the value against the n before it is t with n-1 df; its
                # normal quantile is exactly N(0, 1) for normal in-control values.
                t = (x - mean) / sd * math.sqrt(n / (n + 1.0))
                y = float(ndtri(stdtr(n - 1, t)))
                y = min(_Q_LIMIT, max(-_Q_LIMIT, y))
            else:  # constant so far: a different value is as far out as a value can be
                y = 0.0 if x == mean else math.copysign(_Q_LIMIT, x - mean)
        if n == 0:
            self._lfirst = x
        shifted = x - self._lfirst
        self._lcross += shifted * self._llast  # y_1 = 0: the first product adds nothing
        self._lsum += shifted
        self._llast = shifted
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
        self._ln, self._lmean, self._lm2 = n, mean, m2
        if y is not None and n > self.arm_after and self._chart_step(y):
            self._alarmed()
            return True
        if n >= self.relearn_n and m2 > 0.0:
            rho = self._learned_rho(n, m2) if self._corrects else 0.0
            self._mu, self._rho = mean, rho
            self._sd = math.sqrt(m2 / (n - 1)) * (long_run_factor(rho) if rho else 1.0)
            self._phase = _WATCH
            self._restored()
            self._chart_rescaled()
        return False

    # -- reference ------------------------------------------------------------------
    def fit(self: _R, reference: Iterable[float] | npt.ArrayLike) -> _R:
        """Learn the reference mean and standard deviation (``mean_``, ``std_``) from a stream.

        For CUSUM and EWMA with ``autocorrelation="auto"``, a significant positive lag-1
        autocorrelation of the reference (``lag1_``) widens the scale the chart divides by
        (``scale_``) to the long-run sd (see the class notes).

        Raises
        ------
        InsufficientDataError
            Fewer than two values, or a constant reference (its sd would be 0).
        """
        arr = as_finite_array(reference, what="fit")
        if arr.size < 2:
            raise InsufficientDataError(f"fit: need at least 2 reference values, got {arr.size}")
        sd = float(np.std(arr, ddof=1))
        if not sd > 0:
            raise InsufficientDataError(
                "fit: the reference stream is constant (sd 0); give std explicitly"
            )
        rho = (significant_lag1(lag1_autocorrelation(arr), int(arr.size))
               if self._corrects else 0.0)
        self._base_mu, self._base_rho = float(np.mean(arr)), rho
        self._base_sd = sd * (long_run_factor(rho) if rho else 1.0)
        self.reset()
        self.mean_, self.std_, self.scale_, self.lag1_ = self._base_mu, sd, self._base_sd, rho
        return self

    def _check_fitted(self) -> None:
        if math.isnan(self._mu) and self._phase != _LEARN:
            raise NotFittedError(
                f"{type(self).__name__} has no reference: give mean and std, call "
                "fit(reference) first, or set self_starting"
            )

    def _reject(self, x: Any) -> bool:
        self._check_fitted()
        raise SchemaError(
            f"update: value {x!r} is not finite; NaN and inf are rejected (drop or impute "
            "them before the detector); the detector state is unchanged"
        )

    def _restored(self) -> None:
        if self._phase not in _PHASES:
            raise StateError(f"{self.kind!r} state field 'phase' should be one of "
                             f"{', '.join(_PHASES)}, got {self._phase!r}")
        self._phase = _PHASES[_PHASES.index(self._phase)]  # the constant: compared by `is`
        for name in ("rho", "base_rho"):
            value = getattr(self, "_" + name)
            if not 0.0 <= value <= _RHO_MAX:
                raise StateError(f"{self.kind!r} state field {name!r} should be in [0, "
                                 f"{_RHO_MAX}], got {value!r}")
        if not math.isnan(self._mu):  # the reference in use: given, fitted or re-learned
            self.mean_, self.scale_, self.lag1_ = self._mu, self._sd, self._rho
            self.std_ = self._sd / long_run_factor(self._rho) if self._rho else self._sd

    @classmethod
    def _upgraded(cls, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Older state formats in the current one.

        A version-1 state (before episodes) restores as the chart it was: ``keep``. A
        version-2 state (before the autocorrelation correction and ``arm_after``) restores
        as the chart it was, ``autocorrelation="ignore"`` and ``arm_after=2``, so its
        reference and alarms do not change.
        """
        params, fields = state.get("params"), state.get("state")
        if not isinstance(params, Mapping) or not isinstance(fields, Mapping):
            return state
        version = state.get("version")
        if version == 1 and cls.state_version >= 2:
            params = {**params, "after_alarm": "keep"}
            fields = {"phase": _WATCH, "episodes": 0, "ln": 0, "lmean": 0.0, "lm2": 0.0,
                      "base_mu": fields.get("mu"), "base_sd": fields.get("sd"), **fields}
            version = 2
        if version == 2 and cls.state_version >= 3:
            params = {**params, "arm_after": 2}  # armed from the third value, as it was
            if cls._accumulates:
                params = {**params, "autocorrelation": "ignore"}
            fields = {"lfirst": 0.0, "lsum": 0.0, "lcross": 0.0, "llast": 0.0, "rho": 0.0,
                      "base_rho": 0.0, **fields}
            version = 3
        return {**state, "version": version, "params": params, "state": fields}


_R = TypeVar("_R", bound=ReferenceStreamDetector)


def not_a_number(x: Any) -> SchemaError:
    """The error of ``update`` for a value that is not a number at all (a string, None...)."""
    return SchemaError(f"update: expected a number, got {x!r} ({type(x).__name__}); the "
                       "detector state is unchanged")


def finite_number(x: Any) -> float:
    """``x`` as a float; a non-number or a non-finite value is the ``update`` error."""
    try:
        if x - x != 0.0:
            reject_non_finite(x)
        return float(x)
    except TypeError:
        raise not_a_number(x) from None


def reject_non_finite(x: Any) -> bool:
    """Raise the NaN/inf error of ``update`` for the value ``x``."""
    raise SchemaError(
        f"update: value {x!r} is not finite; NaN and inf are rejected (drop or impute them "
        "before the detector); the detector state is unchanged"
    )
