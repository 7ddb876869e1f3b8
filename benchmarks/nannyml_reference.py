"""Produce NannyML reference values for driftwise's performance-estimation tests.

Runs NannyML 0.13.1 (CBPE for classification, DLE for regression, PerformanceCalculator for the
realized values) on the synthetic datasets NannyML ships, and writes, under tests/performance/data/:

- nannyml_car_loan.parquet, nannyml_multiclass.parquet, nannyml_car_price.parquet: the columns
  driftwise needs, reference rows first, then analysis rows (targets joined by ``id``);
- nannyml_reference_values.json: per dataset, per metric, per chunk, every column of NannyML's
  result frames, plus the exact configuration and the library versions.

Run it through ``bash benchmarks/nannyml_reference.sh``, which builds the venv from
benchmarks/requirements-nannyml.txt and turns NannyML's usage logging off. NannyML is never
imported by driftwise or its tests.
"""

from __future__ import annotations

import os

# NannyML sends usage events to Segment unless this variable is present (any value); it is
# checked on every event (nannyml/usage_logging.py). Set before nannyml is imported.
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import json
import math
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import nannyml as nml
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

nml.disable_usage_logging()

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "performance" / "data"
CHUNK_SIZE = 5000
# Columns with at most this many distinct values are dictionary-encoded (the probabilities have
# two decimals, so 101 values); other float64 columns use BYTE_STREAM_SPLIT. Both are lossless.
DICTIONARY_MAX_DISTINCT = 1000

BINARY_METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1"]
MULTICLASS_METRICS = ["roc_auc", "accuracy", "f1"]
REGRESSION_METRICS = ["mae", "rmse"]
CAR_PRICE_FEATURES = [
    "car_age",
    "km_driven",
    "price_new",
    "accident_count",
    "door_count",
    "fuel",
    "transmission",
]
CHUNK_FIELDS = ["key", "chunk_index", "start_index", "end_index", "period"]


def _plain(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NumPy scalars unwrapped, NaN and NaT as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _versions() -> dict[str, str]:
    names = ["nannyml", "pandas", "numpy", "scikit-learn", "scipy", "lightgbm", "pyarrow"]
    found = {name: metadata.version(name) for name in names}
    found["python"] = platform.python_version()
    return found


def _result_frame(result: Any) -> pd.DataFrame:
    """NannyML's ``result.to_df()`` with its two-level columns flattened to ``level0.level1``."""
    frame = result.to_df()
    frame.columns = [f"{top}.{sub}" for top, sub in frame.columns]
    return frame


def _per_metric_chunks(
    estimated: pd.DataFrame,
    realized: pd.DataFrame,
    metrics: list[str],
    period_offsets: dict[str, int],
) -> dict[str, Any]:
    """Per metric, one record per chunk: the chunk, the estimate's columns, the realized ones.

    ``estimated`` is the estimator's flattened result (reference chunks then analysis chunks),
    ``realized`` the PerformanceCalculator's, chunked identically. ``start_index`` and
    ``end_index`` are NannyML's, inclusive and counted within the period; ``row_start`` and
    ``row_stop`` are the half-open row range in the committed parquet file.
    """
    if len(estimated) != len(realized):
        raise RuntimeError("estimator and calculator produced different chunkings")
    out: dict[str, Any] = {}
    for metric in metrics:
        chunks = []
        for (_, est_row), (_, real_row) in zip(
            estimated.iterrows(), realized.iterrows(), strict=True
        ):
            chunk = {field: _plain(est_row[f"chunk.{field}"]) for field in CHUNK_FIELDS}
            for field in CHUNK_FIELDS:
                if _plain(real_row[f"chunk.{field}"]) != chunk[field]:
                    raise RuntimeError(f"chunk mismatch on {field}: {chunk}")
            offset = period_offsets[chunk["period"]]
            chunk["row_start"] = offset + chunk["start_index"]
            chunk["row_stop"] = offset + chunk["end_index"] + 1
            chunk["estimated"] = {
                col.split(".", 1)[1]: _plain(est_row[col])
                for col in estimated.columns
                if col.startswith(f"{metric}.")
            }
            chunk["realized"] = {
                col.split(".", 1)[1]: _plain(real_row[col])
                for col in realized.columns
                if col.startswith(f"{metric}.")
            }
            chunks.append(chunk)
        out[metric] = chunks
    return out


def _sampling_error_components(estimator: Any) -> dict[str, Any]:
    """The per-metric constants NannyML derives from reference data for its sampling errors.

    These are private attributes of NannyML's metric objects, recorded only to help explain
    differences; the per-chunk ``sampling_error`` values are the public output.
    """
    return {
        metric.column_name: _plain(list(getattr(metric, "_sampling_error_components", ())))
        for metric in estimator.metrics
    }


def _combine(reference: pd.DataFrame, analysis: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frames = []
    for period, frame in (("reference", reference), ("analysis", analysis)):
        part = frame[columns].copy()
        part.insert(1, "period", period)
        frames.append(part)
    combined = pd.concat(frames, ignore_index=True)
    combined["period"] = pd.Categorical(combined["period"], categories=["reference", "analysis"])
    return combined


def _write_parquet(data: pd.DataFrame, path: Path) -> None:
    """Write ``data`` losslessly (float64 kept) and compactly: zstd plus per-column encodings."""
    table = pa.Table.from_pandas(data, preserve_index=False)
    dictionary = [
        c for c in data.columns if c != "id" and data[c].nunique() <= DICTIONARY_MAX_DISTINCT
    ]
    encodings = {"id": "DELTA_BINARY_PACKED"}
    for col in data.columns:
        if col not in dictionary and data[col].dtype == np.float64:
            encodings[col] = "BYTE_STREAM_SPLIT"
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=dictionary,
        column_encoding=encodings,
    )
    if not pd.read_parquet(path).equals(data):
        raise RuntimeError(f"{path} does not read back equal to what was written")


def _join_targets(analysis: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    joined = analysis.merge(targets, on="id", how="left", validate="one_to_one")
    if len(joined) != len(analysis) or not joined["id"].equals(analysis["id"]):
        raise RuntimeError("joining analysis targets by id changed the rows")
    return joined


def car_loan() -> tuple[dict[str, Any], pd.DataFrame]:
    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = _join_targets(analysis, targets)
    params = {
        "problem_type": "classification_binary",
        "y_pred_proba": "y_pred_proba",
        "y_pred": "y_pred",
        "y_true": "repaid",
        "metrics": BINARY_METRICS,
        "chunk_size": CHUNK_SIZE,
    }
    estimator = nml.CBPE(**params)  # default calibration='isotonic', default thresholds
    estimator.fit(reference)
    estimated = _result_frame(estimator.estimate(analysis))
    calculator = nml.PerformanceCalculator(**params)
    calculator.fit(reference)
    realized = _result_frame(calculator.calculate(analysis))

    data = _combine(reference, analysis, ["id", "y_pred_proba", "y_pred", "repaid"])
    if not set(np.unique(data["repaid"])) <= {0, 1}:
        raise RuntimeError("repaid is not 0/1")
    data["repaid"] = data["repaid"].astype(np.int8)
    data["y_pred"] = data["y_pred"].astype(np.int8)
    record = {
        "loader": "nannyml.load_synthetic_car_loan_dataset",
        "problem_type": "classification_binary",
        "data_file": "nannyml_car_loan.parquet",
        "rows": {"reference": len(reference), "analysis": len(analysis)},
        "estimator": {
            "class": "nannyml.CBPE",
            "params": {**params, "calibration": "isotonic", "timestamp_column_name": None},
            "needs_calibration": bool(estimator.needs_calibration),
            "sampling_error_components": _sampling_error_components(estimator),
        },
        "realized_calculator": {"class": "nannyml.PerformanceCalculator", "params": params},
        "metrics": _per_metric_chunks(
            estimated, realized, BINARY_METRICS, {"reference": 0, "analysis": len(reference)}
        ),
    }
    return record, data


def multiclass() -> tuple[dict[str, Any], pd.DataFrame]:
    reference, analysis, targets = nml.load_synthetic_multiclass_classification_dataset()
    analysis = _join_targets(analysis, targets)
    classes = ["prepaid_card", "highstreet_card", "upmarket_card"]
    proba = {cls: f"y_pred_proba_{cls}" for cls in classes}
    params = {
        "problem_type": "classification_multiclass",
        "y_pred_proba": proba,
        "y_pred": "y_pred",
        "y_true": "y_true",
        "metrics": MULTICLASS_METRICS,
        "chunk_size": CHUNK_SIZE,
    }
    estimator = nml.CBPE(**params)
    estimator.fit(reference)
    estimated = _result_frame(estimator.estimate(analysis))
    calculator = nml.PerformanceCalculator(**params)
    calculator.fit(reference)
    realized = _result_frame(calculator.calculate(analysis))

    data = _combine(reference, analysis, ["id", *proba.values(), "y_pred", "y_true"])
    for col in ("y_pred", "y_true"):
        data[col] = pd.Categorical(data[col], categories=classes)
    calibrated = {
        cls: type(cal).__name__ != "NoopCalibrator"
        for cls, cal in getattr(estimator, "_calibrators", {}).items()
    }
    record = {
        "loader": "nannyml.load_synthetic_multiclass_classification_dataset",
        "problem_type": "classification_multiclass",
        "data_file": "nannyml_multiclass.parquet",
        "rows": {"reference": len(reference), "analysis": len(analysis)},
        "estimator": {
            "class": "nannyml.CBPE",
            "params": {**params, "calibration": "isotonic", "timestamp_column_name": None},
            "needs_calibration_per_class": calibrated,
            "sampling_error_components": _sampling_error_components(estimator),
        },
        "realized_calculator": {"class": "nannyml.PerformanceCalculator", "params": params},
        "metrics": _per_metric_chunks(
            estimated, realized, MULTICLASS_METRICS, {"reference": 0, "analysis": len(reference)}
        ),
    }
    return record, data


def car_price() -> tuple[dict[str, Any], pd.DataFrame]:
    reference, analysis, targets = nml.load_synthetic_car_price_dataset()
    analysis = _join_targets(analysis, targets)
    params = {
        "feature_column_names": CAR_PRICE_FEATURES,
        "y_pred": "y_pred",
        "y_true": "y_true",
        "metrics": REGRESSION_METRICS,
        "chunk_size": CHUNK_SIZE,
        "tune_hyperparameters": False,
        "hyperparameters": None,
    }
    estimator = nml.DLE(**params)  # nanny model: lightgbm.LGBMRegressor() with its defaults
    estimator.fit(reference)
    estimated = _result_frame(estimator.estimate(analysis))
    calc_params = {
        "problem_type": "regression",
        "y_pred": "y_pred",
        "y_true": "y_true",
        "metrics": REGRESSION_METRICS,
        "chunk_size": CHUNK_SIZE,
    }
    calculator = nml.PerformanceCalculator(**calc_params)
    calculator.fit(reference)
    realized = _result_frame(calculator.calculate(analysis))

    data = _combine(reference, analysis, ["id", *CAR_PRICE_FEATURES, "y_pred", "y_true"])
    for col in ("fuel", "transmission"):
        data[col] = pd.Categorical(data[col], categories=sorted(reference[col].unique()))
    nanny = {
        metric.column_name: _plain(
            {k: v for k, v in metric._dee_model.get_params().items() if v is not None}
        )
        for metric in estimator.metrics
    }
    record = {
        "loader": "nannyml.load_synthetic_car_price_dataset",
        "problem_type": "regression",
        "data_file": "nannyml_car_price.parquet",
        "rows": {"reference": len(reference), "analysis": len(analysis)},
        "estimator": {
            "class": "nannyml.DLE",
            "params": {**params, "timestamp_column_name": None},
            "categorical_features": ["fuel", "transmission"],
            "nanny_model": "lightgbm.LGBMRegressor",
            "nanny_model_params_non_null": nanny,
            "sampling_error_components": _sampling_error_components(estimator),
        },
        "realized_calculator": {"class": "nannyml.PerformanceCalculator", "params": calc_params},
        "metrics": _per_metric_chunks(
            estimated, realized, REGRESSION_METRICS, {"reference": 0, "analysis": len(reference)}
        ),
    }
    return record, data


def main() -> int:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    datasets: dict[str, Any] = {}
    builders = [("car_loan", car_loan), ("car_price", car_price)]
    if hasattr(nml, "load_synthetic_multiclass_classification_dataset"):
        builders.insert(1, ("multiclass", multiclass))
    for name, build in builders:
        print(f"nannyml_reference: {name}", file=sys.stderr)
        record, data = build()
        path = OUT_DIR / record["data_file"]
        _write_parquet(data, path)
        record["data_columns"] = {col: str(dtype) for col, dtype in data.dtypes.items()}
        datasets[name] = record
        print(f"  wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)", file=sys.stderr)

    values = {
        "generator": "benchmarks/nannyml_reference.py (run via benchmarks/nannyml_reference.sh)",
        "versions": _versions(),
        "chunking": (
            f"nannyml SizeBasedChunker(chunk_size={CHUNK_SIZE}, incomplete='keep'); no timestamp "
            "column, so chunks are consecutive row ranges of each period taken separately"
        ),
        "sampling_error_range": 3,
        "datasets": datasets,
    }
    path = OUT_DIR / "nannyml_reference_values.json"
    path.write_text(json.dumps(values, indent=1, allow_nan=False) + "\n")
    print(f"  wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
