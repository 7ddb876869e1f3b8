"""Black-box evasion attacks on a fitted classifier, with every query the attacker sends kept.

An attacker with API access sees a model only through its answers. :class:`QueryLog` is
that view of a fitted scikit-learn classifier: each call answers class probabilities (or,
for a model with ``predict`` alone, one-hot "decision only" answers) and records the rows
asked, in order, with the attacked point each belonged to. :func:`evasion_attack` runs one
of the Adversarial Robustness Toolbox's query-based attacks through that log, one point at a
time, and measures what it achieved: whether the model's label changed, how far the points
moved (also in feature standard deviations) and how many queries it took. The recorded
queries are the traffic a monitor would see: :func:`replay_queries` sends them, in order,
through the service's ``/screen`` from one client key (:mod:`driftwise.redteam.replay`,
re-exported here), to see whether the query-probing check
(:class:`~driftwise.detect.adversarial.QueryProbingDetector`) stops the attacker before the
attack is done.

The attacks (ART 1.20.1, ``pip install 'driftwise[redteam]'``):

``hopskipjump``
    HopSkipJump (Chen, Jordan & Wainwright 2020): decision-based, estimates the boundary's
    gradient from the signs of answers around the current point.
``boundary``
    The boundary attack (Brendel, Rauber & Bethge 2018): decision-based, a random walk along
    the boundary towards the original point.
``zoo``
    ZOO (Chen et al. 2017): score-based, coordinate-wise finite differences of the answered
    probabilities. ART's ``ZooAttack`` accepts the ``BlackBoxClassifier`` in this version and
    runs unchanged on it: every finite difference is a counted query. A model whose answers
    are piecewise constant (trees, forests, boosting; any decision-only answer) gives it zero
    differences almost everywhere, so it rarely succeeds there: that is the attack's nature,
    not a fault of the wrapper.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.errors import ConfigError, DriftwiseError, SchemaError
from driftwise.redteam.replay import ReplayResult, replay_queries

__all__ = ["ATTACKS", "AttackResult", "QueryBudgetSpent", "QueryLog", "ReplayResult",
           "evasion_attack", "replay_queries"]

ATTACKS = ("hopskipjump", "boundary", "zoo")
INSTALL = "pip install 'driftwise[redteam]'"

# ART's own defaults are sized for images (HopSkipJump: up to 10,000 evaluations per
# gradient estimate; the boundary attack: 5,000 iterations); these give a tabular point a
# budget of a few hundred to a few thousand queries. Any of them can be passed explicitly.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "hopskipjump": {"max_iter": 10, "max_eval": 200, "init_eval": 20, "init_size": 100},
    "boundary": {"max_iter": 100, "num_trial": 10, "sample_size": 10, "init_size": 100},
    "zoo": {"max_iter": 100, "binary_search_steps": 3, "initial_const": 1.0,
            "learning_rate": 0.1},
}


def require_art(what: str) -> None:
    """Raise a :class:`ConfigError` naming the extra when ART cannot be imported."""
    try:
        import art  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"{what} needs the Adversarial Robustness Toolbox ({exc}): "
                          f"{INSTALL}") from None


class QueryBudgetSpent(DriftwiseError):
    """A point's query budget (``QueryLog.start_point(..., budget=)``) is used up."""


class QueryLog:
    """A fitted classifier as an attacker with API access sees it, every query recorded.

    Parameters
    ----------
    model
        A fitted classifier with ``classes_`` and ``predict_proba`` (or ``predict`` alone:
        then each answer is one-hot, as a "decision only" API gives).
    decision_only : bool
        Answer one-hot labels even where ``predict_proba`` exists.

    Example
    -------
    >>> from sklearn.linear_model import LogisticRegression
    >>> log = QueryLog(LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]))
    >>> log.start_point(7)
    >>> log(np.array([[0.5], [2.5]])).argmax(axis=1).tolist(), log.n_queries
    ([0, 1], 2)
    >>> log.query_point.tolist()
    [7, 7]
    """

    def __init__(self, model: Any, *, decision_only: bool = False) -> None:
        classes = getattr(model, "classes_", None)
        if classes is None or not callable(getattr(model, "predict", None)):
            raise ConfigError("QueryLog needs a fitted classifier (with predict and classes_):"
                              " call fit first")
        self.model = model
        self.classes = np.asarray(classes)
        self.decision_only = decision_only or not callable(getattr(model, "predict_proba",
                                                                   None))
        self.point = 0
        self._budget: int | None = None
        self._used = 0
        self._rows: list[NDArray[np.float64]] = []
        self._points: list[NDArray[np.int64]] = []
        self._answers: list[NDArray[np.float64]] = []

    def start_point(self, index: int, budget: int | None = None) -> None:
        """Attribute the queries from now on to attacked point ``index``, at most ``budget``
        of them (then :class:`QueryBudgetSpent`; rows past it are not answered)."""
        self.point, self._budget, self._used = int(index), budget, 0

    def __call__(self, x: Any) -> NDArray[np.float64]:
        rows = np.asarray(x, dtype=np.float64)
        rows = rows.reshape(1, -1) if rows.ndim == 1 else rows.reshape(rows.shape[0], -1)
        spent = self._budget is not None and self._used + rows.shape[0] > self._budget
        if spent:
            assert self._budget is not None
            rows = rows[:max(self._budget - self._used, 0)]
        answers = self._answer(rows) if rows.shape[0] else np.empty((0, self.classes.size))
        self._rows.append(rows.copy())
        self._points.append(np.full(rows.shape[0], self.point, dtype=np.int64))
        self._answers.append(answers)
        self._used += rows.shape[0]
        if spent:
            raise QueryBudgetSpent(f"point {self.point}: its budget of {self._budget} "
                                   "queries is spent")
        return answers

    def _answer(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        x = model_input(self.model, rows)
        if not self.decision_only:
            return np.asarray(self.model.predict_proba(x), dtype=np.float64)
        index = label_index(self.classes, self.model.predict(x), "the model's predictions")
        return np.eye(self.classes.size, dtype=np.float64)[index]

    @property
    def n_queries(self) -> int:
        """Rows answered so far."""
        return sum(r.shape[0] for r in self._rows)

    @property
    def queries(self) -> NDArray[np.float64]:
        """Every row answered, in order: an (n_queries, features) float64 matrix."""
        width = max((r.shape[1] for r in self._rows), default=0)
        return np.vstack([r for r in self._rows if r.size] or [np.empty((0, width))])

    @property
    def query_point(self) -> NDArray[np.int64]:
        """The attacked point each query belonged to."""
        return np.concatenate(self._points or [np.empty(0, dtype=np.int64)])

    @property
    def answers(self) -> NDArray[np.float64]:
        """What each query was answered: (n_queries, classes), columns as ``classes``."""
        return np.vstack(self._answers or [np.empty((0, self.classes.size))])


def model_input(model: Any, rows: NDArray[np.float64]) -> Any:
    """``rows`` as the model is asked: a DataFrame with its column names when it was fitted
    on one (as a model server asks it), else the matrix."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or len(names) != rows.shape[1]:
        return rows
    import pandas as pd

    return pd.DataFrame(rows, columns=[str(n) for n in names])


def label_index(classes: NDArray[Any], labels: Any, what: str) -> NDArray[np.int64]:
    """Positions of ``labels`` in ``classes``; SchemaError naming an unknown label."""
    position = {c: i for i, c in enumerate(classes.tolist())}
    values = np.asarray(labels).reshape(-1).tolist()
    unknown = [v for v in values if v not in position]
    if unknown:
        raise SchemaError(f"{what}: label {unknown[0]!r} is not one of the model's classes "
                          f"{classes.tolist()}")
    return np.array([position[v] for v in values], dtype=np.int64)


def as_matrix(x: Any, what: str, width: int | None = None) -> NDArray[np.float64]:
    """``x`` as a 2-D finite float64 matrix of ``width`` columns (SchemaError otherwise)."""
    try:
        m = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what}: expected a numeric matrix ({exc})") from None
    if m.ndim != 2 or m.shape[0] == 0:
        raise SchemaError(f"{what}: expected a non-empty 2-D matrix, got shape {m.shape}")
    if width is not None and m.shape[1] != width:
        raise SchemaError(f"{what}: {m.shape[1]} columns, the model takes {width}")
    if not np.isfinite(m).all():
        row = int(np.flatnonzero(~np.isfinite(m).all(axis=1))[0])
        raise SchemaError(f"{what}: row {row} holds a missing or infinite value")
    return m


@dataclass(frozen=True, eq=False)
class AttackResult:
    """What an evasion attack achieved on each point, and every query it sent.

    Perturbation summaries are over the successful points (NaN when none succeeded);
    relative ones divide each feature's change by its standard deviation in the reference.
    ``queries`` and ``query_point`` are the attacker's traffic in the order it was sent,
    ``answers`` what each query was answered (columns as ``classes``).
    """

    attack: str
    points: int
    success_rate: float
    median_l2: float
    mean_l2: float
    median_linf: float
    mean_linf: float
    median_relative_l2: float
    mean_relative_l2: float
    median_relative_linf: float
    mean_relative_linf: float
    queries_total: int
    median_queries: float
    seconds: float
    params: dict[str, Any]
    adversarial: NDArray[np.float64] = field(repr=False)
    success: NDArray[np.bool_] = field(repr=False)
    l2: NDArray[np.float64] = field(repr=False)
    linf: NDArray[np.float64] = field(repr=False)
    relative_l2: NDArray[np.float64] = field(repr=False)
    relative_linf: NDArray[np.float64] = field(repr=False)
    point_queries: NDArray[np.int64] = field(repr=False)
    budget_spent: NDArray[np.bool_] = field(repr=False)
    original_labels: NDArray[Any] = field(repr=False)
    adversarial_labels: NDArray[Any] = field(repr=False)
    queries: NDArray[np.float64] = field(repr=False)
    query_point: NDArray[np.int64] = field(repr=False)
    answers: NDArray[np.float64] = field(repr=False)
    classes: NDArray[Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON (no per-point arrays, no queries)."""
        names = ("attack", "points", "success_rate", "median_l2", "mean_l2", "median_linf",
                 "mean_linf", "median_relative_l2", "mean_relative_l2",
                 "median_relative_linf", "mean_relative_linf", "queries_total",
                 "median_queries", "seconds")
        out = {n: getattr(self, n) for n in names}
        out["params"] = dict(self.params)
        out["budget_spent"] = int(self.budget_spent.sum())
        return out


def _clip_box(reference: NDArray[np.float64], clip: Any
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    d = reference.shape[1]
    if clip is None:
        lo, hi = reference.min(axis=0), reference.max(axis=0)
        # Widened by 5 % of each feature's range (of its magnitude, or 1, where constant),
        # so that the reference's extremes are inside the box and not on its edge.
        span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
        return lo - 0.05 * span, hi + 0.05 * span
    try:
        lo, hi = (np.broadcast_to(np.asarray(c, dtype=np.float64), (d,)).copy() for c in clip)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"clip must be (low, high), each a number or one value per "
                          f"feature ({d}), got {clip!r}") from exc
    if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < hi).all()):
        raise ConfigError("clip: every low must be finite and below its high")
    return lo, hi


def _attack_params(attack: str, cls: Any, d: int, given: Mapping[str, Any]) -> dict[str, Any]:
    if "targeted" in given:
        raise ConfigError("evasion_attack runs untargeted attacks: leave out 'targeted'")
    unknown = sorted(set(given) - set(cls.attack_params))
    if unknown:
        raise ConfigError(f"{attack}: unknown parameter(s) {', '.join(unknown)}; ART's "
                          f"{cls.__name__} takes {', '.join(sorted(cls.attack_params))}")
    params = {**_DEFAULTS[attack], "verbose": False, **given}
    if attack == "zoo":
        # One coordinate per finite difference, each drawn without replacement: at most d.
        params.setdefault("nb_parallel", min(d, 128))
    return params


def _art_attack(attack: str) -> tuple[Any, Any]:
    require_art(f"the {attack} attack")
    from art.estimators.classification.blackbox import BlackBoxClassifier

    if attack == "hopskipjump":
        from art.attacks.evasion.hop_skip_jump import HopSkipJump as cls
    elif attack == "boundary":
        from art.attacks.evasion.boundary import BoundaryAttack as cls
    else:
        from art.attacks.evasion.zoo import ZooAttack as cls
    return cls, BlackBoxClassifier


@contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """ART draws its noise from NumPy's global generator: seeded here, restored after."""
    state = np.random.get_state()  # noqa: NPY002 (ART's generator, not ours)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _initial(log: QueryLog, point: NDArray[np.float64], tries: int,
             lo: NDArray[np.float64], hi: NDArray[np.float64],
             rng: np.random.Generator) -> NDArray[np.float64] | None:
    """A seeded start on the other side of the boundary: ART's own draws are unseeded. The
    attacker asks about the point, then about uniform draws in the box until one's label
    differs."""
    label = int(log(point[None, :])[0].argmax())
    for _ in range(tries):
        draw = rng.uniform(lo, hi)
        if int(log(draw[None, :])[0].argmax()) != label:
            return draw
    return None


def _closest_evading(log: QueryLog, index: int, point: NDArray[np.float64],
                     target: int) -> NDArray[np.float64]:
    """What an attacker whose budget ran out keeps: the nearest query answered with
    another label than ``target`` (the point itself when there is none)."""
    mine = log.query_point == index
    rows, answers = log.queries[mine], log.answers[mine]
    evading = rows[answers.argmax(axis=1) != target] if rows.size else rows
    if evading.shape[0] == 0:
        return point
    return np.asarray(evading[np.argmin(np.sum((evading - point) ** 2, axis=1))])


def _median_mean(values: NDArray[np.float64]) -> tuple[float, float]:
    if values.size == 0:
        return math.nan, math.nan
    return float(np.median(values)), float(np.mean(values))


def evasion_attack(model: Any, x: Any, *, attack: str = "hopskipjump", y: Any = None,
                   max_queries: int | None = None, seed: int = 0, clip: Any = None,
                   reference: Any = None, decision_only: bool = False,
                   **attack_params: Any) -> AttackResult:
    """Untargeted black-box evasion of each row of ``x``, through a :class:`QueryLog`.

    Each point is attacked on its own, through ART's ``BlackBoxClassifier`` over the log,
    so that every query is attributed to its point. HopSkipJump and the boundary attack
    start from a seeded uniform draw in the clip box that the model labels differently
    (the attacker's queries for it are counted). The attacker then asks about ART's result
    (one more query); if it still has its label, or the budget runs out, the point keeps the
    nearest query that was answered with another label, as an attacker would.

    Parameters
    ----------
    model
        The fitted classifier (``classes_``; ``predict_proba`` or ``predict``).
    x : array-like, shape (points, features)
        The points to move across the decision boundary.
    attack : {"hopskipjump", "boundary", "zoo"}
        Which ART attack (see the module's notes).
    y : array-like, optional
        The label each point must leave (default: the model's prediction). A point the
        model already labels otherwise is not attacked: success, no query, no change.
    max_queries : int, optional
        Query budget of each point (default: only the attack's own iteration limits).
    seed : int
        Seeds the starts and ART's noise: the same arguments give the same result.
    clip : (low, high), optional
        The box the attack stays in: numbers or one value per feature (default: the
        reference's per-feature min and max, widened by 5 % of the range).
    reference : array-like, optional
        Rows that set the default clip box and the feature scale of the relative
        perturbations (default ``x``; give the training data when ``x`` is a few points).
    decision_only : bool
        The attacker gets labels only (one-hot answers) even where probabilities exist.
    **attack_params
        Passed to the ART attack, over driftwise's defaults (``_DEFAULTS``).

    Returns
    -------
    AttackResult

    Raises
    ------
    ConfigError
        An unknown attack or parameter, a bad clip box or budget, or ART is missing.
    SchemaError
        ``x`` (or ``y``, ``reference``) is not what the model takes.

    Example
    -------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> data, labels = make_classification(200, 4, random_state=0)
    >>> model = LogisticRegression().fit(data, labels)
    >>> result = evasion_attack(model, data[:3], reference=data, max_queries=300)
    >>> result.success_rate, bool(result.queries_total == result.queries.shape[0])
    (1.0, True)
    """
    if attack not in ATTACKS:
        raise ConfigError(f"unknown attack {attack!r}: choose one of {', '.join(ATTACKS)}")
    if max_queries is not None and (isinstance(max_queries, bool)
                                    or not isinstance(max_queries, int) or max_queries < 1):
        raise ConfigError(f"max_queries must be a positive integer, got {max_queries!r}")
    cls, black_box = _art_attack(attack)
    log = QueryLog(model, decision_only=decision_only)
    width = getattr(model, "n_features_in_", None)
    points = as_matrix(x, "x", width)
    d = points.shape[1]
    ref = points if reference is None else as_matrix(reference, "reference", d)
    lo, hi = _clip_box(ref, clip)
    if ((points < lo) | (points > hi)).any():
        raise ConfigError("clip: some points of x lie outside the box; widen it")
    scale = ref.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # a constant feature: its change in raw units
    now = label_index(log.classes, model.predict(model_input(model, points)),
                      "the model's predictions")
    targets = now if y is None else label_index(log.classes, y, "y")
    if targets.size != points.shape[0]:
        raise SchemaError(f"y: {targets.size} labels for {points.shape[0]} points")
    params = _attack_params(attack, cls, d, attack_params)
    classifier = black_box(log, input_shape=(d,), nb_classes=int(log.classes.size),
                           clip_values=(lo, hi))
    try:
        instance = cls(classifier, targeted=False, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{attack}: {exc}") from None
    rng = np.random.default_rng(seed)
    adversarial, spent = points.copy(), np.zeros(points.shape[0], dtype=bool)
    started = time.perf_counter()
    with _numpy_seed(seed):
        for i in np.flatnonzero(targets == now):
            log.start_point(int(i), max_queries)
            try:
                found = _attack_one(instance, attack, log, points[i], int(targets[i]), params,
                                    lo, hi, rng)
                # The attacker checks what ART returned (a counted query): the boundary
                # attack can end a hair on the wrong side of the boundary.
                if int(log(found[None, :])[0].argmax()) == targets[i]:
                    found = _closest_evading(log, int(i), points[i], int(targets[i]))
                adversarial[i] = found
            except QueryBudgetSpent:
                spent[i] = True
                adversarial[i] = _closest_evading(log, int(i), points[i], int(targets[i]))
    seconds = time.perf_counter() - started
    return _result(attack, params, model, log, points, adversarial, targets, scale, spent,
                   seconds)


def _attack_one(instance: Any, attack: str, log: QueryLog, point: NDArray[np.float64],
                target: int, params: Mapping[str, Any], lo: NDArray[np.float64],
                hi: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    one_hot = np.eye(log.classes.size)[[target]]
    if attack == "zoo":
        return np.asarray(instance.generate(point[None, :], y=one_hot)[0], dtype=np.float64)
    start = _initial(log, point, int(params["init_size"]), lo, hi, rng)
    if start is None:  # nothing found: ART would draw again, unseeded
        return point
    adv = instance.generate(point[None, :], y=one_hot, x_adv_init=start[None, :])
    return np.asarray(adv[0], dtype=np.float64)


def _result(attack: str, params: dict[str, Any], model: Any, log: QueryLog,
            points: NDArray[np.float64], adversarial: NDArray[np.float64],
            targets: NDArray[np.int64], scale: NDArray[np.float64],
            spent: NDArray[np.bool_], seconds: float) -> AttackResult:
    """Measured, not taken from the attack: the model is asked again (uncounted)."""
    after = model.predict(model_input(model, adversarial))
    success = label_index(log.classes, after, "the model's predictions") != targets
    delta = adversarial - points
    l2, linf = np.linalg.norm(delta, axis=1), np.abs(delta).max(axis=1)
    rel_l2 = np.linalg.norm(delta / scale, axis=1)
    rel_linf = np.abs(delta / scale).max(axis=1)
    query_point = log.query_point
    per_point = np.bincount(query_point, minlength=points.shape[0]).astype(np.int64)
    m_l2, a_l2 = _median_mean(l2[success])
    m_linf, a_linf = _median_mean(linf[success])
    m_rl2, a_rl2 = _median_mean(rel_l2[success])
    m_rlinf, a_rlinf = _median_mean(rel_linf[success])
    return AttackResult(
        attack=attack, points=int(points.shape[0]), success_rate=float(success.mean()),
        median_l2=m_l2, mean_l2=a_l2, median_linf=m_linf, mean_linf=a_linf,
        median_relative_l2=m_rl2, mean_relative_l2=a_rl2, median_relative_linf=m_rlinf,
        mean_relative_linf=a_rlinf, queries_total=log.n_queries,
        median_queries=float(np.median(per_point)), seconds=seconds, params=dict(params),
        adversarial=adversarial, success=success, l2=l2, linf=linf, relative_l2=rel_l2,
        relative_linf=rel_linf,
        point_queries=per_point, budget_spent=spent,
        original_labels=log.classes[targets], adversarial_labels=np.asarray(after),
        queries=log.queries, query_point=query_point, answers=log.answers,
        classes=log.classes)
