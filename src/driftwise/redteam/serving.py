"""The serving layer of a replay: what a model server does with a window before the model.

A scenario changes the data a model receives; the model's outputs on that data are what the
Monitor watches and what the harm is measured on, so they are recomputed on every changed
window, the way a typical model server would compute them:

* a column the model needs but the window lacks (a dropped feature) is filled with the
  reference's median (numeric) or most frequent value;
* a numeric feature that arrives as text is parsed (``"1234.5"`` reads as a number); text
  that does not parse becomes missing;
* missing values reach the model as NaN when it accepts them (histogram gradient boosting,
  for one); a model that rejects NaN gets the reference's median or most frequent value.

The window the Monitor sees is the changed window as it arrived, plus the model's outputs:
a monitor judges what came in, not what the server repaired.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.config.monitor import MonitorConfig
from driftwise.data.columns import category_label
from driftwise.errors import ConfigError, NotFittedError, SchemaError


def model_features(model: Any, config: MonitorConfig, reference: pa.Table) -> list[str]:
    """The columns the model reads: its ``feature_names_in_``, else the Monitor's features,
    else every reference column that plays no other role."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        found = [str(n) for n in names]
    elif config.columns.features:
        found = list(config.columns.features)
    else:
        c = config.columns
        roles = {c.prediction, *c.probability_columns, c.target, c.id, c.timestamp} - {None}
        found = [n for n in reference.column_names if n not in roles]
    width = getattr(model, "n_features_in_", None)
    if names is None and isinstance(width, int) and width != len(found):
        raise SchemaError(f"the model reads {width} features but the Monitor's are "
                          f"{len(found)} ({', '.join(found[:10])}); fit the model on a "
                          "DataFrame (its column names say what it reads) or list exactly "
                          "its features, in order, under columns.features")
    missing = [n for n in found if n not in reference.column_names]
    if missing:
        raise SchemaError(f"the model reads column(s) the reference lacks: "
                          f"{', '.join(missing[:10])}")
    return found


class ServingLayer:
    """The user's model behind the repairs a model server makes (see the module docstring).

    Parameters
    ----------
    model
        A fitted scikit-learn style model: ``predict_proba`` for classifiers (``classes_``),
        ``predict`` for regression.
    config : MonitorConfig
        Names the output columns (``columns.probabilities``, ``columns.prediction``), the
        task and the positive class.
    features : sequence of str
        The columns the model reads, in its order.
    """

    def __init__(self, model: Any, config: MonitorConfig, features: Sequence[str]) -> None:
        self.model = model
        self.config = config
        self.features = list(features)

    def fit(self, reference: pa.Table) -> ServingLayer:
        """Learn the fill values and the numeric columns from the reference."""
        try:
            import pandas as pd
        except ImportError:  # the model is asked with DataFrames, as servers ask it
            raise ConfigError("the purple team needs pandas: pip install "
                              "'driftwise[redteam]'") from None

        frame = reference.select(self.features).to_pandas()
        self.numeric_ = {n for n in self.features if pd.api.types.is_numeric_dtype(frame[n])}
        self.fill_: dict[str, Any] = {}
        for name in self.features:
            col = frame[name].dropna()
            if name in self.numeric_:
                self.fill_[name] = float(col.median()) if len(col) else 0.0
            else:
                self.fill_[name] = col.mode().iloc[0] if len(col) else ""
        self.classes_ = self._classes()
        self.impute_always_ = False
        self.outputs(reference.slice(0, min(reference.num_rows, 50)))
        return self

    def _classes(self) -> list[Any] | None:
        if self.config.task == "regression":
            return None
        classes = getattr(self.model, "classes_", None)
        if classes is None or not hasattr(self.model, "predict_proba"):
            raise ConfigError("a classifier for the purple team needs predict_proba and "
                              "classes_ (a fitted scikit-learn classifier)")
        return list(classes)

    def frame(self, window: pa.Table) -> Any:
        """The model's input for ``window`` as a pandas DataFrame (repairs applied)."""
        import pandas as pd

        if not hasattr(self, "fill_"):
            raise NotFittedError("ServingLayer: call fit(reference) first")
        out = {}
        for name in self.features:
            if name not in window.column_names:
                out[name] = pd.Series([self.fill_[name]] * window.num_rows)
                continue
            col = window.column(name).to_pandas()
            if name in self.numeric_ and not pd.api.types.is_numeric_dtype(col):
                col = pd.to_numeric(col, errors="coerce")
            out[name] = col.reset_index(drop=True)
        frame = pd.DataFrame(out, columns=self.features)
        if self.impute_always_:
            frame = frame.fillna(self.fill_)
        return frame

    def _call(self, window: pa.Table) -> NDArray[Any]:
        frame = self.frame(window)
        method = self.model.predict if self.classes_ is None else self.model.predict_proba
        try:
            return np.asarray(method(frame))
        except ValueError:
            if self.impute_always_ or not frame.isna().to_numpy().any():
                raise
            # This model rejects NaN: a server in front of it imputes.
            self.impute_always_ = True
            return np.asarray(method(frame.fillna(self.fill_)))

    def outputs(self, window: pa.Table) -> dict[str, NDArray[Any]]:
        """The model's output columns for ``window``, named as the Monitor expects."""
        c = self.config.columns
        answer = self._call(window)
        out: dict[str, NDArray[Any]] = {}
        if self.classes_ is None:
            if c.prediction is not None:
                out[c.prediction] = answer.astype(np.float64)
            return out
        proba = answer.astype(np.float64)
        labels = [category_label(k) for k in self.classes_]
        if self.config.task == "binary" and c.probability_columns:
            positive = self.config.positive_class
            index = labels.index(positive) if positive in labels else len(labels) - 1
            out[c.probability_columns[0]] = proba[:, index]
        elif isinstance(c.probabilities, dict):
            for label, column in c.probabilities.items():
                if label not in labels:
                    raise ConfigError(f"columns.probabilities: class {label!r} is not one "
                                      f"of the model's classes ({', '.join(map(str, labels))})")
                out[column] = proba[:, labels.index(label)]
        if c.prediction is not None:
            out[c.prediction] = np.asarray(self.classes_, dtype=object)[proba.argmax(axis=1)]
        return out

    def scores(self, window: pa.Table) -> NDArray[np.float64]:
        """The model's raw answer: class probabilities (rows × classes) or predictions."""
        return self._call(window).astype(np.float64)

    def attach(self, window: pa.Table) -> pa.Table:
        """``window`` with the model's output columns set (replaced when present)."""
        table = window
        for name, values in self.outputs(window).items():
            array = pa.array(values.tolist() if values.dtype == object else values)
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, array)
            else:
                table = table.append_column(name, array)
        return table


def target_values(table: pa.Table, target: str) -> NDArray[Any]:
    """The target column as labels (``category_label``), None where missing."""
    values = table.column(target)
    valid = pc.is_valid(values).to_numpy(zero_copy_only=False)
    raw = values.to_pylist()
    return np.array([category_label(v) if ok else None for v, ok in zip(raw, valid,
                                                                        strict=True)],
                    dtype=object)
