"""The exit-code contract under every input: 0 no drift, 1 drift and nothing else, 2 bad
input or usage, 3 a bug (one line; the traceback only when asked), 130 interrupted; output
paths checked before any work; names printed literally."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import driftwise.app
from tests.hostile.helpers import assert_bad_input, assert_verdict, cli, frame, write_pair

DRIFTWISE = str(Path(sys.executable).parent / "driftwise")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path, shift=1.0)


def _boom(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("a bug deep inside")


# -- 3: internal errors ----------------------------------------------------------------
def test_a_bug_exits_3_with_one_line_and_no_traceback(pair, monkeypatch) -> None:
    monkeypatch.setattr(driftwise.app, "report_files", _boom)
    monkeypatch.delenv("DRIFTWISE_DEBUG", raising=False)
    outcome = cli("check", *pair)
    assert outcome.code == 3
    assert outcome.stderr.count("\n") == 1 and "Traceback" not in outcome.stderr
    assert "internal error" in outcome.stderr and "ZeroDivisionError" in outcome.stderr
    assert "please report it" in outcome.stderr and "--debug" in outcome.stderr


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_traceback_is_shown_when_asked(pair, monkeypatch, how) -> None:
    monkeypatch.setattr(driftwise.app, "report_files", _boom)
    if how == "flag":
        outcome = cli("--debug", "check", *pair)
    else:
        monkeypatch.setenv("DRIFTWISE_DEBUG", "1")
        outcome = cli("check", *pair)
    assert outcome.code == 3
    assert "Traceback" in outcome.stderr and "_boom" in outcome.stderr


def test_a_bug_in_a_real_process_exits_3(pair) -> None:
    code = ("import driftwise.app, sys\n"
            "def boom(*a, **k):\n    raise KeyError('lost')\n"
            "driftwise.app.report_files = boom\n"
            "from driftwise.cli import main\nsys.argv = ['driftwise', 'check', *sys.argv[1:]]\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, pair)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DRIFTWISE_DEBUG": ""})
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" in proc.stderr


def test_an_interrupt_exits_130(pair, monkeypatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(driftwise.app, "report_files", interrupted)
    outcome = cli("check", *pair)
    assert outcome.code == 130 and "interrupted" in outcome.stderr


# -- 1 only for drift; 2 for usage ------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("check",), ("check", "only_one.csv"), ("frobnicate",), ("check", "a", "b", "--bogus"),
    ("check", "a", "b", "--alpha", "lots"), ("report", "a", "b", "--alpha", "nan"),
    ("profile", "a.csv"), ("config",), ("config", "check"),
])
def test_usage_errors_exit_2_never_1(args) -> None:
    outcome = cli(*args)
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.stderr


def test_no_arguments_shows_help_and_exits_2() -> None:
    outcome = cli()
    assert outcome.code == 2 and "Usage" in outcome.stderr


def test_help_and_version_exit_0() -> None:
    assert cli("--help").code == 0
    assert cli("check", "--help").code == 0
    version = cli("--version")
    assert version.code == 0 and version.stdout.startswith("driftwise ")


def test_drift_exits_1_and_no_drift_0(pair) -> None:
    ref, cur = pair
    assert_verdict(cli("check", ref, cur), drift=True)
    assert_verdict(cli("check", ref, ref), drift=False)
    assert cli("report", ref, cur).code == 0  # report is not a gate


def test_real_processes_keep_the_contract(pair, tmp_path) -> None:
    ref, cur = pair

    def code(*args: str | Path) -> int:
        return subprocess.run([DRIFTWISE, *map(str, args)], capture_output=True,
                              timeout=120).returncode

    assert code("check", ref, ref) == 0
    assert code("check", ref, cur) == 1
    assert code("check", ref, tmp_path / "missing.csv") == 2
    assert code("check", ref) == 2


def test_a_reader_that_leaves_early_is_not_a_drift_verdict(pair) -> None:
    ref, cur = pair
    proc = subprocess.run(f"'{DRIFTWISE}' check '{ref}' '{cur}' --json - | head -c 10",
                          shell=True, capture_output=True, text=True, timeout=120,
                          executable="/bin/bash")
    assert "Traceback" not in proc.stderr
    status = subprocess.run(f"set -o pipefail; '{DRIFTWISE}' check '{ref}' '{cur}' --json - "
                            "| head -c 10 > /dev/null; echo ${PIPESTATUS[0]}", shell=True,
                            capture_output=True, text=True, timeout=120,
                            executable="/bin/bash").stdout.strip()
    assert status in ("1", "2"), status  # the verdict if it was written, else bad usage


# -- outputs are checked before the computation starts ------------------------------------
@pytest.mark.parametrize(("option", "target", "message"), [
    ("--json", "/nonexistent/dir/out.json", "does not exist"),
    ("--html", "/nonexistent/dir/out.html", "does not exist"),
    ("--html", "-", "only --json can be written to stdout"),
    ("--json", "{tmp}", "is a folder"),
    ("--json", "{ref}", "that is an input file"),
])
def test_bad_outputs_are_refused_before_any_work(pair, tmp_path, monkeypatch, option, target,
                                                 message) -> None:
    ref, cur = pair
    monkeypatch.setattr(driftwise.app, "report_files", _boom)  # must never be reached
    path = target.format(tmp=tmp_path, ref=ref)
    assert_bad_input(cli("check", ref, cur, option, path), option, message)


def test_a_fifo_output_is_refused(pair, tmp_path) -> None:
    ref, cur = pair
    fifo = tmp_path / "out.html"
    os.mkfifo(fifo)
    assert_bad_input(cli("check", ref, cur, "--html", fifo), "--html", "FIFO")


def test_two_outputs_on_one_file(pair, tmp_path) -> None:
    ref, cur = pair
    out = tmp_path / "same.out"
    assert_bad_input(cli("check", ref, cur, "--json", out, "--html", out), "--html",
                     "same file as --json")


def test_profile_output_checked_first(pair, monkeypatch) -> None:
    monkeypatch.setattr(driftwise.app, "profile_files", _boom)
    assert_bad_input(cli("profile", pair[0], "-o", "/nonexistent/x.profile"), "-o",
                     "does not exist")


# -- names are printed literally ------------------------------------------------------------
def test_markup_and_control_characters_in_names_are_printed_literally(tmp_path) -> None:
    names = ["[bold red]x[/]", "y\x1b[31m", "c\nnewline", "amount"]
    ref, cur = frame(300, 0.0, 1), frame(300, 1.0, 2)
    ref.columns = cur.columns = names
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    outcome = cli("report", tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    assert outcome.code == 0
    assert "[bold red]x[/]" in outcome.stdout
    assert "y\\x1b[31m" in outcome.stdout and "\x1b" not in outcome.stdout
    assert "c\\nnewline" in outcome.stdout


def test_an_error_about_a_strange_name_stays_one_literal_line(tmp_path) -> None:
    name = "[red]evil[/]\nline2\x1b[2J"
    pd.DataFrame({name: [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "ref.parquet")
    pd.DataFrame({name: [None, None, None]}, dtype=float).to_parquet(tmp_path / "cur.parquet")
    outcome = cli("check", tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    assert_bad_input(outcome, "[red]evil[/]\\nline2\\x1b[2J")
    assert "\x1b" not in outcome.stderr


def test_a_path_with_brackets_is_printed_as_is(tmp_path) -> None:
    odd = tmp_path / "[bold]data[link=x]"
    odd.mkdir()
    ref, _ = write_pair(odd)
    assert_bad_input(cli("check", ref, odd / "gone.csv"), "[bold]data[link=x]/gone.csv")
