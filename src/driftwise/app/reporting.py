"""The batch use cases: report files, profile files, run a Monitor over files.

The CLI calls these and nothing else; the service will too. Each opens a saved profile
once, parses a configuration once, and refuses options it cannot honour instead of
dropping them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field

from driftwise._text import one_line
from driftwise.config._model import StrictModel
from driftwise.config.drift import DriftConfig, detector_params
from driftwise.data import ReadOptions, require_rows, to_table
from driftwise.data.parquet_columns import ParquetColumns, is_parquet_path
from driftwise.detect import DriftDetector, DriftReport, ReferenceProfile
from driftwise.detect._profile_file import PROFILE_SUFFIX, is_profile_path
from driftwise.detect.engine import Engine, InMemoryEngine
from driftwise.detect.settings import CategoricalTest, ColumnNames, Correction, NumericTest
from driftwise.errors import ConfigError, NothingTestedError, UsageError

if TYPE_CHECKING:  # the Monitor's modules are imported only when a Monitor runs
    from driftwise.config.monitor import MonitorConfig
    from driftwise.monitor import Monitor, MonitorResult
    from driftwise.monitor.run import MonitorRun
__all__ = ["DriftOptions", "Progress", "Reference", "evaluate_window", "open_reference",
           "profile_files", "report_files", "require_tested", "run_monitor"]

#: ``start(label, total)`` returns ``advance(column_name)``: how the CLI shows progress.
Progress = Callable[[str, int], Callable[[str], None]]

def _no_progress(label: str, total: int) -> Callable[[str], None]:
    return lambda name: None


#: Each option and its command-line flag, for messages.
FLAGS = {"numeric_test": "--numeric-test", "categorical_test": "--categorical-test",
         "correction": "--correction", "alpha": "--alpha", "target": "--target",
         "prediction": "--prediction", "exclude": "--exclude"}


class DriftOptions(StrictModel):
    """Overrides given on the command line (or by a caller): they win over the config."""

    numeric_test: NumericTest | None = None
    categorical_test: CategoricalTest | None = None
    correction: Correction | None = None
    alpha: float | None = Field(None, gt=0, lt=1)
    target: str | None = None
    prediction: str | None = None
    exclude: ColumnNames = Field(default_factory=list)

    def given(self) -> list[str]:
        """The flags that were set."""
        return [FLAGS[k] for k, v in self.model_dump().items() if v not in (None, [])]


@dataclass(frozen=True)
class Reference:
    """A reference as opened: a saved profile (with its settings) or a table."""

    name: str
    profile: ReferenceProfile | None = None
    saved: dict[str, Any] = field(default_factory=dict)
    table: Any = None  # a pyarrow.Table, or ParquetColumns read one column at a time


def open_reference(reference: Any, read: ReadOptions | None = None) -> Reference:
    """Open a reference once: a ``.profile`` file is loaded, anything else read as data."""
    name = _name(reference, "reference")
    if isinstance(reference, ReferenceProfile):
        return Reference(name, reference)
    if isinstance(reference, str | os.PathLike) and is_profile_path(reference):
        profile, saved = ReferenceProfile.load(reference)
        return Reference(name, profile, saved)
    table = ParquetColumns(reference) if is_parquet_path(reference) else \
        to_table(reference, read)
    require_rows(table, "reference")
    return Reference(name, table=table)


def _name(data: Any, default: str) -> str:
    if isinstance(data, str | os.PathLike):
        return os.path.basename(os.fspath(data)) or default
    return default


def _config(config: DriftConfig | MonitorConfig | str | os.PathLike[str] | None) -> (
    DriftConfig | MonitorConfig | None
):
    if not isinstance(config, str | os.PathLike):
        return config  # None, a DriftConfig or a MonitorConfig
    from driftwise.config.schema import open_config

    return open_config(config)


def report_files(reference: Any, current: Any, *,
                 config: DriftConfig | MonitorConfig | str | os.PathLike[str] | None = None,
                 options: DriftOptions | None = None, read: ReadOptions | None = None,
                 progress: Progress | None = None,
                 engine: Engine | None = None) -> DriftReport | MonitorRun:
    """Compare ``current`` with ``reference`` as ``driftwise report`` does.

    With a Monitor configuration, the Monitor runs on every window of ``current``;
    otherwise the columns are compared under the drift configuration and ``options``.
    ``engine`` profiles the data (default: in memory, every core); a Dask engine reads
    Parquet files and folders in its workers.

    Raises
    ------
    DriftwiseError
        Bad input, a configuration error, options a Monitor configuration cannot honour,
        or a comparison that tested nothing (:class:`NothingTestedError`).
    """
    options = options or DriftOptions()
    cfg = _config(config)
    if cfg is not None and not isinstance(cfg, DriftConfig):  # a Monitor configuration
        refuse_with_monitor(options, config)
        return run_monitor(cfg, reference, current, read=read, engine=engine)
    start = progress or _no_progress
    if engine is not None and not isinstance(engine, InMemoryEngine):
        return _report_on(engine, reference, current, cfg, options, start)
    ref = open_reference(reference, read)
    params = detector_params(cfg, ref.saved, **options.model_dump())
    detector = DriftDetector(**params)
    detector.params()  # a wrong option fails before the current sample is read
    if ref.profile is not None:
        detector.fit(ref.profile)
    else:
        assert ref.table is not None
        advance = start("profiling reference", ref.table.num_columns)
        detector.fit(ref.table, name=ref.name, progress=advance)
    del ref  # let the reference table go before reading the current one
    table = ParquetColumns(current) if is_parquet_path(current) else to_table(current, read)
    advance = start("comparing", len(detector.profile_.columns))
    report = detector.compare(table, name=_name(current, "current"), progress=advance)
    require_tested(report)
    return report


def _report_on(engine: Engine, reference: Any, current: Any, cfg: DriftConfig | None,
               options: DriftOptions, start: Progress) -> DriftReport:
    """``report_files`` on an engine that reads the inputs itself (Dask)."""
    saved: dict[str, Any] = {}
    if isinstance(reference, str | os.PathLike) and is_profile_path(reference):
        reference, saved = ReferenceProfile.load(reference)
    detector = DriftDetector(**detector_params(cfg, saved, **options.model_dump()),
                             engine=engine)
    detector.params()
    detector.fit(reference, name=_name(reference, "reference"),
                 progress=start("profiling reference", 0))
    report = detector.compare(current, name=_name(current, "current"),
                              progress=start("comparing", len(detector.profile_.columns)))
    require_tested(report)
    return report


def refuse_with_monitor(options: DriftOptions, config: Any) -> None:
    """A Monitor configuration sets its own drift settings: refuse flags it would ignore."""
    given = options.given()
    if given:
        where = one_line(os.fspath(config)) if isinstance(config, str | os.PathLike) \
            else "the Monitor configuration"
        raise UsageError(f"{', '.join(given)} cannot be used with a Monitor configuration "
                         f"({where}); set them in its checks.feature_drift and columns "
                         "sections instead")


def require_tested(report: DriftReport) -> None:
    """Raise :class:`NothingTestedError` when no column and no other part was tested."""
    parts: list[Any] = [*([report.multivariate] if report.multivariate else []),
                        *report.embeddings, *report.text]
    parts = [p for p in parts if not p.skipped]
    if report.dataset_drift.columns or parts:
        return
    if not report.columns:
        raise NothingTestedError("nothing was tested: no column is left to compare "
                                 "(all were excluded)")
    reasons = "; ".join(f"{c.name!r}: {c.skipped}" for c in report.columns[:4])
    more = f"; and {len(report.columns) - 4} more" if len(report.columns) > 4 else ""
    raise NothingTestedError(f"nothing was tested: {reasons}{more}. Declare a column's kind "
                             "in the configuration (columns: {name: {kind: numeric}}) to "
                             "test it")


def profile_files(reference: Any, output: str | os.PathLike[str], *,
                  config: DriftConfig | MonitorConfig | str | os.PathLike[str] | None = None,
                  options: DriftOptions | None = None, read: ReadOptions | None = None,
                  rows: bool = True, progress: Progress | None = None,
                  engine: Engine | None = None, grid: int | None = None) -> ReferenceProfile:
    """Fit ``reference`` once and save its profile to ``output`` (a ``.profile`` file).

    ``grid`` summarises every numeric column on that many cells of its quantiles (compact,
    mergeable; see docs/scale.md) instead of keeping its sorted values.
    """
    if not is_profile_path(output):
        raise UsageError(f"-o {one_line(os.fspath(output))}: a profile's name ends in "
                         f"{PROFILE_SUFFIX} (that is how driftwise recognises one)")
    cfg = _config(config)
    if not (cfg is None or isinstance(cfg, DriftConfig)):
        raise UsageError("driftwise profile takes a drift configuration; a Monitor "
                         "configuration (with a model: section) is fitted by `driftwise "
                         "report --config` on the reference data itself")
    if isinstance(reference, str | os.PathLike) and is_profile_path(reference):
        raise UsageError(f"{one_line(os.fspath(reference))} is already a profile; profile "
                         "the reference data file")
    if grid is not None and not 1 <= grid <= 1 << 20:
        raise UsageError(f"--grid {grid}: between 1 and {1 << 20:,} cells")
    params = detector_params(cfg, None, **(options or DriftOptions()).model_dump())
    detector = DriftDetector(**params, engine=engine)
    detector.params()
    if engine is not None and not isinstance(engine, InMemoryEngine):
        detector.fit(reference, name=_name(reference, "reference"),
                     progress=(progress or _no_progress)("profiling reference", 0))
    else:
        table = to_table(reference, read)
        require_rows(table, "reference")
        advance = (progress or _no_progress)("profiling reference", table.num_columns)
        detector.fit(table, name=_name(reference, "reference"), progress=advance)
    profile = detector.profile_ if grid is None else detector.profile_.gridded(grid)
    profile.save(output, settings=detector.settings().to_dict(), rows=rows)
    return profile


def run_monitor(config: MonitorConfig | str | os.PathLike[str], reference: Any, current: Any,
                *, read: ReadOptions | None = None, engine: Engine | None = None) -> MonitorRun:
    """Fit the configured Monitor on ``reference``; run it on ``current``'s windows.

    Without ``windows.rows``/``windows.period`` the whole current sample is one window.
    On a Dask engine the inputs are Parquet files/folders or Dask DataFrames, profiled in
    the workers (:mod:`driftwise.scale.monitor`).
    """
    from driftwise.config.monitor import MonitorConfig
    from driftwise.config.schema import open_config
    from driftwise.monitor import Monitor
    from driftwise.monitor.run import MonitorRun

    if isinstance(config, MonitorConfig):
        cfg = config
    else:
        opened = open_config(config)
        if not isinstance(opened, MonitorConfig):
            raise ConfigError(f"{one_line(os.fspath(config))}: not a Monitor configuration "
                              "(it has no model: section)")
        cfg = opened
    if isinstance(reference, ReferenceProfile) or (
            isinstance(reference, str | os.PathLike) and is_profile_path(reference)):
        raise UsageError("a Monitor fits its reference on the data itself (outputs, labels, "
                         "segments): pass the reference data file, not a saved profile")
    if engine is not None and not isinstance(engine, InMemoryEngine):
        from driftwise.scale import DaskEngine
        from driftwise.scale.monitor import run_on_engine

        if not isinstance(engine, DaskEngine):
            raise UsageError(f"a Monitor runs in memory or on the Dask engine, not on "
                             f"{type(engine).__name__}")
        monitor = Monitor(cfg).fit(reference, engine=engine)
        n_reference = monitor.reference_rows_
        results = run_on_engine(monitor, current, engine, period=cfg.window_period,
                                name=_name(current, "current"))
    else:
        reference_table = to_table(reference, read)
        monitor = Monitor(cfg).fit(reference_table)
        n_reference = reference_table.num_rows
        del reference_table
        table = to_table(current, read)
        require_rows(table, "current")
        if cfg.window_rows is None and cfg.window_period is None:
            results = [monitor.run(table, name=_name(current, "current"))]
        else:
            results = monitor.run_frame(table)
    if not any(r.status == "ok" for r in results):
        largest = max(r.rows for r in results)
        raise NothingTestedError(
            f"nothing was tested: each of the {len(results)} window(s) has fewer rows than "
            f"windows.min_rows = {cfg.min_rows} (the largest has {largest:,}); lower "
            "windows.min_rows or give more rows")
    return MonitorRun(cfg.name, n_reference, tuple(results))


def evaluate_window(monitor: Monitor, window: Any, *, labels: Any = None,
                    name: str | None = None, read: ReadOptions | None = None) -> MonitorResult:
    """Evaluate one window with a fitted Monitor (the service's scheduled evaluation)."""
    table = to_table(window, read)
    label_table = None if labels is None else to_table(labels, read)
    return monitor.run(table, labels=label_table, name=name)
