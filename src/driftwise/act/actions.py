"""Automated response actions: call a rollback or retraining webhook, flip a feature flag
(a file or an HTTP endpoint), run a retraining command; each with a dry run, retries with
backoff, a timeout, and at most one run per incident.

Idempotency: every run is recorded in a ledger under ``(incident, action name)``; running
the same action for the same incident again returns the recorded result (status
``duplicate``) without acting, so an alert that re-fires, a retried evaluation or two
servers acting on one incident roll back once. Webhooks and flag endpoints also get the key
as an ``Idempotency-Key`` header, for receivers that deduplicate themselves. The ledger is
in memory, or an append-only JSON-lines file (``ActionLedger(path)``) that survives a
restart and is the actions' part of the incident trail.

Retries: a connection error, a timeout or a 5xx (webhook) or a non-zero exit (command) is
retried up to ``retries`` times, waiting ``backoff_s`` doubled each time; a 4xx is the
receiver refusing the request and is not retried. A dry run records what it would have done
(the request, the command line) and does nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from driftwise.errors import ConfigError

__all__ = ["ACTION_KINDS", "ActionLedger", "ActionResult", "ActionSpec", "run_action"]

ACTION_KINDS = ("webhook", "flag_file", "flag_http", "command")


@dataclass(frozen=True)
class ActionSpec:
    """One response action.

    ``webhook``: POST ``{"action", "incident", "idempotency_key", "context"}`` to ``url``
    (a rollback, canary or retraining endpoint). ``flag_http``: ``method`` (PUT) ``{"flag",
    "value"}`` to ``url``. ``flag_file``: set ``flag`` to ``value`` in the JSON object at
    ``path`` (written whole and renamed into place, so a reader never sees half a file).
    ``command``: run ``argv`` (no shell) with ``DRIFTWISE_INCIDENT``,
    ``DRIFTWISE_ACTION`` and ``DRIFTWISE_CONTEXT`` (the context as JSON) in its environment
    (a retraining job).
    """

    name: str
    kind: Literal["webhook", "flag_file", "flag_http", "command"]
    url: str | None = None
    method: str = "PUT"
    headers: Mapping[str, str] = field(default_factory=dict)
    flag: str | None = None
    value: Any = True
    path: str | None = None
    argv: tuple[str, ...] = ()
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.5
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise ConfigError(f"action {self.name!r}: kind must be one of "
                              f"{', '.join(ACTION_KINDS)}, got {self.kind!r}")
        need = {"webhook": ("url",), "flag_http": ("url", "flag"), "flag_file": ("path", "flag"),
                "command": ("argv",)}[self.kind]
        missing = [n for n in need if not getattr(self, n)]
        if missing:
            raise ConfigError(f"action {self.name!r} ({self.kind}) needs {', '.join(missing)}")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"action {self.name!r}: url must be http(s), got {self.url!r}")
        if not (0 < self.timeout_s <= 600) or not (0 <= self.retries <= 10) or \
                not (0 <= self.backoff_s <= 60):
            raise ConfigError(f"action {self.name!r}: timeout_s in (0, 600], retries in "
                              "[0, 10], backoff_s in [0, 60]")


@dataclass(frozen=True)
class ActionResult:
    """What one run did: ``done``, ``failed``, ``dry_run`` or ``duplicate`` (already run
    for this incident: the first run's result is in ``first``)."""

    action: str
    kind: str
    incident: str
    status: str
    attempts: int
    detail: str
    started_at: float
    finished_at: float
    first: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ActionLedger:
    """Which actions ran for which incident; in memory, or appended to a JSON-lines file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str], dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self._done.setdefault((entry["incident"], entry["action"]), entry)

    def claim(self, incident: str, action: str) -> dict[str, Any] | None:
        """The recorded result of this action for this incident, or None (then it is the
        caller's to run: a placeholder is kept so a concurrent claim sees it)."""
        with self._lock:
            found = self._done.get((incident, action))
            if found is None:
                self._done[(incident, action)] = {"status": "running", "incident": incident,
                                                  "action": action}
            return found

    def record(self, result: ActionResult) -> None:
        entry = result.to_dict()
        with self._lock:
            self._done[(result.incident, result.action)] = entry
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a") as out:
                    out.write(json.dumps(entry, default=str) + "\n")
                    out.flush()
                    os.fsync(out.fileno())

    def entries(self, incident: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for (inc, _), e in self._done.items() if incident in (None, inc)]


def run_action(spec: ActionSpec, incident: str | int, ledger: ActionLedger,
               context: Mapping[str, Any] | None = None) -> ActionResult:
    """Run ``spec`` for ``incident`` once (see the module notes)."""
    incident = str(incident)
    started = time.time()
    first = ledger.claim(incident, spec.name)
    if first is not None:
        return ActionResult(spec.name, spec.kind, incident, "duplicate", 0,
                            f"already {first.get('status')} for incident {incident}",
                            started, time.time(), first)
    key = f"{incident}:{spec.name}"
    if spec.dry_run:
        result = ActionResult(spec.name, spec.kind, incident, "dry_run", 0,
                              "would " + _describe(spec, key), started, time.time())
        ledger.record(result)
        return result
    attempts, detail, ok = 0, "", False
    delay = spec.backoff_s
    while attempts <= spec.retries:
        attempts += 1
        ok, retry, detail = _attempt(spec, incident, key, dict(context or {}))
        if ok or not retry:
            break
        if attempts <= spec.retries:
            time.sleep(delay)
            delay *= 2
    result = ActionResult(spec.name, spec.kind, incident, "done" if ok else "failed",
                          attempts, detail, started, time.time())
    ledger.record(result)
    return result


def _describe(spec: ActionSpec, key: str) -> str:
    if spec.kind == "webhook":
        return f"POST {spec.url} (Idempotency-Key {key})"
    if spec.kind == "flag_http":
        return f"{spec.method} {spec.url} {{flag: {spec.flag}, value: {spec.value!r}}}"
    if spec.kind == "flag_file":
        return f"set {spec.flag} = {spec.value!r} in {spec.path}"
    return "run " + " ".join(spec.argv)


def _attempt(spec: ActionSpec, incident: str, key: str, context: dict[str, Any]
             ) -> tuple[bool, bool, str]:
    """(succeeded, worth retrying, what happened)."""
    if spec.kind in ("webhook", "flag_http"):
        import httpx

        body = ({"action": spec.name, "incident": incident, "idempotency_key": key,
                 "context": context} if spec.kind == "webhook"
                else {"flag": spec.flag, "value": spec.value, "incident": incident})
        method = "POST" if spec.kind == "webhook" else spec.method.upper()
        try:
            answer = httpx.request(method, str(spec.url), json=body, timeout=spec.timeout_s,
                                   headers={"Idempotency-Key": key, **spec.headers})
        except httpx.HTTPError as exc:
            return False, True, f"{type(exc).__name__}: {exc}"
        text = f"HTTP {answer.status_code}"
        if answer.is_success:
            return True, False, text
        return False, answer.status_code >= 500, text + f": {answer.text[:200]}"
    if spec.kind == "flag_file":
        target = Path(str(spec.path))
        try:
            flags = json.loads(target.read_text()) if target.exists() else {}
            if not isinstance(flags, dict):
                return False, False, f"{target} does not hold a JSON object"
            flags[str(spec.flag)] = spec.value
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            with os.fdopen(fd, "w") as out:
                json.dump(flags, out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except (OSError, ValueError) as exc:
            return False, isinstance(exc, OSError), f"{type(exc).__name__}: {exc}"
        return True, False, f"{spec.flag} = {spec.value!r} in {target}"
    env = {**os.environ, "DRIFTWISE_INCIDENT": incident, "DRIFTWISE_ACTION": spec.name,
           "DRIFTWISE_CONTEXT": json.dumps(context, default=str)}
    try:
        done = subprocess.run(list(spec.argv), env=env, capture_output=True, text=True,
                              timeout=spec.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return False, True, f"timed out after {spec.timeout_s:g} s"
    except OSError as exc:
        return False, False, f"{type(exc).__name__}: {exc}"
    tail = (done.stdout + done.stderr).strip()[-200:]
    return done.returncode == 0, done.returncode != 0, f"exit {done.returncode}: {tail}"
