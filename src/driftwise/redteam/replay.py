"""An attack's recorded queries sent through the service's ``/screen``, as the attacker sent
them: in order, from one client key, with what the model answered each.

This is what the query-probing check (``checks.probing``) is for: a black-box attack's many
near-duplicate queries walking to the decision boundary from one key. A replay says whether
the service flagged the key, and whether it did so before the attack's last query (had the
model server honoured the verdict, the attack would not have completed).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from driftwise.errors import ConfigError, SchemaError

if TYPE_CHECKING:
    from driftwise.client import Client

__all__ = ["ReplayResult", "replay_queries"]

_MAX_BATCH = 10_000  # records per /screen request (ScreenIn)


@dataclass(frozen=True)
class ReplayResult:
    """What ``/screen`` said to each replayed query.

    ``first_flagged`` is the first query quarantined for any reason (an outlier, probing, a
    block), ``first_probing`` the first whose signals name probing; both count from 0 and
    are None when it never happened. ``total`` is the attack's number of queries, ``sent``
    how many were replayed (fewer when stopped early).
    """

    model: str
    client_key: str
    total: int
    sent: int
    verdicts: tuple[str, ...]
    signals: tuple[tuple[str, ...], ...]
    quarantined: int
    first_flagged: int | None
    first_probing: int | None
    flagged_before_end: bool
    stopped_early: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON (verdicts counted, not listed)."""
        counts = {v: self.verdicts.count(v) for v in ("allow", "review", "quarantine")}
        return {"model": self.model, "client_key": self.client_key, "total": self.total,
                "sent": self.sent, "verdicts": counts, "quarantined": self.quarantined,
                "probing": sum("probing" in s for s in self.signals),
                "first_flagged": self.first_flagged, "first_probing": self.first_probing,
                "flagged_before_end": self.flagged_before_end,
                "stopped_early": self.stopped_early, "seconds": self.seconds}


def _traffic(result_or_queries: Any) -> tuple[NDArray[np.float64], Any, Any]:
    """The queries, and what they were answered with (None for a bare matrix)."""
    if hasattr(result_or_queries, "queries") and hasattr(result_or_queries, "answers"):
        return (np.asarray(result_or_queries.queries, dtype=np.float64),
                np.asarray(result_or_queries.answers, dtype=np.float64),
                np.asarray(result_or_queries.classes))
    try:
        queries = np.asarray(result_or_queries, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"replay_queries: expected an AttackResult or a query matrix "
                          f"({exc})") from None
    return queries, None, None


def _answered(answer: NDArray[np.float64], classes: NDArray[Any]) -> dict[str, Any]:
    """A query's answer as the record's ``prediction`` and ``probabilities`` (binary: the
    positive class's probability, as the service reads it)."""
    label = classes[int(answer.argmax())]
    label = label.item() if hasattr(label, "item") else label
    if classes.size == 2:
        return {"prediction": label, "probabilities": float(answer[1])}
    return {"prediction": label,
            "probabilities": {str(c): float(p) for c, p in zip(classes.tolist(), answer,
                                                                 strict=True)}}


def replay_queries(result_or_queries: Any, client: Client, model_name: str, *,
                   client_key: str, features: Sequence[str], batch: int = 1,
                   extra: Mapping[str, Any] | None = None, stop_when_flagged: bool = False,
                   id_prefix: str | None = None) -> ReplayResult:
    """Send recorded attack queries, in order, through ``/screen`` from one client key.

    Parameters
    ----------
    result_or_queries : AttackResult or array-like
        An :class:`~driftwise.redteam.attacks.AttackResult` (its queries go with the
        model's answers: ``prediction`` and ``probabilities``, whose margins the probing
        check follows) or a bare (queries, features) matrix (sent without answers: then
        near duplicates alone flag a key).
    client : driftwise.client.Client
        A client of ``driftwise serve``.
    model_name : str
        The registered model; its configuration needs ``checks.outliers`` (and
        ``checks.probing`` for the probing signal).
    client_key : str
        Who sends the queries (the record's ``client_key``).
    features : sequence of str
        The feature name of each column of the queries.
    batch : int
        Records per ``/screen`` request (1: one request per query, as an attacker who must
        see each answer before the next query).
    extra : mapping, optional
        Feature values added to every record (features of the model the attack does not
        change).
    stop_when_flagged : bool
        Stop after the request in which the key was first quarantined.
    id_prefix : str, optional
        Record ids are ``<id_prefix><query index>`` (default: the key and a fresh token, so
        that a second replay's held records are not taken for the first's).

    Returns
    -------
    ReplayResult

    Raises
    ------
    ConfigError
        A bad ``batch``, or no features.
    SchemaError
        ``features`` does not name each column of the queries.
    driftwise.client.ApiError
        The service refused a request (an unknown model, one without ``checks.outliers``).
    """
    queries, answers, classes = _traffic(result_or_queries)
    names = [str(f) for f in features]
    if queries.ndim != 2 or queries.shape[1] != len(names):
        raise SchemaError(f"replay_queries: {len(names)} feature names for queries of shape "
                          f"{queries.shape}")
    if not names:
        raise ConfigError("replay_queries: features must name at least one column")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= _MAX_BATCH:
        raise ConfigError(f"batch must be an integer in [1, {_MAX_BATCH}], got {batch!r}")
    prefix = id_prefix if id_prefix is not None else f"{client_key}-{uuid.uuid4().hex[:8]}-"
    fixed = dict(extra or {})
    verdicts: list[str] = []
    signals: list[tuple[str, ...]] = []
    quarantined, stopped = 0, False
    started = time.perf_counter()
    for begin in range(0, queries.shape[0], batch):
        records = []
        for i in range(begin, min(begin + batch, queries.shape[0])):
            record: dict[str, Any] = {
                "id": f"{prefix}{i}", "client_key": client_key,
                "features": {**fixed, **dict(zip(names, queries[i].tolist(), strict=True))}}
            if answers is not None:
                record.update(_answered(answers[i], classes))
            records.append(record)
        for v in client.screen(model_name, records):
            verdicts.append(str(v["verdict"]))
            signals.append(tuple(str(s) for s in v.get("signals") or ()))
            quarantined += v["verdict"] == "quarantine"
        if stop_when_flagged and quarantined:
            stopped = begin + batch < queries.shape[0]
            break
    first = next((i for i, v in enumerate(verdicts) if v == "quarantine"), None)
    probing = next((i for i, s in enumerate(signals) if "probing" in s), None)
    total = int(queries.shape[0])
    return ReplayResult(model_name, client_key, total, len(verdicts), tuple(verdicts),
                        tuple(signals), quarantined, first, probing,
                        first is not None and first < total - 1, stopped,
                        time.perf_counter() - started)
