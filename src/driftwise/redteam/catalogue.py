"""The registered scenarios: their names, how to make one, and a table to document them."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

from driftwise.errors import ConfigError
from driftwise.redteam.concept import ConceptFlip, ConceptWeaken, LabelShift
from driftwise.redteam.pipeline import (
    CategoryTruncation,
    NullStorm,
    StuckValue,
    SwappedColumns,
    UnitChange,
)
from driftwise.redteam.pipeline_arrival import (
    DroppedFeature,
    DuplicatedRows,
    LabelsDelayed,
    LabelsMissing,
    StaleFeature,
    TypeChange,
)
from driftwise.redteam.scenario import Scenario
from driftwise.redteam.shifts import (
    CovariateMean,
    CovariateMixture,
    CovariateScale,
    Seasonal,
    SegmentShift,
)

#: Every scenario by its registered name: shifts of the data first, then pipeline bugs.
SCENARIOS: dict[str, type[Scenario]] = {cls.name: cls for cls in (
    CovariateMean, CovariateScale, CovariateMixture, SegmentShift, LabelShift, ConceptFlip,
    ConceptWeaken, Seasonal, CategoryTruncation, UnitChange, NullStorm, SwappedColumns,
    StuckValue, DuplicatedRows, TypeChange, DroppedFeature, StaleFeature, LabelsDelayed,
    LabelsMissing,
)}


def make_scenario(name: str, **params: Any) -> Scenario:
    """The scenario registered as ``name``, configured with ``params``.

    Parameters
    ----------
    name : str
        A key of :data:`SCENARIOS`.
    **params
        The scenario's parameters (see its class).

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        An unknown name (the message lists the known ones and the closest), an unknown
        parameter, or a parameter whose value is invalid without looking at the data.

    Examples
    --------
    >>> make_scenario("unit_change", factor=0.01)
    UnitChange(column=None, factor=0.01)
    >>> try:
    ...     make_scenario("unit_chang")
    ... except ConfigError as error:
    ...     print(str(error).split(";")[0])
    unknown scenario 'unit_chang' (did you mean 'unit_change' or 'type_change'?)
    """
    cls = SCENARIOS.get(name) if isinstance(name, str) else None
    if cls is None:
        close = difflib.get_close_matches(str(name), list(SCENARIOS), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ConfigError(f"unknown scenario {name!r}{hint}; known: {', '.join(SCENARIOS)}")
    known = _defaults(cls)
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"scenario {name!r} has no parameter {key!r}{hint}; its "
                              f"parameters: {', '.join(known) or 'none'}")
    scenario = cls(**params)
    scenario.check_params()
    return scenario


def catalogue() -> list[dict[str, Any]]:
    """One row per registered scenario, in :data:`SCENARIOS` order, for documentation.

    Returns
    -------
    list of dict
        ``name``, ``kind``, ``summary``, ``intensity_means``, ``needs_target`` and
        ``params`` (each parameter's default).

    Examples
    --------
    >>> row = catalogue()[0]
    >>> row["name"], row["kind"], row["params"]
    ('covariate_mean', 'covariate', {'columns': None, 'count': 1})
    """
    return [{"name": name, "kind": cls.kind, "summary": cls.summary,
             "intensity_means": cls.intensity_means, "needs_target": cls.needs_target,
             "params": _defaults(cls)} for name, cls in SCENARIOS.items()]


def _defaults(cls: type[Scenario]) -> dict[str, Any]:
    signature = inspect.signature(cls.__init__)
    return {p.name: p.default for p in list(signature.parameters.values())[1:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
