"""Names of a package loaded on first use, so that importing the package stays cheap."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["LazyModule", "instance_of", "lazy_attributes", "preload"]


def lazy_attributes(package: str, where: Mapping[str, str],
                    namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``name`` from ``where[name]`` when first asked for."""

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def instance_of(obj: Any, module: str, name: str) -> bool:
    """``isinstance(obj, module.name)`` without importing ``module``: an instance of a class
    cannot exist unless the class's module was imported."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(obj, getattr(loaded, name))


class LazyModule:
    """A module imported when one of its names is first used.

    SciPy's statistics take most of a drift report's start-up; imported lazily, and
    started early on a thread (:func:`preload`), their import overlaps the reading and
    sorting of the data, which run without the GIL. Thread-safe: a second thread asking
    for the module waits on the import system's lock for it.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def preload(*names: str) -> None:
    """Import ``names`` on a background thread (those not imported yet)."""
    todo = [n for n in names if n not in sys.modules]
    if todo:
        threading.Thread(target=_import_all, args=(todo,), name="driftwise-preload",
                         daemon=True).start()


def _import_all(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the caller's own import reports it when it uses the module
            continue
