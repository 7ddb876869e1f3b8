"""``ModelLogger``: what a model server calls on every prediction.

``log()`` only puts the record on a bounded in-memory queue and returns: it never blocks
the model's request path and never raises into it. A background thread sends batches
(at most ``batch_size`` records, or what arrived within ``flush_interval``), retrying
network errors, 429 and 5xx answers with exponential backoff and full jitter. Records are
dropped — and counted — only when the queue is full or a batch still fails after
``max_retries``; records the service refuses (a 4xx naming the field) are counted as
rejected. ``close()`` (also run at interpreter exit) flushes what is queued.

A retry re-sends the same records (same ids, same payloads, timestamps taken when
``log()`` was called), and the service stores a record id once, so a batch whose answer
was lost is not stored twice: ``stats.duplicates`` counts such re-deliveries.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import queue
import random
import re
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftwise.client.client import ApiError, Client, plain

__all__ = ["LoggerStats", "ModelLogger"]

log = logging.getLogger("driftwise.client")
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
#: W3C trace context (version-traceid-parentid-flags, lowercase hex); the service refuses
#: a record whose traceparent is malformed, so a bad header is left out, never sent.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_FLUSH = "flush"  # a queue marker: send what is batched now


@dataclass
class LoggerStats:
    """Counts since the logger started. Every record or label queued ends in exactly one
    of ``sent`` (records the service holds), ``labels_sent``, ``rejected`` (refused by the
    service, or not sendable as JSON) or ``dropped`` (out of retries, or closed before it
    went out); ``dropped`` also counts the calls turned away at once (queue full, logger
    closed, arguments unusable). ``duplicates`` counts the sent records the service
    already had: a batch sent again after its answer was lost, or an id logged twice."""

    queued: int = 0
    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: int = 0
    retries: int = 0
    labels_sent: int = 0


class ModelLogger:
    """Non-blocking, batching, retrying logger of one model's predictions.

    Parameters
    ----------
    model : str
        The registered model's name.
    client : Client or str, optional
        A :class:`Client` (left open by :meth:`close`), or the service URL (default
        ``$DRIFTWISE_URL``).
    api_key : str, optional
        A key with the ``ingest`` scope (when ``client`` is a URL).
    batch_size, flush_interval, max_queue, max_retries, backoff, max_backoff
        Batching, memory bound (records and labels held, queued or being sent) and
        retry policy: the n-th retry of a batch waits a random
        time in [0, min(max_backoff, backoff * 2**n)] seconds.
    timeout : float
        Seconds per request (when ``client`` is a URL).
    exit_timeout : float
        How long the flush at interpreter exit may take.

    Examples
    --------
    >>> logger = ModelLogger("credit", "http://127.0.0.1:1", max_retries=0)
    >>> logger.log("r1", {"age": 41}, prediction=1)  # returns at once, never raises
    True
    >>> logger.close(timeout=2)
    False
    >>> logger.stats.dropped
    1
    """

    def __init__(self, model: str, client: Client | str | None = None, *,
                 api_key: str | None = None, batch_size: int = 500,
                 flush_interval: float = 1.0, max_queue: int = 100_000, max_retries: int = 8,
                 backoff: float = 0.2, max_backoff: float = 30.0, timeout: float = 10.0,
                 exit_timeout: float = 5.0):
        self.model = model
        self._own_client = not isinstance(client, Client)
        self.client = client if isinstance(client, Client) else Client(client, api_key,
                                                                       timeout=timeout)
        self.batch_size, self.flush_interval = max(1, batch_size), flush_interval
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.stats = LoggerStats()
        self._lock = threading.Lock()  # the counters and the pending count
        # The bound is on what is held (queued or being sent), counted under the lock;
        # the queue itself is unbounded so that flush markers always fit.
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._max_queue = max(1, max_queue)
        self._pending = 0  # accepted by log()/label(), not yet sent, refused or dropped
        self._hurry = threading.Event()  # a flush is waiting: send without batching delay
        self._stop = threading.Event()
        self._abandon = threading.Event()  # close() gave up: drop without sending
        self._idle = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name=f"driftwise-logger-{model}",
                                        daemon=True)
        self._thread.start()
        ref = weakref.ref(self)

        def at_exit() -> None:
            logger = ref()
            if logger is not None:
                logger.close(exit_timeout)

        atexit.register(at_exit)

    # -- the request path -------------------------------------------------------------
    def log(self, id: str, features: Mapping[str, Any], *, prediction: Any = None,
            probabilities: Any = None, latency_ms: float | None = None, error: bool = False,
            client_key: str | None = None, traceparent: str | None = None,
            timestamp: datetime | None = None) -> bool:
        """Queue one prediction; ``False`` (and counted as dropped) when the queue is full
        or the logger is closed. A malformed ``traceparent`` is left out of the record."""
        try:
            record: dict[str, Any] = {
                "id": str(id), "features": plain(dict(features)),
                "timestamp": (timestamp or datetime.now(UTC)).isoformat()}
            for key, value in (("prediction", prediction), ("probabilities", probabilities),
                               ("latency_ms", latency_ms), ("client_key", client_key)):
                if value is not None:
                    record[key] = plain(value)
            if traceparent:
                trace = str(traceparent).strip().lower()
                if _TRACEPARENT.match(trace):
                    record["traceparent"] = trace
            if error:
                record["error"] = True
            return self._put("record", record)
        except Exception:  # never into the model's request path
            self._count(dropped=1)
            return False

    def label(self, id: str, label: Any) -> bool:
        """Queue a late label for record ``id``."""
        try:
            return self._put("label", {"id": str(id), "label": plain(label)})
        except Exception:
            self._count(dropped=1)
            return False

    def _put(self, kind: str, item: dict[str, Any]) -> bool:
        with self._lock:
            if self._stop.is_set() or self._pending >= self._max_queue:
                self.stats.dropped += 1
                return False
            self._pending += 1
            self.stats.queued += 1
        self._queue.put_nowait((kind, item))
        return True

    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)

    def _done(self, items: int, **counts: int) -> None:
        """``items`` pending ones are finished (sent, refused or dropped)."""
        with self._lock:
            for name, value in counts.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)
            self._pending -= items
            if not self._pending:
                self._hurry.clear()
            self._idle.notify_all()

    # -- the background thread --------------------------------------------------------
    def _take(self) -> list[tuple[str, dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + self.flush_interval
        while len(items) < self.batch_size:
            hurry = self._stop.is_set() or self._hurry.is_set()
            wait = 0.0 if hurry else deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == _FLUSH:  # wakes the wait; ``_hurry`` does the rest
                continue
            items.append(item)
        return items

    def _run(self) -> None:
        while True:
            items = self._take()
            if not items:
                if self._stop.is_set():
                    return
                continue
            records = [i for k, i in items if k == "record"]
            labels = [i for k, i in items if k == "label"]
            for kind, batch in (("records", records), ("labels", labels)):
                if not batch:
                    continue
                try:
                    self._send(batch, kind)
                except Exception:  # a bug here must not stop the thread
                    log.exception("driftwise: sending %d %s failed", len(batch), kind)
                    self._done(len(batch), dropped=len(batch))

    def _send(self, items: list[dict[str, Any]], kind: str) -> None:
        """Send one batch until it is stored, refused, or out of retries; every item ends
        in exactly one of sent/duplicates/labels_sent, rejected or dropped."""
        import httpx

        attempt = 0
        while True:
            if self._abandon.is_set():
                self._done(len(items), dropped=len(items))
                return
            try:
                if kind == "records":
                    answer = self.client.log_batch(self.model, items)
                    self._done(len(items), sent=int(answer["accepted"]) +
                               int(answer["duplicates"]),
                               duplicates=int(answer["duplicates"]),
                               rejected=len(answer["refused"]))
                else:
                    answer = self.client.labels(self.model, items)
                    self._done(len(items), labels_sent=int(answer["stored"]),
                               rejected=len(answer["refused"]) + len(answer["unknown_ids"]))
                return
            except ApiError as exc:
                if exc.status not in _RETRYABLE:
                    log.warning("driftwise refused %d %s: %s", len(items), kind, exc)
                    self._done(len(items), rejected=len(items))
                    return
                log.debug("driftwise answered %d; retrying", exc.status)
            except httpx.TransportError as exc:  # network errors, timeouts: retry
                log.debug("driftwise send failed: %s", exc)
            except (TypeError, ValueError) as exc:
                # A value JSON cannot carry (an object, an infinity): refuse those records
                # here and send the others (not a retry: nothing reached the service).
                good = [i for i in items if _encodes(i)]
                if len(good) < len(items):
                    log.warning("driftwise: %d %s cannot be sent as JSON: %s",
                                len(items) - len(good), kind, exc)
                    self._done(len(items) - len(good), rejected=len(items) - len(good))
                    items = good
                    if not items:
                        return
                    continue
                log.debug("driftwise send failed: %s", exc)
            attempt += 1
            if attempt > self.max_retries or (self._stop.is_set() and attempt > 2):
                log.warning("driftwise: dropped %d %s after %d attempts", len(items), kind,
                            attempt)
                self._done(len(items), dropped=len(items))
                return
            self._count(retries=1)
            # Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
            pause = random.uniform(0, min(self.max_backoff, self.backoff * 2 ** attempt))
            self._abandon.wait(pause)

    # -- flushing -----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Records and labels queued or being sent."""
        return self._pending

    def flush(self, timeout: float = 30.0) -> bool:
        """Send what is queued now and wait until everything logged so far is sent (or
        refused, or dropped); ``True`` if it all went out within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            before = self.stats.dropped + self.stats.rejected
        self._hurry.set()
        self._queue.put_nowait((_FLUSH, {}))
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._idle.wait(min(left, 0.05))
            self._hurry.clear()
            return self.stats.dropped + self.stats.rejected == before

    def close(self, timeout: float = 30.0) -> bool:
        """Flush, stop the thread and close the client it made (not one it was given);
        ``True`` when everything logged
        was sent: nothing dropped, rejected or still pending. What is unsent after
        ``timeout`` s (and up to two more seconds for a send in progress) is dropped."""
        if not self._stop.is_set():
            self.flush(timeout)
            self._stop.set()
            self._queue.put_nowait((_FLUSH, {}))  # wake the thread
            grace = min(max(timeout, 0.1), 1.0)
            self._thread.join(timeout=grace)  # a clean finish
            if self._thread.is_alive():  # stuck in a retry or a slow request: give up
                self._abandon.set()
                self._thread.join(timeout=grace)
            if not self._thread.is_alive():  # a log() that raced with close: not sent
                left = 0
                with contextlib.suppress(queue.Empty):
                    while True:
                        left += self._queue.get_nowait()[0] != _FLUSH
                if left:
                    self._done(left, dropped=left)
            if self._own_client:
                self.client.close()
        with self._lock:
            return self.stats.dropped == 0 and self.stats.rejected == 0 and \
                self._pending == 0

    def __enter__(self) -> ModelLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encodes(item: dict[str, Any]) -> bool:
    """Whether ``item`` is valid JSON as httpx writes it (no NaN or infinity)."""
    try:
        json.dumps(item, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
