"""Isolation Forest scoring from flat arrays: the trees scikit-learn grew, walked for all
trees at once, so one record costs a few microseconds instead of a Python call per tree."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.detect.outliers import _native

__all__ = ["IFOREST_COMPILED", "FlatForest", "average_path_length"]

IFOREST_COMPILED = _native.kernels is not None
_NUMPY_BLOCK = 512  # rows per NumPy step: (rows x trees) index arrays stay in cache
_THREAD_ROWS = 20_000  # batches above this are split over threads (the C loop drops the GIL)

_EULER_GAMMA = 0.5772156649015329


def average_path_length(n: NDArray[np.float64]) -> NDArray[np.float64]:
    """c(n), the mean path length of an unsuccessful search in a binary search tree of n
    points: 2 H(n - 1) - 2 (n - 1) / n with H(i) ~ ln(i) + Euler's gamma; c(1) = 0, c(2) = 1
    (Liu, Ting & Zhou 2008, eq. 1)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    two = n == 2
    big = n > 2
    out[two] = 1.0
    m = n[big]
    out[big] = 2.0 * (np.log(m - 1.0) + _EULER_GAMMA) - 2.0 * (m - 1.0) / m
    return out


class FlatForest:
    """The trees of a fitted ``sklearn.ensemble.IsolationForest`` as flat arrays.

    Every leaf points to itself (threshold +inf, so a row "goes left" into it), so all rows
    and trees step together for the depth of the deepest tree. A leaf's value is its depth
    plus c(its training rows), the path length of the paper; the anomaly score is
    ``2 ** (-mean path length / c(max_samples))``, the one scikit-learn's ``score_samples``
    negates.
    """

    def __init__(self, forest: Any) -> None:
        lefts, rights, feats, thresholds, values, roots = [], [], [], [], [], []
        offset = 0
        depth_max = 0
        for tree in forest.estimators_:
            t = tree.tree_
            left = t.children_left.astype(np.int64)
            right = t.children_right.astype(np.int64)
            n = left.size
            depth = np.zeros(n, dtype=np.int64)
            for node in range(n):  # children come after their parent in sklearn's order
                if left[node] >= 0:
                    depth[left[node]] = depth[node] + 1
                    depth[right[node]] = depth[node] + 1
            leaf = left < 0
            ids = np.arange(n, dtype=np.int64)
            lefts.append(np.where(leaf, ids, left) + offset)
            rights.append(np.where(leaf, ids, right) + offset)
            feats.append(np.where(leaf, 0, t.feature).astype(np.int64))
            thresholds.append(np.where(leaf, np.inf, t.threshold))
            samples = t.n_node_samples.astype(np.float64)
            values.append(np.where(leaf, depth + average_path_length(samples), 0.0))
            roots.append(offset)
            offset += n
            depth_max = max(depth_max, int(depth.max()))
        self.left = np.concatenate(lefts)
        self.right = np.concatenate(rights)
        self.feature = np.concatenate(feats)
        self.threshold = np.concatenate(thresholds)
        self.value = np.concatenate(values)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.depth = depth_max
        self.denominator = len(roots) * float(
            average_path_length(np.array([float(forest.max_samples_)]))[0])
        if not math.isfinite(self.denominator) or self.denominator <= 0:
            self.denominator = 1.0  # one training row: every path is 0, every score 1

    def scores(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Anomaly scores in (0, 1] of the rows of ``x``, larger = more outlying."""
        # scikit-learn's trees compare float32 values with their thresholds.
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32), dtype=np.float64)
        sums = np.empty(x.shape[0])
        if _native.kernels is not None and x.shape[0] > _THREAD_ROWS:
            bounds = np.linspace(0, x.shape[0], 3, dtype=np.int64)  # two threads
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda i: self._sums(x[bounds[i]:bounds[i + 1]],
                                                   sums[bounds[i]:bounds[i + 1]]), (0, 1)))
        else:
            self._sums(x, sums)
        return np.asarray(2.0 ** (-sums / self.denominator), dtype=np.float64)

    def _sums(self, x: NDArray[np.float64], out: NDArray[np.float64]) -> None:
        """Per row, the sum of path lengths over the trees, tree after tree."""
        kernels = _native.kernels
        if kernels is not None:
            kernels.path_sums(x, x.shape[0], x.shape[1], self.left, self.right, self.feature,
                                self.threshold, self.value, self.roots, out)
            return
        for start in range(0, x.shape[0], _NUMPY_BLOCK):
            block = x[start:start + _NUMPY_BLOCK]
            node = np.broadcast_to(self.roots, (block.shape[0], self.roots.size)).copy()
            rows = np.arange(block.shape[0], dtype=np.int64)[:, None]
            for _ in range(self.depth):
                go_left = block[rows, self.feature[node]] <= self.threshold[node]
                node = np.where(go_left, self.left[node], self.right[node])
            values = self.value[node]
            total = np.zeros(block.shape[0])
            for t in range(values.shape[1]):  # the compiled loop's order
                total += values[:, t]
            out[start:start + block.shape[0]] = total
