"""The purple-team example: the thin Monitor's gaps are harmful failures it really missed,
and the check the scorecard names closes the first one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_the_thin_monitor_has_a_gap_and_the_named_check_closes_it(tmp_path: Path) -> None:
    example = load_example("purple_team")
    result = example.main(out_dir=tmp_path)
    assert result["gate_thin"] == 1 and result["gate_fixed"] == 0
    gap, after = result["gap"], result["after"]
    assert gap["harm"] > 0.02 and gap["detection_rate"] < 0.5
    assert gap["would_catch"]["detection_rate"] >= 0.5
    assert after["detected"] and after["first_check"] == \
        f"alert:{gap['would_catch']['rule']['name']}"
    card = json.loads((tmp_path / "scorecard_thin.json").read_text())
    # Every harmful miss is listed as a gap, first; every gap really was harmful and missed.
    def key(s: dict[str, object]) -> tuple[object, object]:
        return s["scenario"], s["intensity"]

    assert {key(s) for s in card["scores"][:len(card["gaps"])]} == {key(g) for g in
                                                                     card["gaps"]}
    assert all(g["harmful"] and not g["detected"] for g in card["gaps"])
    assert card["summary"]["harmful"] > card["summary"]["harmful_detected"]
    # The clean replays: no more false alarms than the drift decision's level allows.
    assert card["clean"]["alarmed_windows"] <= 0.2 * card["clean"]["windows"]
    # Intensity 0 is never detected and does no harm.
    zero = [s for s in card["scores"] if s["intensity"] == 0.0]
    assert zero and not any(s["detected"] for s in zero)
    assert all(s["harm"] in (0.0, None) for s in zero)
    assert (tmp_path / "scorecard_thin.html").read_text().startswith("<!DOCTYPE html>")
