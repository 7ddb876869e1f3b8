"""Reading YAML configurations safely *and* boundedly.

``yaml.safe_load`` builds no arbitrary objects, but half a kilobyte of nested aliases
(the "billion laughs") still expands to gigabytes once anything walks the result, and a
FIFO or a device never ends. Here a configuration is read only from a regular file of at
most :data:`MAX_BYTES`, its node graph is measured before it is constructed (at most
:data:`MAX_NODES` nodes with every alias expanded, :data:`MAX_DEPTH` levels deep), and a
key given twice in one mapping is an error instead of silently keeping the last value.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from driftwise._text import literal, one_line
from driftwise.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "parse_yaml", "read_yaml"]

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the constructor reports it
                break
            if duplicate:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"line {line}: key {literal(key)} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_size(root: Node) -> None:
    """Refuse a node graph that expands beyond the budget (aliases counted as copies)."""
    sizes: dict[int, int] = {}

    def size(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise ConfigError(f"nested more than {MAX_DEPTH} levels deep")
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
        if total > MAX_NODES:
            raise ConfigError(f"expands to more than {MAX_NODES:,} values (nested aliases?); "
                              "write the configuration out without such aliases")
        sizes[id(node)] = total
        return total

    size(root, 0)


def parse_yaml(text: str, source: str = "config") -> Any:
    """The data of one YAML document, bounded as described above."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_size(root)
        return loader.construct_document(root)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed"
        raise ConfigError(f"{source}: not valid YAML{at}: {one_line(problem)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({one_line(str(exc))})") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read") from None
    finally:
        loader.dispose()


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """The data of a YAML file; unreadable, oversized or malformed files are ConfigErrors."""
    p = Path(path)
    where = one_line(os.fspath(p))
    try:
        info = p.stat()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the configuration "
                          f"({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ConfigError(f"{where}: cannot read the configuration ({kind})")
    if info.st_size > MAX_BYTES:
        raise ConfigError(f"{where}: {info.st_size:,} bytes; a configuration may hold at most "
                          f"{MAX_BYTES:,}")
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the configuration "
                          f"({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{where}: a configuration may hold at most {MAX_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset "
                          f"{exc.start})") from None
    return parse_yaml(text, where)
