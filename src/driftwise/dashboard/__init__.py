"""The dashboard ``driftwise serve`` shows at ``/`` (docs/dashboard.md).

Server-rendered HTML with inline SVG charts: no script, no resource from elsewhere, so it
works offline and under a Content-Security-Policy that forbids both. The fleet overview, a
model's page (drift, performance estimated and realized, operations, alerts with their
trails), a feature's drill-down, the fleet's dependency graph and an incident's page (its
impact, actions, decisions, blocks and trail, and its export to download) read the store
through its repositories; signing in trades an API key (or a one-time link) for a session
cookie.
"""

from driftwise.dashboard.routes import mount

__all__ = ["mount"]
