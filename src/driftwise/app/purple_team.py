"""The purple-team use case: a saved model, a reference file and a Monitor config in, a
scorecard out (``driftwise purple-team``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from driftwise._text import one_line
from driftwise.config.monitor import MonitorConfig
from driftwise.config.schema import open_config
from driftwise.data import ReadOptions, to_table
from driftwise.errors import ConfigError, UsageError
from driftwise.redteam.purple import DEFAULT_INTENSITIES, PurpleTeam
from driftwise.redteam.scorecard import Scorecard


def load_model(path: str | os.PathLike[str]) -> Any:
    """The model saved with ``joblib.dump`` at ``path``.

    Loading a joblib (pickle) file runs code from it: load only models you trust, as with
    any pickled scikit-learn model.
    """
    import joblib  # type: ignore[import-untyped]

    where = one_line(os.fspath(path))
    if not os.path.isfile(path):
        raise UsageError(f"--model {where}: no such file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # joblib raises whatever unpickling raised
        raise UsageError(f"--model {where}: not a model saved with joblib.dump "
                         f"({type(exc).__name__}: {one_line(str(exc))[:200]})") from None
    if not (hasattr(model, "predict_proba") or hasattr(model, "predict")):
        raise UsageError(f"--model {where}: a {type(model).__name__} has neither "
                         "predict_proba nor predict")
    return model


def monitor_config(path: str | os.PathLike[str]) -> MonitorConfig:
    """The Monitor configuration at ``path`` (a drift-only config is refused)."""
    opened = open_config(path)
    if not isinstance(opened, MonitorConfig):
        raise ConfigError(f"{one_line(os.fspath(path))}: not a Monitor configuration (it "
                          "has no model: section)")
    return opened


def purple_team_files(model: str | os.PathLike[str], reference: str | os.PathLike[str],
                      config: str | os.PathLike[str], *,
                      scenarios: Sequence[str] | None = None,
                      intensities: Sequence[float] = DEFAULT_INTENSITIES,
                      repeats: int = 3, windows: int = 8, onset_window: int = 3,
                      window_rows: int | None = None, metric: str | None = None,
                      harm_threshold: float = 0.02, seed: int = 0,
                      read: ReadOptions | None = None,
                      progress: Callable[[str], None] | None = None) -> Scorecard:
    """Fit the purple team on the files and run every (or the named) scenario."""
    from driftwise.redteam.catalogue import make_scenario

    cfg = monitor_config(config)
    chosen = [make_scenario(name) for name in scenarios] if scenarios else None
    if not intensities:
        raise UsageError("--intensities: give at least one intensity")
    loaded = load_model(model)
    table = to_table(reference, read)
    team = PurpleTeam(loaded, cfg, windows=windows, onset_window=onset_window,
                      window_rows=window_rows, repeats=repeats,
                      harm_threshold=harm_threshold, metric=metric, seed=seed).fit(table)
    return team.run(chosen, intensities, progress=progress)
