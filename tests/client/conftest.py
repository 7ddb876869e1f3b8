"""A small binary model for the client tests: its reference and records like its traffic."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from driftwise.client import Client

#: Small windows, so that a few hundred records give evaluated windows.
WINDOWS = {"windows": {"rows": 100, "min_rows": 50}}
COLUMNS = {"probabilities": "proba", "prediction": "pred", "target": "label"}


def _rows(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(shift, 1.0, n)
    b = rng.normal(0.0, 1.0, n)
    c = np.where(rng.random(n) < 0.6, "u", "v")
    proba = 1.0 / (1.0 + np.exp(-(1.5 * a - 0.5 * b)))
    label = (rng.random(n) < proba).astype(int)
    return {"a": a, "b": b, "c": c, "proba": proba, "pred": (proba >= 0.5).astype(int),
            "label": label}


@pytest.fixture(scope="session")
def reference() -> pa.Table:
    """The binary model's reference: features a, b, c; proba, pred; label."""
    return pa.table(_rows(600, seed=0))


@pytest.fixture(scope="session")
def make_records() -> Callable[..., list[dict[str, Any]]]:
    """``make_records(n, prefix="r", seed=1, shift=0.0)``: records as the JSON body
    carries them (ids ``<prefix><i>``)."""

    def make(n: int, prefix: str = "r", seed: int = 1, shift: float = 0.0
             ) -> list[dict[str, Any]]:
        cols = _rows(n, seed, shift)
        return [{"id": f"{prefix}{i}",
                 "features": {"a": float(cols["a"][i]), "b": float(cols["b"][i]),
                              "c": str(cols["c"][i])},
                 "probabilities": float(cols["proba"][i]), "prediction": int(cols["pred"][i]),
                 "latency_ms": float(2 + i % 7)}
                for i in range(n)]

    return make


@pytest.fixture(scope="session")
def make_labels() -> Callable[..., dict[str, int]]:
    """``make_labels(n, prefix="r", seed=1, shift=0.0)``: the true labels of the records
    ``make_records`` gives for the same arguments, by id."""

    def make(n: int, prefix: str = "r", seed: int = 1, shift: float = 0.0) -> dict[str, int]:
        labels = _rows(n, seed, shift)["label"]
        return {f"{prefix}{i}": int(labels[i]) for i in range(n)}

    return make


@pytest.fixture
def client(live_server_session: str) -> Iterator[Client]:
    """A Client of the session's server."""
    with Client(live_server_session, timeout=30) as c:
        yield c


@pytest.fixture
def model_name() -> str:
    """A model name no other test uses."""
    return f"m-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def binary_model(client: Client, model_name: str, reference: pa.Table) -> str:
    """A registered binary model with its reference uploaded; its name."""
    client.register_model(model_name, task="binary", columns=COLUMNS, config=WINDOWS)
    client.upload_reference(model_name, reference)
    return model_name
