"""Error indicators: a real-valued stream turned into the 0/1 errors DDM and EDDM watch.

DDM and EDDM follow the rate (and spacing) of a classifier's mistakes, so they take 0
(correct) or 1 (error). A per-row loss, an absolute residual or a per-window metric says
more than that, but a threshold turns it into an error the detectors can count: a binary
classifier's log loss above ``ln 2`` is exactly a wrong prediction at 0.5 (the true class got
less than half the probability); a regressor's absolute error above a tolerance is a miss; a
metric more than ``z`` in-control sds from its in-control mean is an unusual window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError
from driftwise.stream._base import as_finite_array

__all__ = ["ErrorIndicator", "error_indicator"]


def _number(name: str, value: Any, positive: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) \
            or (positive and value <= 0):
        raise ConfigError(f"{name} must be a finite{' positive' if positive else ''} number, "
                          f"got {value!r}")
    return float(value)


class ErrorIndicator:
    """1 where a value is an error, 0 where it is not, for :class:`DDM` and :class:`EDDM`.

    Give ``above`` and/or ``below`` (an error is a value above ``above`` or below ``below``),
    or ``z``: an error is a value more than ``z`` in-control sds from the in-control mean,
    ``|x - mean| / std > z``, with ``mean`` and ``std`` given or learned by :meth:`fit`.

    Parameters
    ----------
    above, below : float or None
        Thresholds in the units of the values (a loss above 0.69, an accuracy below 0.8).
    z : float or None
        Distance from the in-control mean, in in-control sds, beyond which a value is an error.
    mean, std : float or None
        The in-control level and spread for ``z``; without them, call :meth:`fit`.

    Raises
    ------
    ConfigError
        Neither thresholds nor ``z``, both, ``below`` not under ``above``, ``mean``/``std``
        without ``z``, a non-finite threshold, a ``z`` or ``std`` not above 0.

    Example
    -------
    >>> import math
    >>> log_loss = [0.1, 0.9, 0.3, 2.3]      # per row; above ln 2: the prediction was wrong
    >>> ErrorIndicator(above=math.log(2)).transform(log_loss).tolist()
    [0, 1, 0, 1]
    >>> ErrorIndicator(z=3).fit([10.0, 11.0, 9.0, 10.0]).transform([10.5, 13.0]).tolist()
    [0, 1]
    """

    def __init__(self, *, above: float | None = None, below: float | None = None,
                 z: float | None = None, mean: float | None = None,
                 std: float | None = None) -> None:
        self.above = _number("above", above)
        self.below = _number("below", below)
        self.z = _number("z", z, positive=True)
        self.mean = _number("mean", mean)
        self.std = _number("std", std, positive=True)
        thresholds = self.above is not None or self.below is not None
        if thresholds == (self.z is not None):
            raise ConfigError("an error indicator needs `above` and/or `below` (thresholds in "
                              "the values' units), or `z` (in-control sds from the mean), "
                              "not " + ("both" if thresholds else "neither"))
        if self.above is not None and self.below is not None and not self.below < self.above:
            raise ConfigError(f"below ({below!r}) must be less than above ({above!r}): every "
                              "value would be an error")
        if self.z is None and (self.mean is not None or self.std is not None):
            raise ConfigError("mean and std are the in-control level for `z`; give `z` too")
        if (self.mean is None) != (self.std is None):
            raise ConfigError("give both mean and std, or neither (fit learns them)")

    @property
    def needs_reference(self) -> bool:
        """Whether :meth:`fit` must learn the in-control mean and sd first."""
        return self.z is not None and self.mean is None and not hasattr(self, "mean_")

    def fit(self, reference: Any) -> ErrorIndicator:
        """Learn the in-control mean and sd (``mean_``, ``std_``) for ``z`` from reference values.

        Raises
        ------
        SchemaError
            Non-finite reference values.
        InsufficientDataError
            Fewer than two values, or a constant reference.
        """
        x = as_finite_array(reference, "fit", "drop them from the reference")
        if x.size < 2:
            raise InsufficientDataError(f"fit: need at least 2 reference values, got {x.size}")
        sd = float(np.std(x, ddof=1))
        if not sd > 0:
            raise InsufficientDataError("fit: the reference is constant; its sd is 0, so `z` "
                                        "has no scale (give mean and std, or thresholds)")
        self.mean_, self.std_ = float(np.mean(x)), sd
        return self

    def transform(self, values: Any) -> npt.NDArray[np.int64]:
        """0 or 1 for each value (non-finite values raise :class:`SchemaError`)."""
        x = as_finite_array(values, "transform", "drop or impute them first")
        if self.z is not None:
            mean, std = self._level()
            error = np.abs(x - mean) > self.z * std
        else:
            error = np.zeros(x.size, dtype=bool)
            if self.above is not None:
                error |= x > self.above
            if self.below is not None:
                error |= x < self.below
        return error.astype(np.int64)

    def __call__(self, x: float) -> int:
        """The indicator of one value."""
        return int(self.transform([x])[0])

    def _level(self) -> tuple[float, float]:
        if self.mean is not None and self.std is not None:
            return self.mean, self.std
        if not hasattr(self, "mean_"):
            raise NotFittedError("ErrorIndicator with z: give mean and std, or call "
                                 "fit(reference_values) first")
        return self.mean_, self.std_

    def __repr__(self) -> str:
        set_ = {k: v for k in ("above", "below", "z", "mean", "std")
                if (v := getattr(self, k)) is not None}
        return f"ErrorIndicator({', '.join(f'{k}={v!r}' for k, v in set_.items())})"


def error_indicator(values: Any, *, above: float | None = None, below: float | None = None,
                    z: float | None = None, reference: Any = None, mean: float | None = None,
                    std: float | None = None) -> npt.NDArray[np.int64]:
    """The 0/1 error indicator of real values, ready for :class:`DDM` or :class:`EDDM`.

    An error is a value above ``above`` or below ``below``; or, with ``z``, more than ``z``
    sds from the in-control mean: ``mean`` and ``std`` as given, or those of ``reference``
    (values of the same stream while it was in control). See :class:`ErrorIndicator`.

    Example
    -------
    >>> import numpy as np
    >>> from driftwise.stream import DDM
    >>> rng = np.random.default_rng(1)
    >>> residual = np.concatenate([rng.normal(0, 1, 2000), rng.normal(0, 2, 500)])
    >>> errors = error_indicator(np.abs(residual), above=2.0)   # a miss: off by more than 2
    >>> DDM().update_many(errors).tolist()                       # the spread doubles at 2000
    [2037]
    """
    indicator = ErrorIndicator(above=above, below=below, z=z, mean=mean, std=std)
    if reference is not None:
        if z is None or mean is not None:
            raise ConfigError("reference sets the in-control mean and sd for `z`; give it "
                              "with z and without mean and std")
        indicator.fit(reference)
    elif indicator.needs_reference:
        raise ConfigError("z needs the in-control level: give reference=values of the stream "
                          "in control, or mean and std")
    return indicator.transform(values)
