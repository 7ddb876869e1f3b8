"""Text drift for a column of free text: vocabulary, descriptors and sentence embeddings.

* **Vocabulary.** Words are maximal runs of letters (any script, lower-cased), so the
  tokenizer is language-agnostic. The Jensen–Shannon distance (base 2) between the two
  samples' word frequencies is compared with its permutation null: documents are
  relabelled at random ``n_permutations`` times, all relabellings at once as one product of
  a 0/1 label matrix with the document-term matrix. The effect is the observed distance
  minus the null median (finite samples of a long-tailed vocabulary always differ a little).
  The out-of-vocabulary (OOV) rate is the share of current word occurrences never seen in
  the reference, reported beside its expected value under the same null.
* **Gained and lost terms**: the log-odds ratio with an informative Dirichlet prior
  (Monroe, Colaresi & Quinn 2008, *Fightin' words*, Political Analysis 16(4), eqs. 16–22),
  the prior being the pooled frequencies; terms are ranked by its z-score.
* **Descriptors**: characters, words and the share of characters that are neither letters
  nor spaces, per text; each compared by Kolmogorov–Smirnov.
* **Sentence embeddings** (``driftwise[text]``): all-MiniLM-L6-v2 vectors of a sample of the
  texts, compared by :class:`~driftwise.detect.geometry.embeddings.EmbeddingDriftDetector`.

The column drifts when any part signals at ``alpha / parts`` (Bonferroni).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise._lazy import LazyModule
from driftwise.detect.geometry._encoder import TEXT_EXTRA_HINT, MissingExtraError, encode
from driftwise.detect.geometry.embeddings import EmbeddingDrift, EmbeddingDriftDetector
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError
from driftwise.stats import TwoSampleResult, ks_2samp

if TYPE_CHECKING:
    from scipy import sparse
else:  # imported on first use (driftwise._lazy.preload starts it early)
    sparse = LazyModule("scipy.sparse")

_WORD = re.compile(r"[^\W\d_]+")
MIN_TEXTS = 5
DESCRIPTORS = ("characters", "words", "non_letter_share")


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of letters (any script): ``"COVID-19 hits U.K."`` -> covid, hits, u, k."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class TermChange:
    """A word whose frequency changed: its z-score and rates per 10,000 words."""

    term: str
    z: float
    reference_per_10k: float
    current_per_10k: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"term": self.term, "z": self.z, "reference_per_10k": self.reference_per_10k,
                "current_per_10k": self.current_per_10k}


@dataclass(frozen=True)
class VocabularyDrift:
    """Vocabulary comparison of two text samples."""

    js_distance: float
    js_null_median: float
    effect: float
    p_value: float
    oov_rate: float
    oov_rate_expected: float
    reference_vocabulary: int
    current_vocabulary: int
    gained: tuple[TermChange, ...]
    lost: tuple[TermChange, ...]
    drift_detected: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "js_distance": self.js_distance, "js_null_median": self.js_null_median,
            "effect": self.effect, "p_value": self.p_value, "oov_rate": self.oov_rate,
            "oov_rate_expected": self.oov_rate_expected,
            "reference_vocabulary": self.reference_vocabulary,
            "current_vocabulary": self.current_vocabulary,
            "gained": [t.to_dict() for t in self.gained],
            "lost": [t.to_dict() for t in self.lost], "drift_detected": self.drift_detected,
        }


@dataclass(frozen=True)
class TextDrift:
    """What the text views found for one column."""

    name: str
    reference_rows: int
    current_rows: int
    drift_detected: bool
    vocabulary: VocabularyDrift | None = None
    descriptors: dict[str, TwoSampleResult] = field(default_factory=dict)
    embedding: EmbeddingDrift | None = None
    alpha: float = 0.05
    skipped: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name, "reference_rows": self.reference_rows,
            "current_rows": self.current_rows, "drift_detected": self.drift_detected,
            "alpha": self.alpha,
            "vocabulary": self.vocabulary.to_dict() if self.vocabulary else None,
            "descriptors": {k: v.to_dict() for k, v in self.descriptors.items()},
            "embedding": self.embedding.to_dict() if self.embedding else None,
            "skipped": self.skipped, "notes": list(self.notes),
        }


def _texts(data: Any) -> list[str]:
    if isinstance(data, pa.ChunkedArray | pa.Array):
        data = pc.drop_null(data).to_pylist()
    return [t for t in (str(v) for v in data if v is not None) if t.strip()]


def _js_rows(p: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise Jensen–Shannon distance (base 2) between count matrices."""
    p = p / p.sum(axis=1, keepdims=True)
    q = q / q.sum(axis=1, keepdims=True)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    js: NDArray[np.float64] = np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))
    return js


def _term_changes(vocab: list[str], ref: NDArray[np.float64], cur: NDArray[np.float64],
                  top: int, prior_size: float = 1000.0, min_count: int = 3,
                  ) -> tuple[tuple[TermChange, ...], tuple[TermChange, ...]]:
    pooled = ref + cur
    alpha_w = prior_size * pooled / pooled.sum()
    n_r, n_c = ref.sum(), cur.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (np.log((cur + alpha_w) / (n_c + prior_size - cur - alpha_w))
                 - np.log((ref + alpha_w) / (n_r + prior_size - ref - alpha_w)))
        z = delta / np.sqrt(1.0 / (cur + alpha_w) + 1.0 / (ref + alpha_w))
    # A one-word vocabulary has no odds (0/0): no term changed.
    z = np.where((pooled >= min_count) & np.isfinite(z), z, 0.0)

    def change(i: int) -> TermChange:
        return TermChange(vocab[i], float(z[i]), float(1e4 * ref[i] / n_r),
                          float(1e4 * cur[i] / n_c))

    order = np.argsort(-z, kind="stable")
    gained = tuple(change(int(i)) for i in order[:top] if z[i] > 0)
    lost = tuple(change(int(i)) for i in order[::-1][:top] if z[i] < 0)
    return gained, lost


def vocabulary_drift(reference: Sequence[str], current: Sequence[str], *,
                     n_permutations: int = 100, alpha: float = 0.05, min_effect: float = 0.03,
                     top_terms: int = 10, seed: int = 0) -> VocabularyDrift:
    """Vocabulary drift between two lists of texts (see the module docstring).

    Examples
    --------
    >>> ref = ["the market rose today", "shares fell on news"] * 50
    >>> cur = ["virus lockdown hits the market", "lockdown shares fell"] * 50
    >>> v = vocabulary_drift(ref, cur)
    >>> v.drift_detected, v.gained[0].term
    (True, 'lockdown')
    """
    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    docs = [*reference, *current]
    for d, text in enumerate(docs):
        for token in tokenize(text):
            rows.append(d)
            cols.append(index.setdefault(token, len(index)))
    n, n_docs = len(reference), len(docs)
    if not index:
        raise InsufficientDataError("the texts hold no words (runs of letters)")
    dtm = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_docs, len(index)))
    totals = np.asarray(dtm.sum(axis=0)).ravel()
    base = np.zeros(n_docs)
    base[n:] = 1.0
    rng = np.random.default_rng(seed)
    labels = np.vstack([base, rng.permuted(np.tile(base, (n_permutations, 1)), axis=1)])
    cur_counts = np.asarray((sparse.csr_matrix(labels) @ dtm).todense())
    ref_counts = totals[None, :] - cur_counts
    empty = (cur_counts.sum(axis=1) == 0) | (ref_counts.sum(axis=1) == 0)
    js = _js_rows(ref_counts + 0.0, cur_counts + 0.0)
    js[empty] = 0.0
    with np.errstate(invalid="ignore"):
        oov = (cur_counts * (ref_counts == 0)).sum(axis=1) / cur_counts.sum(axis=1)
    oov = np.nan_to_num(oov)
    observed, null = float(js[0]), js[1:]
    p_value = (1 + int(np.count_nonzero(null >= observed - 1e-12))) / (1 + n_permutations)
    null_median = float(np.median(null))
    effect = observed - null_median
    vocab = list(index)
    gained, lost = _term_changes(vocab, ref_counts[0], cur_counts[0], top_terms)
    return VocabularyDrift(
        observed, null_median, effect, p_value, float(oov[0]), float(np.median(oov[1:])),
        int(np.count_nonzero(ref_counts[0])), int(np.count_nonzero(cur_counts[0])),
        gained, lost, bool(p_value < alpha and effect >= min_effect),
    )


def descriptors(texts: Sequence[str]) -> dict[str, NDArray[np.float64]]:
    """Per-text characters, words and share of characters neither letter nor space."""
    chars = np.array([len(t) for t in texts], dtype=np.float64)
    words = np.array([len(t.split()) for t in texts], dtype=np.float64)
    other = np.array([sum(1 for ch in t if not (ch.isalpha() or ch.isspace())) for t in texts],
                     dtype=np.float64)
    return {"characters": chars, "words": words,
            "non_letter_share": np.divide(other, chars, out=np.zeros_like(other),
                                          where=chars > 0)}


class TextDriftDetector:
    """Vocabulary, descriptor and (with ``driftwise[text]``) sentence-embedding drift.

    Parameters
    ----------
    alpha : float
        Family-wise level over the parts (Bonferroni).
    n_permutations : int
        Permutations of the vocabulary test (and the embedding MMD).
    min_effect : float
        Smallest JS distance above the null median that counts as vocabulary drift.
    min_descriptor_effect : float
        Smallest Wasserstein distance (in reference sd) that counts as descriptor drift.
    top_terms : int
        Gained / lost terms reported.
    embeddings : {"auto", True, False}
        Sentence-embedding drift: ``"auto"`` runs it when the text extra is installed and
        reports it skipped otherwise; ``True`` also reports it skipped when missing.
    max_texts : int
        Texts per sample that are embedded (a seeded random subset above it).
    seed : int

    Examples
    --------
    >>> ref = ["the market rose today", "shares fell on news"] * 50
    >>> cur = ["virus lockdown hits the market", "lockdown shares fell"] * 50
    >>> r = TextDriftDetector(embeddings=False).fit(ref, name="headline").compare(cur)
    >>> r.drift_detected, r.vocabulary.gained[0].term
    (True, 'lockdown')
    """

    def __init__(self, *, alpha: float = 0.05, n_permutations: int = 100,
                 min_effect: float = 0.03, min_descriptor_effect: float = 0.1,
                 top_terms: int = 10, embeddings: bool | str = "auto", max_texts: int = 1000,
                 seed: int = 0) -> None:
        self.alpha = alpha
        self.n_permutations = n_permutations
        self.min_effect = min_effect
        self.min_descriptor_effect = min_descriptor_effect
        self.top_terms = top_terms
        self.embeddings = embeddings
        self.max_texts = max_texts
        self.seed = seed

    def fit(self, reference: Any, *, name: str = "text") -> TextDriftDetector:
        """Keep the reference's non-blank texts (``reference_``)."""
        if self.embeddings not in ("auto", True, False):
            raise ConfigError(f"text embeddings: expected auto, true or false, got "
                              f"{self.embeddings!r}")
        self.name_ = name
        self.reference_ = _texts(reference)
        return self

    def compare(self, current: Any) -> TextDrift:
        """Compare ``current`` texts with the reference."""
        ref = getattr(self, "reference_", None)
        if ref is None:
            raise NotFittedError("this TextDriftDetector is not fitted: call fit first")
        name = self.name_
        cur = _texts(current)
        for sample, texts in (("reference", ref), ("current", cur)):
            if len(texts) < MIN_TEXTS:
                what = "is empty or all blank" if not texts else f"has {len(texts)} texts"
                return TextDrift(name, len(ref), len(cur), False, alpha=self.alpha, skipped=(
                    f"text column {name!r}: the {sample} sample {what}; text drift needs at "
                    f"least {MIN_TEXTS} non-blank texts per sample"))
        parts = 3 if self.embeddings is not False else 2
        level = self.alpha / parts
        try:
            vocab = vocabulary_drift(ref, cur, n_permutations=self.n_permutations, alpha=level,
                                     min_effect=self.min_effect, top_terms=self.top_terms,
                                     seed=self.seed)
        except InsufficientDataError as exc:
            return TextDrift(name, len(ref), len(cur), False, alpha=self.alpha,
                             skipped=f"text column {name!r}: {exc}")
        found = self._descriptors(ref, cur)
        desc_level = level / len(found)
        desc_drift = any(r.p_value is not None and r.p_value < desc_level
                         and r.effect >= self.min_descriptor_effect for r in found.values())
        embedding, notes = self._embedding(ref, cur, level)
        drifted = vocab.drift_detected or desc_drift or bool(
            embedding is not None and embedding.drift_detected)
        return TextDrift(name, len(ref), len(cur), drifted, vocab, found, embedding,
                         self.alpha, notes=notes)

    def _descriptors(self, ref: list[str], cur: list[str]) -> dict[str, TwoSampleResult]:
        a, b = descriptors(ref), descriptors(cur)
        return {k: ks_2samp(a[k], b[k]) for k in DESCRIPTORS}

    def _sample(self, texts: list[str], salt: int) -> list[str]:
        if len(texts) <= self.max_texts:
            return texts
        idx = np.random.default_rng(self.seed + salt).choice(len(texts), self.max_texts,
                                                              replace=False)
        return [texts[i] for i in np.sort(idx)]

    def _embedding(self, ref: list[str], cur: list[str], level: float,
                   ) -> tuple[EmbeddingDrift | None, tuple[str, ...]]:
        if self.embeddings is False:
            return None, ()
        try:
            # The reference is embedded once, on first use, and reused for every batch.
            ref_vectors = getattr(self, "reference_vectors_", None)
            if ref_vectors is None:
                ref_vectors = self.reference_vectors_ = encode(self._sample(ref, 0))
            cur_vectors = encode(self._sample(cur, 1))
        except MissingExtraError as exc:
            from driftwise.detect.geometry.embeddings import skipped_embedding

            reason = f"text column {self.name_!r}: {exc}"
            return skipped_embedding(f"{self.name_} (sentence embeddings)", reason), (
                f"sentence-embedding drift skipped: {TEXT_EXTRA_HINT}",)
        detector = EmbeddingDriftDetector(alpha=level, n_permutations=self.n_permutations,
                                          importances=0, seed=self.seed)
        detector.fit(ref_vectors, name=f"{self.name_} (sentence embeddings)")
        return detector.compare(cur_vectors), ()
