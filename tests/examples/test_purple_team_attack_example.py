"""The red-team example with the service: ART's HopSkipJump queries, replayed from one key,
are flagged as probing before the attack's last query; the incident blocks the key and
records a dry-run rollback."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_hopskipjump_probing_is_flagged_before_it_completes(tmp_path: Path) -> None:
    example = load_example("purple_team", "attack.py")
    result = example.main(out_dir=tmp_path, quiet=True)
    attack, replay = result["attack"], result["replay"]
    assert attack["success_rate"] == 1.0 and attack["queries_total"] > 500
    assert replay["sent"] == replay["total"] == attack["queries_total"]
    assert replay["first_probing"] is not None and replay["flagged_before_end"]
    assert replay["first_probing"] < replay["total"] // 2
    assert replay["quarantined"] > 0
    report = result["report"]
    assert report["root_alert"]["rule"] == "probing"
    kinds = [e["kind"] for e in report["trail"]]
    assert "block" in kinds
    status = {a["action"]: a["status"] for a in report["actions"]}
    assert status == {"block-prober": "done", "rollback": "dry_run"}
    assert result["rollback_requests"] == []  # a dry run sends nothing
    assert [b["client_key"] for b in result["blocks"]] == ["applicant-attacker"]
    assert Path(result["export"]).is_file()
