"""Dashboard sign-ins in the store: sessions, one-time links (spent once, even racing),
expiry and pruning, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from driftwise.store import keys, open_store, sessions
from driftwise.store import schema as s


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def test_a_session_stands_for_its_key_until_it_ends(engine: Engine) -> None:
    token = sessions.create_session(engine, "k1", ttl_s=60)
    assert token.startswith("ds_")
    found = sessions.find_session(engine, token)
    assert found is not None and found.key_id == "k1" and not found.admin
    admin = sessions.find_session(engine, sessions.create_session(engine, None, ttl_s=60))
    assert admin is not None and admin.admin
    # Only the digest is stored: the secret is nowhere in the table.
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(s.sessions))]
    assert token.split("_", 2)[2] not in repr(stored)
    assert sessions.end_session(engine, token)
    assert sessions.find_session(engine, token) is None
    assert not sessions.end_session(engine, token)


def test_a_forged_or_altered_token_finds_nothing(engine: Engine) -> None:
    token = sessions.create_session(engine, None, ttl_s=60)
    prefix, row_id, secret = token.split("_", 2)
    altered = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    for forged in (f"{prefix}_{row_id}_{altered}", f"dw_{row_id}_{secret}",
                   f"{prefix}_{row_id}_", "", "ds__x", "x" * 300, f"{prefix}_nope_{secret}"):
        assert sessions.find_session(engine, forged) is None, forged
    # A link's token is not a session, nor a session's a link.
    link = sessions.create_link(engine, None)
    assert sessions.find_session(engine, link) is None
    assert sessions.spend_link(engine, token) is None


def test_a_link_is_spent_once(engine: Engine) -> None:
    link = sessions.create_link(engine, "k2", ttl_s=60)
    first = sessions.spend_link(engine, link)
    assert first is not None and first.key_id == "k2" and first.kind == "link"
    assert sessions.spend_link(engine, link) is None


def test_two_requests_racing_with_one_link_sign_in_once(engine: Engine) -> None:
    link = sessions.create_link(engine, None, ttl_s=60)
    results: list[object] = []
    start = threading.Barrier(8)

    def spend() -> None:
        start.wait()
        results.append(sessions.spend_link(engine, link))

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8
    assert sum(r is not None for r in results) == 1


def test_expired_sessions_and_links_fail_and_are_pruned(engine: Engine) -> None:
    session = sessions.create_session(engine, None, ttl_s=0.2)
    link = sessions.create_link(engine, None, ttl_s=0.2)
    spent = sessions.create_link(engine, None, ttl_s=600)
    assert sessions.spend_link(engine, spent) is not None
    time.sleep(0.3)
    assert sessions.find_session(engine, session) is None
    assert sessions.spend_link(engine, link) is None
    live = sessions.create_session(engine, None, ttl_s=600)  # prunes first
    with engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(s.sessions)).scalar_one()
    assert left == 1  # the new session only: expired rows and the spent link are gone
    assert sessions.find_session(engine, live) is not None
    assert sessions.prune(engine, now=time.time() + 601) == 1


def test_a_zero_ttl_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        sessions.create_link(engine, None, ttl_s=0)


def test_a_revoked_key_is_no_longer_live(engine: Engine) -> None:
    _text, key = keys.create_key(engine, "viewer", ("read",), ("m",))
    assert keys.live_key(engine, key.id) == key
    keys.revoke_key(engine, key.id)
    assert keys.live_key(engine, key.id) is None
    assert keys.live_key(engine, "missing") is None
