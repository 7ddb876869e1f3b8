"""Performance of a regressor without labels: direct loss estimation (DLE).

A second model learns, on the labelled reference, to predict the primary model's loss
for a row from the row's features and the primary prediction: the absolute error for
MAE, the squared error for RMSE. On an unlabelled window the estimated MAE is the mean of
the predicted absolute errors, the estimated RMSE the square root of the mean predicted
squared error (predictions clipped at 0). (The method of NannyML's DLE, described in its
documentation "Estimating Performance for Regression"; driftwise uses scikit-learn's
histogram gradient boosting for the loss model where NannyML uses LightGBM.)

With an asymmetric ``cost`` (per unit of over- and of under-prediction) a third loss model
learns each row's cost, and the estimate includes ``cost``, the expected cost of a
prediction. Every estimate carries a band (:mod:`driftwise.performance.bands`): the loss
models' out-of-fold residuals on the reference give a row's scatter around its predicted
loss, divided by the window's rows, plus their mean (the loss models' own bias).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.performance import bands as b

DLE_METRICS = ("mae", "rmse")
#: Folds of the reference for the loss models' out-of-fold residuals.
RESIDUAL_FOLDS = 3


#: Categories coded per feature: the loss model's histogram bins hold at most 255 codes,
#: so the 254 most frequent reference categories keep their own and the rest share one.
MAX_CODES = 254


def _encodable(t: pa.DataType) -> bool:
    """Numbers, booleans, text and times; nested and binary values are left out."""
    return not (pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
                or pa.types.is_fixed_size_binary(t) or pa.types.is_null(t))


class _Encoder:
    """Features as a float matrix: numbers as they are, other values as reference codes."""

    def __init__(self, table: pa.Table, features: Sequence[str]) -> None:
        self.features = [f for f in features if _encodable(table.column(f).type)]
        self.codes: dict[str, dict[str, int]] = {}
        for name in self.features:
            column = table.column(name)
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                    or pa.types.is_boolean(column.type)):
                counts = pc.value_counts(pc.drop_null(pc.cast(column, pa.string())))
                pairs = sorted(zip(counts.field("values").to_pylist(),
                                   counts.field("counts").to_pylist(), strict=True),
                               key=lambda vc: (-vc[1], vc[0]))
                kept = sorted(v for v, _ in pairs[:MAX_CODES])
                self.codes[name] = {v: i for i, v in enumerate(kept)}


    @property
    def categorical_mask(self) -> list[bool]:
        return [name in self.codes for name in self.features]

    def matrix(self, table: pa.Table) -> NDArray[np.float64]:
        columns = []
        for name in self.features:
            column = table.column(name)
            if name in self.codes:
                mapping = self.codes[name]
                other = float(MAX_CODES) if len(mapping) == MAX_CODES else np.nan
                strings = pc.cast(column, pa.string()).to_pylist()
                columns.append(np.array([np.nan if v is None else mapping.get(v, other)
                                         for v in strings], dtype=np.float64))
            else:
                columns.append(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
        return np.column_stack(columns) if columns else np.empty((table.num_rows, 0))


class DLE:
    """Direct loss estimation for regression models.

    Parameters
    ----------
    metrics : names
        ``mae`` and/or ``rmse``.
    random_state : int
        Seed of the loss models and folds, so the same data give the same estimates.
    cost : (over, under), optional
        The cost of one unit of over-prediction and of under-prediction: the estimate then
        includes ``cost``, the expected cost of a prediction.
    """

    def __init__(self, metrics: Sequence[str] = DLE_METRICS, *, random_state: int = 0,
                 cost: tuple[float, float] | None = None) -> None:
        self.metrics = metrics
        self.random_state = random_state
        self.cost = cost

    def _targets(self, y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> (
            dict[str, NDArray[np.float64]]):
        error = y_true - y_pred
        targets = {"mae": np.abs(error), "rmse": error**2}
        out = {name: targets[name] for name in self.metrics}
        if self.cost is not None:
            over, under = self.cost
            out["cost"] = over * np.clip(-error, 0.0, None) + under * np.clip(error, 0.0, None)
        return out

    def _model(self, mask: list[bool]) -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            categorical_features=np.asarray(mask) if any(mask) else None,
            random_state=self.random_state)

    def fit(self, table: pa.Table, features: Sequence[str], y_pred: NDArray[np.float64],
            y_true: NDArray[np.float64]) -> DLE:
        """Train one loss model per metric on the labelled reference, and measure their
        out-of-fold residuals for the bands."""
        unknown = set(self.metrics) - set(DLE_METRICS)
        if unknown:
            raise ValueError(f"DLE cannot estimate {sorted(unknown)}; choose from "
                             f"{', '.join(DLE_METRICS)}")
        self.encoder_ = _Encoder(table, features)
        x = np.column_stack([self.encoder_.matrix(table), y_pred])
        mask = [*self.encoder_.categorical_mask, False]
        targets = self._targets(y_true, y_pred)
        self.models_ = {name: self._model(mask).fit(x, target)
                        for name, target in targets.items()}
        self.residual_var_: dict[str, float] = {}
        self.residual_bias_: dict[str, float] = {}
        if x.shape[0] >= 20 * RESIDUAL_FOLDS:
            parts = b.folds(x.shape[0], RESIDUAL_FOLDS, self.random_state)
            for name, target in targets.items():
                oof = np.empty(x.shape[0])
                for test in parts:
                    train = np.ones(x.shape[0], dtype=bool)
                    train[test] = False
                    model = self._model(mask).fit(x[train], target[train])
                    oof[test] = np.clip(model.predict(x[test]), 0.0, None)
                residual = target - oof
                self.residual_var_[name] = float(np.var(residual, ddof=1))
                self.residual_bias_[name] = float(np.mean(residual))
        return self

    def _mean_losses(self, table: pa.Table, y_pred: NDArray[np.float64]) -> dict[str, float]:
        if table.num_rows == 0:
            raise ValueError("cannot estimate performance on an empty window")
        x = np.column_stack([self.encoder_.matrix(table), y_pred])
        return {name: float(np.clip(model.predict(x), 0.0, None).mean())
                for name, model in self.models_.items()}

    def estimate(self, table: pa.Table, y_pred: NDArray[np.float64]) -> dict[str, float]:
        """Estimated MAE / RMSE (and ``cost``) of the primary model on an unlabelled window."""
        means = self._mean_losses(table, y_pred)
        return {name: math.sqrt(v) if name == "rmse" else v for name, v in means.items()}

    def bands(self, table: pa.Table, y_pred: NDArray[np.float64], *,
              k: float = b.BAND_SIGMAS) -> dict[str, b.Band]:
        """Each estimate's band on this window (``{}`` for a reference too small to measure
        the residuals on)."""
        means = self._mean_losses(table, y_pred)
        n = table.num_rows
        out = {}
        for name, mean in means.items():
            if name not in self.residual_var_:
                continue
            sigma = math.sqrt(self.residual_var_[name] / n + self.residual_bias_[name] ** 2)
            if name == "rmse":
                # The band of the mean squared error, mapped through the square root; σ by
                # the delta method.
                root = math.sqrt(mean)
                out[name] = b.Band(sigma / (2 * root) if root > 0 else math.sqrt(sigma),
                                   math.sqrt(max(mean - k * sigma, 0.0)),
                                   math.sqrt(mean + k * sigma))
            else:
                out[name] = b.Band.around(name, mean, sigma, k)
        return out
