"""JSON text of results: plain JSON, with ``null`` where a number is not finite.

A statistic can be NaN or infinite (a KL divergence with an empty bin, a ratio of zero
variances); JSON has no such numbers, and ``allow_nan`` output is not JSON that other tools
read. Every result is written through :func:`dumps`, which turns them into ``null``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps", "plain"]


def plain(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and NumPy scalars as Python ones."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    return value


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``data``; non-finite numbers become ``null``."""
    return json.dumps(plain(data), indent=indent, allow_nan=False)
