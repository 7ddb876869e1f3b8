"""A window's evidence keeps every tested column's reference-vs-current distribution,
compact, so the dashboard can draw it later."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from service_helpers import ServiceFactory, records, reference_table, register, wait_windows

from driftwise.app.evaluation import PLOT_LABEL_CHARS


def test_every_feature_has_its_distribution_in_the_window(make_service: ServiceFactory) -> None:
    client = make_service()
    register(client, "m")
    client.post("/v1/models/m/records/batch", json={"records": records(200, shift=2.0)})
    wait_windows(client, "m", 1)
    evidence = client.get("/v1/models/m/windows/0").json()["evidence"]
    shown = {d["name"]: d for d in evidence["distributions"]}
    assert set(shown) == {"a", "b", "c"}
    a, c = shown["a"]["plot"], shown["c"]["plot"]
    assert a["type"] == "histogram" and len(a["edges"]) == len(a["reference"]) + 1
    assert sum(a["reference"]) == 2000 and sum(a["current"]) == 200
    assert shown["a"]["drift_detected"] is True and shown["b"]["drift_detected"] is False
    assert c["type"] == "bars" and sorted(c["categories"]) == ["u", "v"]
    assert sum(c["current"]) == 200


def test_many_long_categories_stay_bounded(make_service: ServiceFactory) -> None:
    rng = np.random.default_rng(3)
    labels = [f"{i:03d}" + "x" * 1000 for i in range(200)]
    table = reference_table(2000)
    table = table.set_column(table.column_names.index("c"), "c",
                             pa.array([labels[i] for i in rng.integers(0, 200, 2000)]))
    client = make_service()
    register(client, "m", reference=table)
    batch = records(200)
    for i, r in enumerate(batch):
        r["features"]["c"] = labels[i % 200]
    client.post("/v1/models/m/records/batch", json={"records": batch})
    wait_windows(client, "m", 1)
    evidence = client.get("/v1/models/m/windows/0").json()["evidence"]
    plot = next(d for d in evidence["distributions"] if d["name"] == "c")["plot"]
    assert 2 <= len(plot["categories"]) <= 50
    assert max(len(label) for label in plot["categories"]) <= PLOT_LABEL_CHARS
    assert sum(plot["reference"]) == 2000  # the rest is folded into (other), not dropped
