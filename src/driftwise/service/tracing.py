"""OpenTelemetry spans for ingest and evaluation (``driftwise[otel]``), off by default.

With ``DRIFTWISE_OTLP_ENDPOINT`` set, spans go to that OTLP/HTTP endpoint. A single record
that carries a W3C ``traceparent`` gets its ingest span as a child of the caller's trace, so
the model server's trace continues into driftwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from driftwise.errors import ConfigError

__all__ = ["Tracing"]


class Tracing:
    """Spans through ``provider`` (an SDK TracerProvider), or nothing when it is ``None``."""

    def __init__(self, provider: Any = None) -> None:
        self.provider = provider
        self.tracer = None if provider is None else provider.get_tracer("driftwise")

    @classmethod
    def from_endpoint(cls, endpoint: str | None) -> Tracing:
        """Export to an OTLP/HTTP endpoint, or no tracing when ``endpoint`` is ``None``."""
        if endpoint is None:
            return cls(None)
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ModuleNotFoundError:
            raise ConfigError("DRIFTWISE_OTLP_ENDPOINT needs OpenTelemetry: pip install "
                              "'driftwise[otel]'") from None
        provider = TracerProvider(resource=Resource.create({"service.name": "driftwise"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        return cls(provider)

    @contextlib.contextmanager
    def span(self, name: str, traceparent: str | None = None,
             **attributes: Any) -> Iterator[Any]:
        """A span named ``name`` (a no-op when tracing is off)."""
        if self.tracer is None:
            yield None
            return
        context = None
        if traceparent:
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )

            context = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
        with self.tracer.start_as_current_span(name, context=context) as span:
            for key, value in attributes.items():
                if value is not None:
                    span.set_attribute(f"driftwise.{key}", value)
            yield span

    def shutdown(self) -> None:
        """Flush and stop the exporter."""
        if self.provider is not None:
            self.provider.shutdown()
