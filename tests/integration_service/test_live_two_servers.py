"""Two ``driftwise serve`` processes on one PostgreSQL database share the evaluation
through the leases: every window of every model is evaluated exactly once (no gap, no
duplicate, whichever server the records went to), and when the server holding the
leases is SIGKILLed the other takes its models over once the leases expire, and goes on
where the dead one stopped.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from live_helpers import LiveServer, records, register

from driftwise.client import Client

MODELS = ("m0", "m1", "m2", "m3")
WINDOW = 400
BATCH = 200
FIRST, MORE = 3, 2  # windows per model before and after the kill
LOGGED = re.compile(r"driftwise\.evaluation model (\S+): window (\d+) ")


def _send(clients: list[Client], windows: range) -> None:
    """Each window's records in batches, the batches alternating between the servers."""
    turn = 0
    for w in windows:
        for name in MODELS:
            rows = records(f"{name}w{w}r", WINDOW, seed=100 * MODELS.index(name) + w,
                           start=w * WINDOW)
            for lo in range(0, WINDOW, BATCH):
                answer = clients[turn % len(clients)].log_batch(name, rows[lo:lo + BATCH])
                assert answer["accepted"] == BATCH, answer
                turn += 1


def _wait(client: Client, count: int, timeout: float = 90.0) -> dict[str, list[int]]:
    deadline = time.monotonic() + timeout
    while True:
        found = {name: [w["window"] for w in client.windows(name)] for name in MODELS}
        if all(len(v) >= count for v in found.values()):
            return found
        assert time.monotonic() < deadline, f"windows after {timeout} s: {found}"
        time.sleep(0.2)


def _logged(server: LiveServer) -> list[tuple[str, int]]:
    return [(m, int(w)) for m, w in LOGGED.findall(server.log_tail(10**7))]


def _leases(url: str) -> dict[str, tuple[str | None, float]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT m.name, c.lease_owner, c.lease_until FROM cursors c "
                            "JOIN models m ON m.id = c.model_id").fetchall()
    return {name: (owner, until) for name, owner, until in rows}


def _holder(owner: str | None, servers: list[LiveServer]) -> LiveServer | None:
    for server in servers:
        if owner and owner.split(":")[1] == str(server.pid):
            return server
    return None


def test_two_servers_evaluate_each_window_once_and_take_over(servers: Any, pg_url: str,
                                                             tmp_path: Path) -> None:
    env = {"DRIFTWISE_DATABASE_URL": pg_url, "DRIFTWISE_EVALUATOR": "thread",
           "DRIFTWISE_LEASE_S": "5"}
    both = [servers(tmp_path / "a", env=env), servers(tmp_path / "b", env=env)]
    for server in both:
        server.start()
    clients = [server.client() for server in both]
    try:
        for name in MODELS:
            register(clients[0], name, {"windows": {"rows": WINDOW}})
        _send(clients, range(FIRST))
        for client in clients:  # both servers answer from the one database
            found = _wait(client, FIRST)
            assert found == {name: list(range(FIRST)) for name in MODELS}, found
        logged = _logged(both[0]) + _logged(both[1])
        assert Counter(logged) == Counter((m, w) for m in MODELS for w in range(FIRST)), \
            "a window was committed twice or not at all"

        # Kill the server holding the most leases (usually all of them).
        leases = _leases(pg_url)
        holders = Counter(_holder(owner, both) for owner, _ in leases.values())
        victim = max(both, key=lambda s: holders[s])
        assert holders[victim] > 0, leases
        survivor = next(s for s in both if s is not victim)
        survivor_client = clients[both.index(survivor)]
        taken = [name for name, (owner, _) in leases.items()
                 if _holder(owner, both) is victim]
        assert victim.sigkill() == []
        killed_at = time.time()
        leases = _leases(pg_url)
        expiry = {name: leases[name][1] for name in taken}
        assert all(until <= killed_at + 5.5 for until in expiry.values())

        _send([survivor_client], range(FIRST, FIRST + MORE))
        found = _wait(survivor_client, FIRST + MORE, timeout=60)
        assert found == {name: list(range(FIRST + MORE)) for name in MODELS}, found
        for name in taken:  # taken over only after the dead server's lease ran out
            detail = survivor_client.window(name, FIRST)
            assert detail["evaluated_at"] >= expiry[name], (name, detail["evaluated_at"])
            assert detail["seq_range"] == [FIRST * WINDOW, (FIRST + 1) * WINDOW]
        logged = _logged(both[0]) + _logged(both[1])
        assert Counter(logged) == Counter(
            (m, w) for m in MODELS for w in range(FIRST + MORE)), logged
        assert all(_holder(owner, both) is survivor for owner, _ in _leases(pg_url).values())
    finally:
        for client in clients:
            client.close()
