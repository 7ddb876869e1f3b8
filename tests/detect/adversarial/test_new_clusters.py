"""A crafted dense group where the reference has no mass is found, with its members and
the features that set it apart; data like the reference yields no cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.detect.adversarial import NewClusterDetector
from driftwise.errors import ConfigError, InsufficientDataError

CENTERS = np.array([[0, 0, 0, 0, 0, 0], [4, 4, 0, 0, 0, 0], [0, 4, 4, 0, 0, 0]], float)


def _mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    return CENTERS[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))


def test_data_like_the_reference_has_no_new_cluster() -> None:
    rng = np.random.default_rng(0)
    det = NewClusterDetector().fit(_mixture(rng, 8000))
    found = [det.find(_mixture(rng, 2000)).detected for _ in range(10)]
    assert sum(found) == 0


def test_a_crafted_cluster_is_found_with_its_members_and_features() -> None:
    rng = np.random.default_rng(1)
    names = [f"f{i}" for i in range(6)]
    det = NewClusterDetector().fit(pd.DataFrame(_mixture(rng, 8000), columns=names))
    # 100 crafted profiles: a combination of features no reference cluster has.
    crafted = np.array([4.0, 0.0, 4.0, 0, 0, 0]) + 0.3 * rng.normal(size=(100, 6))
    current = np.vstack([_mixture(rng, 2000), crafted])
    finding = det.find(pd.DataFrame(current, columns=names))
    assert finding.detected and len(finding.clusters) == 1
    cluster = finding.clusters[0]
    members = np.array(cluster.members)
    assert np.mean(members >= 2000) >= 0.95  # its members are the crafted rows...
    assert members.size >= 80  # ...most of them
    assert cluster.reference_share_nearby < 0.005 < cluster.current_share_nearby
    top = {name for name, _ in cluster.distinguishing_features[:3]}
    assert top == {"f0", "f1", "f2"}
    assert finding.to_dict()["clusters"][0]["size"] == cluster.size


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="k must be an integer >= 2"):
        NewClusterDetector(k=1).fit(np.zeros((100, 2)))
    with pytest.raises(InsufficientDataError, match="at least 44 reference rows"):
        NewClusterDetector().fit(np.random.default_rng(2).normal(size=(30, 2)))
