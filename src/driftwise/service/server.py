"""``driftwise serve``: open the store (migrating it), start the evaluator, run uvicorn."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from driftwise.config.settings import ServiceSettings, load_settings
from driftwise.errors import UsageError
from driftwise.service.app import create_app
from driftwise.service.tracing import Tracing
from driftwise.service.worker import start_delivery, start_evaluator, start_response
from driftwise.store import open_store

__all__ = ["app_from_environment", "build_app", "serve"]

log = logging.getLogger("driftwise.serve")


def build_app(settings: ServiceSettings, tracing: Tracing | None = None) -> Any:
    """The ASGI app with its evaluator started and stopped by the app's lifespan.

    ``tracing`` (tests: an SDK provider with an in-memory exporter) overrides the OTLP
    exporter that ``DRIFTWISE_OTLP_ENDPOINT`` sets up.
    """
    engine = open_store(settings.database_url, settings.data_dir)
    tracing = tracing or Tracing.from_endpoint(settings.otlp_endpoint)
    holder: dict[str, Any] = {"tracing": tracing}

    def wake() -> None:
        evaluator = holder.get("evaluator")
        if evaluator is not None:
            evaluator.notify()

    asgi = create_app(settings, engine, on_ingest=wake, tracing=tracing)

    async def lifespan_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, settings, holder, engine)
            return
        await asgi(scope, receive, send)

    return lifespan_app


async def _lifespan(receive: Any, send: Any, settings: ServiceSettings,
                    holder: dict[str, Any], engine: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            holder["evaluator"] = start_evaluator(settings, holder["tracing"])
            holder["delivery"] = start_delivery(settings)
            holder["response"] = start_response(settings)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            evaluator = holder.pop("evaluator", None)
            if evaluator is not None:
                evaluator.close()
            for name in ("delivery", "response"):
                thread = holder.pop(name, None)
                if thread is not None:
                    thread.close()
            holder["tracing"].shutdown()
            engine.dispose()
            await send({"type": "lifespan.shutdown.complete"})
            return


def app_from_environment() -> Any:
    """The app of a uvicorn worker process (settings from ``DRIFTWISE_*``)."""
    return build_app(load_settings(ServiceSettings))


def _shown(url: str) -> str:
    """A store URL fit for a log: its password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


def _require_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                             "choose another --port (DRIFTWISE_PORT)") from None


def serve(settings: ServiceSettings) -> None:
    """Run the service until interrupted (Ctrl-C / SIGTERM stop it cleanly).

    The store is opened and migrated before the port is bound, so a bad database URL or
    an unreachable server fails at once with its reason. With ``workers`` > 1, uvicorn runs
    that many processes, each with its own evaluator; the leases keep them from
    evaluating a window twice.
    """
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _require_free(settings.host, settings.port)
    options: dict[str, Any] = {"host": settings.host, "port": settings.port,
                               "log_level": "warning", "lifespan": "on",
                               "timeout_graceful_shutdown": 10}
    log.info("driftwise serve: http://%s:%d (store: %s)", settings.host, settings.port,
             _shown(settings.database_url) if settings.database_url else settings.data_dir)
    if settings.workers > 1:
        open_store(settings.database_url, settings.data_dir).dispose()  # migrate once
        for name, value in (("HOST", settings.host), ("PORT", settings.port),
                            ("DATA_DIR", settings.data_dir)):
            os.environ[f"DRIFTWISE_{name}"] = str(value)
        uvicorn.run("driftwise.service.server:app_from_environment", factory=True,
                    workers=settings.workers, **options)
        return
    uvicorn.run(build_app(settings), **options)
