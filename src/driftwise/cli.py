"""The driftwise command line: thin commands over :mod:`driftwise.app`.

Exit codes, kept under every input (``driftwise check`` is a CI gate):

* 0 — no drift (or a command that succeeded);
* 1 — drift: nothing else ever exits 1;
* 2 — bad input or usage: one ``driftwise: error:`` line naming the file, column, key or flag;
* 3 — an internal error (a bug): one line saying so and how to report it; the traceback only
  with ``--debug`` or ``DRIFTWISE_DEBUG=1``;
* 130 — interrupted (Ctrl-C).

Every message is one line of plain text: names holding brackets or control characters are
printed literally, escaped.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as click  # typer 0.29 vendors click: its exceptions

from driftwise._lazy import instance_of
from driftwise._text import one_line
from driftwise._version import __version__
from driftwise.errors import ConfigError, DriftwiseError, NotFoundError, UsageError

app = typer.Typer(
    name="driftwise",
    help="Watch ML models in production: data drift, quality and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
config_app = typer.Typer(help="The configuration file: its JSON Schema, and checking a file.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(config_app, name="config")
keys_app = typer.Typer(help="API keys of the service: create, list, revoke.", rich_markup_mode=None,
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")
quarantine_app = typer.Typer(help="Records /screen held back: list, show, release, discard "
                             "(on the service's store, like `keys`).", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
incident_app = typer.Typer(help="Incidents: list, export the trail as JSON, add a note (on "
                           "the service's store, like `keys`).", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
block_app = typer.Typer(help="Client keys and segments /screen quarantines outright: list, "
                        "add, lift (on the service's store).", no_args_is_help=True)
app.add_typer(block_app, name="block")
expectations_app = typer.Typer(help="Data expectations: propose a suite from a reference "
                               "(docs/expectations.md).", no_args_is_help=True,
                               rich_markup_mode=None)
app.add_typer(expectations_app, name="expectations")

# Reports piped to a file or a CI log get a wide table instead of an 80-column squeeze.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_OK, EXIT_DRIFT, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ISSUES = "https://github.com/driftwise/driftwise/issues"

Reference = Annotated[str, typer.Argument(help="Reference CSV/Parquet file, Parquet folder, "
                                               "or a saved .profile.", show_default=False)]
Current = Annotated[str, typer.Argument(help="Current CSV/Parquet file or Parquet folder.",
                                        show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML configuration (drift "
                                                "settings, or a Monitor's).")]
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
EngineOpt = Annotated[str, typer.Option("--engine", help="memory (default: this process, "
                      "every core) or dask (Parquet files/folders profiled in Dask workers; "
                      "pip install 'driftwise[dask]'; see docs/scale.md).")]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Address of an existing "
                         "Dask scheduler (tcp://host:8786) for --engine dask; by default a "
                         "LocalCluster is started and stopped.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="Worker processes of the "
                       "LocalCluster --engine dask starts (default: one per core).")]
DelimiterOpt = Annotated[str | None, typer.Option("--delimiter", help="CSV delimiter (one "
                         "character; default: sniffed among , ; tab |; 'tab' for a tab).")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of CSV files.")]
NaOpt = Annotated[list[str] | None, typer.Option("--na-values", help="A string read as a "
                  "missing value in CSV files (repeatable; replaces the default list NA, N/A, "
                  "NULL, NaN, nan, null, #N/A... ; --na-values '' keeps only empty fields).")]


def _read_options(delimiter: str | None, encoding: str, na_values: list[str] | None) -> Any:
    from driftwise.data import ReadOptions

    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(delimiter, delimiter) if delimiter is not None else None
    return _flagged(ReadOptions, {"delimiter": delimiter, "encoding": encoding,
                                  "na_values": na_values},
                    {"delimiter": "--delimiter", "encoding": "--encoding",
                     "na_values": "--na-values"})


def _drift_options(**values: Any) -> Any:
    from driftwise.app.reporting import FLAGS, DriftOptions

    values["exclude"] = list(values.get("exclude") or [])
    return _flagged(DriftOptions, values, FLAGS)


def _flagged(model: Any, values: dict[str, Any], flags: dict[str, str]) -> Any:
    """Validate options, naming the flag (``--alpha: ...``) in any error."""
    try:
        return model(**values)
    except ConfigError as exc:
        text = str(exc)
        key = text.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        if key in flags:
            text = flags[key] + text[len(key):]
        raise ConfigError(text) from None


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
            return lambda name: bar.update(task, advance=1, column=escape(one_line(name)))

        yield start


def _note(text: str) -> None:
    """One line to stderr, printed literally."""
    sys.stderr.write(one_line(text) + "\n")


def _emit(result: Any, json_out: Path | None, html_out: Path | None) -> None:
    from driftwise.app import write_html, write_json

    is_run = instance_of(result, "driftwise.monitor.run", "MonitorRun")
    to_stdout = json_out is not None and str(json_out) == "-"
    if to_stdout:
        sys.stdout.write(result.to_json() + "\n")
    elif json_out is not None:
        write_json(result, json_out)
        _note(f"JSON report: {json_out}")
    if html_out is not None:
        write_html(result, html_out)
        windows = f" ({len(result.results)} windows)" if is_run else ""
        _note(f"HTML {'monitor ' if windows else ''}report{windows}: {html_out}")
    if to_stdout:
        return
    if is_run:
        from driftwise.report.monitor_summary import print_monitor_summary

        print_monitor_summary(result, out)
        return
    from driftwise.report import print_summary
    from driftwise.report.summary import print_parts

    print_summary(result, out)
    print_parts(result, out)


def _report(reference: str, current: str, config: Path | None, json_out: Path | None,
            html_out: Path | None, read: Any, engine: tuple[str, str | None, int | None],
            **flags: Any) -> Any:
    """The body of ``report`` and ``check``: options checked, outputs checked, run, write."""
    from driftwise.app import check_outputs, report_files
    from driftwise.app.engines import open_engine

    options = _drift_options(**flags)
    check_outputs([("--json", json_out), ("--html", html_out)],
                  inputs=[reference, current, config])
    name, scheduler, workers = engine
    with _progress(sys.stderr.isatty()) as start, \
            open_engine(name, scheduler=scheduler, workers=workers) as chosen:
        result = report_files(reference, current, config=config, options=options, read=read,
                              progress=start, engine=chosen)
    _emit(result, json_out, html_out)
    return result


def _comparison(gate: bool) -> Callable[..., None]:
    """The ``report`` (``gate=False``) or ``check`` command: one signature, one body."""

    def command(reference: Reference, current: Current, config: ConfigOpt = None,
                json_out: JsonOpt = None, html_out: HtmlOpt = None,
                numeric_test: NumericOpt = None, categorical_test: CategoricalOpt = None,
                correction: CorrectionOpt = None, alpha: AlphaOpt = None,
                target: TargetOpt = None, prediction: PredictionOpt = None,
                exclude: ExcludeOpt = None, delimiter: DelimiterOpt = None,
                encoding: EncodingOpt = "utf-8", na_values: NaOpt = None,
                engine: EngineOpt = "memory", scheduler: SchedulerOpt = None,
                workers: WorkersOpt = None) -> None:
        result = _report(reference, current, config, json_out, html_out,
                         _read_options(delimiter, encoding, na_values),
                         (engine, scheduler, workers),
                         numeric_test=numeric_test, categorical_test=categorical_test,
                         correction=correction, alpha=alpha, target=target,
                         prediction=prediction, exclude=exclude)
        if gate:
            drifted = result.alerted if instance_of(result, "driftwise.monitor.run",
                                                    "MonitorRun") else result.drift_detected
            raise typer.Exit(EXIT_DRIFT if drifted else EXIT_OK)

    return command


app.command("report", help="Compare CURRENT with REFERENCE column by column; print and write "
            "the report.")(_comparison(gate=False))
app.command("check", help="Like report, as a quality gate: exit 0 no drift, 1 drift, 2 bad "
            "input or usage, 3 an internal error.")(_comparison(gate=True))


@app.command()
def profile(reference: Annotated[str, typer.Argument(help="Reference CSV/Parquet file or "
                                                          "Parquet folder.",
                                                     show_default=False)],
            output: Annotated[Path, typer.Option("-o", "--output", help="Profile file to "
                                                 "write (its name ends in .profile).")],
            config: ConfigOpt = None, numeric_test: NumericOpt = None,
            categorical_test: CategoricalOpt = None, correction: CorrectionOpt = None,
            alpha: AlphaOpt = None, target: TargetOpt = None,
            prediction: PredictionOpt = None, exclude: ExcludeOpt = None,
            rows: Annotated[bool, typer.Option(
                "--rows/--no-rows", help="Keep a sample of up to 20,000 whole rows for the "
                "multivariate, embedding and text checks (--no-rows: only per-column "
                "summaries; those checks are then skipped).")] = True,
            delimiter: DelimiterOpt = None, encoding: EncodingOpt = "utf-8",
            na_values: NaOpt = None,
            grid: Annotated[int | None, typer.Option(
                "--grid", help="Summarise each numeric column on this many cells of its "
                "quantiles (e.g. 2048): a compact, mergeable profile whose tests account "
                "for the grid (docs/scale.md); default: exact sorted values.")] = None,
            engine: EngineOpt = "memory", scheduler: SchedulerOpt = None,
            workers: WorkersOpt = None) -> None:
    """Fit REFERENCE once and save its profile (usable wherever REFERENCE is accepted)."""
    from driftwise.app import check_outputs, profile_files
    from driftwise.app.engines import open_engine

    read = _read_options(delimiter, encoding, na_values)
    options = _drift_options(numeric_test=numeric_test, categorical_test=categorical_test,
                             correction=correction, alpha=alpha, target=target,
                             prediction=prediction, exclude=exclude)
    check_outputs([("-o", output)], inputs=[reference, config])
    with _progress(sys.stderr.isatty()) as start, \
            open_engine(engine, scheduler=scheduler, workers=workers) as chosen:
        p = profile_files(reference, output, config=config, options=options, read=read,
                          rows=rows, progress=start, engine=chosen, grid=grid)
    kept = f", {p.rows.num_rows:,} rows sampled" if rows and p.rows is not None else ""
    out.print(escape(one_line(f"profile of {p.name}: {p.n_rows:,} rows, {len(p.columns)} "
                              f"columns{kept} -> {output}")), highlight=False)


@expectations_app.command("suggest")
def expectations_suggest(
        reference: Annotated[str, typer.Argument(help="Reference CSV/Parquet file or Parquet "
                                                      "folder.", show_default=False)],
        output: Annotated[Path, typer.Option("-o", "--output", help="Suite file to write "
                                             "(YAML; '-' for stdout).")],
        window_rows: Annotated[int, typer.Option(
            "--window-rows", help="Rows of the windows the suite will check: each share "
            "rule's margin is set for windows of this size.")] = 1000,
        alpha: Annotated[float, typer.Option(
            "--alpha", help="Each rule's false-failure rate on a window drawn like the "
            "reference.")] = 0.01,
        column: Annotated[list[str] | None, typer.Option(
            "--column", help="Suggest for this column only (repeatable).")] = None,
        delimiter: DelimiterOpt = None, encoding: EncodingOpt = "utf-8",
        na_values: NaOpt = None) -> None:
    """Propose expectations (types, missing shares, ranges, allowed values, lengths,
    uniqueness, order) from REFERENCE, with margins stated in the file."""
    import yaml

    from driftwise.app.outputs import check_outputs
    from driftwise.data import read_path
    from driftwise.expect import suggest

    read = _read_options(delimiter, encoding, na_values)
    if str(output) != "-":
        check_outputs([("-o", output)], inputs=[reference])
    suite = suggest(read_path(reference, read), window_rows=window_rows, alpha=alpha,
                    columns=column)
    header = (f"# Expectations suggested by driftwise {__version__} from {one_line(reference)}"
              f"\n# Each share rule fails a window of {window_rows} rows drawn like the "
              f"reference with probability at most about {alpha:g} (docs/expectations.md).\n")
    text = header + yaml.safe_dump(suite.to_yaml_dict(), sort_keys=False,
                                   allow_unicode=True)
    if str(output) == "-":
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    _note(f"{suite.rule_count()} expectations on {len(suite.columns)} columns -> {output}")


@app.command()
def validate(data: Annotated[str, typer.Argument(help="CSV/Parquet file or Parquet folder "
                                                      "to check.", show_default=False)],
             expectations: Annotated[Path, typer.Option(
                 "--expectations", help="The expectation suite (YAML).")],
             json_out: JsonOpt = None,
             now: Annotated[str | None, typer.Option(
                 "--now", help="The clock of freshness rules (ISO 8601; default: now).")]
             = None,
             delimiter: DelimiterOpt = None, encoding: EncodingOpt = "utf-8",
             na_values: NaOpt = None) -> None:
    """Check DATA against an expectation suite: a CI gate. Exit 0 when every rule holds,
    1 when one fails, 2 for bad input."""
    from driftwise import _json
    from driftwise.app.outputs import check_outputs
    from driftwise.data import read_path
    from driftwise.expect import evaluate, load_suite

    read = _read_options(delimiter, encoding, na_values)
    check_outputs([("--json", json_out)], inputs=[data, expectations])
    clock = None
    if now is not None:
        try:
            parsed = datetime.fromisoformat(now)
        except ValueError:
            raise UsageError(f"--now: cannot read {now!r} as an ISO 8601 time") from None
        clock = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    suite = load_suite(expectations)
    result = evaluate(suite, read_path(data, read), now=clock)
    if json_out is not None:
        text = _json.dumps(result.to_dict())
        if str(json_out) == "-":
            sys.stdout.write(text + "\n")
        else:
            json_out.write_text(text + "\n", encoding="utf-8")
    if str(json_out) != "-":
        for outcome in result.failed:
            out.print(escape("FAIL " + one_line(outcome.describe())), highlight=False)
        out.print(escape(f"{'PASSED' if result.passed else 'FAILED'}: "
                         f"{len(result.outcomes) - len(result.failed)} of "
                         f"{len(result.outcomes)} expectations hold on {result.rows:,} rows"),
                  highlight=False)
    if not result.passed:
        raise typer.Exit(EXIT_DRIFT)


@app.command()
def demo(out_dir: Annotated[Path, typer.Option("--out", help="Folder for the HTML reports "
                                                "(--batch).")] = Path("out/demo"),
         batch: Annotated[bool, typer.Option("--batch", help="The batch demo: drift per "
                                             "quarter of real electricity-market data, "
                                             "no server.")] = False,
         port: Annotated[int, typer.Option("--port", help="Port of the demo service "
                                           "(0: a free one).")] = 0,
         data_dir: Annotated[Path | None, typer.Option(
             "--data-dir", help="The demo store (default: a fresh temporary folder).")]
         = None) -> None:
    """Start the service on loopback, register a model on real data, replay clean,
    drifting and attack-like traffic through the client, and show what the windows
    found. Stays up until Ctrl-C when run in a terminal."""
    if batch:
        from driftwise.demo import run_demo

        run_demo(out_dir, out)
        return
    from driftwise.service_demo import run_service_demo

    run_service_demo(out, port=port, data_dir=data_dir, interactive=sys.stdin.isatty())


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on "
                                                   "[DRIFTWISE_HOST; default 127.0.0.1].")]
          = None,
          port: Annotated[int | None, typer.Option(help="TCP port [DRIFTWISE_PORT; default "
                                                   "8470].")] = None,
          data_dir: Annotated[Path | None, typer.Option(
              "--data-dir", help="Where the embedded store lives [DRIFTWISE_DATA_DIR; "
              "default ./driftwise-data].")] = None) -> None:
    """Run the monitoring service: model servers send predictions and labels, windows are
    evaluated as they close, results are kept (see docs/service.md)."""
    from driftwise.config.settings import ServiceSettings, load_settings
    from driftwise.service import serve as run_server

    settings = load_settings(ServiceSettings, host=host, port=port, data_dir=data_dir)
    run_server(settings)


def _store() -> Any:
    from driftwise.config.settings import ServiceSettings, load_settings
    from driftwise.store import open_store

    settings = load_settings(ServiceSettings)
    return open_store(settings.database_url, settings.data_dir)


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="What the key is for.",
                                                    show_default=False)],
                scope: Annotated[list[str], typer.Option(
                    "--scope", help="ingest, read, metrics (a Prometheus scrape), alerts "
                             "(acknowledge, silence, resolve) or admin (repeat for several).")],
                model: Annotated[list[str] | None, typer.Option(
                    "--model", help="Limit the key to this model (repeat); default: all.")]
                = None) -> None:
    """Create an API key; its text is printed once and stored only as a digest."""
    from driftwise.store import keys

    bad = [s for s in scope if s not in keys.SCOPES]
    if bad:
        raise UsageError(f"--scope: {bad[0]!r} is not a scope; use "
                         f"{', '.join(keys.SCOPES)}")
    text, key = keys.create_key(_store(), name, tuple(dict.fromkeys(scope)),
                                tuple(model) if model else None)
    sys.stdout.write(text + "\n")
    _note(f"key {key.id} ({', '.join(key.scopes)}"
          f"{'; models ' + ', '.join(key.models) if key.models else ''}): shown once, "
          "keep it secret")


@keys_app.command("list")
def keys_list() -> None:
    """List the keys (ids, scopes, models; never the secrets)."""
    from driftwise.store import keys

    for key in keys.list_keys(_store()):
        state = "revoked" if key.revoked_at else "live"
        models = ",".join(key.models) if key.models else "*"
        out.print(escape(one_line(f"{key.id}  {state:7}  {','.join(key.scopes):18}  "
                                  f"{models:20}  {key.name}")), highlight=False)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys "
                                                      "list`).", show_default=False)]
                ) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from driftwise.store import keys

    keys.revoke_key(_store(), key_id)
    _note(f"key {key_id} revoked")


ModelArg = Annotated[str, typer.Argument(help="The model's name.", show_default=False)]
EntryArg = Annotated[int, typer.Argument(help="The entry's id (from `quarantine list`).",
                                         show_default=False)]


@quarantine_app.command("list")
def quarantine_list(model: ModelArg, state: Annotated[str, typer.Option(
        help="held, released, discarded or all.")] = "held",
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100
        ) -> None:
    """List quarantined records: id, state, p-value, record id, client key, reason."""
    from driftwise.store import quarantine, registry

    if state not in ("held", "released", "discarded", "all"):
        raise UsageError(f"--state: {state!r} is not held, released, discarded or all")
    store = _store()
    entry_model = registry.get_model(store, model)
    for e in quarantine.list_held(store, entry_model.id, None if state == "all" else state,
                                  limit):
        out.print(escape(one_line(f"{e.id}  {e.state:9}  p={e.p_value:.2g}  {e.record_id}  "
                                  f"{e.client_key or '-'}  {e.reason.get('signal', '')}")),
                  highlight=False)


@quarantine_app.command("show")
def quarantine_show(model: ModelArg, entry: EntryArg) -> None:
    """One quarantined record as JSON: the record as sent and why it was held."""
    from driftwise.store import quarantine, registry

    store = _store()
    found = quarantine.get(store, registry.get_model(store, model).id, entry)
    sys.stdout.write(json.dumps(found.to_dict(), indent=2, default=str) + "\n")


def _decide(action: str, model: str, entry: int, by: str) -> None:
    from driftwise.app import screening

    decided = screening.decide(_store(), model, entry, action, by)
    _note(f"entry {entry} ({decided['record_id']}) {decided['state']} by {by}")


@quarantine_app.command("release")
def quarantine_release(model: ModelArg, entry: EntryArg, by: Annotated[str, typer.Option(
        help="Who releases it (recorded).")]) -> None:
    """Send a held record into the monitored stream."""
    _decide("release", model, entry, by)


@quarantine_app.command("discard")
def quarantine_discard(model: ModelArg, entry: EntryArg, by: Annotated[str, typer.Option(
        help="Who discards it (recorded).")]) -> None:
    """Drop a held record for good."""
    _decide("discard", model, entry, by)


IncidentArg = Annotated[int, typer.Argument(help="The incident's id (from `incident list`).",
                                            show_default=False)]


@incident_app.command("list")
def incident_list(state: Annotated[str | None, typer.Option(
        help="open, resolved or merged (default: every state).")] = None,
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100
        ) -> None:
    """List incidents: id, state, root model, opened (UTC), models."""
    from driftwise.store import incidents

    if state not in (None, "open", "resolved", "merged"):
        raise UsageError(f"--state: {state!r} is not open, resolved or merged")
    for i in incidents.list_incidents(_store(), state=state, limit=limit):
        opened = datetime.fromtimestamp(i.opened_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        out.print(escape(one_line(f"{i.id}  {i.state:8}  {i.root_model}  {opened}  "
                                  f"{', '.join(i.models)}")), highlight=False)


@incident_app.command("export")
def incident_export(incident: IncidentArg, output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the JSON here instead of standard output.")] = None
        ) -> None:
    """The incident's export as JSON: its alerts, the trail (who, what, why, when), the
    actions and their results, the impact while it lasted, and its resolution."""
    from driftwise.app.response import incident_report

    text = json.dumps(incident_report(_store(), incident), indent=2, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        _note(f"incident {incident} written to {output}")


@incident_app.command("note")
def incident_note(incident: IncidentArg, text: Annotated[str, typer.Argument(
        help="The note.", show_default=False)], by: Annotated[str, typer.Option(
        help="Who writes it (recorded).")]) -> None:
    """Add a note to the incident's trail."""
    from driftwise.app.response import add_note
    from driftwise.store import incidents

    store = _store()
    if incidents.incident(store, incident) is None:
        raise NotFoundError(f"no incident {incident}")
    add_note(store, incident, by, text)
    _note(f"note added to incident {incident} by {by}")


@block_app.command("list")
def block_list(model: ModelArg, all_: Annotated[bool, typer.Option(
        "--all", help="Also those lifted or expired.")] = False) -> None:
    """List blocks: id, kind, what, until (UTC), incident, lifted by."""
    from driftwise.store import registry
    from driftwise.store import response as blocks

    store = _store()
    for b in blocks.list_blocks(store, registry.get_model(store, model).id, not all_):
        what = b.client_key if b.kind == "client" else json.dumps(b.segment)
        until = datetime.fromtimestamp(b.until, UTC).strftime("%Y-%m-%d %H:%M:%S")
        out.print(escape(one_line(f"{b.id}  {b.kind:7}  {what}  until {until}  "
                                  f"incident {b.incident_id or '-'}  "
                                  f"{'lifted by ' + b.lifted_by if b.lifted_by else ''}")),
                  highlight=False)


@block_app.command("add")
def block_add(model: ModelArg, by: Annotated[str, typer.Option(
        help="Who blocks (recorded).")], client_key: Annotated[str | None, typer.Option(
        "--client-key", help="Block this client key.")] = None,
        segment: Annotated[list[str] | None, typer.Option(
            "--segment", help="Block records with FEATURE=VALUE (repeat for several).")]
        = None,
        duration_s: Annotated[float, typer.Option(
            "--duration-s", help="How long, in seconds.")] = 86_400.0,
        reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
        incident: Annotated[int | None, typer.Option(
            help="Record it in this incident's trail.")] = None) -> None:
    """Block a client key or a segment: /screen quarantines its records."""
    from driftwise.app.response import block_by_hand

    if (client_key is None) == (not segment):
        raise UsageError("give exactly one of --client-key and --segment")
    if not duration_s > 0:
        raise UsageError(f"--duration-s must be positive, got {duration_s}")
    parts: dict[str, Any] = {}
    for item in segment or []:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise UsageError(f"--segment: expected FEATURE=VALUE, got {item!r}")
        parts[column] = value
    body: dict[str, Any] = {"by": by, "duration_s": duration_s, "reason": reason,
                            "incident_id": incident, "client_key": client_key,
                            "segment": parts or None}
    found = block_by_hand(_store(), model, body)
    _note(f"block {found.id} ({found.kind}) until "
          f"{datetime.fromtimestamp(found.until, UTC):%Y-%m-%d %H:%M:%S} UTC")


@block_app.command("lift")
def block_lift(model: ModelArg, block: Annotated[int, typer.Argument(
        help="The block's id (from `block list`).", show_default=False)],
        by: Annotated[str, typer.Option(help="Who lifts it (recorded).")]) -> None:
    """End a block now."""
    from driftwise.app.response import lift

    lift(_store(), model, block, by)
    _note(f"block {block} lifted by {by}")


@app.command("login-link")
def login_link(key_id: Annotated[str | None, typer.Option(
                   "--key-id", help="Sign in as this stored key (its id, from `keys list`); "
                   "it needs the read scope. Default: the admin key (DRIFTWISE_API_KEY).")]
               = None,
               base_url: Annotated[str | None, typer.Option(
                   "--base-url", help="Where people reach the service [default "
                   "http://HOST:PORT of the settings].")] = None,
               data_dir: Annotated[Path | None, typer.Option(
                   "--data-dir", help="The service's embedded store [DRIFTWISE_DATA_DIR].")]
               = None,
               database_url: Annotated[str | None, typer.Option(
                   "--database-url", help="The service's store URL "
                   "[DRIFTWISE_DATABASE_URL].")] = None) -> None:
    """Print a one-time URL that signs in to the dashboard (valid 15 minutes, spent by its
    first use)."""
    from driftwise.config.settings import ServiceSettings, load_settings
    from driftwise.store import keys, open_store, sessions

    settings = load_settings(ServiceSettings, data_dir=data_dir, database_url=database_url)
    engine = open_store(settings.database_url, settings.data_dir)
    if key_id is None:
        if settings.api_key is None:
            raise UsageError("no --key-id and no DRIFTWISE_API_KEY: give the id of a stored "
                             "key with the read scope (`driftwise keys list`), or set "
                             "DRIFTWISE_API_KEY as the service has it")
        who = "the admin key"
    else:
        key = keys.live_key(engine, key_id)
        if key is None or not key.allows("read", None):
            raise UsageError(f"--key-id: no live key {key_id!r} with the read scope "
                             "(`driftwise keys list`)")
        who = f"key {key.id}"
    token = sessions.create_link(engine, key_id)
    base = (base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    sys.stdout.write(f"{base}/login/link?token={token}\n")
    _note(f"a one-time sign-in link as {who}: valid {sessions.LINK_TTL_S / 60:.0f} minutes, "
          "spent by its first use")


def _numbers(text: str | None, flag: str) -> list[float] | None:
    if text is None:
        return None
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise UsageError(f"{flag}: {part.strip()!r} is not a number (give e.g. "
                             "0.25,0.5,1)") from None
    return values


@app.command("purple-team")
def purple_team(
        model: Annotated[Path, typer.Option("--model", help="The fitted model, saved with "
                                            "joblib.dump (load only models you trust).",
                                            show_default=False)],
        reference: Annotated[str, typer.Option("--reference", help="Reference CSV/Parquet "
                                               "with the model's features and the target.",
                                               show_default=False)],
        config: Annotated[Path, typer.Option("--config", help="The Monitor configuration "
                                             "under test (YAML).", show_default=False)],
        scenarios: Annotated[str | None, typer.Option(
            "--scenarios", help="Comma-separated scenario names (default: all; see "
            "docs/purple-team.md).")] = None,
        intensities: Annotated[str | None, typer.Option(
            "--intensities", help="Comma-separated intensities in [0, 1] [default: "
            "0.25,0.5,1].")] = None,
        repeats: Annotated[int, typer.Option(help="Replays per scenario and intensity.")] = 3,
        windows: Annotated[int, typer.Option(help="Windows per replay.")] = 8,
        onset_window: Annotated[int, typer.Option(help="The first changed window.")] = 3,
        window_rows: Annotated[int | None, typer.Option(
            help="Rows per window [default: the config's windows.rows, else up to 1,000].")]
        = None,
        metric: Annotated[str | None, typer.Option(
            help="The harm metric [roc_auc (binary), accuracy (multiclass), mae "
            "(regression)].")] = None,
        harm_threshold: Annotated[float, typer.Option(
            help="Relative loss of the metric above which a scenario is harmful.")] = 0.02,
        seed: Annotated[int, typer.Option(help="Seeds the split, shuffles and scenarios.")]
        = 0,
        json_out: JsonOpt = None, html_out: HtmlOpt = None,
        fail_above: Annotated[float | None, typer.Option(
            "--fail-above", help="CI gate: exit 1 when a harmful scenario at an intensity "
            "above this goes undetected.")] = None) -> None:
    """Replay clean windows and red-team scenarios through the Monitor; score what it
    catches, how fast, at what false-alarm cost, and the harmful failures it misses."""
    from driftwise.app import check_outputs
    from driftwise.app.purple_team import purple_team_files
    from driftwise.redteam.purple import DEFAULT_INTENSITIES

    check_outputs([("--json", json_out), ("--html", html_out)],
                  inputs=[reference, config, model])
    names = [n.strip() for n in scenarios.split(",") if n.strip()] if scenarios else None
    levels = _numbers(intensities, "--intensities") or list(DEFAULT_INTENSITIES)
    card = purple_team_files(model, reference, config, scenarios=names, intensities=levels,
                             repeats=repeats, windows=windows, onset_window=onset_window,
                             window_rows=window_rows, metric=metric,
                             harm_threshold=harm_threshold, seed=seed,
                             progress=_note if sys.stderr.isatty() else None)
    _emit_scorecard(card, json_out, html_out)
    if fail_above is not None and card.failed(fail_above):
        failed = card.failed(fail_above)
        _note(f"gate: {len(failed)} harmful scenario(s) above intensity {fail_above:g} went "
              f"undetected: " + ", ".join(f"{s.scenario} at {s.intensity:g}"
                                          for s in failed[:5]))
        raise typer.Exit(EXIT_DRIFT)


def _emit_scorecard(card: Any, json_out: Path | None, html_out: Path | None) -> None:
    from driftwise.app import write_html, write_json

    if json_out is not None and str(json_out) == "-":
        sys.stdout.write(card.to_json() + "\n")
    elif json_out is not None:
        write_json(card, json_out)
        _note(f"JSON scorecard: {json_out}")
    if html_out is not None:
        write_html(card, html_out)
        _note(f"HTML scorecard: {html_out}")
    if json_out is not None and str(json_out) == "-":
        return
    summary = card.summary()
    coverage = summary["coverage"]
    delay = summary["median_delay"]
    out.print(escape(one_line(
        f"purple team for {card.model}: {summary['harmful_detected']} of "
        f"{summary['harmful']} harmful scenario runs detected"
        f" ({'n/a' if coverage is None else f'{100 * coverage:.0f} %'}), median delay "
        f"{'n/a' if delay is None else f'{delay:g}'} window(s), "
        f"{summary['false_alarms_per_1000']:.1f} false alarms per 1,000 clean windows, "
        f"{summary['gaps']} gap(s)")), highlight=False)
    for gap in card.gaps:
        catch = gap.would_catch
        fix = (f"would be caught by {catch.check} ({catch.section})" if catch else
               "no check caught it")
        out.print(escape(one_line(
            f"  gap: {gap.scenario} at {gap.intensity:g}: harm {100 * (gap.harm or 0):+.1f} "
            f"%, detected in {100 * gap.detection_rate:.0f} % of repeats; {fix}")),
            highlight=False)


@config_app.command("schema")
def config_schema(output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write the schema here instead of stdout.")] = None) -> None:
    """Print the JSON Schema of a configuration file (drift or Monitor)."""
    import json

    from driftwise.app import check_outputs
    from driftwise.config import config_schema as schema

    text = json.dumps(schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    check_outputs([("-o", output)])
    output.write_text(text, encoding="utf-8")
    _note(f"JSON Schema: {output}")


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="The YAML configuration file.",
                                                      show_default=False)]) -> None:
    """Validate a configuration file; exit 0 when valid, 2 with the first problem."""
    from driftwise.config import MonitorConfig, open_config

    cfg = open_config(path)
    if isinstance(cfg, MonitorConfig):
        what = (f"a Monitor configuration (model {cfg.name!r}, {cfg.task}, "
                f"{len(cfg.alerts)} alert rule(s))")
    else:
        what = "a drift configuration"
    out.print(escape(one_line(f"{path}: valid, {what}")), highlight=False)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"driftwise {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                                is_eager=True, help="Show the version.")]
          = False,
          debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an "
                                              "internal error (also DRIFTWISE_DEBUG=1).")]
          = False) -> None:
    """driftwise: watch ML models in production."""


def _error(text: str) -> None:
    prefix = "driftwise: error:"
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        prefix = f"\x1b[1;31m{prefix}\x1b[0m"
    sys.stderr.write(f"{prefix} {one_line(text)}\n")


def _debugging(argv: Sequence[str]) -> bool:
    if "--debug" in argv:
        return True
    from driftwise.config.settings import CommonSettings, load_settings

    try:
        return load_settings(CommonSettings).debug
    except ConfigError:
        return False


def _usage(exc: click.UsageError) -> None:
    command = exc.ctx.command_path if exc.ctx is not None else "driftwise"
    _error(f"{exc.format_message()} (see: {command} --help)")


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return its exit code (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        with command.make_context("driftwise", list(args)) as ctx:
            command.invoke(ctx)
        return EXIT_OK
    except typer.Exit as exc:  # --help, --version, typer.Exit(code)
        return int(exc.exit_code)
    except click.NoArgsIsHelpError as exc:
        sys.stderr.write(exc.format_message() + "\n")
        return EXIT_BAD_INPUT
    except click.UsageError as exc:
        _usage(exc)
        return EXIT_BAD_INPUT
    except click.ClickException as exc:
        _error(exc.format_message())
        return EXIT_BAD_INPUT
    except DriftwiseError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, typer.Abort, EOFError):
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (| head): nothing more can be written there.
        sys.stdout = open(os.devnull, "w")
        _error("output closed before it was all written (broken pipe)")
        return EXIT_BAD_INPUT
    except MemoryError:
        _error("out of memory; try smaller inputs, or a saved profile as the reference")
        return EXIT_INTERNAL
    except Exception as exc:
        if _debugging(args):
            traceback.print_exc()
        detail = one_line(f"{type(exc).__name__}: {exc}")[:300]
        _error(f"internal error, a bug in driftwise {__version__} ({detail}); please report "
               f"it at {ISSUES} with the command you ran (--debug or DRIFTWISE_DEBUG=1 shows "
               "the traceback)")
        return EXIT_INTERNAL


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
