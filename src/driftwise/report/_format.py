"""Reading loosely typed report values and formatting numbers for the HTML report."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

DASH = "—"
_EMPTY: Mapping[str, Any] = {}


def as_text(value: object, default: str = "") -> str:
    """``str(value)``, or ``default`` when the value is missing."""
    return default if value is None else str(value)


def as_number(value: object) -> float | None:
    """The value as a float when it is a real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def as_mapping(value: object) -> Mapping[str, Any]:
    """The value when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else _EMPTY


def as_list(value: object) -> list[Any]:
    """The value as a list when it is a list or tuple, else an empty list."""
    return list(value) if isinstance(value, list | tuple) else []


def format_p_value(value: object) -> str:
    """Format a p-value: scientific below 0.001, and ``< 1e-300`` when it underflowed."""
    p = as_number(value)
    if p is None:
        return DASH
    if math.isnan(p):
        return "n/a"
    if p < 1e-300:
        return "< 1e-300"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def format_number(value: object) -> str:
    """Format a statistic or effect with four significant digits."""
    x = as_number(value)
    if x is None:
        return DASH
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.4g}"


def format_share(value: object) -> str:
    """Format a share in [0, 1] as a percentage, keeping tiny non-zero shares visible."""
    x = as_number(value)
    if x is None or math.isnan(x):
        return DASH
    if 0.0 < x < 0.001:
        return "< 0.1%"
    return f"{x:.1%}"


def format_rows(value: object) -> str:
    """A row count with thousands separators."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return DASH
    return f"{int(value):,}"
