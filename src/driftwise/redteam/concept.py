"""Label shift and concept drift: the target changes after the onset, the features do not.

:class:`LabelShift` changes how often each class occurs (the class-conditional records stay
as they were); :class:`ConceptFlip` and :class:`ConceptWeaken` change the relation between
the features and the target within one segment, leaving every feature untouched.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.data import ColumnKind, labels
from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam._columns import (
    Segment,
    category_segment,
    changes,
    check_number,
    float_column,
    float_values,
    numeric_segment,
    plain,
    set_rows,
    span,
    target_task,
)
from driftwise.redteam.scenario import Change, Scenario, column_kind, pick_share, replace_column
from driftwise.redteam.shifts import check_segment


class LabelShift(Scenario):
    """Label shift (prior shift): the least frequent class grows after the onset.

    Let ``p`` be the share of the least frequent class among the labelled rows after the
    onset. Its share becomes ``q = p + intensity × (goal - p)``, ``goal`` being 0.5 or the
    given ``prior``: ``round(q × n) - round(p × n)`` rows of the other classes (seeded) are
    overwritten with whole records of that class drawn with replacement from the rows after
    the onset (or, when ``q < p``, rows of that class with records of the others). The
    records of each class keep their distribution, so only the class priors move; the row
    count is kept. The changed rows are the rows overwritten (their whole record differs).
    Needs a classification target; a numeric (regression) target is a :class:`SchemaError`.

    Parameters
    ----------
    prior : float, optional
        The share, in [0, 1], the least frequent class reaches at intensity 1 (default 0.5).
    """

    name = "label_shift"
    kind = "labels"
    summary = "the least frequent class becomes more common after the onset"
    intensity_means = ("how far the least frequent class's share after the onset moves from "
                       "its share p to 0.5 (or to prior): p + intensity × (0.5 - p)")
    needs_target = True

    def __init__(self, prior: float | None = None) -> None:
        self.prior = prior

    def check_params(self) -> None:
        if self.prior is not None and not 0.0 <= check_number(self.prior, "prior",
                                                              self.name) <= 1.0:
            raise ConfigError(f"scenario {self.name!r}: prior must be a share in [0, 1], "
                              f"got {self.prior!r}")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        assert target is not None  # apply() requires it (needs_target)
        if target_task(table, target, self.name) != "classification":
            raise SchemaError(f"scenario {self.name!r}: the target {target!r} is numeric "
                              "(regression); label shift needs classes")
        after = np.array(labels(table.column(target).slice(onset)), dtype=object)
        known = np.array([v is not None for v in after.tolist()], dtype=bool)
        counts = Counter(after[known].tolist())
        if len(counts) < 2:
            raise SchemaError(f"scenario {self.name!r}: the target {target!r} has "
                              f"{len(counts)} class(es) after the onset; label shift needs two")
        minority = min(sorted(counts), key=lambda c: counts[c])
        labelled = sum(counts.values())
        before_share = counts[minority] / labelled
        goal = 0.5 if self.prior is None else float(self.prior)
        wanted = round((before_share + intensity * (goal - before_share)) * labelled)
        ours = onset + np.flatnonzero(after == minority)
        others = onset + np.flatnonzero(known & (after != minority))
        grow = wanted - counts[minority]
        dropped, donors = (others, ours) if grow > 0 else (ours, others)
        overwritten = rng.choice(dropped, size=abs(grow), replace=False)
        index = np.arange(table.num_rows)
        index[overwritten] = rng.choice(donors, size=abs(grow), replace=True)
        out = table.take(pa.array(index))
        return changes(table, out, f"the share of class {minority!r} of {target!r} in "
                       f"{span(onset, table.num_rows)} went from {before_share:.1%} to "
                       f"{wanted / labelled:.1%}: {abs(grow)} rows overwritten with records "
                       f"{'of' if grow > 0 else 'not of'} that class ({{rows}} rows changed)",
                       {"target": target, "class": minority, "share_before": before_share,
                        "share_after": wanted / labelled, "goal": goal})


class _SegmentedConcept(Scenario):
    """Shared configuration and segment of the concept scenarios."""

    kind = "concept"
    needs_target = True

    def __init__(self, segment: str | None = None, value: Any = None) -> None:
        self.segment = segment
        self.value = value

    def check_params(self) -> None:
        check_segment(self.segment, self.value, self.name)

    def _segment(self, table: pa.Table, features: list[str], onset: int,
                 rng: np.random.Generator, target: str) -> Segment:
        if self.segment == target:
            raise ConfigError(f"scenario {self.name!r}: segment {target!r} is the target; "
                              "choose a feature")
        if self.segment is not None and self.segment not in table.column_names:
            raise SchemaError(f"scenario {self.name!r}: no column {self.segment!r} in the data")
        if self.segment is None or column_kind(table, self.segment) == ColumnKind.NUMERIC:
            return numeric_segment(table, features, rng, self.name, column=self.segment,
                                   value=self.value)
        return category_segment(table, features, onset, rng, self.name, column=self.segment,
                                value=self.value)

    def _hit(self, table: pa.Table, intensity: float, onset: int, rng: np.random.Generator,
             target: str, features: list[str]) -> tuple[Segment, NDArray[np.int64]]:
        """The segment and the rows of it after the onset (with a label) that change."""
        seg = self._segment(table, features, onset, rng, target)
        labelled = np.array([v is not None for v in labels(table.column(target))], dtype=bool)
        candidates = np.flatnonzero(seg.mask & labelled)
        candidates = candidates[candidates >= onset].astype(np.int64)
        if len(candidates) == 0:
            raise SchemaError(f"scenario {self.name!r}: no labelled row after the onset has "
                              f"{seg.words}")
        return seg, pick_share(candidates, intensity, rng)


class ConceptFlip(_SegmentedConcept):
    """Concept drift: within one segment, labels after the onset are inverted.

    The segment is, by default, the rows where a seeded numeric feature is above its median;
    given ``segment`` (and ``value``), the rows where that categorical column holds that value
    (default: a seeded value on at least 5 % of the rows after the onset) or where that
    numeric column is above ``value`` (default: its median). An ``intensity`` share of the
    segment's labelled rows after the onset (seeded) get the inverted label: the other class
    of a binary target, a seeded different class of a multiclass one, and ``2 × mean - y``
    for a numeric target (which becomes float64). Only the target changes.

    Parameters
    ----------
    segment : str, optional
        The feature that defines the segment.
    value : optional
        The category (categorical segment) or threshold (numeric segment).
    """

    name = "concept_flip"
    summary = "labels within one segment are inverted after the onset"
    intensity_means = "share of the segment's labelled rows after the onset whose label flips"

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        assert target is not None  # apply() requires it (needs_target)
        seg, hit = self._hit(table, intensity, onset, rng, target, features)
        if target_task(table, target, self.name) == "regression":
            values, nulls = float_values(table, target)
            centre = float(np.mean(values[np.isfinite(values)]))
            values[hit] = 2.0 * centre - values[hit]
            out, how = replace_column(table, target, float_column(values, nulls)), \
                f"mirrored around its mean {centre:.4g}"
        else:
            out, how = replace_column(table, target, self._flipped(table, target, hit, rng)), \
                "set to another class"
        return changes(table, out, f"{len(hit)} labels of {target!r} {how} in the rows where "
                       f"{seg.words} among {span(onset, table.num_rows)} "
                       "({rows} rows changed)",
                       {"segment": seg.column, "value": plain(seg.value), "rows_hit": len(hit)})

    def _flipped(self, table: pa.Table, target: str, hit: NDArray[np.int64],
                 rng: np.random.Generator) -> pa.Array:
        column = table.column(target).combine_chunks()
        row_labels = labels(column)
        classes = sorted({v for v in row_labels if v is not None})
        if len(classes) < 2:
            raise SchemaError(f"scenario {self.name!r}: the target {target!r} has one class; "
                              "there is no other label to flip to")
        first_row: dict[str, int] = {}
        for i, v in enumerate(row_labels):
            if v is not None and v not in first_row:
                first_row[v] = i
        codes = np.array([classes.index(row_labels[i]) for i in hit.tolist()], dtype=np.int64)
        step = 1 if len(classes) == 2 else rng.integers(1, len(classes), size=len(hit))
        new_codes = (codes + step) % len(classes)
        donors = pa.array([first_row[classes[c]] for c in new_codes.tolist()], pa.int64())
        return set_rows(table.column(target), hit, pc.take(column, donors))


class ConceptWeaken(_SegmentedConcept):
    """Concept drift: within one segment, labels after the onset become noise.

    The segment is chosen as in :class:`ConceptFlip`. An ``intensity`` share of the
    segment's labelled rows after the onset (seeded) get a label drawn (seeded) from the
    target's marginal distribution (the labels of all labelled rows): the relation is
    weakened, not inverted. Only the target changes; a row whose draw equals its label is
    not changed.

    Parameters
    ----------
    segment : str, optional
        The feature that defines the segment.
    value : optional
        The category (categorical segment) or threshold (numeric segment).
    """

    name = "concept_weaken"
    summary = "labels within one segment are replaced by random draws after the onset"
    intensity_means = ("share of the segment's labelled rows after the onset whose label is "
                       "redrawn from the target's marginal distribution")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        assert target is not None  # apply() requires it (needs_target)
        target_task(table, target, self.name)
        seg, hit = self._hit(table, intensity, onset, rng, target, features)
        column = table.column(target).combine_chunks()
        labelled = np.flatnonzero([v is not None for v in labels(column)])
        draws = pa.array(rng.choice(labelled, size=len(hit), replace=True), pa.int64())
        out = replace_column(table, target, set_rows(table.column(target), hit,
                                                     pc.take(column, draws)))
        return changes(table, out, f"{len(hit)} labels of {target!r} redrawn from its "
                       f"marginal distribution in the rows where {seg.words} among "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"segment": seg.column, "value": plain(seg.value), "rows_hit": len(hit)})
