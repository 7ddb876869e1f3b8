"""Settings from the environment: ``DRIFTWISE_*`` variables (and command-line flags).

One pydantic-settings model per face that needs them: the CLI reads :class:`CommonSettings`
(``DRIFTWISE_DEBUG``), the service :class:`ServiceSettings`, which adds where it listens
and where it keeps its data. A bad value is a ConfigError naming the variable.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from driftwise.config._model import describe
from driftwise.errors import ConfigError

__all__ = ["CommonSettings", "ServiceSettings", "load_settings"]

S = TypeVar("S", bound=BaseSettings)
ENV_PREFIX = "DRIFTWISE_"


class CommonSettings(BaseSettings):
    """What every face of driftwise reads from the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True,
                                      validate_default=False)

    debug: bool = Field(False, description="Print tracebacks of internal errors "
                        "(DRIFTWISE_DEBUG=1).")


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class AlertRoute(BaseModel):
    """One destination of alerts: a JSON webhook (HMAC-signed when it has a secret), a
    Slack-compatible incoming webhook, or an Alertmanager (its base URL; alerts go to its
    v2 API)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    type: Literal["webhook", "slack", "alertmanager"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    secret: SecretStr | None = None
    min_severity: Literal["warning", "critical"] = "warning"
    models: list[str] | None = None  # None: every model


class ServiceSettings(CommonSettings):
    """Settings of ``driftwise serve``."""

    host: str = Field("127.0.0.1", description="Address to listen on (loopback by default).")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(8470, description="TCP port.")
    data_dir: Path = Field(Path("driftwise-data"), description="Where the embedded store "
                           "(SQLite) and artefacts live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL of the store, e.g. "
                                     "postgresql+psycopg://user@host/db; default: SQLite in "
                                     "data_dir.")
    api_key: SecretStr | None = Field(None, description="An admin key (all scopes, all "
                                      "models); required for a non-loopback bind. Keys for "
                                      "clients: `driftwise keys create`.")
    max_body_bytes: Annotated[int, Field(ge=1024)] = Field(
        64 * 1024 * 1024, description="Largest request body accepted (larger: 413).")
    window_rows: Annotated[int, Field(ge=1)] = Field(
        1000, description="Rows per window for a model whose config sets no windows.")
    window_lateness_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        0.0, description="How long past its end a period window waits for late records.")
    window_idle_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        30.0, description="A period window also closes when its period is over and no "
                          "record came for this long.")
    evaluator: Literal["process", "thread", "off"] = Field(
        "process", description="Where windows are evaluated: a child process (ingest never "
                               "waits for the GIL), a thread, or not in this server.")
    poll_interval_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = Field(
        0.5, description="How often the evaluator looks for closed windows.")
    lease_s: Annotated[float, Field(ge=5, allow_inf_nan=False)] = Field(
        60.0, description="How long a server's claim on a model's evaluation lasts "
                          "without renewal (another server takes over after it).")
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        1, description="uvicorn worker processes for the API.")
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP endpoint for OpenTelemetry spans (needs "
                          "driftwise[otel]).")
    alert_routes: list[AlertRoute] = Field(
        default_factory=list, description="Where alerts are delivered (JSON list of "
        "routes: docs/alerts.md), through a persisted outbox with retries.")
    alert_retry_base_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = Field(
        1.0, description="First retry delay of an alert delivery (doubling, with jitter).")
    alert_retry_max_s: Annotated[float, Field(gt=0, le=86_400, allow_inf_nan=False)] = Field(
        300.0, description="Longest delay between two delivery attempts.")
    alert_max_attempts: Annotated[int, Field(ge=1, le=10_000)] = Field(
        50, description="Attempts before a delivery is given up (kept, marked failed).")
    alert_refresh_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = Field(
        60.0, description="How often open alerts are sent again to Alertmanager routes "
                          "(Alertmanager resolves an alert not re-sent within its "
                          "resolve_timeout, 5 min by default).")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"expected a host name or address, got {value!r}")
        return value

    @model_validator(mode="after")
    def _key_off_loopback(self) -> ServiceSettings:
        if not _is_loopback(self.host) and self.api_key is None:
            raise ValueError(f"listening on {self.host} (not loopback) needs an API key: set "
                             "DRIFTWISE_API_KEY, or bind 127.0.0.1")
        return self


def load_settings(model: type[S], **values: Any) -> S:
    """``model`` from the environment, overridden by ``values`` (flags; ``None`` ignored)."""
    given = {k: v for k, v in values.items() if v is not None}
    try:
        return model(**given)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = error["loc"]
        if loc and isinstance(loc[0], str) and loc[0] not in given:
            name = ENV_PREFIX + loc[0].upper()
            message = describe({**error, "loc": ()}).removeprefix("top level: ")
            raise ConfigError(f"{name}: {message}") from None
        raise ConfigError(describe(error)) from None
