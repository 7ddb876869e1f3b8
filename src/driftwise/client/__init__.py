"""The SDK for model servers: ``Client`` for every API call, ``ModelLogger`` for the
request path (non-blocking, batching, retrying). Needs ``driftwise[client]`` (httpx)."""

from driftwise.client.client import ApiError, Client
from driftwise.client.logger import LoggerStats, ModelLogger

__all__ = ["ApiError", "Client", "LoggerStats", "ModelLogger"]
