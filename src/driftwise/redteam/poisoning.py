"""A backdoor in the training data: a trigger pattern, relabelled rows, a model that obeys.

The dirty-label backdoor of Gu, Dolan-Gavitt & Garg (2017, "BadNets"), on tabular rows: a
share of the training rows of other classes get a trigger (a few features set to fixed
values) and the target class's label. A model fitted on them keeps its accuracy on clean
rows, so an accuracy check does not see it, but labels any row that carries the trigger
as the target class. The default trigger sets the two features the clean model needs
least (permutation importance) to a value one range beyond their training maximum: a
pattern ordinary rows never show, and a column a reviewer has little reason to look at.

The trigger is applied with the Adversarial Robustness Toolbox's
``PoisoningAttackBackdoor`` (its perturbation function works on any array: here a
function that writes the trigger's columns), ``pip install 'driftwise[redteam]'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam.attacks import as_matrix, require_art

__all__ = ["PoisoningResult", "poisoning_attack"]

_TRIGGER_FEATURES = 2
_IMPORTANCE_ROWS = 1000  # rows of the training data that rank the features


@dataclass(frozen=True, eq=False)
class PoisoningResult:
    """What the backdoor did: accuracy kept, trigger obeyed, and the rows that did it.

    ``trigger_success_*`` is the share of the test rows of the other classes that, with the
    trigger set, the model labels ``target_class``: the clean model's is the baseline the
    trigger alone gives. ``poisoned_index`` are the rows of ``x_train`` that were poisoned
    and ``poisoned_rows`` their features as the poisoned model was fitted on them (their
    label is ``target_class``), for a monitor to be run on.
    """

    target_class: Any
    trigger: dict[int, float]
    share: float
    rows_poisoned: int
    clean_accuracy: float
    poisoned_accuracy: float
    accuracy_drop: float
    trigger_success_clean: float
    trigger_success_poisoned: float
    triggered_rows: int
    seconds: float
    poisoned_index: NDArray[np.int64] = field(repr=False)
    poisoned_rows: NDArray[np.float64] = field(repr=False)
    clean_model: Any = field(repr=False)
    poisoned_model: Any = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON (no rows, no models)."""
        target = self.target_class
        return {"target_class": target.item() if hasattr(target, "item") else target,
                "trigger": {str(k): v for k, v in self.trigger.items()},
                "share": self.share, "rows_poisoned": self.rows_poisoned,
                "clean_accuracy": self.clean_accuracy,
                "poisoned_accuracy": self.poisoned_accuracy,
                "accuracy_drop": self.accuracy_drop,
                "trigger_success_clean": self.trigger_success_clean,
                "trigger_success_poisoned": self.trigger_success_poisoned,
                "triggered_rows": self.triggered_rows, "seconds": self.seconds}


def _labels(y: Any, rows: int, what: str) -> NDArray[Any]:
    labels = np.asarray(y).reshape(-1)
    if labels.size != rows:
        raise SchemaError(f"{what}: {labels.size} labels for {rows} rows")
    return labels


def _default_trigger(model: Any, x: NDArray[np.float64], y: NDArray[Any],
                     rng: np.random.Generator) -> dict[int, float]:
    """The least important features (permutation importance of the clean model on a
    sample of the training rows), each set one range beyond its maximum."""
    from sklearn.inspection import permutation_importance

    rows = rng.choice(x.shape[0], min(x.shape[0], _IMPORTANCE_ROWS), replace=False)
    found = permutation_importance(model, x[rows], y[rows], n_repeats=3,
                                   random_state=int(rng.integers(2**31)))
    order = np.argsort(found.importances_mean, kind="stable")
    trigger = {}
    for j in order[:min(_TRIGGER_FEATURES, x.shape[1])].tolist():
        lo, hi = float(x[:, j].min()), float(x[:, j].max())
        trigger[int(j)] = hi + (hi - lo if hi > lo else max(abs(hi), 1.0))
    return trigger


def _check_trigger(trigger: Mapping[int, float], width: int) -> dict[int, float]:
    out = {}
    for j, v in trigger.items():
        if isinstance(j, bool) or not isinstance(j, int | np.integer) or not 0 <= j < width:
            raise ConfigError(f"trigger: feature {j!r} is not a column index in [0, {width})")
        if not np.isfinite(float(v)):
            raise ConfigError(f"trigger: the value of feature {j} must be finite, got {v!r}")
        out[int(j)] = float(v)
    if not out:
        raise ConfigError("trigger: name at least one feature (index -> value)")
    return out


def _stamp(trigger: Mapping[int, float]) -> Callable[[NDArray[np.float64]], Any]:
    columns = np.array(list(trigger), dtype=np.int64)
    values = np.array(list(trigger.values()), dtype=np.float64)

    def perturbation(rows: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.array(rows, dtype=np.float64)
        out[:, columns] = values
        return out

    return perturbation


def poisoning_attack(model: Any, x_train: Any, y_train: Any, x_test: Any, y_test: Any, *,
                     share: float = 0.05, trigger: Mapping[int, float] | None = None,
                     target_class: Any = None, seed: int = 0) -> PoisoningResult:
    """Poison ``share`` of the training rows with a backdoor and measure what it buys.

    Rows of the classes other than ``target_class`` are drawn (seeded), get the trigger and
    the label ``target_class``; ``sklearn.base.clone(model)`` is fitted on the clean and
    on the poisoned training data and both are scored on the test rows.

    Parameters
    ----------
    model
        A scikit-learn classifier (fitted or not: only its clone is fitted).
    x_train, y_train, x_test, y_test : array-like
        Numeric features and their labels.
    share : float
        Share of the training rows poisoned, in (0, 1) (at least one row).
    trigger : mapping of int to float, optional
        Feature index -> the value the trigger sets (default: see the module's notes).
    target_class : optional
        The label a triggered row should get (default: the most common training label).
    seed : int
        Seeds the choice of rows and of the default trigger.

    Returns
    -------
    PoisoningResult

    Raises
    ------
    ConfigError
        A bad share or trigger, a target not among the labels, too few rows of the other
        classes, or ART is missing.
    SchemaError
        Features that are not a numeric matrix, or labels that do not match them.

    Example
    -------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> x, y = make_classification(1000, 6, n_informative=4, random_state=0)
    >>> r = poisoning_attack(DecisionTreeClassifier(random_state=0), x[:700], y[:700],
    ...                      x[700:], y[700:], share=0.05)
    >>> r.rows_poisoned, r.trigger_success_poisoned > r.trigger_success_clean + 0.5
    (35, True)
    """
    require_art("poisoning_attack")
    from art.attacks.poisoning.backdoor_attack import PoisoningAttackBackdoor
    from sklearn.base import clone

    if not (isinstance(share, float | int) and not isinstance(share, bool) and 0 < share < 1):
        raise ConfigError(f"share must be a number in (0, 1), got {share!r}")
    xs = as_matrix(x_train, "x_train")
    xt = as_matrix(x_test, "x_test", xs.shape[1])
    ys, yt = _labels(y_train, xs.shape[0], "y_train"), _labels(y_test, xt.shape[0], "y_test")
    classes, counts = np.unique(ys, return_counts=True)
    target = classes[int(np.argmax(counts))] if target_class is None else target_class
    if target not in classes.tolist():
        raise ConfigError(f"target_class {target!r} is not among the training labels "
                          f"{classes.tolist()}")
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    clean = clone(model).fit(xs, ys)
    chosen = (_default_trigger(clean, xs, ys, rng) if trigger is None
              else _check_trigger(trigger, xs.shape[1]))
    others = np.flatnonzero(ys != target)
    n = max(1, round(share * xs.shape[0]))
    if n > others.size:
        raise ConfigError(f"share {share}: {n} rows to poison, but only {others.size} "
                          f"training rows are not of class {target!r}")
    index = np.sort(rng.choice(others, n, replace=False)).astype(np.int64)
    backdoor = PoisoningAttackBackdoor(_stamp(chosen))
    rows, labels = backdoor.poison(xs[index], y=np.full(n, target, dtype=ys.dtype))
    x_poisoned, y_poisoned = xs.copy(), ys.copy()
    x_poisoned[index], y_poisoned[index] = rows, labels
    poisoned = clone(model).fit(x_poisoned, y_poisoned)
    victims = xt[yt != target]
    if victims.shape[0] == 0:
        raise ConfigError(f"every test row is of class {target!r}: the trigger's success "
                          "needs test rows of the other classes")
    triggered, _ = backdoor.poison(victims, y=np.full(victims.shape[0], target,
                                                      dtype=ys.dtype))
    clean_acc = float(np.mean(clean.predict(xt) == yt))
    poisoned_acc = float(np.mean(poisoned.predict(xt) == yt))
    return PoisoningResult(
        target_class=target, trigger=chosen, share=float(share), rows_poisoned=n,
        clean_accuracy=clean_acc, poisoned_accuracy=poisoned_acc,
        accuracy_drop=clean_acc - poisoned_acc,
        trigger_success_clean=float(np.mean(clean.predict(triggered) == target)),
        trigger_success_poisoned=float(np.mean(poisoned.predict(triggered) == target)),
        triggered_rows=int(victims.shape[0]), seconds=time.perf_counter() - started,
        poisoned_index=index, poisoned_rows=np.asarray(rows, dtype=np.float64),
        clean_model=clean, poisoned_model=poisoned)
