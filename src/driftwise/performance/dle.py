"""Performance of a regressor without labels: direct loss estimation (DLE).

A second model learns, on the labelled reference, to predict the primary model's loss
for a row from the row's features and the primary prediction: the absolute error for
MAE, the squared error for RMSE. On an unlabelled window the estimated MAE is the mean of
the predicted absolute errors, the estimated RMSE the square root of the mean predicted
squared error (predictions clipped at 0). (The method of NannyML's DLE, described in its
documentation "Estimating Performance for Regression"; driftwise uses scikit-learn's
histogram gradient boosting for the loss model where NannyML uses LightGBM.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

DLE_METRICS = ("mae", "rmse")


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
        Seed of the loss models, so the same data give the same estimates.
    """

    def __init__(self, metrics: Sequence[str] = DLE_METRICS, *, random_state: int = 0) -> None:
        self.metrics = metrics
        self.random_state = random_state

    def fit(self, table: pa.Table, features: Sequence[str], y_pred: NDArray[np.float64],
            y_true: NDArray[np.float64]) -> DLE:
        """Train one loss model per metric on the labelled reference."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        unknown = set(self.metrics) - set(DLE_METRICS)
        if unknown:
            raise ValueError(f"DLE cannot estimate {sorted(unknown)}; choose from "
                             f"{', '.join(DLE_METRICS)}")
        self.encoder_ = _Encoder(table, features)
        x = np.column_stack([self.encoder_.matrix(table), y_pred])
        mask = [*self.encoder_.categorical_mask, False]
        error = y_true - y_pred
        targets = {"mae": np.abs(error), "rmse": error**2}
        self.models_ = {}
        for name in self.metrics:
            model = HistGradientBoostingRegressor(
                categorical_features=np.asarray(mask) if any(mask) else None,
                random_state=self.random_state)
            self.models_[name] = model.fit(x, targets[name])
        return self

    def estimate(self, table: pa.Table, y_pred: NDArray[np.float64]) -> dict[str, float]:
        """Estimated MAE / RMSE of the primary model on an unlabelled window."""
        if table.num_rows == 0:
            raise ValueError("cannot estimate performance on an empty window")
        x = np.column_stack([self.encoder_.matrix(table), y_pred])
        out = {}
        for name, model in self.models_.items():
            loss = np.clip(model.predict(x), 0.0, None)
            out[name] = float(loss.mean()) if name == "mae" else math.sqrt(float(loss.mean()))
        return out
