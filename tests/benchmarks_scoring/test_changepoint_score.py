"""The change-point F1 of benchmarks/changepoints.py, on cases computed by hand from the
definition of van den Burg & Williams (2020), so the benchmark's metric cannot drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "changepoint_score.py"
_SPEC = importlib.util.spec_from_file_location("changepoint_score", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
cps = importlib.util.module_from_spec(_SPEC)
sys.modules["changepoint_score"] = cps  # dataclasses look their module up by name
_SPEC.loader.exec_module(cps)
score = cps.score_changepoints


def test_perfect_detection_scores_one() -> None:
    s = score([[50]], [50], n=100)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert (s.false_alarms, s.detected, s.mean_delay) == (0, 1, 0.0)


def test_zero_detector_keeps_the_start_point() -> None:
    # X = {0} matches the start of T = {0, 50}: P = 1/1, R = 1/2, F1 = 2/3.
    s = score([[50]], [], n=100)
    assert s.precision == 1.0
    assert s.recall == 0.5
    assert s.f1 == pytest.approx(2 / 3)
    assert (s.alarms, s.false_alarms, s.detected, s.mean_delay) == (0, 0, 0, None)
    # Four changes (Usenet's schedule): R = 1/5, F1 = 2 * 0.2 / 1.2 = 1/3.
    assert score([[300, 600, 900, 1200]], [], n=1500).f1 == pytest.approx(1 / 3)


@pytest.mark.parametrize(("alarm", "hit"), [(45, True), (55, True), (44, False), (56, False)])
def test_margin_is_inclusive_on_both_sides(alarm: int, hit: bool) -> None:
    s = score([[50]], [alarm], n=100, margin=5)
    # X = {0, alarm}: a hit gives P = R = 1; a miss P = 1/2 (only the start), R = 1/2.
    assert s.f1 == (1.0 if hit else 0.5)
    assert s.false_alarms == (0 if hit else 1)


def test_alarm_just_before_a_change_is_a_true_positive_but_no_detection() -> None:
    s = score([[50]], [47], n=100)
    assert s.f1 == 1.0
    assert (s.false_alarms, s.detected, s.mean_delay) == (0, 0, None)


def test_duplicates_within_the_margin_count_once() -> None:
    # Two alarms near one change: one true positive; the second only costs precision.
    s = score([[50]], [50, 52], n=100)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)
    assert s.false_alarms == 0  # both are within the margin of the change
    # The same position twice is one detection (X is a set).
    assert score([[50]], [50, 50], n=100).f1 == 1.0


def test_one_detection_serves_one_change() -> None:
    # Changes 50 and 54, one alarm at 52 within the margin of both: TP = 1 (+ the start).
    s = score([[50, 54]], [52], n=100)
    assert s.precision == 1.0
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(0.8)


def test_matching_is_the_largest_possible() -> None:
    # 16 is closer to 15, but giving 15 to 10 and 21 to 16 pairs both changes.
    assert cps.true_positives([10, 16], [15, 21], margin=5) == 2
    assert cps.true_positives([10, 16], [15], margin=5) == 1
    assert cps.true_positives([], [1, 2, 3], margin=5) == 0
    assert cps.true_positives([1, 2, 3], [], margin=5) == 0


def test_recall_is_averaged_over_annotators_precision_uses_their_union() -> None:
    # T1 = {0, 50}, T2 = {0, 50, 80}, X = {0, 51}: P = 2/2 over T* = {0, 50, 80};
    # R = (2/2 + 2/3) / 2 = 5/6; F1 = 2 * 5/6 / (1 + 5/6) = 10/11.
    s = score([[50], [50, 80]], [51], n=100)
    assert s.precision == 1.0
    assert s.recall == pytest.approx(5 / 6)
    assert s.f1 == pytest.approx(10 / 11)
    assert s.changes == 2  # the union, start left out


def test_an_alarm_near_the_start_is_a_false_alarm() -> None:
    # The start is a change point for F1 only: X = {0, 3} has one true positive out of 2.
    s = score([[50]], [3], n=100)
    assert (s.precision, s.recall) == (0.5, 0.5)
    assert s.false_alarms == 1


def test_delay_is_to_the_first_alarm_before_the_next_change() -> None:
    s = score([[300, 600]], [310, 320, 650], n=1000)
    assert (s.detected, s.mean_delay) == (2, 30.0)
    # An alarm after the next change does not detect the earlier one.
    s = score([[300, 600]], [700], n=1000)
    assert (s.detected, s.mean_delay) == (1, 100.0)
    assert s.false_alarms == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        score([[50]], [100], n=100)
    with pytest.raises(ValueError, match="annotator"):
        score([], [1], n=100)
