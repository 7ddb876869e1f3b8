"""Scores of a detector's alarms against annotated change points.

F1 with a margin as defined by van den Burg & Williams (2020), *An Evaluation of Change Point
Detection Algorithms*, arXiv:2003.06222, Section 4 (the F1 measure among its evaluation
metrics): with ``T_k`` the change points of annotator k (k = 1..K), ``T*`` their union and
``X`` the detections,

    P = |TP(T*, X)| / |X|,    R = (1/K) sum_k |TP(T_k, X)| / |T_k|,    F1 = 2PR / (P + R),

where ``TP(T, X)`` holds the points ``tau`` of ``T`` that have a detection ``x`` with
``|tau - x| <= M`` (the margin), each detection serving at most one ``tau``. As in the paper,
the first index of the series is counted as a change point in every ``T_k`` and in ``X``,
which keeps P and R defined for a detector that never alarms.

Beside F1, what an operator feels: the alarms farther than the margin from every annotated
change (false alarms), and the delay from each change to the first alarm at or after it
(before the next change). These two leave the start point out: it is no real change.

Standard library only, so both benchmark venvs and the tests can import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ChangePointScore", "score_changepoints", "true_positives"]


@dataclass(frozen=True)
class ChangePointScore:
    """The scores of one detector on one series."""

    f1: float
    precision: float
    recall: float
    #: Distinct alarm positions (the start point is not counted unless it alarmed there).
    alarms: int
    #: Alarms farther than ``margin`` from every annotated change.
    false_alarms: int
    #: Annotated changes (union over annotators) with an alarm at or after them, before the
    #: next change or the end of the series.
    detected: int
    changes: int
    #: Mean of (first alarm at or after a change) - (change), over the detected changes.
    mean_delay: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def true_positives(changes: Iterable[int], detections: Iterable[int], margin: int) -> int:
    """``|TP(T, X)|``: the most changes that can each be paired with its own detection
    within ``margin``.

    Sorted greedy matching: each change, from the earliest, takes the earliest unused
    detection in ``[tau - margin, tau + margin]``. All windows have the same width, so
    taking the earliest usable detection never blocks a later change that a different
    choice would have served: the count is the maximum.
    """
    xs = sorted(set(detections))
    count, j = 0, 0
    for tau in sorted(set(changes)):
        while j < len(xs) and xs[j] < tau - margin:
            j += 1
        if j < len(xs) and xs[j] <= tau + margin:
            count += 1
            j += 1
    return count


def score_changepoints(annotations: Sequence[Sequence[int]], alarms: Iterable[int], n: int,
                       margin: int = 5) -> ChangePointScore:
    """Score ``alarms`` (0-based positions) on a series of ``n`` values.

    Parameters
    ----------
    annotations : one sequence of change indices per annotator (the first index of each new
        regime); an annotator who saw no change gives an empty sequence.
    alarms : the detector's alarm positions; repeats count once (X is a set).
    n : the length of the series; every position must lie in ``[0, n)``.
    margin : M, in values (the paper uses 5).

    Example
    -------
    >>> s = score_changepoints([[50]], [52, 80], n=100)
    >>> round(s.precision, 3), s.recall, s.false_alarms, s.mean_delay
    (0.667, 1.0, 1, 2.0)
    """
    if not annotations:
        raise ValueError("annotations: give at least one annotator (an empty list per "
                         "annotator who marked no change)")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    detections = set(alarms)
    for point in detections.union(*map(set, annotations)):
        if not 0 <= point < n:
            raise ValueError(f"position {point} is outside the series [0, {n})")
    alarm_count = len(detections)
    detections.add(0)
    per_annotator = [set(a) | {0} for a in annotations]
    union = set().union(*per_annotator)
    precision = true_positives(union, detections, margin) / len(detections)
    recall = sum(true_positives(t, detections, margin) / len(t)
                 for t in per_annotator) / len(per_annotator)
    f1 = 2.0 * precision * recall / (precision + recall)
    changes = sorted(union - {0})
    false_alarms = sum(1 for x in set(alarms) if all(abs(x - c) > margin for c in changes))
    delays = _delays(changes, sorted(set(alarms)), n)
    return ChangePointScore(
        f1=f1, precision=precision, recall=recall, alarms=alarm_count,
        false_alarms=false_alarms, detected=len(delays), changes=len(changes),
        mean_delay=sum(delays) / len(delays) if delays else None,
    )


def _delays(changes: list[int], alarms: list[int], n: int) -> list[int]:
    """For each change, the distance to the first alarm at or after it, before the next."""
    delays = []
    for i, change in enumerate(changes):
        end = changes[i + 1] if i + 1 < len(changes) else n
        first = next((a for a in alarms if change <= a < end), None)
        if first is not None:
            delays.append(first - change)
    return delays
