"""The evaluator: closed windows evaluated in the background, never on the request path.

By default it runs in a child process of the server, so that a window's statistics never
hold the GIL that ingest requests need; ``DRIFTWISE_EVALUATOR=thread`` runs it in a thread
(tests, small deployments). The child exits when its parent dies (even by SIGKILL).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import uuid
from typing import Any

from driftwise.app.evaluation import Scheduling, evaluate_pending
from driftwise.config.settings import ServiceSettings
from driftwise.service.tracing import Tracing
from driftwise.store import evaluation as ev
from driftwise.store import open_store

__all__ = ["DeliveryThread", "EvaluatorThread", "ResponseThread", "start_delivery",
           "start_evaluator", "start_response"]

log = logging.getLogger("driftwise.evaluator")


def scheduling(settings: ServiceSettings) -> Scheduling:
    """The window rules of these settings."""
    return Scheduling(settings.window_rows, settings.window_lateness_s,
                      settings.window_idle_s, settings.lease_s, tuple(settings.alert_routes))


def _loop(settings: ServiceSettings, stop: Any, wake: Any, owner: str,
          tracing: Tracing | None = None) -> None:
    engine = open_store(settings.database_url, settings.data_dir, upgrade=False)
    rules = scheduling(settings)
    own_tracing = tracing is None
    tracing = tracing or Tracing.from_endpoint(settings.otlp_endpoint)
    try:
        while not stop.is_set():
            try:
                done = evaluate_pending(engine, owner, rules, tracing)
            except Exception:
                log.exception("evaluation pass failed; retrying")
                done = 0
            if not done:
                wake.wait(settings.poll_interval_s)
                if wake is not stop:
                    wake.clear()
    finally:
        with contextlib.suppress(Exception):
            ev.release(engine, owner)
        if own_tracing:
            tracing.shutdown()
        engine.dispose()


class EvaluatorThread:
    """The evaluator in a thread of this process."""

    def __init__(self, settings: ServiceSettings, tracing: Tracing | None = None) -> None:
        self.stop, self.wake = threading.Event(), threading.Event()
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.thread = threading.Thread(target=_loop, name="driftwise-evaluator",
                                       args=(settings, self.stop, self.wake, self.owner,
                                             tracing), daemon=True)

    def start(self) -> None:
        self.thread.start()

    def notify(self) -> None:
        self.wake.set()

    def close(self) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=30)


def _child(settings: ServiceSettings, owner: str, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:
        return  # the server died while this process was still importing
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    # The parent stops us with SIGTERM (also what a terminal's Ctrl-C or `timeout` sends to
    # the whole process group): finish the window at hand, release the leases, exit.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # No shared lock with the parent (a multiprocessing.Event is one: a child killed while
    # holding it would hang the parent); the child polls instead of being woken.
    _loop(settings, stop, stop, owner)


def _die_with_parent() -> None:
    """Linux: get SIGTERM when the parent dies, whatever killed it."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EvaluatorProcess:
    """The evaluator in a child process."""

    def __init__(self, settings: ServiceSettings) -> None:
        context = mp.get_context("spawn")
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.process = context.Process(target=_child, name="driftwise-evaluator",
                                       args=(settings, self.owner, os.getpid()),
                                       daemon=True)

    def start(self) -> None:
        self.process.start()

    def notify(self) -> None:
        """The child polls every ``poll_interval_s``; nothing to do."""

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self.process.terminate()  # SIGTERM: a clean stop
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


def start_evaluator(settings: ServiceSettings, tracing: Tracing | None = None) -> (
        EvaluatorThread | EvaluatorProcess | None):
    """Start the evaluator these settings ask for (``None`` when it is off). A thread
    evaluator shares ``tracing``; a process one builds its own from the settings."""
    if settings.evaluator == "off":
        return None
    evaluator = EvaluatorProcess(settings) if settings.evaluator == "process" else \
        EvaluatorThread(settings, tracing)
    evaluator.start()
    return evaluator


class _Background:
    """A daemon thread of the server that works until closed (``_run``: the loop, which
    checks ``self.stop``)."""

    name = "driftwise-background"

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


class DeliveryThread(_Background):
    """The alert sender: posts due outbox deliveries every ``poll_interval_s`` (every
    server may run one: the outbox is leased, so no delivery is sent by two at once)."""

    name = "driftwise-delivery"

    def _run(self) -> None:
        import httpx

        from driftwise.app.delivery import deliver_pending, refresh_alertmanager

        s = self.settings
        engine = open_store(s.database_url, s.data_dir, upgrade=False)
        http = httpx.Client(timeout=10.0, follow_redirects=False)
        refreshed = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    deliver_pending(engine, s.alert_routes, base_s=s.alert_retry_base_s,
                                    max_s=s.alert_retry_max_s,
                                    max_attempts=s.alert_max_attempts, client=http)
                    if time.monotonic() - refreshed >= s.alert_refresh_s:
                        refreshed = time.monotonic()
                        refresh_alertmanager(engine, s.alert_routes, http)
                except Exception:
                    log.exception("alert delivery pass failed; retrying")
                self.stop.wait(min(s.poll_interval_s, s.alert_retry_base_s))
        finally:
            http.close()
            engine.dispose()


def start_delivery(settings: ServiceSettings) -> DeliveryThread | None:
    """The alert sender of these settings (none without routes)."""
    if not settings.alert_routes:
        return None
    sender = DeliveryThread(settings)
    sender.start()
    return sender


class ResponseThread(_Background):
    """The response runner: runs the actions incidents queued (``app.response``) every
    ``poll_interval_s``; every server may run one (actions are leased, one runner each)."""

    name = "driftwise-response"

    def _run(self) -> None:
        from driftwise.app.response import run_pending

        s = self.settings
        engine = open_store(s.database_url, s.data_dir, upgrade=False)
        try:
            while not self.stop.is_set():
                try:
                    done = run_pending(engine)
                except Exception:
                    log.exception("response pass failed; retrying")
                    done = 0
                if not done:
                    self.stop.wait(s.poll_interval_s)
        finally:
            engine.dispose()


def start_response(settings: ServiceSettings) -> ResponseThread | None:
    """The response runner (none when the evaluator is off: nothing queues actions)."""
    if settings.evaluator == "off":
        return None
    runner = ResponseThread(settings)
    runner.start()
    return runner
