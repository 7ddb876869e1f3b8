"""Rewriting a generated block of a markdown file between two HTML comment markers."""

from __future__ import annotations

from pathlib import Path


def write_block(path: Path, block: str, start: str, end: str, preface: str = "") -> None:
    """Replace what lies between ``start`` and ``end`` in ``path`` with ``block``; where the
    markers are absent, append ``preface`` (a heading and an introduction) and the block."""
    text = path.read_text()
    section = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + (preface + "\n\n" if preface else "") + section \
            + "\n"
    path.write_text(text)
