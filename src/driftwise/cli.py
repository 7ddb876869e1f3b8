"""The driftwise command line: thin commands over the library.

Exit codes of ``driftwise check``: 0 no drift, 1 drift, 2 bad input or usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from driftwise._version import __version__
from driftwise.errors import DriftwiseError

app = typer.Typer(
    name="driftwise",
    help="Watch ML models in production: data drift, quality and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Reports piped to a file or a CI log get a wide table instead of an 80-column squeeze.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_OK, EXIT_DRIFT, EXIT_BAD_INPUT = 0, 1, 2

Reference = Annotated[str, typer.Argument(help="Reference CSV/Parquet file, Parquet folder, "
                                               "or a saved .profile.")]
Current = Annotated[str, typer.Argument(help="Current CSV/Parquet file or Parquet folder.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML configuration.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the JSON report here "
                                                             "('-' for stdout).")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML "
                                                             "report here.")]
NumericOpt = Annotated[str | None, typer.Option("--numeric-test", help="ks, anderson, cvm, "
                       "mannwhitney, wasserstein, energy, psi, jensenshannon, kl, hellinger, "
                       "auto.")]
CategoricalOpt = Annotated[str | None, typer.Option("--categorical-test", help="chi2, g_test, "
                           "fisher, psi, jensenshannon, tvd, hellinger, auto.")]
CorrectionOpt = Annotated[str | None, typer.Option("--correction",
                                                   help="fdr, bonferroni or none.")]
AlphaOpt = Annotated[float | None, typer.Option("--alpha", help="Significance level.")]
TargetOpt = Annotated[str | None, typer.Option("--target", help="Target column.")]
PredictionOpt = Annotated[str | None, typer.Option("--prediction", help="Prediction column.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Column to leave out "
                                                      "(repeatable).")]


def _fail(exc: DriftwiseError) -> typer.Exit:
    err.print(f"[bold red]driftwise: error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int], Callable[[str], None]]]:
    """Yields ``start(label, total) -> advance(name)``; a rich bar only on a terminal."""
    if not enabled:
        yield lambda label, total: (lambda name: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[column]}"), transient=True, console=err) as bar:

        def start(label: str, total: int) -> Callable[[str], None]:
            task = bar.add_task(label, total=total, column="")
            return lambda name: bar.update(task, advance=1, column=name)

        yield start


def _emit_monitor(run: Any, json_out: Path | None, html_out: Path | None) -> None:
    if json_out is not None:
        if str(json_out) == "-":
            sys.stdout.write(run.to_json() + "\n")
        else:
            run.to_json(json_out)
            err.print(f"JSON report: {json_out}", highlight=False)
    if html_out is not None:
        from driftwise.report.monitor_html import render_monitor_html

        html_out.write_text(render_monitor_html(run.to_dict()), encoding="utf-8")
        err.print(f"HTML monitor report ({len(run.results)} windows): {html_out}",
                  highlight=False)
    if str(json_out) != "-":
        from driftwise.report.monitor_summary import print_monitor_summary

        print_monitor_summary(run, out)


def _run_report(reference: str, current: str, config: Path | None, numeric_test: str | None,
                categorical_test: str | None, correction: str | None, alpha: float | None,
                target: str | None, prediction: str | None, exclude: list[str] | None) -> Any:
    from driftwise.data import to_table
    from driftwise.monitor.job import is_monitor_config, run_monitor

    if config is not None and is_monitor_config(config):
        return run_monitor(config, reference, current)
    from driftwise.detect import DriftDetector, ReferenceProfile
    from driftwise.detect.config import detector_params, load_config
    from driftwise.detect.profile import is_profile_file

    cfg = load_config(config) if config is not None else None
    is_profile = is_profile_file(reference)
    saved = ReferenceProfile.load(reference)[1] if is_profile else None
    params = detector_params(cfg, saved, numeric_test=numeric_test,
                             categorical_test=categorical_test, correction=correction,
                             alpha=alpha, target=target, prediction=prediction,
                             exclude=exclude)
    detector = DriftDetector(**params)
    with _progress(sys.stdout.isatty()) as start:
        if is_profile:
            detector.fit(reference)
        else:
            ref_table = to_table(reference)
            advance = start("profiling reference", ref_table.num_columns)
            detector.fit(ref_table, name=Path(reference).name, progress=advance)
            del ref_table
        table = to_table(current)
        advance = start("comparing", len(detector.profile_.columns))
        return detector.compare(table, name=Path(current).name, progress=advance)


def _emit(report: Any, json_out: Path | None, html_out: Path | None) -> None:
    from driftwise.monitor.job import MonitorRun

    if isinstance(report, MonitorRun):
        _emit_monitor(report, json_out, html_out)
        return
    if json_out is not None:
        if str(json_out) == "-":
            sys.stdout.write(report.to_json() + "\n")
        else:
            report.to_json(json_out)
            err.print(f"JSON report: {json_out}", highlight=False)
    if html_out is not None:
        from driftwise.report import render_html

        html_out.write_text(render_html(report.to_dict()), encoding="utf-8")
        err.print(f"HTML report: {html_out}", highlight=False)
    if str(json_out) != "-":
        from driftwise.report import print_summary

        print_summary(report, out)
        _print_parts(report)


def _print_parts(report: Any) -> None:
    """One line per multivariate / embedding / text result (details in JSON and HTML)."""
    parts = ([report.multivariate] if report.multivariate is not None else []) + [
        *report.embeddings, *report.text]
    for part in parts:
        label = getattr(part, "name", None) or "multivariate: " + ", ".join(part.columns)
        if part.skipped:
            out.print(f"{label}: skipped ({part.skipped})", highlight=False)
            continue
        verdict = "[bold red]DRIFT[/]" if part.drift_detected else "[green]ok[/]"
        facts = []
        for view in ("mmd", "classifier"):
            result = getattr(part, view, None)
            if result is not None and view == "mmd":
                facts.append(f"MMD p={result.p_value:.3g}")
            elif result is not None:
                top = ", ".join(f.feature for f in result.top_features[:3])
                facts.append(f"classifier AUC={result.auc:.3f}" + (f" ({top})" if top else ""))
        vocab = getattr(part, "vocabulary", None)
        if vocab is not None:
            facts.append("gained: " + ", ".join(t.term for t in vocab.gained[:5]))
        out.print(f"{label}: {verdict} {'; '.join(facts)}", highlight=False)


def _report_and_emit(reference: str, current: str, config: Path | None,
                     json_out: Path | None, html_out: Path | None, *options: Any) -> Any:
    """The body of ``report`` and ``check``: run, write, print; bad input exits 2."""
    try:
        result = _run_report(reference, current, config, *options)
        _emit(result, json_out, html_out)
    except DriftwiseError as exc:
        raise _fail(exc) from None
    return result


@app.command()
def report(reference: Reference, current: Current, config: ConfigOpt = None,
           json_out: JsonOpt = None, html_out: HtmlOpt = None,
           numeric_test: NumericOpt = None, categorical_test: CategoricalOpt = None,
           correction: CorrectionOpt = None, alpha: AlphaOpt = None,
           target: TargetOpt = None, prediction: PredictionOpt = None,
           exclude: ExcludeOpt = None) -> None:
    """Compare CURRENT with REFERENCE column by column; print and write the report."""
    _report_and_emit(reference, current, config, json_out, html_out, numeric_test,
                     categorical_test, correction, alpha, target, prediction, exclude)


@app.command()
def check(reference: Reference, current: Current, config: ConfigOpt = None,
          json_out: JsonOpt = None, html_out: HtmlOpt = None,
          numeric_test: NumericOpt = None, categorical_test: CategoricalOpt = None,
          correction: CorrectionOpt = None, alpha: AlphaOpt = None,
          target: TargetOpt = None, prediction: PredictionOpt = None,
          exclude: ExcludeOpt = None) -> None:
    """Like report, as a quality gate: exit 0 no drift, 1 drift, 2 bad input."""
    result = _report_and_emit(reference, current, config, json_out, html_out, numeric_test,
                              categorical_test, correction, alpha, target, prediction, exclude)
    from driftwise.monitor.job import MonitorRun

    drifted = result.alerted if isinstance(result, MonitorRun) else result.drift_detected
    raise typer.Exit(EXIT_DRIFT if drifted else EXIT_OK)


@app.command()
def profile(reference: Annotated[str, typer.Argument(help="Reference CSV/Parquet file or "
                                                          "Parquet folder.")],
            output: Annotated[Path, typer.Option("-o", "--output", help="Profile file to "
                                                 "write.")],
            config: ConfigOpt = None, numeric_test: NumericOpt = None,
            categorical_test: CategoricalOpt = None, correction: CorrectionOpt = None,
            alpha: AlphaOpt = None, target: TargetOpt = None,
            prediction: PredictionOpt = None, exclude: ExcludeOpt = None,
            rows: Annotated[bool, typer.Option(
                "--rows/--no-rows", help="Keep a sample of up to 20,000 whole rows for the "
                "multivariate, embedding and text checks (--no-rows: only per-column "
                "summaries; those checks are then skipped).")] = True) -> None:
    """Fit REFERENCE once and save its profile (usable wherever REFERENCE is accepted)."""
    from driftwise.detect import DriftDetector
    from driftwise.detect.config import detector_params, load_config

    try:
        cfg = load_config(config) if config is not None else None
        params = detector_params(cfg, None, numeric_test=numeric_test,
                                 categorical_test=categorical_test, correction=correction,
                                 alpha=alpha, target=target, prediction=prediction,
                                 exclude=exclude)
        detector = DriftDetector(**params).fit(reference)
        detector.save(output, rows=rows)
    except DriftwiseError as exc:
        raise _fail(exc) from None
    p = detector.profile_
    kept = f", {p.rows.num_rows:,} rows sampled" if rows and p.rows is not None else ""
    out.print(f"profile of {p.name}: {p.n_rows:,} rows, {len(p.columns)} columns{kept} -> "
              f"{output}", highlight=False)


@app.command()
def demo(out_dir: Annotated[Path, typer.Option("--out", help="Folder for the HTML reports.")]
         = Path("out/demo")) -> None:
    """Run the batch demo on real electricity-market data: drift per quarter."""
    from driftwise.demo import run_demo

    try:
        run_demo(out_dir, out)
    except DriftwiseError as exc:
        raise _fail(exc) from None


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"driftwise {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                                is_eager=True, help="Show the version.")]
          = False) -> None:
    """driftwise: watch ML models in production."""


def main() -> None:
    """Console-script entry point."""
    app()
