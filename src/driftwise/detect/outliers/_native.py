"""The optional compiled kernels of the outlier detectors (``_kernels.c``, declared in
setup.py), or None where the install had no C compiler (the NumPy paths give the same
results)."""

from __future__ import annotations

from types import ModuleType

kernels: ModuleType | None
try:
    from driftwise.detect.outliers import _kernels as kernels
except ImportError:  # pragma: no cover - only where the install had no C compiler
    kernels = None
