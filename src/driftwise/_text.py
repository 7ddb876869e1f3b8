"""Putting user-supplied names and values into one-line messages, literally.

A column name, a path or a config value can hold anything: newlines, terminal escape
sequences, text that looks like markup. Messages show such text escaped (``\\n``,
``\\x1b``), so one error stays one line and nothing a user's data holds is interpreted by
a terminal.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["literal", "one_line", "short"]

# C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi
# overrides that can reorder or hide what a terminal shows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """``text`` with every control or layout character escaped: printable on one line."""
    return _UNSAFE.sub(_escape, text)


def literal(value: Any, limit: int = 80) -> str:
    """A short, one-line, quoted rendering of ``value`` for an error message."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return one_line(text)


def short(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, cut at ``limit`` characters."""
    text = one_line(str(exc) or type(exc).__name__)
    return text if len(text) <= limit else text[: limit - 3] + "..."
