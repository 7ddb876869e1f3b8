"""Where results go: output paths checked before any work, then written.

An output path that cannot be written is found out before a long comparison starts, not
after it; a path that is a folder, a FIFO (which would block), the same as another output,
or one of the input files (which would be overwritten) is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftwise._text import one_line
from driftwise.errors import UsageError

__all__ = ["STDOUT", "check_outputs", "write_html", "write_json"]

STDOUT = "-"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: Sequence[tuple[str, str | os.PathLike[str] | None]],
                  inputs: Sequence[str | os.PathLike[str] | None] = ()) -> None:
    """Refuse, before any computation, an output that cannot or must not be written.

    ``outputs`` are ``(option, path)`` pairs such as ``("--json", "out.json")``; ``"-"``
    (stdout) is allowed for ``--json`` only.
    """
    seen: dict[str, str] = {}
    for option, raw in outputs:
        if raw is None:
            continue
        text = os.fspath(raw)
        if text == STDOUT:
            if option != "--json":
                raise UsageError(f"{option} -: only --json can be written to stdout")
            continue
        path = Path(text)
        where = f"{option} {one_line(text)}"
        key = os.path.abspath(text)
        if key in seen:
            raise UsageError(f"{where}: the same file as {seen[key]}")
        seen[key] = option
        for source in inputs:
            if source is not None and _same(path, Path(os.fspath(source))):
                raise UsageError(f"{where}: that is an input file; it would be overwritten")
        _writable(path, where)


def _writable(path: Path, where: str) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{where}: cannot write there ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not a usable path ({exc})") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{where}: is a folder; give a file name")
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            raise UsageError(f"{where}: is a FIFO or socket; give a file name (or - for "
                             "stdout)")
        if not os.access(path, os.W_OK):
            raise UsageError(f"{where}: permission denied")
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{where}: folder {one_line(os.fspath(parent))} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: cannot create files in {one_line(os.fspath(parent))} "
                         "(permission denied)")


def _write(path: str | os.PathLike[str], text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{what} {one_line(os.fspath(path))}: cannot write "
                         f"({exc.strerror or exc})") from None


def write_json(result: Any, path: str | os.PathLike[str]) -> None:
    """The result's JSON (a DriftReport, a MonitorRun or a Scorecard) to ``path``."""
    _write(path, result.to_json() + "\n", "--json")


def write_html(result: Any, path: str | os.PathLike[str]) -> None:
    """The result's self-contained HTML page to ``path``."""
    from driftwise.monitor.run import MonitorRun
    from driftwise.redteam.scorecard import Scorecard

    if isinstance(result, Scorecard):
        from driftwise.report.scorecard_html import render_scorecard_html

        _write(path, render_scorecard_html(result.to_dict()), "--html")
        return
    if isinstance(result, MonitorRun):
        from driftwise.report.monitor_html import render_monitor_html

        _write(path, render_monitor_html(result.to_dict()), "--html")
        return
    from driftwise.report import render_html

    _write(path, render_html(result.to_dict()), "--html")
