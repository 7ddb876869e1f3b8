"""Real series with documented change points, for benchmarks/changepoints.py.

Each loader returns a :class:`Series`: the values in time order, the annotated changes (the
first index of each new regime, one list per annotator), the warm-up prefix (values before
the first change, from which the detectors' inputs are standardised) and a note on where
the values and the annotation come from. Sources are in ``../shared/data`` (MANIFEST.md
there) and, for the Nile, in statsmodels (benchmark venv only: :func:`nile` runs there).
The slices are short so the whole benchmark takes a few minutes on 2 CPUs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

__all__ = ["DATA", "Series", "acs_accuracy", "credit_accuracy", "elec2_vicdemand",
           "insects_att1", "nile", "standardise", "usenet_errors"]


@dataclass(frozen=True)
class Series:
    """One benchmark series and its annotation."""

    name: str
    values: list[float]
    annotations: list[list[int]]
    #: Values 0..warmup-1 lie before the first change; their mean and sd standardise the
    #: detectors' inputs.
    warmup: int
    #: A 0/1 error stream: the error-rate detectors (DDM, EDDM) run on it too.
    binary: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Series:
        return cls(**data)


def standardise(series: Series) -> tuple[np.ndarray, float, float]:
    """``(x - m) / s`` with m and s (ddof 1) of the warm-up prefix.

    A constant prefix (Elec2's imputed Victorian data) has s = 0; its scale is then 1 % of
    ``|m|`` (1 when m is 0), so a move of 1 % of the level counts as one sd. Returns the
    standardised values, m and s.
    """
    x = np.asarray(series.values, dtype=np.float64)
    head = x[:series.warmup]
    m, s = float(head.mean()), float(head.std(ddof=1))
    if not s > 0:
        s = 0.01 * abs(m) if m != 0 else 1.0
    return (x - m) / s, m, s


def elec2_vicdemand(before: int = 1000, after: int = 1000) -> Series:
    """Elec2 ``vicdemand``, rows 17,424 - ``before`` to 17,424 + ``after``."""
    change = 17_424
    table = np.genfromtxt(DATA / "elec2" / "elec2_electricity_normalized.csv", delimiter=",",
                          names=True, dtype=None, encoding="utf-8")
    values = np.asarray(table["vicdemand"][change - before:change + after], dtype=np.float64)
    return Series(
        name="elec2_vicdemand", values=values.tolist(), annotations=[[before]],
        warmup=before // 2, binary=False,
        note=f"Elec2 (Harries 1999) vicdemand, rows {change - before:,}-"
             f"{change + after - 1:,}; Victorian data were missing and imputed as a constant "
             f"(the later mean) up to row {change - 1:,} (MANIFEST.md #1), so the series goes "
             f"from constant to varying at row {change:,}: a change of spread, not of mean.",
    )


def insects_att1(before: int = 2000, after: int = 2000) -> Series:
    """INSECTS gradual-balanced ``Att1``, rows 14,028 - ``before`` to 14,028 + ``after``."""
    import pandas as pd

    change = 14_028
    frame = pd.read_csv(DATA / "insects" / "insects_gradual_balanced_norm.csv.gz",
                        usecols=["Att1"])
    values = frame["Att1"].to_numpy(np.float64)[change - before:change + after]
    return Series(
        name="insects_att1", values=values.tolist(), annotations=[[before]],
        warmup=before // 2, binary=False,
        note=f"INSECTS gradual, balanced (Souza et al. 2020) Att1, rows {change - before:,}-"
             f"{change + after - 1:,}; drift (temperature) at row {change:,} as listed by "
             "DFKI-NI/unsupervised-concept-drift-detection (MANIFEST.md #2): the mean falls "
             "from about 980 to 804, about half an sd of a single value.",
    )


def usenet_errors(which: int, warmup: int = 200) -> Series:
    """0/1 errors of a Bernoulli naive Bayes fitted on the first ``warmup`` rows of Usenet."""
    import pandas as pd

    frame = pd.read_csv(DATA / "usenet" / f"usenet{which}.csv")
    x = frame.drop(columns="interesting").to_numpy(np.float64)
    y = frame["interesting"].to_numpy(np.int64)
    predicted = _naive_bayes(x[:warmup], y[:warmup], x)
    errors = (predicted != y).astype(np.float64)
    return Series(
        name=f"usenet{which}_errors", values=errors.tolist(),
        annotations=[[300, 600, 900, 1200]], warmup=warmup, binary=True,
        note=f"Usenet{which} (Katakis et al. 2008): a simulated user's interests change every "
             "300 messages (MANIFEST.md #3). Values: the errors (0/1) of a Bernoulli naive "
             f"Bayes (Laplace smoothing) fitted on the first {warmup} messages, per message; "
             "what an accuracy monitor of that model sees.",
    )


def _naive_bayes(x: np.ndarray, y: np.ndarray, apply: np.ndarray) -> np.ndarray:
    """Bernoulli naive Bayes with add-one smoothing: the most probable class per row."""
    scores = []
    for c in (0, 1):
        rows = x[y == c]
        p = (rows.sum(axis=0) + 1.0) / (rows.shape[0] + 2.0)
        prior = max(rows.shape[0], 1) / x.shape[0]
        scores.append(np.log(prior) + apply @ np.log(p) + (1.0 - apply) @ np.log1p(-p))
    return (scores[1] > scores[0]).astype(np.int64)


def nile() -> Series:
    """The Nile's yearly flow at Aswan, 1871-1970 (statsmodels.datasets.nile)."""
    from statsmodels.datasets import nile as dataset

    frame = dataset.load_pandas().data
    years = frame["year"].astype(int).tolist()
    return Series(
        name="nile", values=frame["volume"].astype(float).tolist(),
        annotations=[[years.index(1899)]], warmup=20, binary=False,
        note="Annual Nile flow at Aswan 1871-1970 (statsmodels.datasets.nile); the level "
             "drops after 1898 (Cobb 1978; the first Aswan dam), so the first year of the "
             "new regime, 1899, is the annotated index (27 old years before it).",
    )


def acs_accuracy(window: int = 1000, windows: int = 150, fault: tuple[int, int] = (60, 110),
                 flipped: float = 0.05, seed: int = 13) -> Series:
    """Per-window realized accuracy from the driftwise Monitor on ACS employment, with an
    injected fault: a share of the model's predictions flipped in windows ``fault``."""
    import pandas as pd

    from driftwise.monitor import Monitor

    folder = DATA / "acs_employment_ma_nannyml"
    reference = pd.read_parquet(folder / "employment_MA_reference.pq")
    analysis = pd.read_parquet(folder / "employment_MA_analysis.pq").merge(
        pd.read_parquet(folder / "employment_MA_analysis_target.pq"), on="id")
    # Within a survey year the file order is no time order (it groups people, and accuracy
    # with them, by something like area); windows are random samples of each year in turn.
    rng = np.random.default_rng(seed)
    analysis = analysis.iloc[np.lexsort((rng.random(len(analysis)), analysis["year"]))]
    config = {
        "model": {"name": "acs-employment", "task": "binary"},
        "columns": {"prediction": "prediction", "probabilities": "predicted_probability",
                    "target": "employed", "id": "id", "features": ["AGEP", "SCHL"]},
        "windows": {"min_rows": 100},
        "checks": {"feature_drift": False, "data_quality": False, "prediction_drift": False,
                   "estimated_performance": False, "bootstrap": 0,
                   "performance": {"metrics": ["accuracy"]}},
    }
    monitor = Monitor(config).fit(reference)
    values = []
    for k in range(windows):
        chunk = analysis.iloc[k * window:(k + 1) * window].copy()
        if fault[0] <= k < fault[1]:
            flip = rng.random(len(chunk)) < flipped
            chunk.loc[flip, "prediction"] = 1 - chunk.loc[flip, "prediction"]
        values.append(float(monitor.run(chunk).get("performance.accuracy")))
    return Series(
        name="acs_accuracy", values=values, annotations=[list(fault)], warmup=30,
        binary=False,
        note=f"ACS employment, Massachusetts 2016-18 (Ding et al. 2021, NannyML's copy with "
             f"its model's predictions; MANIFEST.md #19): the driftwise Monitor's realized "
             f"accuracy per window of {window:,} rows, {windows} windows (rows shuffled within "
             f"each year, years in order); "
             f"injected fault: {flipped:.0%} of the predictions flipped in windows "
             f"{fault[0]}-{fault[1] - 1} (a change at {fault[0]}, its repair at {fault[1]}). "
             "Accuracy is flat across the years (0.825-0.829) without it.",
    )


def credit_accuracy(window: int = 200, windows: int = 75, change: int = 40) -> Series:
    """Per-window realized accuracy from the driftwise Monitor on the credit-scoring example,
    with its pipeline bug (``PAY_0`` truncated at 1) from window ``change`` on."""
    import importlib.util

    from sklearn.ensemble import HistGradientBoostingClassifier

    from driftwise.monitor import Monitor

    path = Path(__file__).resolve().parents[1] / "examples" / "credit_scoring" / "run.py"
    spec = importlib.util.spec_from_file_location("credit_scoring_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    frame = example.load()  # the example's shuffled rows and column names
    names = example.features(frame)
    train, reference, pool = frame.iloc[:10_000], frame.iloc[10_000:15_000], frame.iloc[15_000:]
    model = HistGradientBoostingClassifier(random_state=0).fit(train[names], train["Y"])

    def scored(rows: Any) -> Any:
        rows = rows.copy()
        rows["proba"] = model.predict_proba(rows[names])[:, 1]
        rows["pred"] = (rows["proba"] >= 0.5).astype(np.int64)
        return rows

    config = {
        "model": {"name": "credit-default", "task": "binary", "positive_class": "1"},
        "columns": {"prediction": "pred", "probabilities": "proba", "target": "Y",
                    "id": "ID", "features": names},
        "windows": {"min_rows": 100},
        "checks": {"feature_drift": False, "data_quality": False, "prediction_drift": False,
                   "estimated_performance": False, "bootstrap": 0,
                   "performance": {"metrics": ["accuracy"]}},
    }
    monitor = Monitor(config).fit(scored(reference))
    values = []
    for k in range(windows):
        rows = pool.iloc[k * window:(k + 1) * window].copy()
        if k >= change:
            rows["PAY_0"] = rows["PAY_0"].clip(upper=1)
        values.append(float(monitor.run(scored(rows)).get("performance.accuracy")))
    return Series(
        name="credit_accuracy", values=values, annotations=[[change]], warmup=20,
        binary=False,
        note=f"Default of credit card clients, Taiwan (Yeh & Lien 2009; MANIFEST.md #12) as "
             f"in examples/credit_scoring: a gradient-boosting model trained on 10,000 "
             f"clients, the Monitor's reference 5,000 more, then its realized accuracy per "
             f"window of {window} of the others; injected from window {change} on: the "
             "example's pipeline bug, PAY_0 truncated at 1 (accuracy about 0.82 -> 0.79, "
             "one sd of a window's accuracy).",
    )
