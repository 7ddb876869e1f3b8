"""Shared fixtures: where the project's real data sets live, small synthetic tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path of a file in ../shared/data; tests using it need the shared folder beside the repo."""
    return SHARED_DATA / relative


needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason="../shared/data (the project's real data sets) is absent"
)


def load_example(name: str) -> ModuleType:
    """``examples/<name>/run.py`` as a module (the examples are scripts, not a package)."""
    path = REPO / "examples" / name / "run.py"
    spec = importlib.util.spec_from_file_location(f"{name}_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_pair(n_ref: int = 2000, n_cur: int = 2000, shift: float = 0.0, seed: int = 0) -> (
    tuple[pd.DataFrame, pd.DataFrame]
):
    """A reference/current pair; ``shift`` moves ``x_shift`` and the ``cat_shift`` mix."""
    rng = np.random.default_rng(seed)

    def frame(n: int, s: float) -> pd.DataFrame:
        p = np.array([0.5, 0.3, 0.2]) + s * np.array([-0.3, 0.0, 0.3])
        return pd.DataFrame({
            "x_shift": rng.normal(s, 1.0, n),
            "x_same": rng.lognormal(0.0, 1.0, n),
            "cat_shift": rng.choice(["a", "b", "c"], n, p=p / p.sum()),
            "cat_same": rng.choice(["u", "v"], n),
            "code": rng.integers(0, 4, n),
        })

    return frame(n_ref, 0.0), frame(n_cur, shift)


@pytest.fixture
def drifted_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pair(shift=1.0, seed=1)


@pytest.fixture
def same_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pair(shift=0.0, seed=2)
