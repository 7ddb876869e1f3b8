"""The protocol every sequential detector shares, its JSON state, and input validation."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from driftwise.errors import (
    ConfigError,
    InsufficientDataError,
    NotFittedError,
    SchemaError,
    StateError,
)

__all__ = ["ReferenceStreamDetector", "StreamDetector"]

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


class ReferenceStreamDetector(StreamDetector):
    """A detector on a standardised statistic: reference mean and sd given or learned by fit."""

    def __init__(self, mean: float | None = None, std: float | None = None) -> None:
        if mean is not None and (isinstance(mean, bool) or not isinstance(mean, (int, float))
                                 or not math.isfinite(mean)):
            raise ConfigError(f"mean must be a finite number or None, got {mean!r}")
        if std is not None:
            check_positive("std", std)
        if (mean is None) != (std is None):
            raise ConfigError("give both mean and std, or neither (and call fit(reference))")
        self.mean = mean
        self.std = std
        self._mu = math.nan if mean is None else float(mean)
        self._sd = math.nan if std is None else float(std)

    def fit(self: _R, reference: Iterable[float] | npt.ArrayLike) -> _R:
        """Learn the reference mean and standard deviation (``mean_``, ``std_``) from a stream.

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
        self.mean_ = float(np.mean(arr))
        self.std_ = sd
        self._mu, self._sd = self.mean_, self.std_
        self.reset()
        return self

    def _check_fitted(self) -> None:
        if math.isnan(self._mu):
            raise NotFittedError(
                f"{type(self).__name__} has no reference: give mean and std, or call "
                "fit(reference) first"
            )

    def _reject(self, x: Any) -> bool:
        self._check_fitted()
        raise SchemaError(
            f"update: value {x!r} is not finite; NaN and inf are rejected (drop or impute "
            "them before the detector); the detector state is unchanged"
        )

    def _restored(self) -> None:
        if not math.isnan(self._mu) and self.mean is None:
            self.mean_, self.std_ = self._mu, self._sd


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
