"""Type stub of the compiled outlier kernels (``_kernels.c``)."""

from typing import Any

def path_sums(x: Any, n: int, d: int, left: Any, right: Any, feature: Any, threshold: Any,
              value: Any, roots: Any, out: Any, /) -> None: ...
def kth_smallest(d: Any, n: int, m: int, k: int, out: Any, /) -> None: ...
