"""The Monitor's dotted metric names, both ways: built here and read back here.

A window's metrics are one flat mapping: ``drift.columns.<column>.p_value``,
``seasonal.<column>.anomalous``, ``stream.<name>.alarm``... A column may be called
anything, dots included, so a name is read back by its known section (prefix) and field
(suffix), never by splitting on dots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["entries", "prefixed"]


def prefixed(base: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``{f"{base}.{key}": value}`` for every item of ``values``."""
    return {f"{base}.{key}": value for key, value in values.items()}


def entries(metrics: Mapping[str, Any], section: str, field: str) -> list[tuple[str, Any]]:
    """``(name, value)`` of every ``<section>.<name>.<field>`` metric, in metric order."""
    head, tail = f"{section}.", f".{field}"
    return [(key[len(head):-len(tail)], value) for key, value in metrics.items()
            if key.startswith(head) and key.endswith(tail) and len(key) > len(head) + len(tail)]
