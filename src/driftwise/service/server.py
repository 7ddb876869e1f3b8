"""``driftwise serve``: open the store (migrating it), start the evaluator, run uvicorn."""

from __future__ import annotations

import logging
from typing import Any

from driftwise.config.settings import ServiceSettings
from driftwise.service.app import create_app
from driftwise.service.tracing import Tracing
from driftwise.service.worker import start_evaluator
from driftwise.store import open_store

__all__ = ["build_app", "serve"]

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
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            evaluator = holder.pop("evaluator", None)
            if evaluator is not None:
                evaluator.close()
            holder["tracing"].shutdown()
            engine.dispose()
            await send({"type": "lifespan.shutdown.complete"})
            return


def serve(settings: ServiceSettings) -> None:
    """Run the service until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = build_app(settings)
    log.info("driftwise serve: http://%s:%d (store: %s)", settings.host, settings.port,
             settings.database_url or settings.data_dir)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                lifespan="on", timeout_graceful_shutdown=10)
