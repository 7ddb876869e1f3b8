"""Red team with the service running: ART's HopSkipJump probes the credit model from one key.

The credit-default model of ``run.py`` (trained on the first 12,000 clients of the real UCI
data) is registered with ``driftwise serve`` on loopback, with the screen on
(``checks.outliers``, ``checks.probing``) and an alert rule on ``screen.probing_keys`` whose
actions block the key (``block_client``) and would roll the model back (a dry-run webhook:
the receiver in this process gets nothing).

An attacker with API access wants clients the model flags as future defaulters approved: the
Adversarial Robustness Toolbox's HopSkipJump (Chen, Jordan & Wainwright 2020), black box,
on the model itself through a query log that records every query it asks. Its recorded
queries are then sent, in order, through ``/screen`` from one client key, amid ordinary
traffic from 50 keys, as the attacker would send them. The probing check flags the key long
before its last query; from then on its queries are quarantined; the window's
``screen.probing_keys`` opens an incident whose trail shows the block and the dry-run
rollback. Needs ``driftwise[redteam]`` and ../shared/data.

    .venv/bin/python examples/purple_team/attack.py

The incident's export goes to ``out/purple_team/`` (``main(out_dir=...)`` elsewhere).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from driftwise.client import Client
from driftwise.redteam.attacks import evasion_attack
from driftwise.redteam.replay import replay_queries

HERE = Path(__file__).resolve().parent
MODEL = "credit-default"
ATTACKER = "applicant-attacker"
KEYS = 50
WINDOW = 600
POINTS = 2            # applicants the attacker moves across the boundary
MAX_QUERIES = 1500    # the attacker's budget per applicant
SEED = 0


def _sibling(path: Path, name: str) -> ModuleType:
    """Another example script as a module (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scorecard = _sibling(HERE / "run.py", "purple_team_run")
# The loopback service, the webhook receiver and the incident wait of the fraud example.
service = _sibling(HERE.parent / "fraud_response" / "run.py", "fraud_response_run")


def monitor_config(rollback_url: str) -> dict[str, Any]:
    """The screen, the probing rule and its two actions."""
    return {
        "model": {"positive_class": "1"},
        "windows": {"rows": WINDOW, "min_rows": 50},
        "checks": {"outliers": {"alpha": 0.01}, "probing": {"min_duplicates": 6},
                   "estimated_performance": False},
        "actions": [
            {"name": "block-prober", "kind": "block_client", "duration_s": 3600},
            {"name": "rollback", "kind": "webhook", "url": rollback_url, "method": "POST",
             "dry_run": True}],
        "alerts": [{"name": "probing", "metric": "screen.probing_keys", "condition": "> 0",
                    "severity": "critical", "actions": ["block-prober", "rollback"]}],
    }


def ordinary(client: Client, model: Any, rows: pd.DataFrame, features: list[str],
             prefix: str) -> int:
    """Screen and log ordinary traffic from ``KEYS`` keys; how many were answered."""
    p = model.predict_proba(rows[features])[:, 1]
    records = [{"id": f"{prefix}-{i}", "client_key": f"client-{i % KEYS:03d}",
                "probabilities": float(pi), "features": {f: float(v) for f, v in
                                                         zip(features, row, strict=True)}}
               for i, pi, row in zip(rows.index, p, rows[features].to_numpy(), strict=True)]
    answered = []
    for start in range(0, len(records), 100):
        part = records[start:start + 100]
        verdicts = client.screen(MODEL, part)
        answered += [r for r, v in zip(part, verdicts, strict=True)
                     if v["verdict"] != "quarantine"]
    for start in range(0, len(answered), 100):
        client.log_batch(MODEL, answered[start:start + 100])
    return len(answered)


def red_team(client: Client, receiver: Any, out: Path) -> dict[str, Any]:
    model_path, reference_path = scorecard.prepare(out)
    import joblib

    model = joblib.load(model_path)
    frame = pd.read_csv(scorecard.DATA)
    features = [c for c in frame.columns if c not in ("ID", "Y")]
    reference = pd.read_parquet(reference_path)
    reference["proba"] = model.predict_proba(reference[features])[:, 1]
    client.register_model(MODEL, task="binary", columns={
        "features": features, "probabilities": "proba", "target": "Y"},
        config=monitor_config(receiver.url))
    client.upload_reference(MODEL, reference[[*features, "proba", "Y"]])
    production = frame[scorecard.TRAIN_ROWS + scorecard.REFERENCE_ROWS:]
    # The attacker's applicants: clients the model flags as likely defaulters.
    flagged = production[model.predict_proba(production[features])[:, 1] > 0.6]
    targets = flagged.sample(POINTS, random_state=SEED)
    began = time.monotonic()
    attack = evasion_attack(model, targets[features].to_numpy(np.float64),
                            attack="hopskipjump", max_queries=MAX_QUERIES, seed=SEED,
                            reference=reference[features].to_numpy(np.float64))
    attack_seconds = time.monotonic() - began
    traffic = production.drop(targets.index)
    served = ordinary(client, model, traffic.iloc[:WINDOW // 2], features, "txn")
    replayed = replay_queries(attack, client, MODEL, client_key=ATTACKER, features=features)
    rest = traffic.iloc[WINDOW // 2:]
    start = 0
    while served < WINDOW:  # the window closes after WINDOW answered, logged records
        served += ordinary(client, model, rest.iloc[start:start + WINDOW - served], features,
                           f"txn-{start}")
        start += WINDOW
    client.wait_windows(MODEL, 1, timeout=120)
    report = service._settled(client, "probing", 2)
    path = out / f"incident-{report['id']}-probing.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    return {"attack": attack.to_dict(), "attack_seconds": attack_seconds,
            "replay": replayed.to_dict(), "report": report,
            "blocks": client.blocks(MODEL), "rollback_requests": list(receiver.requests),
            "export": str(path)}


def main(out_dir: str | os.PathLike[str] | None = None, quiet: bool = False
         ) -> dict[str, Any]:
    """Run the attack against the served model; what the service did about it."""
    out = Path(out_dir) if out_dir is not None else scorecard.REPO / "out" / "purple_team"
    out.mkdir(parents=True, exist_ok=True)
    with service.loopback_service("driftwise-redteam-") as (client, receiver):
        result = red_team(client, receiver, out)
    if not quiet:
        _show(result)
    return result


def _show(result: dict[str, Any]) -> None:
    a, r = result["attack"], result["replay"]
    print(f"HopSkipJump on {a['points']} applicants: success {a['success_rate']:.0%}, "
          f"{a['queries_total']} queries ({result['attack_seconds']:.1f} s)")
    print(f"replayed from {r['client_key']}: flagged as probing at query "
          f"{r['first_probing']} of {r['total']} (before the attack completed: "
          f"{r['flagged_before_end']}); {r['quarantined']} queries quarantined")
    report = result["report"]
    print(f"incident {report['id']} ({report['state']}):")
    for action in report["actions"]:
        detail = (action.get("result") or {}).get("detail") or ""
        print(f"  action {action['action']}: {action['status']} {detail}"[:140])
    print(f"  trail: {' > '.join(e['kind'] for e in report['trail'])}")
    print(f"rollback webhook requests received (dry run): {len(result['rollback_requests'])}")
    print(f"export: {result['export']}")


if __name__ == "__main__":
    main()
