"""The FastAPI app: thin routes over ``driftwise.app`` and ``driftwise.store``.

Every route parses (Pydantic models), checks the key, calls one use case, and shapes the
response. Blocking store work runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic_core import from_json
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from driftwise import dashboard
from driftwise._version import __version__
from driftwise.app import alerting, fleet, ingest, models, prometheus, screening, slo, window_drift
from driftwise.app import response as responding
from driftwise.app.records import error_field
from driftwise.config.settings import ServiceSettings
from driftwise.errors import (
    ConflictError,
    DriftwiseError,
    NotFoundError,
    StoreError,
)
from driftwise.service import schemas as sc
from driftwise.service.auth import Authority
from driftwise.service.limits import BodyLimit
from driftwise.service.tracing import Tracing
from driftwise.store import alerts as alerting_store
from driftwise.store import evaluation as ev
from driftwise.store import incidents as incident_store
from driftwise.store import outbox, ready, registry
from driftwise.store import quarantine as quarantine_store
from driftwise.store import response as response_store
from driftwise.store.keys import ApiKey

__all__ = ["create_app"]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": sc.ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422)}
JSON = "application/json"
ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
MAX_INT = 2**31 - 1  # window numbers are 32-bit in the store; larger ones overflow a driver


def _status(exc: DriftwiseError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, StoreError):
        return 503
    return 422


def _schema(model: type[Any]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _model_out(m: registry.ModelRow) -> sc.ModelOut:
    return sc.ModelOut(name=m.name, task=m.task, created_at=m.created_at,
                       config_version=m.config_version, reference_version=m.reference_version,
                       records=m.records, config=m.config)


def _window_out(w: ev.WindowRecord) -> dict[str, Any]:
    return {"window": w.seq, "label": w.label, "status": w.status, "rows": w.rows,
            "seq_range": list(w.seq_range) if w.seq_range else None,
            "time_range": list(w.time_range) if w.time_range else None,
            "config_version": w.config_version, "reference_version": w.reference_version,
            "evaluated_at": w.evaluated_at, "duration_s": w.duration_s,
            "revision": w.revision}


def _parse_json(body: bytes) -> Any:
    """``json.loads(body)``, 2.5 times sooner: pydantic-core's parser gives the same values
    for every body it reads; the few it refuses (a lone surrogate, a byte-order mark, UTF-16,
    bad JSON) go to ``json.loads``, which decides and words the error."""
    try:
        return from_json(body)
    except ValueError:
        return json.loads(body)


async def _json_items(request: Request, key: str) -> list[Any]:
    body = await request.body()
    try:
        data = _parse_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise HTTPException(422, f"expected an object with a `{key}` list")
    extra = [k for k in data if k != key]
    if extra:
        raise HTTPException(422, f"unknown field {extra[0]!r} (expected only `{key}`)")
    items: list[Any] = data[key]
    if len(items) > 100_000:
        raise HTTPException(422, f"at most 100000 {key} per request")
    return items


def create_app(settings: ServiceSettings, engine: Engine,
               on_ingest: Callable[[], None] | None = None,
               tracing: Tracing | None = None) -> Any:
    """The ASGI app of ``driftwise serve`` over an opened store."""
    trace = tracing or Tracing(None)
    authority = Authority(engine, settings.api_key.get_secret_value()
                          if settings.api_key else None)
    wake = on_ingest or (lambda: None)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(title="driftwise", version=__version__, lifespan=lifespan,
                  description="Ingest predictions and labels, evaluate windows, read results.")

    @app.exception_handler(DriftwiseError)
    async def _driftwise(_request: Request, exc: DriftwiseError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = tuple(first.get("loc", ()))
        if loc[:1] == ("body",):
            where = ".".join(("body", error_field(exc.body, loc[1:],
                                                  first.get("type") == "missing")))
        else:
            where = ".".join(str(p) for p in loc)
        return JSONResponse({"detail": [{k: e.get(k) for k in ("loc", "msg", "type")}
                                        for e in errors][:50],
                             "field": where or None}, status_code=422)

    read = Depends(authority.scope("read"))
    write = Depends(authority.scope("ingest"))
    admin = Depends(authority.scope("admin"))

    # -- health ----------------------------------------------------------------------
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": sc.ErrorOut}})
    def readyz() -> JSONResponse:
        """The store answers and is at the head migration."""
        ok, why = ready(engine)
        return JSONResponse({"status": "ready"} if ok else {"detail": why},
                            status_code=200 if ok else 503)

    # -- Prometheus --------------------------------------------------------------------
    scrape = Depends(authority.scope("metrics"))

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "Prometheus text format 0.0.4"},
                        **ERRORS})
    async def metrics(key: ApiKey | None = scrape) -> Response:
        """Every model's newest window and totals, for Prometheus (docs/alerts.md). A key
        needs the ``metrics`` (or ``read``) scope; one limited to some models sees those."""
        only = None if key is None else key.models
        body, media = await run_in_threadpool(prometheus.render, engine, only)
        return Response(body, media_type=media)

    # -- models ----------------------------------------------------------------------
    @app.post("/v1/models", status_code=201, response_model=sc.ModelOut, tags=["models"],
              responses=ERRORS, dependencies=[admin])
    def register(body: sc.ModelIn) -> sc.ModelOut:
        """Register a model (name, task, column roles, Monitor configuration)."""
        return _model_out(models.register_model(engine, body.name, body.task, body.columns,
                                                body.config))

    @app.get("/v1/models", response_model=list[sc.ModelOut], tags=["models"],
             responses=ERRORS)
    def list_models(key: ApiKey | None = read) -> list[sc.ModelOut]:
        """Every registered model the key may read."""
        return [_model_out(m) for m in registry.list_models(engine)
                if key is None or key.allows("read", m.name)]

    @app.get("/v1/models/{name}", response_model=sc.ModelOut, tags=["models"],
             responses=ERRORS, dependencies=[read])
    def get_model(name: str) -> sc.ModelOut:
        """One model and its current configuration."""
        return _model_out(registry.get_model(engine, name))

    @app.put("/v1/models/{name}/config", response_model=sc.ModelOut, tags=["models"],
             responses=ERRORS, dependencies=[admin])
    def put_config(name: str, body: sc.ConfigIn) -> sc.ModelOut:
        """A new configuration version; windows from now on record it."""
        return _model_out(models.update_config(engine, name, body.config))

    @app.delete("/v1/models/{name}", status_code=204, tags=["models"], responses=ERRORS,
                dependencies=[admin])
    def delete(name: str) -> Response:
        """Delete the model and all it stored."""
        registry.delete_model(engine, name)
        return Response(status_code=204)

    reference_body = {"requestBody": {"required": True, "content": {
        PARQUET: {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {
                                               "type": "string", "format": "binary"}}}}}}}

    @app.put("/v1/models/{name}/reference", status_code=201, response_model=sc.ReferenceOut,
             tags=["models"], responses=ERRORS, dependencies=[admin],
             openapi_extra=reference_body)
    async def put_reference(name: str, request: Request) -> sc.ReferenceOut:
        """Upload the reference (Parquet or CSV, raw or multipart); fitted once, stored."""
        media = request.headers.get("content-type", "")
        filename = None
        if media.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise HTTPException(422, "multipart upload: send the file in a `file` field")
            body, filename, media = await upload.read(), upload.filename, \
                upload.content_type or ""
        else:
            body = await request.body()
        version, rows = await run_in_threadpool(models.upload_reference, engine, name, body,
                                                media, filename)
        return sc.ReferenceOut(version=version, rows=rows)

    # -- ingest ----------------------------------------------------------------------
    @app.post("/v1/models/{name}/records", status_code=201, response_model=sc.IngestOut,
              tags=["ingest"], responses=ERRORS, dependencies=[write])
    async def post_record(name: str, body: sc.RecordIn) -> JSONResponse:
        """One record. 201 when stored, 200 when it was already stored (a retry)."""
        # The hot path of a model server: one hop to a worker thread (the commit blocks),
        # and the answer written directly (it is an IngestOut, checked by the tests).
        with trace.span("driftwise.ingest", body.traceparent, model=name, records=1):
            report = await run_in_threadpool(ingest.ingest_records, engine, name,
                                             [body.model_dump(exclude_none=True)])
        if report.refused:
            r = report.refused[0]
            status = 409 if r.field == "id" else 422
            raise HTTPException(status, f"{r.field}: {r.reason}")
        wake()
        return JSONResponse(report.to_dict(), status_code=201 if report.accepted else 200)

    batch_body = {"requestBody": {"required": True, "content": {
        JSON: {"schema": _schema(sc.BatchIn)},
        ARROW: {"schema": {"type": "string", "format": "binary"}},
        PARQUET: {"schema": {"type": "string", "format": "binary"}}}}}

    # When every record is refused the answer is 409 (all clashes) or 422 with the
    # per-record refusals, an IngestOut; other errors of the route are an ErrorOut.
    refusals: dict[int | str, dict[str, Any]] = {
        code: {"model": sc.IngestOut | sc.ErrorOut} for code in (409, 422)}

    @app.post("/v1/models/{name}/records/batch", response_model=sc.IngestOut,
              tags=["ingest"], responses={**ERRORS, **refusals}, dependencies=[write],
              openapi_extra=batch_body)
    async def post_batch(name: str, request: Request, response: Response) -> sc.IngestOut:
        """Many records (JSON, Arrow IPC stream or Parquet). Good records are kept even
        when others are refused: the answer lists each refused record and why."""
        media = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
        items: Sequence[Any]
        if media in (ARROW, PARQUET, "application/x-parquet"):
            items = await run_in_threadpool(ingest.rows_of_table, await request.body(),
                                            media)
        elif media == JSON:
            items = await _json_items(request, "records")
        else:
            raise HTTPException(415, f"send {JSON}, {ARROW} or {PARQUET}, not {media!r}")
        with trace.span("driftwise.ingest", None, model=name, records=len(items)) as span:
            report = await run_in_threadpool(ingest.ingest_records, engine, name, items)
            if span is not None:
                span.set_attribute("driftwise.accepted", report.accepted)
                span.set_attribute("driftwise.refused", len(report.refused))
        if items and not report.accepted and not report.duplicates:
            conflicts = all(r.field == "id" for r in report.refused)
            response.status_code = 409 if conflicts else 422
        wake()
        return sc.IngestOut(**report.to_dict())

    labels_body = {"requestBody": {"required": True, "content": {
        JSON: {"schema": _schema(sc.LabelsIn)}}}}

    @app.post("/v1/models/{name}/labels", response_model=sc.LabelsOut, tags=["ingest"],
              responses=ERRORS, dependencies=[write], openapi_extra=labels_body)
    async def post_labels(name: str, request: Request) -> sc.LabelsOut:
        """Late labels by record id; unknown ids are listed in the answer."""
        items = await _json_items(request, "labels")
        report = await run_in_threadpool(ingest.ingest_labels, engine, name, items)
        wake()
        return sc.LabelsOut(**report.to_dict())

    # -- results ---------------------------------------------------------------------
    @app.post("/v1/models/{name}/screen", response_model=sc.ScreenOut, tags=["screen"],
              responses=ERRORS, dependencies=[write])
    def post_screen(name: str, body: sc.ScreenIn) -> dict[str, Any]:
        """Should the model trust these inputs? Per record: allow, review or quarantine
        (from the outlier check's calibrated p-value); quarantined ones are held, durably,
        before the answer."""
        records = [r.model_dump(mode="json", exclude_none=True) for r in body.records]
        return screening.screen(engine, name, records).to_dict()

    @app.get("/v1/models/{name}/quarantine", response_model=list[sc.QuarantineOut],
             tags=["screen"], responses=ERRORS, dependencies=[read])
    def list_quarantine(name: str, state: Literal["held", "released", "discarded", "all"]
                        = "held", limit: Annotated[int, Query(ge=1, le=1000)] = 100
                        ) -> list[dict[str, Any]]:
        """Quarantined records, newest first."""
        model = registry.get_model(engine, name)
        return [q.to_dict() for q in quarantine_store.list_held(
            engine, model.id, None if state == "all" else state, limit)]

    @app.get("/v1/models/{name}/quarantine/{entry_id}", response_model=sc.QuarantineOut,
             tags=["screen"], responses=ERRORS, dependencies=[read])
    def get_quarantined(name: str, entry_id: Annotated[int, Path(ge=1, le=MAX_INT)]
                        ) -> dict[str, Any]:
        """One quarantined record, with the reason it was held."""
        model = registry.get_model(engine, name)
        return quarantine_store.get(engine, model.id, entry_id).to_dict()

    def _decide(action: str) -> Any:
        def handler(name: str, entry_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                    body: sc.QuarantineActionIn) -> dict[str, Any]:
            decided = screening.decide(engine, name, entry_id, action, body.by)
            if action == "release":
                wake()
            return decided
        handler.__doc__ = {"release": "Send the record into the monitored stream.",
                           "discard": "Drop the record for good."}[action]
        return handler

    for action in ("release", "discard"):
        app.post(f"/v1/models/{{name}}/quarantine/{{entry_id}}/{action}",
                 response_model=sc.QuarantineOut, tags=["screen"], responses=ERRORS,
                 dependencies=[Depends(authority.scope("alerts"))],
                 name=f"quarantine_{action}")(_decide(action))

    @app.get("/v1/models/{name}/windows", response_model=list[sc.WindowOut],
             tags=["results"], responses=ERRORS, dependencies=[read])
    def list_windows(name: str, since: float | None = None, until: float | None = None,
                     limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                     offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> (
            list[dict[str, Any]]):
        """Evaluated windows, oldest first (``since``/``until``: evaluation time)."""
        model = registry.get_model(engine, name)
        return [_window_out(w) for w in ev.windows(engine, model.id, since=since,
                                                   until=until, limit=limit, offset=offset)]

    @app.get("/v1/models/{name}/drift", response_model=sc.MergedDriftOut, tags=["results"],
             responses=ERRORS, dependencies=[read])
    def merged_drift(name: str,
                     first: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                     last: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                     since: float | None = None, until: float | None = None
                     ) -> dict[str, Any]:
        """Feature drift of windows ``first``..``last`` (records starting in
        ``[since, until)``) merged into one sample, against the current reference."""
        return window_drift.drift_over(engine, name, first=first, last=last, since=since,
                                       until=until).to_dict()

    @app.get("/v1/models/{name}/windows/{window}", response_model=sc.WindowDetail,
             tags=["results"], responses=ERRORS, dependencies=[read])
    def get_window(name: str, window: Annotated[int, Path(ge=0, le=MAX_INT)]
                   ) -> dict[str, Any]:
        """One window: every metric by its dotted name, and its evidence."""
        model = registry.get_model(engine, name)
        found = ev.window(engine, model.id, window)
        if found is None:
            raise NotFoundError(f"model {name!r} has no evaluated window {window}")
        values = {r["metric"]: r["value"] for r in ev.results(engine, model.id,
                                                               windows=[window])}
        return {**_window_out(found), "metrics": values, "evidence": found.evidence}

    @app.get("/v1/models/{name}/results", response_model=sc.ResultsOut, tags=["results"],
             responses=ERRORS, dependencies=[read])
    def get_results(name: str, metric: Annotated[list[str] | None, Query()] = None,
                    prefix: str | None = None, since: float | None = None,
                    until: float | None = None, revisions: bool = False) -> dict[str, Any]:
        """Metric values per window, by name or name prefix; ``since``/``until`` select
        windows by the time of their records; ``revisions`` returns every revision (the
        estimate made when the window closed and each recomputation with late labels)."""
        model = registry.get_model(engine, name)
        chosen = None
        if since is not None or until is not None:
            chosen = ev.window_lookup(engine, model.id, since, until)
        points = ev.results(engine, model.id, windows=chosen, metrics=metric, prefix=prefix,
                            all_revisions=revisions)
        return {"model": name, "results": points}

    # -- alerts ----------------------------------------------------------------------
    respond = Depends(authority.scope("alerts"))

    def _alert_out(row: Any) -> dict[str, Any]:
        return {"model": row.model, "alert_id": row.alert_id, "rule": row.rule,
                "severity": row.severity, "state": row.state, "opened_at": row.opened_at,
                "updated_at": row.updated_at, "alert": row.body}

    def _alert_detail(model_id: int, row: Any) -> dict[str, Any]:
        placed = incident_store.incident_of(engine, model_id, row.alert_id)
        return {**_alert_out(row),
                "events": alerting_store.events(engine, model_id, row.alert_id),
                "deliveries": outbox.deliveries(engine, model_id, row.alert_id),
                "incident": None if placed is None else {
                    "id": placed.incident_id, "role": placed.role,
                    "root_model": placed.root_model}}

    @app.get("/v1/alerts", response_model=list[sc.AlertOut], tags=["alerts"],
             responses=ERRORS)
    def list_all_alerts(key: ApiKey | None = read,
                        state: Literal["open", "resolved"] | None = None,
                        severity: Literal["warning", "critical"] | None = None,
                        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                        offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> (
            list[dict[str, Any]]):
        """Alerts of every model (those of its models, for a key limited to some), newest
        first."""
        return [_alert_out(r) for r in alerting_store.list_alerts(
            engine, state=state, severity=severity, limit=limit, offset=offset,
            models=None if key is None else key.models)]

    @app.get("/v1/models/{name}/alerts", response_model=list[sc.AlertOut], tags=["alerts"],
             responses=ERRORS, dependencies=[read])
    def list_model_alerts(name: str, state: Literal["open", "resolved"] | None = None,
                          severity: Literal["warning", "critical"] | None = None,
                          limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                          offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> (
            list[dict[str, Any]]):
        """The model's alerts, newest first."""
        model = registry.get_model(engine, name)
        return [_alert_out(r) for r in alerting_store.list_alerts(
            engine, model_id=model.id, state=state, severity=severity, limit=limit,
            offset=offset)]

    @app.get("/v1/models/{name}/alerts/{alert_id}", response_model=sc.AlertDetail,
             tags=["alerts"], responses=ERRORS, dependencies=[read])
    def get_alert(name: str, alert_id: Annotated[int, Path(ge=1, le=MAX_INT)]
                  ) -> dict[str, Any]:
        """One alert and its incident trail."""
        model = registry.get_model(engine, name)
        row = alerting_store.alert(engine, model.id, alert_id)
        if row is None:
            raise NotFoundError(f"model {name!r} has no alert {alert_id}")
        return _alert_detail(model.id, row)

    @app.get("/v1/incidents", response_model=list[sc.IncidentOut], tags=["alerts"],
             responses=ERRORS)
    def list_incidents(key: ApiKey | None = read,
                       state: Literal["open", "resolved", "merged"] | None = None,
                       limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                       offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> (
            list[dict[str, Any]]):
        """The fleet's incidents, newest first: an upstream model's alert with the
        downstream alerts that followed it (those of the key's models, for a limited key)."""
        only = None if key is None else key.models
        return [fleet.visible(i, only) for i in incident_store.list_incidents(
            engine, state=state, limit=limit, offset=offset, models=only)]

    @app.get("/v1/incidents/{incident_id}", response_model=sc.IncidentOut, tags=["alerts"],
             responses=ERRORS)
    def get_incident(incident_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                     key: ApiKey | None = read) -> dict[str, Any]:
        """One incident and the alerts it holds."""
        found = incident_store.incident(engine, incident_id)
        only = None if key is None else key.models
        if found is None or (only is not None and not set(found.models) & set(only)):
            raise NotFoundError(f"no incident {incident_id}")
        return fleet.visible(found, only)

    def _visible_incident(incident_id: int, key: ApiKey | None) -> (
            tuple[incident_store.IncidentRow, list[str] | None]):
        found = incident_store.incident(engine, incident_id)
        only = None if key is None else key.models
        if found is None or (only is not None and not set(found.models) & set(only)):
            raise NotFoundError(f"no incident {incident_id}")
        return found, None if only is None else list(only)

    @app.get("/v1/incidents/{incident_id}/report", response_model=sc.IncidentReport,
             tags=["alerts"], responses=ERRORS)
    def get_incident_report(incident_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                            key: ApiKey | None = read) -> dict[str, Any]:
        """The incident's export: trail, actions and results, impact, resolution."""
        _found, only = _visible_incident(incident_id, key)
        return responding.visible_report(engine, responding.incident_report(engine, incident_id),
                                       only)

    @app.post("/v1/incidents/{incident_id}/notes", response_model=sc.IncidentReport,
              tags=["alerts"], responses=ERRORS)
    def post_incident_note(incident_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                           body: sc.NoteIn,
                           key: ApiKey | None = respond) -> dict[str, Any]:
        """Add a person's note to the incident's trail."""
        _found, only = _visible_incident(incident_id, key)
        responding.add_note(engine, incident_id, body.by, body.text)
        return responding.visible_report(engine, responding.incident_report(engine, incident_id),
                                       only)

    @app.get("/v1/models/{name}/blocks", response_model=list[sc.BlockOut], tags=["screen"],
             responses=ERRORS, dependencies=[read])
    def list_blocks(name: str, all: bool = False,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        """Client keys and segments /screen quarantines outright, newest first (``all``:
        also those lifted or expired)."""
        model = registry.get_model(engine, name)
        return [b.to_dict() for b in response_store.list_blocks(engine, model.id,
                                                                not all, limit)]

    @app.post("/v1/models/{name}/blocks", response_model=sc.BlockOut, tags=["screen"],
              responses=ERRORS, dependencies=[Depends(authority.scope("alerts"))])
    def post_block(name: str, body: sc.BlockIn) -> dict[str, Any]:
        """Block a client key or a segment by hand (recorded in ``incident_id``'s trail
        when given)."""
        return responding.block_by_hand(engine, name, body.model_dump()).to_dict()

    @app.post("/v1/models/{name}/blocks/{block_id}/lift", response_model=sc.BlockOut,
              tags=["screen"], responses=ERRORS,
              dependencies=[Depends(authority.scope("alerts"))])
    def lift_block(name: str, block_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                   body: sc.LiftIn) -> dict[str, Any]:
        """End a block now."""
        return responding.lift(engine, name, block_id, body.by).to_dict()

    @app.get("/v1/fleet", response_model=sc.FleetOut, tags=["alerts"], responses=ERRORS)
    def get_fleet(key: ApiKey | None = read) -> dict[str, Any]:
        """Every model with the models it consumes and feeds, its state, and the open
        incidents."""
        return fleet.fleet(engine, None if key is None else key.models)

    @app.get("/v1/models/{name}/slos", response_model=sc.SLOsOut, tags=["alerts"],
             responses=ERRORS, dependencies=[read])
    def get_slos(name: str) -> dict[str, Any]:
        """The model's SLOs: compliance over each one's period, error budget, burn rate."""
        model = registry.get_model(engine, name)
        return {"model": name, "slos": [st.to_dict() for st in slo.model_slos(engine,
                                                                               model)]}

    def _action(action: str) -> Any:
        def handler(name: str, alert_id: Annotated[int, Path(ge=1, le=MAX_INT)],
                    body: sc.AlertActionIn) -> dict[str, Any]:
            model = registry.get_model(engine, name)
            until = body.until
            if action == "silence":
                if (until is None) == (body.for_s is None):
                    raise HTTPException(422, "silence: send `until` (Unix time) or `for_s` "
                                        "(seconds), one of them")
                if body.for_s is not None:
                    until = time.time() + body.for_s
            elif until is not None or body.for_s is not None:
                raise HTTPException(422, f"{action}: `until` and `for_s` are for a silence")
            row = alerting.act(engine, model.id, alert_id, action, body.by, until,
                               settings.alert_routes)
            return _alert_detail(model.id, row)
        handler.__doc__ = {"acknowledge": "Take ownership: the alert stops notifying until "
                                          "it closes.",
                           "silence": "Stop the alert notifying until a time.",
                           "resolve": "Close the alert by hand, whatever its metric says."
                           }[action]
        return handler

    for action in ("acknowledge", "silence", "resolve"):
        app.post(f"/v1/models/{{name}}/alerts/{{alert_id}}/{action}",
                 response_model=sc.AlertDetail, tags=["alerts"], responses=ERRORS,
                 dependencies=[respond], name=f"alert_{action}")(_action(action))

    dashboard.mount(app, engine, authority)
    _document_bodies(app)
    return BodyLimit(app, settings.max_body_bytes)


def _document_bodies(app: FastAPI) -> None:
    """Put the models of the raw-body routes into the OpenAPI components."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (sc.BatchIn, sc.LabelsIn):
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in found.pop("$defs", {}).items():
                    components.setdefault(name, definition)
                components[model.__name__] = found
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
