"""Running the CLI as a hostile user would, and what every answer must look like.

The in-process runner calls :func:`driftwise.cli.run`, the function the console script
exits with, so the exit code is the one a shell sees; a few tests in test_hostile_cli.py
also run the real process.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from driftwise.cli import run

ERROR_LINE = re.compile(r"^driftwise: error: [^\n]+\n$")


@dataclass(frozen=True)
class Outcome:
    """What one CLI run produced."""

    code: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        return self.stderr.strip()


def cli(*args: str | Path) -> Outcome:
    """Run ``driftwise ARGS`` in this process; return exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_bad_input(outcome: Outcome, *culprits: str) -> None:
    """Exit 2, one ``driftwise: error:`` line naming every culprit, no traceback."""
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.stderr + outcome.stdout, outcome.stderr
    assert ERROR_LINE.match(outcome.stderr), outcome.stderr
    for culprit in culprits:
        assert culprit in outcome.stderr, (culprit, outcome.stderr)


def assert_verdict(outcome: Outcome, drift: bool) -> None:
    """A valid input: exit 1 for drift, 0 for none, and no error line."""
    assert outcome.code == (1 if drift else 0), outcome
    assert "driftwise: error" not in outcome.stderr, outcome.stderr
    assert "Traceback" not in outcome.stderr, outcome.stderr


def frame(n: int = 400, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A small mixed table; ``shift`` moves ``x`` by that many standard deviations."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(shift, 1.0, n),
        "amount": rng.exponential(1.0, n),
        "grade": rng.integers(0, 4, n),
        "city": rng.choice(["north", "south", "east"], n),
    })


def write_pair(folder: Path, shift: float = 1.0, n: int = 400) -> tuple[Path, Path]:
    """``ref.csv`` and ``cur.csv`` (``x`` shifted by ``shift`` sd in the current one)."""
    ref, cur = folder / "ref.csv", folder / "cur.csv"
    frame(n, 0.0, 1).to_csv(ref, index=False)
    frame(n, shift, 2).to_csv(cur, index=False)
    return ref, cur
