"""``ModelLogger``: what a model server calls on every prediction.

``log()`` only puts the record on a bounded in-memory queue and returns: it never blocks
the model's request path and never raises into it. A background thread sends batches
(at most ``batch_size`` records, or what arrived within ``flush_interval``), retrying
network errors, 429 and 5xx answers with exponential backoff and full jitter. Records are
dropped — and counted — only when the queue is full or a batch still fails after
``max_retries``; records the service refuses (a 4xx naming the field) are counted as
rejected. ``close()`` (also run at interpreter exit) flushes what is queued.
"""

from __future__ import annotations

import atexit
import logging
import queue
import random
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftwise.client.client import ApiError, Client

__all__ = ["LoggerStats", "ModelLogger"]

log = logging.getLogger("driftwise.client")
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class LoggerStats:
    """Counts since the logger started."""

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
        A :class:`Client`, or the service URL (default ``$DRIFTWISE_URL``).
    api_key : str, optional
        A key with the ``ingest`` scope (when ``client`` is a URL).
    batch_size, flush_interval, max_queue, max_retries, backoff, max_backoff
        Batching, memory bound and retry policy.

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
                 backoff: float = 0.2, max_backoff: float = 30.0, timeout: float = 10.0):
        self.model = model
        self.client = client if isinstance(client, Client) else Client(client, api_key,
                                                                       timeout=timeout)
        self.batch_size, self.flush_interval = max(1, batch_size), flush_interval
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.stats = LoggerStats()
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name=f"driftwise-logger-{model}",
                                        daemon=True)
        self._thread.start()
        ref = weakref.ref(self)
        atexit.register(lambda: (lambda x: x.close() if x is not None else None)(ref()))

    # -- the request path -------------------------------------------------------------
    def log(self, id: str, features: Mapping[str, Any], *, prediction: Any = None,
            probabilities: Any = None, latency_ms: float | None = None, error: bool = False,
            client_key: str | None = None, traceparent: str | None = None,
            timestamp: datetime | None = None) -> bool:
        """Queue one prediction; ``False`` (and counted as dropped) when the queue is full."""
        try:
            record: dict[str, Any] = {
                "id": str(id), "features": dict(features),
                "timestamp": (timestamp or datetime.now(UTC)).isoformat()}
            for key, value in (("prediction", prediction), ("probabilities", probabilities),
                               ("latency_ms", latency_ms), ("client_key", client_key),
                               ("traceparent", traceparent)):
                if value is not None:
                    record[key] = _plain(value)
            if error:
                record["error"] = True
            return self._put("record", record)
        except Exception:  # never into the model's request path
            self.stats.dropped += 1
            return False

    def label(self, id: str, label: Any) -> bool:
        """Queue a late label for record ``id``."""
        try:
            return self._put("label", {"id": str(id), "label": _plain(label)})
        except Exception:
            self.stats.dropped += 1
            return False

    def _put(self, kind: str, item: dict[str, Any]) -> bool:
        try:
            self._queue.put_nowait((kind, item))
        except queue.Full:
            self.stats.dropped += 1
            return False
        self.stats.queued += 1
        return True

    # -- the background thread --------------------------------------------------------
    def _take(self) -> list[tuple[str, dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + self.flush_interval
        while len(items) < self.batch_size:
            wait = deadline - time.monotonic()
            if self._stop.is_set():
                wait = 0
            try:
                items.append(self._queue.get(timeout=max(wait, 0)) if wait > 0
                             else self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _run(self) -> None:
        while True:
            items = self._take()
            if not items:
                if self._stop.is_set():
                    return
                continue
            with self._idle:
                self._busy += 1
            try:
                records = [i for k, i in items if k == "record"]
                labels = [i for k, i in items if k == "label"]
                if records:
                    self._send(records, "records")
                if labels:
                    self._send(labels, "labels")
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _send(self, items: list[dict[str, Any]], kind: str) -> None:
        attempt = 0
        while True:
            try:
                if kind == "records":
                    answer = self.client.log_batch(self.model, items)
                    self.stats.sent += answer["accepted"]
                    self.stats.duplicates += answer["duplicates"]
                    self.stats.rejected += len(answer["refused"])
                else:
                    answer = self.client.labels(self.model, items)
                    self.stats.labels_sent += answer["stored"]
                    self.stats.rejected += len(answer["refused"]) + len(answer["unknown_ids"])
                return
            except ApiError as exc:
                if exc.status not in _RETRYABLE:
                    log.warning("driftwise refused %d %s: %s", len(items), kind, exc)
                    self.stats.rejected += len(items)
                    return
            except Exception as exc:  # network errors: retry
                log.debug("driftwise send failed: %s", exc)
            attempt += 1
            if attempt > self.max_retries or (self._stop.is_set() and attempt > 2):
                self.stats.dropped += len(items)
                log.warning("driftwise: dropped %d %s after %d attempts", len(items), kind,
                            attempt)
                return
            self.stats.retries += 1
            # Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
            time.sleep(random.uniform(0, min(self.max_backoff, self.backoff * 2 ** attempt)))

    # -- flushing -----------------------------------------------------------------------
    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued was sent (or dropped); ``True`` if all went out."""
        deadline = time.monotonic() + timeout
        before = self.stats.dropped + self.stats.rejected
        with self._idle:
            while not self._queue.empty() or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return self.stats.dropped + self.stats.rejected == before

    def close(self, timeout: float = 30.0) -> bool:
        """Flush and stop the thread; ``True`` when nothing was dropped or rejected."""
        if self._stop.is_set():
            return self.stats.dropped == 0 and self.stats.rejected == 0
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout=max(timeout, 1.0))
        self.client.close()
        return self.stats.dropped == 0 and self.stats.rejected == 0


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as JSON-ready Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
