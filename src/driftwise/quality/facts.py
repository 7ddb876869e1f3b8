"""Data-quality facts per column: what a drift test alone would not tell a user."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: At most this many new categories are listed by name (all are counted).
MAX_LISTED_NEW_CATEGORIES = 50


@dataclass(frozen=True)
class ColumnQuality:
    """Missing values, new categories, out-of-range values and type changes of a column.

    Attributes
    ----------
    missing_share_reference, missing_share_current : float
        Share of rows with a missing value (null or NaN) in each sample.
    new_categories : list of str
        Categories present in current but never seen in the reference (first 50).
    new_categories_count : int
        How many such categories there are.
    new_category_share : float or None
        Share of current non-missing rows that fall in a new category.
    out_of_range_share : float or None
        Share of current non-missing values outside ``[min, max]`` of the reference.
    type_mismatch : str or None
        ``"reference int64, current double"`` when the storage types differ compatibly.
    missing_markers_reference, missing_markers_current : dict
        Non-numeric markers (``"?"``, ``"n/a"``, ``"-"``) found in a column of numbers when
        it was read, with their counts; they are counted as missing values.
    """

    missing_share_reference: float
    missing_share_current: float
    new_categories: list[str] = field(default_factory=list)
    new_categories_count: int = 0
    new_category_share: float | None = None
    out_of_range_share: float | None = None
    type_mismatch: str | None = None
    missing_markers_reference: dict[str, int] = field(default_factory=dict)
    missing_markers_current: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def numeric_quality(
    reference_sorted: NDArray[np.float64],
    reference_missing: int,
    current_sorted: NDArray[np.float64],
    current_missing: int,
    type_mismatch: str | None,
) -> ColumnQuality:
    """Quality facts of a numeric column from both samples' sorted finite values."""
    n_ref = reference_sorted.size + reference_missing
    n_cur = current_sorted.size + current_missing
    out_of_range = 0
    if reference_sorted.size and current_sorted.size:
        low = int(np.searchsorted(current_sorted, reference_sorted[0], side="left"))
        high = current_sorted.size - int(
            np.searchsorted(current_sorted, reference_sorted[-1], side="right")
        )
        out_of_range = low + high
    return ColumnQuality(
        missing_share_reference=_share(reference_missing, n_ref),
        missing_share_current=_share(current_missing, n_cur),
        out_of_range_share=_share(out_of_range, current_sorted.size),
        type_mismatch=type_mismatch,
    )


def categorical_quality(
    reference_labels: tuple[str, ...],
    reference_missing: int,
    reference_total: int,
    current_labels: tuple[str, ...],
    current_counts: NDArray[np.int64],
    current_missing: int,
    type_mismatch: str | None,
) -> ColumnQuality:
    """Quality facts of a categorical column from both samples' category counts."""
    known = set(reference_labels)
    new = [(label, int(c)) for label, c in zip(current_labels, current_counts, strict=True)
           if label not in known]
    new.sort(key=lambda item: -item[1])
    n_cur_present = int(current_counts.sum())
    return ColumnQuality(
        missing_share_reference=_share(reference_missing, reference_total),
        missing_share_current=_share(current_missing, n_cur_present + current_missing),
        new_categories=[label for label, _ in new[:MAX_LISTED_NEW_CATEGORIES]],
        new_categories_count=len(new),
        new_category_share=_share(sum(c for _, c in new), n_cur_present),
        type_mismatch=type_mismatch,
    )
