"""``driftwise serve``: the monitoring service (FastAPI over the store, the evaluator)."""

from driftwise.service.app import create_app
from driftwise.service.server import build_app, serve

__all__ = ["build_app", "create_app", "serve"]
