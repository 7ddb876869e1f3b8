"""Sequential detectors: has this stream changed, as early as possible, with few false alarms?

Every detector follows one protocol (:class:`StreamDetector`): ``update(x) -> bool``,
``update_many(xs) -> alarm positions``, ``reset()``, ``to_state()`` / ``from_state()``.
"""

from driftwise.stream._base import ReferenceStreamDetector, StreamDetector, long_run_factor
from driftwise.stream._bocpd_arl import bocpd_threshold
from driftwise.stream.adwin import ADWIN
from driftwise.stream.bocpd import BOCPD
from driftwise.stream.calibration import (
    CusumDesign,
    EwmaDesign,
    calibrate_cusum,
    calibrate_ewma,
    cusum_arl,
    ewma_arl,
    shewhart_arl,
    shewhart_limit,
)
from driftwise.stream.cusum import CUSUM
from driftwise.stream.ddm import DDM
from driftwise.stream.eddm import EDDM
from driftwise.stream.error_indicator import ErrorIndicator, error_indicator
from driftwise.stream.ewma import EWMA
from driftwise.stream.factory import DETECTOR_TYPES, make_detector
from driftwise.stream.kswin import KSWIN
from driftwise.stream.page_hinkley import PageHinkley, calibrate_page_hinkley
from driftwise.stream.seasonal import SEASON_COMPONENTS, SeasonalBaseline, SeasonalVerdict
from driftwise.stream.shewhart import Shewhart

__all__ = [
    "ADWIN",
    "BOCPD",
    "CUSUM",
    "DDM",
    "DETECTOR_TYPES",
    "EDDM",
    "EWMA",
    "KSWIN",
    "SEASON_COMPONENTS",
    "CusumDesign",
    "ErrorIndicator",
    "EwmaDesign",
    "PageHinkley",
    "ReferenceStreamDetector",
    "SeasonalBaseline",
    "SeasonalVerdict",
    "Shewhart",
    "StreamDetector",
    "bocpd_threshold",
    "calibrate_cusum",
    "calibrate_ewma",
    "calibrate_page_hinkley",
    "cusum_arl",
    "error_indicator",
    "ewma_arl",
    "long_run_factor",
    "make_detector",
    "shewhart_arl",
    "shewhart_limit",
]
