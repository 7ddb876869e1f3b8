"""Red-team scenarios: seeded, documented failures applied to clean data.

Each scenario (:data:`SCENARIOS`, :func:`make_scenario`, :func:`catalogue`) changes only the
rows from an onset, at an intensity from 0 (the identity) to 1, and says exactly which
columns and rows it changed (:class:`ScenarioResult`), so a monitor's answer can be scored
against the truth. :class:`PurpleTeam` replays them through a configured Monitor and scores
it (:class:`Scorecard`, docs/purple-team.md); the attacks with the Adversarial Robustness
Toolbox are in :mod:`driftwise.redteam.attacks` (``driftwise[redteam]``).
"""

from driftwise.redteam.catalogue import SCENARIOS, catalogue, make_scenario
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
from driftwise.redteam.purple import PurpleTeam
from driftwise.redteam.scenario import Scenario, ScenarioResult
from driftwise.redteam.scorecard import ScenarioScore, Scorecard
from driftwise.redteam.shifts import (
    CovariateMean,
    CovariateMixture,
    CovariateScale,
    Seasonal,
    SegmentShift,
)

__all__ = [
    "SCENARIOS",
    "CategoryTruncation",
    "ConceptFlip",
    "ConceptWeaken",
    "CovariateMean",
    "CovariateMixture",
    "CovariateScale",
    "DroppedFeature",
    "DuplicatedRows",
    "LabelShift",
    "LabelsDelayed",
    "LabelsMissing",
    "NullStorm",
    "PurpleTeam",
    "Scenario",
    "ScenarioResult",
    "ScenarioScore",
    "Scorecard",
    "Seasonal",
    "SegmentShift",
    "StaleFeature",
    "StuckValue",
    "SwappedColumns",
    "TypeChange",
    "UnitChange",
    "catalogue",
    "make_scenario",
]
