"""The response's store: an action is queued once per incident, leased to one runner, taken
over when its runner died, and given up after repeated deaths; every step in the trail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert

from driftwise.app.response import run_pending
from driftwise.store import open_store, registry
from driftwise.store import response as store
from driftwise.store import schema as s
from driftwise.store.db import writing

CONFIG = {"model": {"name": "m", "task": "binary"}, "columns": {"prediction": "y"}}


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def _incident(engine: Any) -> tuple[int, int]:
    model = registry.create_model(engine, "m", "binary", CONFIG)
    with writing(engine) as conn:
        incident_id = int(conn.execute(insert(s.incidents).values(
            root_model="m", state="open", opened_at=time.time(), updated_at=time.time(),
            body=json.dumps({"root_alert": {"model": "m"}})).returning(
            s.incidents.c.id)).scalar_one())
    return model.id, incident_id


def _queue(engine: Any, model_id: int, incident_id: int, *names: str) -> list[str]:
    spec = {"name": "x", "kind": "webhook", "url": "http://127.0.0.1:9/x", "dry_run": True}
    with writing(engine) as conn:
        return store.queue_actions(conn, incident_id, model_id, 1, 3,
                                   [(n, {**spec, "name": n}, {"rule": "r"}) for n in names])


def test_an_action_is_queued_once_per_incident(engine: Any) -> None:
    model_id, incident_id = _incident(engine)
    assert _queue(engine, model_id, incident_id, "a", "b") == ["a", "b"]
    assert _queue(engine, model_id, incident_id, "b", "c") == ["c"]  # b is there already
    assert [a["action"] for a in store.incident_actions(engine, incident_id)] == ["a", "b", "c"]
    kinds = [e["kind"] for e in store.trail(engine, incident_id)]
    assert kinds == ["action_queued"] * 3


def test_a_dead_runner_s_action_is_taken_over_then_given_up(engine: Any) -> None:
    model_id, incident_id = _incident(engine)
    _queue(engine, model_id, incident_id, "a")
    (first,) = store.claim_actions(engine, lease_s=0.2)
    assert first.attempts == 1
    assert store.claim_actions(engine, lease_s=0.2) == []  # leased: no second runner
    time.sleep(0.3)  # the runner died: its lease runs out
    (again,) = store.claim_actions(engine, lease_s=0.2)
    assert (again.id, again.attempts) == (first.id, 2)
    for _ in range(store.MAX_CLAIMS - 1):
        time.sleep(0.3)
        store.claim_actions(engine, lease_s=0.2)
    time.sleep(0.3)
    # The next runner gives it up instead of running an action that kills runners.
    assert run_pending(engine) == 1
    (action,) = store.incident_actions(engine, incident_id)
    assert action["status"] == "failed" and "given up" in action["result"]["detail"]
    assert store.claim_actions(engine, lease_s=1.0) == []


def test_a_queued_action_survives_a_restart(store_url: str) -> None:
    engine = open_store(store_url)
    model_id, incident_id = _incident(engine)
    _queue(engine, model_id, incident_id, "a")
    engine.dispose()
    engine = open_store(store_url)
    try:
        assert run_pending(engine) == 1
        (action,) = store.incident_actions(engine, incident_id)
        assert action["status"] == "dry_run" and action["attempts"] == 1
        assert [e["kind"] for e in store.trail(engine, incident_id)] == [
            "action_queued", "action_result"]
    finally:
        engine.dispose()


def test_blocks_extend_instead_of_doubling_and_expire(engine: Any) -> None:
    model_id, incident_id = _incident(engine)
    now = time.time()
    (one,) = store.add_blocks(engine, model_id, [{"client_key": "k", "until": now + 60}],
                              incident_id, "driftwise")
    (same,) = store.add_blocks(engine, model_id, [{"client_key": "k", "until": now + 600}],
                               incident_id, "driftwise")
    assert same.id == one.id and same.until == pytest.approx(now + 600)
    store.add_blocks(engine, model_id, [{"segment": {"c": "v", "n": 3}, "until": now + 0.2}],
                     None, "ana")
    blocks = store.active_blocks(engine, model_id)
    assert sorted(b.kind for b in blocks) == ["client", "segment"]
    segment = next(b for b in blocks if b.kind == "segment")
    assert segment.matches(None, {"c": "v", "n": 3.0, "z": 1})
    assert not segment.matches(None, {"c": "v"}) and not segment.matches(None, {"c": "u", "n": 3})
    client = next(b for b in blocks if b.kind == "client")
    assert client.matches("k", {}) and not client.matches("k2", {}) and \
        not client.matches(None, {})
    time.sleep(0.3)
    assert [b.kind for b in store.active_blocks(engine, model_id)] == ["client"]
    trail = store.trail(engine, incident_id)
    assert [(e["kind"], e["extended"]) for e in trail] == [("block", False), ("block", True)]


def test_holding_a_record_twice_counts_it_once(engine: Any) -> None:
    from driftwise.store import quarantine

    model = registry.create_model(engine, "m", "binary", CONFIG)
    item = {"record_id": "r1", "client_key": None, "p_value": 0.001, "record": {"id": "r1"},
            "reason": {"signal": "outlier"}}
    assert quarantine.hold(engine, model.id, [item]) == 1
    assert quarantine.hold(engine, model.id, [item, {**item, "record_id": "r2"}]) == 1
