"""A fraud model behind driftwise: outliers screened, a prober blocked, an outage retrained.

A logistic regression scores card transactions (the real ULB subset of 4,492 rows: the
first 4,000 legitimate transactions and all 492 frauds; V1..V28 and the log amount). Its
model server screens every transaction with ``driftwise serve`` before answering, logs
the ones it answers, sends the fraud team's outcome of each (its label) soon after, and
binds the automated response to two alert rules:

1. **Screening.** Every transaction gets a conformal p-value against the reference (kNN,
   ``checks.outliers``): at ``alpha = 0.01`` about 1 % of the traffic drawn like the
   reference is flagged, as the level says, and far more of the frauds.
2. **Probing.** One client key runs a decision-based boundary attack: it bisects between
   a declined fraud and the most similar approved transaction, learning only approve or
   decline. Its near-duplicate queries, whose probabilities close on 0.5, are flagged
   (``checks.probing``) and quarantined; the window's ``screen.probing_keys`` opens an
   incident whose actions block the key (``block_client``) and would roll the model back
   (a dry-run webhook: the receiver in this process gets nothing).
3. **Outage.** The seven features the model leans on most arrive as the serving layer's
   fallback, the reference median. A quarter of the features drift; the rule asks the
   retraining policy, which reads the window's realized AUC (the outcomes are in) against
   the reference's, decides ``retrain`` (waiting for more labels) and runs the retraining
   command (a stand-in that writes the request it got). The estimate without labels
   (CBPE) falls far less than the realized AUC: a model turned confidently wrong still
   looks sure of itself.
4. **Afterwards.** An analyst releases the blocked card's own purchase from the
   quarantine queue, discards the probes and lifts the block; each incident's export
   (trail, actions, impact, resolution) is written as JSON.

The data set's legitimate rows come from the first hour only, its frauds from two days
(../shared/data/MANIFEST.md): the example makes no claim about drift over time, and the
traffic order is shuffled. Exact duplicate transactions are dropped before splitting.

Run it from the repository root (needs ../shared/data)::

    .venv/bin/python examples/fraud_response/run.py

The exports go to ``out/fraud_response/`` (``main(out_dir=...)`` elsewhere).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from driftwise.client import Client

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "creditcard_fraud_ulb" / \
    "creditcard_first4000legit_all492fraud.csv"
MODEL = "fraud-score"
FEATURES = [f"V{i}" for i in range(1, 29)] + ["log_amount"]
SEED = 7
WINDOW = 400          # rows per monitoring window
ALPHA = 0.01          # outlier level of the screen
OUTAGE_FEATURES = 7   # how many of the most important features the outage hits
PROBES = 20           # queries of the boundary attack
ATTACKER = "card-attacker"
KEYS = 50             # client keys of ordinary traffic
DRIFT_SHARE = 0.2     # the alert rule: at least this share of the features drifted
# Legitimate / fraud rows of each part; the rest of each class is production traffic.
TRAIN = (1500, 200)
REFERENCE = (1200, 30)
STREAM_FRAUDS = 30    # frauds mixed into the ordinary traffic: the reference's share

#: The window metrics the summary shows.
WATCHED = ["estimated.roc_auc", "performance.roc_auc", "performance.labelled_rows",
           "drift.dataset.share", "screen.quarantined", "screen.probing_keys",
           "screen.blocked"]

# The retraining job's stand-in: it records what it was asked (a real job would schedule
# training for when enough labels are in: its context says waiting_for_labels).
RETRAIN_JOB = (
    "import json, os, sys; from pathlib import Path; "
    "Path(sys.argv[1]).write_text(json.dumps({'incident': os.environ['DRIFTWISE_INCIDENT'], "
    "'action': os.environ['DRIFTWISE_ACTION'], "
    "'context': json.loads(os.environ['DRIFTWISE_CONTEXT'])}, indent=2))")


# -- data and model ------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """The transactions by role (row labels of the de-duplicated table)."""

    train: np.ndarray
    reference: np.ndarray
    stream: np.ndarray    # ordinary traffic, shuffled, frauds at the reference's share
    frauds: np.ndarray    # the other frauds: screened to measure what the screen sees
    approved: np.ndarray  # legitimate transactions the attacker has seen approved
    own: int              # the attacker's card's own ordinary purchase


def load() -> pd.DataFrame:
    """The ULB subset, exact duplicates dropped (they would leak between the splits, and
    a repeated row in the reference sets the probing detector's duplicate radius to 0)."""
    frame = pd.read_csv(DATA)
    frame = frame.drop_duplicates([*FEATURES[:-1], "Amount"]).reset_index(drop=True)
    frame["log_amount"] = np.log1p(frame["Amount"])
    return frame


def split(frame: pd.DataFrame, rng: np.random.Generator) -> Split:
    legit = rng.permutation(np.flatnonzero(frame["Class"].to_numpy() == 0))
    fraud = rng.permutation(np.flatnonzero(frame["Class"].to_numpy() == 1))
    (lt, ft), (lr, fr) = TRAIN, REFERENCE
    prod_legit, prod_fraud = legit[lt + lr:], fraud[ft + fr:]
    stream = rng.permutation(np.r_[prod_legit[:-1], prod_fraud[:STREAM_FRAUDS]])
    return Split(np.r_[legit[:lt], fraud[:ft]], np.r_[legit[lt:lt + lr], fraud[ft:ft + fr]],
                 stream, prod_fraud[STREAM_FRAUDS:], prod_legit[:-1], int(prod_legit[-1]))


def train(frame: pd.DataFrame) -> Pipeline:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    return model.fit(frame[FEATURES], frame["Class"])


def proba(model: Pipeline, x: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The model's fraud probability of each row."""
    rows = x[FEATURES] if isinstance(x, pd.DataFrame) else pd.DataFrame(x, columns=FEATURES)
    return np.asarray(model.predict_proba(rows)[:, 1], dtype=np.float64)


def most_important(model: Pipeline, k: int) -> list[str]:
    """The ``k`` features the model leans on most: the largest coefficients of the
    logistic regression, whose inputs are standardised (effect per standard deviation)."""
    weight = np.abs(model[-1].coef_[0])
    return [FEATURES[i] for i in np.argsort(-weight, kind="stable")[:k]]


def monitor_config(rollback_url: str, retrain_argv: list[str]) -> dict[str, Any]:
    """The model's Monitor configuration: the screen, the actions and the two rules."""
    return {
        "model": {"positive_class": "1"},
        "windows": {"rows": WINDOW, "min_rows": 50},
        "checks": {"outliers": {"alpha": ALPHA}, "probing": {"min_duplicates": 6},
                   "estimated_performance": True},
        "actions": [
            {"name": "block-prober", "kind": "block_client", "duration_s": 3600},
            {"name": "rollback", "kind": "webhook", "url": rollback_url, "method": "POST",
             "dry_run": True},
            {"name": "retrain", "kind": "command", "argv": retrain_argv, "timeout_s": 30}],
        "alerts": [
            {"name": "probing", "metric": "screen.probing_keys", "condition": "> 0",
             "severity": "critical", "actions": ["block-prober", "rollback"]},
            {"name": "input-drift", "metric": "drift.dataset.share",
             "condition": f">= {DRIFT_SHARE}", "severity": "warning", "policy": True}],
        "policy": {"metric": "roc_auc", "retrain": ["retrain"]},
    }


# -- the service and the model server ---------------------------------------------------------
class Receiver:
    """A webhook receiver on loopback standing in for the deployment system."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                requests.append(json.loads(body or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rollback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ModelServer:
    """The fraud model's server: scores a transaction, screens it with driftwise, answers
    (approve or decline; a quarantined transaction is held, so declined) and logs what it
    answered; ``confirm`` sends the fraud team's outcomes of what it logged. Every verdict
    is kept with the transaction's true class, for the summary."""

    def __init__(self, client: Client, model: Pipeline) -> None:
        self.client, self.model = client, model
        self.screened: list[dict[str, Any]] = []
        self.unconfirmed: dict[str, int] = {}

    def records(self, rows: pd.DataFrame, keys: list[str], prefix: str = "txn"
                ) -> list[dict[str, Any]]:
        p = proba(self.model, rows)
        return [{"id": f"{prefix}-{idx}", "client_key": key, "probabilities": float(pi),
                 "features": {f: float(v) for f, v in zip(FEATURES, row, strict=True)}}
                for idx, key, pi, row in zip(rows.index, keys, p,
                                             rows[FEATURES].to_numpy(), strict=True)]

    def answer(self, records: list[dict[str, Any]], phase: str, labels: list[int],
               log: bool = True, confirm: bool = True) -> list[dict[str, Any]]:
        """Screen ``records``, log the ones answered; their verdicts."""
        verdicts = self.client.screen(MODEL, records)
        answered = [(r, y) for r, v, y in zip(records, verdicts, labels, strict=True)
                    if v["verdict"] != "quarantine"]
        if log and answered:
            self.client.log_batch(MODEL, [r for r, _ in answered])
            if confirm:
                self.unconfirmed.update({r["id"]: y for r, y in answered})
        for v, y in zip(verdicts, labels, strict=True):
            self.screened.append({**v, "phase": phase, "label": y})
        return verdicts

    def confirm(self) -> None:
        """Send the outcomes known so far."""
        if self.unconfirmed:
            self.client.labels(MODEL, self.unconfirmed)
            self.unconfirmed = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTWISE_")}
    # One OpenMP thread: the evaluator's models otherwise spin on every core.
    env.update(DRIFTWISE_POLL_INTERVAL_S="0.1", OMP_NUM_THREADS="1")
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "driftwise", "serve", "--host",
                                 "127.0.0.1", "--port", str(port), "--data-dir",
                                 str(data_dir)], env=env, stdin=subprocess.DEVNULL,
                                stdout=sink, stderr=subprocess.STDOUT)


@contextmanager
def loopback_service(prefix: str) -> Iterator[tuple[Client, Receiver]]:
    """A ``driftwise serve`` on loopback with a fresh store, its client and a webhook
    receiver; the server's log goes to stderr when the body fails; stopped by its PID."""
    receiver = Receiver()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        log = Path(scratch) / "serve.log"
        server = _serve(port, Path(scratch) / "data", log)
        try:
            with Client(f"http://127.0.0.1:{port}", timeout=60) as client:
                client.wait_ready(60)
                yield client, receiver
        except Exception:
            sys.stderr.write(log.read_text(errors="replace")[-3000:])
            raise
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            receiver.close()


def _settled(client: Client, rule: str, actions: int, timeout: float = 60.0
             ) -> dict[str, Any]:
    """The report of the incident ``rule`` opened, once ``actions`` actions finished."""
    deadline = time.monotonic() + timeout
    while True:
        for incident in client.incidents():
            if incident["root_alert"].get("rule") == rule:
                report = client.incident_report(incident["id"])
                if sum(a["status"] != "pending" for a in report["actions"]) >= actions:
                    return report
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {rule!r} incident's {actions} actions did not finish "
                               f"in {timeout:g} s")
        time.sleep(0.1)


# -- traffic ---------------------------------------------------------------------------------
class Stream:
    """Ordinary production traffic in arrival order."""

    def __init__(self, frame: pd.DataFrame, order: np.ndarray) -> None:
        self.frame, self.order, self.next = frame, order, 0

    def take(self, n: int) -> pd.DataFrame:
        rows = self.frame.loc[self.order[self.next:self.next + n]]
        if len(rows) < n:
            raise RuntimeError("the production stream ran out of transactions")
        self.next += n
        return rows


def fill(server: ModelServer, stream: Stream, n: int, phase: str,
         broken: dict[str, float] | None = None, close: bool = False) -> None:
    """Serve ordinary traffic from ``KEYS`` client keys until ``n`` transactions were
    answered and logged (quarantined ones are held, not logged), then send their outcomes;
    ``broken`` overwrites those features. With ``close``, the last of them closes a window:
    its outcome is not known when the window is evaluated (and is never sent)."""
    def serve(count: int, confirm: bool = True) -> int:
        rows = stream.take(count)
        if broken:
            rows = rows.assign(**broken)
        keys = [f"card-{i % KEYS:03d}" for i in rows.index]
        verdicts = server.answer(server.records(rows, keys), phase,
                                 rows["Class"].astype(int).tolist(), confirm=confirm)
        return sum(v["verdict"] != "quarantine" for v in verdicts)

    todo = n - 1 if close else n
    while todo > 0:
        todo -= serve(min(todo, 50))
    server.confirm()
    while close and not serve(1, confirm=False):
        pass


def screen_frauds(server: ModelServer, frame: pd.DataFrame, parts: Split) -> None:
    """The frauds outside the ordinary traffic, screened (not logged: they would swamp a
    window) to measure how often the screen flags a fraud."""
    frauds = frame.loc[parts.frauds]
    for start in range(0, len(frauds), 50):
        rows = frauds.iloc[start:start + 50]
        keys = [f"card-{i % KEYS:03d}" for i in rows.index]
        server.answer(server.records(rows, keys), "fraud", [1] * len(rows), log=False)


def boundary_attack(server: ModelServer, frame: pd.DataFrame, parts: Split
                    ) -> list[dict[str, Any]]:
    """A decision-based attack (the binary search of HopSkipJump, Chen et al. 2020): from a
    declined fraud, bisect towards the approved transaction most like it, learning only
    approve or decline. The attacker picks, among the frauds the model declines, the one
    nearest an approved transaction it has seen (in z-scores of those): the least to
    change."""
    approved = frame.loc[parts.approved]
    approved = approved[proba(server.model, approved) < 0.1]
    mu, sd = approved[FEATURES].mean(), approved[FEATURES].std()
    frauds = frame.loc[parts.frauds]
    frauds = frauds[proba(server.model, frauds) >= 0.9]
    za = ((approved[FEATURES] - mu) / sd).to_numpy()
    zf = ((frauds[FEATURES] - mu) / sd).to_numpy()
    dist = np.sqrt(((zf[:, None, :] - za[None, :, :]) ** 2).sum(axis=2))
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    start, goal = frauds[FEATURES].to_numpy()[i], approved[FEATURES].to_numpy()[j]
    declined, accepted = 0.0, 1.0  # positions on the segment from start to goal
    out = []
    for q in range(1, PROBES + 1):
        t = (declined + accepted) / 2
        x = start + t * (goal - start)
        p = float(proba(server.model, x[None, :])[0])
        record = {"id": f"probe-{q}", "client_key": ATTACKER, "probabilities": p,
                  "features": {f: float(v) for f, v in zip(FEATURES, x, strict=True)}}
        (verdict,) = server.answer([record], "probe", [1], log=False)
        if p >= 0.5 or verdict["verdict"] == "quarantine":  # held is declined too
            declined = t
        else:
            accepted = t
        out.append({"query": q, "t": t, "probability": p, **verdict})
    return out


# -- the story -------------------------------------------------------------------------------
@dataclass
class Run:
    """What one replay has in hand."""

    client: Client
    frame: pd.DataFrame
    parts: Split
    model: Pipeline
    reference: pd.DataFrame
    server: ModelServer
    stream: Stream


def register(client: Client, receiver: Receiver, marker: Path) -> Run:
    """Train on one part, register the model with the other as its reference."""
    frame = load()
    parts = split(frame, np.random.default_rng(SEED))
    model = train(frame.loc[parts.train])
    reference = frame.loc[parts.reference].assign(p=lambda d: proba(model, d))
    client.register_model(MODEL, task="binary", columns={
        "features": FEATURES, "probabilities": "p", "target": "Class"},
        config=monitor_config(receiver.url, [sys.executable, "-c", RETRAIN_JOB, str(marker)]))
    client.upload_reference(MODEL, reference[[*FEATURES, "p", "Class"]].reset_index(drop=True))
    return Run(client, frame, parts, model, reference, ModelServer(client, model),
               Stream(frame, parts.stream))


def attack(run: Run) -> dict[str, Any]:
    """Window 0: ordinary traffic with the frauds screened and the attack mid-window; the
    probing incident's actions; the blocked card's next, ordinary purchase."""
    fill(run.server, run.stream, WINDOW // 2, "ordinary")
    screen_frauds(run.server, run.frame, run.parts)
    probes = boundary_attack(run.server, run.frame, run.parts)
    fill(run.server, run.stream, WINDOW - WINDOW // 2, "ordinary", close=True)
    run.client.wait_windows(MODEL, 1, timeout=120)
    report = _settled(run.client, "probing", 2)
    blocks = run.client.blocks(MODEL)
    own = run.frame.loc[[run.parts.own]]
    (after,) = run.server.answer(run.server.records(own, [ATTACKER], prefix="own"),
                                 "blocked", [0], log=False)
    return {"probes": probes, "report": report, "blocks": blocks, "after_block": after}


def outage(run: Run) -> dict[str, Any]:
    """Window 1: the outage; window 2: the features are back."""
    broken = most_important(run.model, OUTAGE_FEATURES)
    fallback = {f: float(run.reference[f].median()) for f in broken}
    fill(run.server, run.stream, WINDOW, "outage", fallback, close=True)
    run.client.wait_windows(MODEL, 2, timeout=120)
    report = _settled(run.client, "input-drift", 2)
    fill(run.server, run.stream, WINDOW, "ordinary", close=True)
    run.client.wait_windows(MODEL, 3, timeout=120)
    return {"features": broken, "fallback": fallback, "report": report}


def review(run: Run, attacked: dict[str, Any]) -> dict[str, Any]:
    """The analyst releases the card's own purchase, discards the probes, lifts the block."""
    client = run.client
    held = client.quarantine(MODEL, "held", limit=1000)
    released = [client.release(MODEL, e["id"], by="analyst") for e in held
                if e["record_id"] == attacked["after_block"]["id"]]
    discarded = [client.discard(MODEL, e["id"], by="analyst") for e in held
                 if e["client_key"] == ATTACKER and e["record_id"].startswith("probe-")]
    lifted = [client.lift(MODEL, b["id"], by="analyst") for b in attacked["blocks"]
              if b["client_key"] == ATTACKER]
    client.note(attacked["report"]["id"], "analyst", "probes discarded; the card's own "
                "purchase released; block lifted once the card holder was reached")
    return {"held_before": held, "released": released, "discarded": discarded,
            "lifted": lifted, "after": client.quarantine(MODEL, "all", limit=1000)}


def export(client: Client, incidents: dict[str, int], out_dir: Path
           ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each incident's report, written as JSON."""
    reports, paths = {}, []
    for rule, incident in incidents.items():
        report = reports[rule] = client.incident_report(incident)
        path = out_dir / f"incident-{incident}-{rule}.json"
        path.write_text(json.dumps(report, indent=2, default=str))
        paths.append(str(path))
    return reports, paths


def replay(client: Client, out_dir: Path, receiver: Receiver) -> dict[str, Any]:
    """The whole story; everything the summary and the test read."""
    marker = out_dir / "retrain_request.json"
    marker.unlink(missing_ok=True)
    run = register(client, receiver, marker)
    attacked = attack(run)
    broken = outage(run)
    queue = review(run, attacked)
    reports, paths = export(client, {"probing": attacked["report"]["id"],
                                     "input-drift": broken["report"]["id"]}, out_dir)
    results = {(r["window"], r["metric"]): r["value"] for r in client.results(MODEL, WATCHED)}
    return {
        "model": {"reference_auc": float(roc_auc_score(run.reference["Class"],
                                                       run.reference["p"])),
                  "train_rows": len(run.parts.train),
                  "reference_rows": len(run.parts.reference)},
        "screening": _screening(run.server.screened),
        "probing": _probing(attacked["probes"]),
        "blocks": attacked["blocks"], "after_block": attacked["after_block"],
        "outage": {"features": broken["features"], "fallback": broken["fallback"]},
        "windows": [{"window": w["window"], "rows": w["rows"],
                     **{m: results.get((w["window"], m)) for m in WATCHED}}
                    for w in client.windows(MODEL)],
        "incidents": reports,
        "quarantine": queue,
        "retrain_request": json.loads(marker.read_text()) if marker.exists() else None,
        "rollback_requests": list(receiver.requests),
        "exports": paths,
    }


def _share(rows: list[dict[str, Any]]) -> dict[str, Any]:
    flagged = sum(r["p_value"] <= ALPHA for r in rows)
    return {"rows": len(rows), "flagged": flagged, "share": flagged / max(len(rows), 1),
            "quarantined": sum(r["verdict"] == "quarantine" for r in rows)}


def _screening(screened: list[dict[str, Any]]) -> dict[str, Any]:
    """The share of rows at ``p <= alpha``: the ordinary traffic (drawn like the
    reference), its legitimate rows, and every fraud screened outside the outage."""
    ordinary = [r for r in screened if r["phase"] == "ordinary"]
    return {"alpha": ALPHA, "ordinary": _share(ordinary),
            "legit": _share([r for r in ordinary if r["label"] == 0]),
            "fraud": _share([r for r in screened if r["phase"] in ("ordinary", "fraud")
                             and r["label"] == 1]),
            "verdicts": {v: sum(r["verdict"] == v for r in ordinary)
                         for v in ("allow", "review", "quarantine")},
            "probing_flags_elsewhere": sum("probing" in r["signals"] for r in screened
                                           if r["phase"] in ("ordinary", "outage", "fraud"))}


def _probing(probes: list[dict[str, Any]]) -> dict[str, Any]:
    flagged = [p["query"] for p in probes if "probing" in p["signals"]]
    first = flagged[0] if flagged else None
    return {"key": ATTACKER, "queries": probes, "flagged_at": first,
            "quarantined_from_flag": first is not None and all(
                p["verdict"] == "quarantine" for p in probes if p["query"] >= first)}


def main(quiet: bool = False, out_dir: str | os.PathLike[str] | None = None
         ) -> dict[str, Any]:
    """Run the example; the measured screening, probing, blocks, incidents and queue."""
    began = time.monotonic()
    target = Path(out_dir) if out_dir is not None else REPO / "out" / "fraud_response"
    target.mkdir(parents=True, exist_ok=True)
    with loopback_service("driftwise-fraud-") as (client, receiver):
        result = replay(client, target, receiver)
    result["seconds"] = time.monotonic() - began
    if not quiet:
        _show(result)
    return result


def _show(result: dict[str, Any]) -> None:
    s = result["screening"]
    print(f"logistic regression, reference AUC {result['model']['reference_auc']:.3f}")
    for name, what in (("ordinary", "ordinary traffic (drawn like the reference)"),
                       ("legit", "  its legitimate transactions"), ("fraud", "frauds")):
        part = s[name]
        print(f"{what}: {part['flagged']}/{part['rows']} = {part['share']:.1%} flagged at "
              f"p <= {s['alpha']}, {part['quarantined']} quarantined")
    p = result["probing"]
    print(f"probing key {p['key']}: flagged at query {p['flagged_at']} of "
          f"{len(p['queries'])}, quarantined from then on: {p['quarantined_from_flag']}; "
          f"last probability {p['queries'][-1]['probability']:.3f}; outlier p-values of the "
          f"probes {min(q['p_value'] for q in p['queries']):.3f} or more (each alone looks "
          "ordinary)")
    print(f"after the block, its ordinary purchase: {result['after_block']['verdict']} "
          f"{result['after_block']['signals']}")
    print(f"outage: {', '.join(result['outage']['features'])} at the reference median")
    for w in result["windows"]:
        print(f"window {w['window']}: AUC estimated {w['estimated.roc_auc']:.3f}, realized "
              f"{w['performance.roc_auc']:.3f} ({w['performance.labelled_rows']} labels); "
              f"drifted share {w['drift.dataset.share']:.2f}; screen: "
              f"{w['screen.quarantined']} held, {w['screen.probing_keys']} probing key(s), "
              f"{w['screen.blocked']} blocked")
    for rule, report in result["incidents"].items():
        print(f"incident {report['id']} ({rule}, {report['state']}): impact "
              f"{report['impact']['records']} records, "
              f"{report['impact']['quarantined']} quarantined")
        for a in report["actions"]:
            detail = (a.get("result") or {}).get("detail") or ""
            print(f"  action {a['action']}: {a['status']} {detail}"[:120])
        for e in report["trail"]:
            if e["kind"] == "decision":
                print(f"  decision {e['decision']}: {'; '.join(e['reasons'])}"[:240])
        print(f"  trail: {' > '.join(e['kind'] for e in report['trail'])}")
    q = result["quarantine"]
    print(f"quarantine: {len(q['held_before'])} held; the analyst released "
          f"{len(q['released'])}, discarded {len(q['discarded'])}, lifted "
          f"{len(q['lifted'])} block(s)")
    print(f"rollback webhook requests received (dry run): {len(result['rollback_requests'])}")
    print(f"exports: {', '.join(result['exports'])}")
    print(f"{result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
