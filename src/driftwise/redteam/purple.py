"""The purple team: replay clean windows and every scenario through the configured Monitor.

How a replay is built (docs/purple-team.md):

1. The reference is split, seeded, into a *fit* part (the Monitor's reference, and the level
   of the model's metric) and a *held-out* part the replays are cut from.
2. Each repeat shuffles the held-out rows and cuts ``windows`` windows of ``window_rows``.
   The clean replay runs all of them through a fresh copy of the fitted Monitor.
3. A scenario changes the same rows from the onset window on; the windows before the onset
   are the clean ones (the Monitor's state there is copied, not recomputed), and the model's
   outputs are recomputed on every changed window (:mod:`driftwise.redteam.serving`).
4. Detected: a signal fires at or after the onset where the clean replay did not fire it at
   that window. Harm: the metric on the changed rows from the onset on against the same rows
   clean. A harmful scenario the Monitor misses is a *gap*; the all-checks Monitor is then
   replayed on it to find the check that would have caught it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.config.monitor import MonitorConfig
from driftwise.data import require_rows, to_table
from driftwise.errors import ConfigError, DriftwiseError, InsufficientDataError, SchemaError
from driftwise.monitor import Monitor
from driftwise.monitor.monitor import _as_config
from driftwise.redteam.harm import check_metric, metric_value, relative_loss
from driftwise.redteam.scenario import Scenario
from driftwise.redteam.scorecard import Catch, CleanReplays, Replay, ScenarioScore, Scorecard
from driftwise.redteam.serving import ServingLayer, model_features, target_values
from driftwise.redteam.signals import (
    Signal,
    SignalReader,
    oracle_config,
    oracle_signals,
    rejected,
)

DEFAULT_INTENSITIES = (0.25, 0.5, 1.0)


@dataclass
class _Repeat:
    """One repeat's rows, its clean windows' signals and the Monitor state at the onset."""

    rows: pa.Table
    clean_signals: list[set[str]]
    at_onset: Monitor
    clean_scores: NDArray[np.float64]
    oracle: tuple[list[set[str]], Monitor] | None = None


class PurpleTeam:
    """Score a Monitor configuration against red-team scenarios.

    Parameters
    ----------
    model
        The fitted model (scikit-learn style: ``predict_proba``/``classes_``, or ``predict``
        for regression).
    config : MonitorConfig, mapping or path
        The Monitor configuration under test. It must name the target column.
    windows : int
        Windows per replay.
    onset_window : int
        Index of the first changed window (the windows before it are clean in every replay).
    window_rows : int, optional
        Rows per window (default: ``windows.rows`` of the config, else up to 1,000 rows as the
        held-out part allows).
    repeats : int
        Replays per scenario and intensity, each on a different shuffle of the held-out rows.
    harm_threshold : float
        Relative loss of the metric above which a scenario is harmful.
    metric : str, optional
        The harm metric (default: ``roc_auc`` for binary, ``accuracy`` for multiclass,
        ``mae`` for regression).
    fit_share : float
        Share of the reference the Monitor is fitted on.
    seed : int
        Seeds the split, the shuffles and every scenario.
    """

    def __init__(self, model: Any, config: MonitorConfig | Mapping[str, Any] | str
                 | os.PathLike[str], *, windows: int = 8, onset_window: int = 3,
                 window_rows: int | None = None, repeats: int = 3,
                 harm_threshold: float = 0.02, metric: str | None = None,
                 fit_share: float = 0.5, seed: int = 0) -> None:
        self.model = model
        self.config = config
        self.windows = windows
        self.onset_window = onset_window
        self.window_rows = window_rows
        self.repeats = repeats
        self.harm_threshold = harm_threshold
        self.metric = metric
        self.fit_share = fit_share
        self.seed = seed

    # -- fitting -------------------------------------------------------------------
    def _validate(self) -> MonitorConfig:
        cfg = _as_config(self.config)
        if cfg.columns.target is None:
            raise ConfigError("the purple team measures harm on labels: the Monitor config "
                              "needs columns.target")
        if not 2 <= self.windows <= 1000:
            raise ConfigError(f"windows must be in [2, 1000], got {self.windows}")
        if not 1 <= self.onset_window < self.windows:
            raise ConfigError(f"onset_window must be in [1, windows), got "
                              f"{self.onset_window} with {self.windows} windows")
        if not 1 <= self.repeats <= 100:
            raise ConfigError(f"repeats must be in [1, 100], got {self.repeats}")
        if not 0.0 <= self.harm_threshold < 1.0:
            raise ConfigError(f"harm_threshold must be in [0, 1), got {self.harm_threshold}")
        if not 0.05 <= self.fit_share <= 0.95:
            raise ConfigError(f"fit_share must be in [0.05, 0.95], got {self.fit_share}")
        return cfg

    def fit(self, reference: Any) -> PurpleTeam:
        """Split the reference, fit the serving layer, the Monitor and the all-checks one."""
        cfg = self.config_ = self._validate()
        table = to_table(reference)
        require_rows(table, "reference")
        target = str(cfg.columns.target)
        if target not in table.column_names:
            raise SchemaError(f"the reference lacks the target column {target!r}")
        self.metric_ = check_metric(self.metric, cfg.task)
        self.features_ = model_features(self.model, cfg, table)
        order = np.random.default_rng(self.seed).permutation(table.num_rows)
        cut = int(self.fit_share * table.num_rows)
        fit_part, held = table.take(order[:cut]), table.take(order[cut:])
        self.serving_ = ServingLayer(self.model, cfg, self.features_).fit(fit_part)
        fit_part = self.serving_.attach(fit_part)
        self.held_out_ = self.serving_.attach(held)
        rows = self.window_rows or cfg.windows.rows or min(
            1000, held.num_rows // self.windows)
        if rows < cfg.min_rows or rows * self.windows > held.num_rows:
            raise InsufficientDataError(
                f"the held-out part of the reference has {held.num_rows} rows: "
                f"{self.windows} windows of {max(rows, cfg.min_rows)} rows need "
                f"{self.windows * max(rows, cfg.min_rows)}; give a larger reference, fewer "
                f"windows or smaller ones (window_rows, windows.rows; not below "
                f"windows.min_rows = {cfg.min_rows})")
        self.window_rows_ = int(rows)
        self.monitor_ = Monitor(cfg).fit(fit_part)
        # Scenarios change what the Monitor watches and what the model reads.
        self.changeable_ = list(dict.fromkeys([*self.monitor_.features_, *self.features_]))
        self.reference_metric_ = metric_value(
            self.metric_, target_values(fit_part, target), self.serving_.scores(fit_part),
            self.serving_.classes_, cfg.positive_class)
        deciders = oracle_signals(self.metric_, self.reference_metric_)
        self.reader_ = SignalReader(cfg, deciders, use_alerts=True)
        self.oracle_config_ = oracle_config(cfg)
        self.oracle_ = Monitor(self.oracle_config_).fit(fit_part)
        self.oracle_reader_ = SignalReader(self.oracle_config_, deciders, use_alerts=False)
        self._repeats: dict[int, _Repeat] = {}
        return self

    # -- replays -------------------------------------------------------------------
    def _window(self, table: pa.Table, w: int) -> pa.Table:
        return table.slice(w * self.window_rows_, self.window_rows_)

    def _signals(self, monitor: Monitor, reader: SignalReader, window: pa.Table,
                 w: int) -> dict[str, Signal]:
        try:
            result = monitor.run(window, name=f"window {w}")
        except (SchemaError, InsufficientDataError) as exc:
            signal = rejected(str(exc))
            return {signal.id: signal}
        return {s.id: s for s in reader.read(result)}

    def _clean(self, monitor: Monitor, reader: SignalReader, rows: pa.Table
               ) -> tuple[list[set[str]], Monitor]:
        """The clean replay's signals per window and the Monitor's state at the onset."""
        running = copy.deepcopy(monitor)
        fired: list[set[str]] = []
        at_onset = running
        for w in range(self.windows):
            if w == self.onset_window:
                at_onset = copy.deepcopy(running)
            window = self._window(rows, w)
            result = running.run(window, name=f"window {w}")
            fired.append({s.id for s in reader.read(result)})
        return fired, at_onset

    def _repeat(self, r: int) -> _Repeat:
        if r not in self._repeats:
            order = np.random.default_rng([self.seed, r]).permutation(self.held_out_.num_rows)
            rows = self.held_out_.take(order[:self.windows * self.window_rows_])
            fired, at_onset = self._clean(self.monitor_, self.reader_, rows)
            onset = self.onset_window * self.window_rows_
            clean = self.serving_.scores(rows.slice(onset))
            self._repeats[r] = _Repeat(rows, fired, at_onset, clean)
        return self._repeats[r]

    def _oracle_clean(self, r: int) -> tuple[list[set[str]], Monitor]:
        rep = self._repeat(r)
        if rep.oracle is None:
            rep.oracle = self._clean(self.oracle_, self.oracle_reader_, rep.rows)
        return rep.oracle

    def _seed(self, name: str, r: int) -> int:
        return (self.seed * 1_000_003 + zlib.crc32(name.encode()) + 7919 * r) % 2**32

    def _apply(self, scenario: Scenario, intensity: float, r: int) -> Any:
        rep = self._repeat(r)
        return scenario.apply(rep.rows, intensity=intensity,
                              onset=self.onset_window * self.window_rows_,
                              seed=self._seed(scenario.name, r),
                              target=self.config_.columns.target, model=self.model,
                              features=self.changeable_)

    def _detect(self, changed: pa.Table, at_onset: Monitor, reader: SignalReader,
                clean: list[set[str]]) -> tuple[int | None, tuple[Signal, ...], int]:
        """First window whose signals the clean replay lacks: (delay, signals, windows)."""
        monitor = copy.deepcopy(at_onset)
        for w in range(self.onset_window, self.windows):
            window = self.serving_.attach(self._window(changed, w))
            fired = self._signals(monitor, reader, window, w)
            new = tuple(s for k, s in fired.items() if k not in clean[w])
            if new:
                return w - self.onset_window, new, w - self.onset_window + 1
        return None, (), self.windows - self.onset_window

    def _harm(self, changed: pa.Table, rep: _Repeat) -> float | None:
        cfg, target = self.config_, str(self.config_.columns.target)
        onset = self.onset_window * self.window_rows_
        post, clean_rows = changed.slice(onset), rep.rows.slice(onset)
        truth_clean = target_values(clean_rows, target)
        truth = target_values(post, target)
        truth = np.where([t is None for t in truth], truth_clean, truth)
        classes, positive = self.serving_.classes_, cfg.positive_class
        before = metric_value(self.metric_, truth_clean, rep.clean_scores, classes, positive)
        after = metric_value(self.metric_, truth, self.serving_.scores(post), classes,
                             positive)
        return relative_loss(self.metric_, before, after)

    def replay(self, scenario: Scenario, intensity: float, r: int) -> Replay:
        """One scenario at one intensity on repeat ``r``."""
        return self._replay(self._apply(scenario, intensity, r), r)

    def _replay(self, result: Any, r: int) -> Replay:
        """Score one applied scenario (a ``ScenarioResult``) on repeat ``r``."""
        rep = self._repeat(r)
        try:
            delay, first, ran = self._detect(result.data, rep.at_onset, self.reader_,
                                             rep.clean_signals)
            harm = self._harm(result.data, rep)
        except (ValueError, TypeError, DriftwiseError) as exc:
            if isinstance(exc, DriftwiseError) and not isinstance(exc, SchemaError):
                raise
            # The model itself failed on the changed data (a crash a server would return).
            return Replay(r, False, None, (), None, 0,
                          f"the model failed on the changed data: {exc}")
        return Replay(r, delay is not None, delay, tuple(s.id for s in first), harm, ran)

    def _first_windows(self, changed: pa.Table, at_onset: Monitor, reader: SignalReader,
                       clean: list[set[str]]) -> dict[str, tuple[int, Signal]]:
        """Every signal's first window (as a delay) firing where the clean replay did not;
        all post-onset windows are run."""
        monitor = copy.deepcopy(at_onset)
        first: dict[str, tuple[int, Signal]] = {}
        for w in range(self.onset_window, self.windows):
            window = self.serving_.attach(self._window(changed, w))
            for key, signal in self._signals(monitor, reader, window, w).items():
                if key not in clean[w] and key not in first:
                    first[key] = (w - self.onset_window, signal)
        return first

    def would_catch(self, scenario: Scenario, intensity: float) -> Catch | None:
        """Replay the all-checks Monitor on a scenario: the check that catches it in the
        most repeats, then soonest, then the one that fires least on clean windows."""
        caught: dict[str, list[int]] = {}
        signals: dict[str, Signal] = {}
        for r in range(self.repeats):
            clean, at_onset = self._oracle_clean(r)
            result = self._apply(scenario, intensity, r)
            try:
                found = self._first_windows(result.data, at_onset, self.oracle_reader_, clean)
            except (ValueError, TypeError, SchemaError):
                continue
            for key, (delay, signal) in found.items():
                caught.setdefault(key, []).append(delay)
                signals.setdefault(key, signal)
        if not caught:
            return None
        clean_windows = [w for r in range(self.repeats) for w in self._oracle_clean(r)[0]]
        order = list(signals)

        def rank(key: str) -> tuple[int, float, int, int]:
            fired_clean = sum(key in w for w in clean_windows)
            return (-len(caught[key]), float(np.median(caught[key])), fired_clean,
                    order.index(key))

        best = min(caught, key=rank)
        signal = signals[best]
        return Catch(signal.check, signal.section, signal.rule,
                     len(caught[best]) / self.repeats, float(np.median(caught[best])),
                     sum(best in w for w in clean_windows) / len(clean_windows))

    def run(self, scenarios: Sequence[Scenario | str] | None = None,
            intensities: Sequence[float] = DEFAULT_INTENSITIES,
            progress: Callable[[str], None] | None = None) -> Scorecard:
        """Replay the clean windows and each scenario at each intensity; score them."""
        if not hasattr(self, "monitor_"):
            from driftwise.errors import NotFittedError

            raise NotFittedError("PurpleTeam: call fit(reference) first")
        if scenarios is None or any(isinstance(s, str) for s in scenarios):
            from driftwise.redteam.catalogue import SCENARIOS, make_scenario

            scenarios = list(SCENARIOS) if scenarios is None else scenarios
            chosen = [make_scenario(s) if isinstance(s, str) else s for s in scenarios]
        else:
            chosen = [s for s in scenarios if isinstance(s, Scenario)]
        levels = sorted({float(i) for i in intensities})
        scores: list[ScenarioScore] = []
        skipped: dict[str, str] = {}
        for scenario in chosen:
            strongest = levels[-1] if levels[-1] > 0 else 1.0
            try:  # intensity 0 never reaches the generator: probe at the strongest level
                probe = self._apply(scenario, strongest, 0)
            except SchemaError as exc:
                skipped[scenario.name] = str(exc)
                continue
            for level in levels:
                if progress is not None:
                    progress(f"{scenario.name} at {level:g}")
                first = probe if level == strongest else self._apply(scenario, level, 0)
                replays = (self._replay(first, 0), *(self.replay(scenario, level, r)
                                                      for r in range(1, self.repeats)))
                score = ScenarioScore(scenario.name, scenario.kind, level, first.description,
                                      probe.changed_columns, replays, self.harm_threshold)
                if score.gap:
                    score = dataclasses.replace(
                        score, would_catch=self.would_catch(scenario, level))
                scores.append(score)
        return Scorecard(self.config_.name, self.metric_, self.reference_metric_,
                         self.window_rows_, self.windows, self.onset_window, self.repeats,
                         self.harm_threshold,
                         "alerts" if self.reader_.use_alerts else "checks",
                         self._clean_summary(), tuple(scores), skipped,
                         {"fit_share": self.fit_share, "seed": self.seed,
                          "intensities": levels,
                          "held_out_rows": self.held_out_.num_rows})

    def _clean_summary(self) -> CleanReplays:
        windows = alarmed = 0
        by_signal: Counter[str] = Counter()
        for r in range(self.repeats):
            for fired in self._repeat(r).clean_signals:
                windows += 1
                alarmed += bool(fired)
                by_signal.update(fired)
        return CleanReplays(windows, alarmed, dict(by_signal))
