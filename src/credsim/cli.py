"""The `credsim` command (Typer + Rich).

Exit status: 0 done; 2 bad input (file, key, value) with a message naming the key, the value
and what is allowed; 1 anything else.  A user's mistake never gets a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tomllib
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import api
from .output import RunFolderError, default_run_dir
from .output.rundir import PARTIAL, checkpoint_of, final_path, partial_path
from .output.console import print_table
from .output.headline import fmt, headline
from .output.query import QueryError
from .output.runs import open_run
from .society import TooBig
from .scenario import DEFAULT_SCENARIO, ScenarioError, builtin_names, builtin_summary, load_scenario, to_toml
from .sweep.sensitivity import SensitivityError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Simulate social credit systems in synthetic societies.")
out_console = Console()
err_console = Console(stderr=True)


class BadInput(Exception):
    """Raised for a user's mistake; printed and answered with exit status 2."""


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _guard(fn):
    """Turn user errors into exit status 2 and unexpected ones into a one-line exit status 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ScenarioError, RunFolderError, QueryError, BadInput, TooBig, SensitivityError) as exc:
            err_console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing was written", markup=False)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("CREDSIM_DEBUG"):
                raise
            err_console.print(f"internal error: {type(exc).__name__}: {exc} "
                              "(set CREDSIM_DEBUG=1 for the traceback)", markup=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _summary_table(result: api.Result) -> Table:
    sc = result.scenario
    table = Table(title=f"{sc.name}: {sc.population.agents:,} persons, {sc.run.steps} months, seed {sc.run.seed}")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for _, label, value, kind in headline(result.summary):
        table.add_row(label, fmt(value, kind))
    return table


class _StopOnInterrupt:
    """First Ctrl-C: finish the step, checkpoint, stop.  Second: stop at once (the last whole
    checkpoint stays on disk: every file of a checkpoint is written before it is swapped in)."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        err_console.print("stopping after this step (Ctrl-C again to stop at once)", markup=False)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)

    def __call__(self) -> bool:
        return self.requested


@app.command()
@_guard
def run(
    scenario: str = typer.Argument(DEFAULT_SCENARIO, help="A built-in name (see `credsim scenarios`) or a .toml file."),
    agents: Optional[int] = typer.Option(None, "--agents", help="Number of persons (population.agents)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Number of monthly steps (run.steps)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Root random seed (run.seed)."),
    set_: List[str] = typer.Option([], "--set", help="KEY=VALUE with a dotted key of the scenario file; repeatable."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default runs/<scenario>-<seed>-<time>)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the interrupted run of this folder from its last checkpoint."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary table."),
    no_memory_check: bool = typer.Option(False, "--no-memory-check",
                                         help="Run even where the estimated memory exceeds what is available."),
) -> None:
    """Run a scenario and write its folder: scenario.toml, timeseries.parquet, summary.json, the
    register and snapshots (register.parquet, appeals.parquet, persons.parquet, companies.parquet)
    and report.html.  Ctrl-C stops after the step with a checkpoint; --resume continues."""
    if resume is not None:
        if set_ or agents or steps or seed is not None or out is not None:
            raise BadInput("--resume takes the run folder alone: the run continues with the scenario it started with")
        target = resume
        sc = load_scenario(partial_path(final_path(resume)) / "scenario.toml") \
            if (partial_path(final_path(resume)) / "scenario.toml").is_file() else None
        if sc is None:
            raise RunFolderError(f"--resume {resume}: no interrupted run is there")
    else:
        sc = api.resolve(scenario, set_, agents=agents, steps=steps, seed=seed)
        target = out if out is not None else default_run_dir(sc)
    show = out_console.is_terminal and not quiet
    try:
        with _StopOnInterrupt() as stop, Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TimeRemainingColumn(), console=err_console, disable=not show, transient=True) as bar:
            task = bar.add_task(f"{sc.name} ({sc.population.agents:,} persons)", total=sc.run.steps)
            step = lambda _row: bar.advance(task)  # noqa: E731
            if resume is not None:
                result = api.resume(target, on_step=step, should_stop=stop, memory_check=not no_memory_check)
            else:
                result = api.run(sc, out=target, on_step=step, should_stop=stop, memory_check=not no_memory_check)
    except api.RunInterrupted as exc:
        err_console.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(130) from None
    except KeyboardInterrupt:
        partial = partial_path(final_path(target))
        if checkpoint_of(partial) is not None:
            err_console.print(f"stopped at once; resume from the last checkpoint with: credsim run --resume "
                              f"{final_path(target)}", markup=False, highlight=False)
        else:
            err_console.print("stopped at once, before the first checkpoint: nothing was kept", markup=False)
        raise typer.Exit(130) from None
    if not quiet:
        out_console.print(_summary_table(result))
    o = result.output
    parts = []
    if sc.output.register_records:
        parts.append(f"register: {o['register_records']:,} records, {o['register_bytes'] / 1e6:.1f} MB")
    parts.append(f"writing register and snapshots {o['register_write_s']:.1f} s")
    if sc.output.report:
        parts.append(f"report.html {o['report_s']:.1f} s")
    out_console.print(f"run written to {result.path} in {result.wall_time:.1f} s ({'; '.join(parts)})", highlight=False)


@app.command()
@_guard
def runs(folder: Path = typer.Argument(Path("runs"), help="A folder of run folders.")) -> None:
    """List the runs in a folder, finished or interrupted (and how far an interrupted one got)."""
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder")
    rows = []
    for path in sorted(folder.iterdir(), key=lambda p: final_path(p).name):
        if not path.is_dir():
            continue
        if path.name.startswith(".") and path.name.endswith(PARTIAL):
            ckpt = checkpoint_of(path)
            if ckpt is None:
                status = "incomplete: running, or stopped before its first checkpoint"
            else:
                meta = json.loads((ckpt / "meta.json").read_text(encoding="utf-8"))
                steps = tomllib.loads((path / "scenario.toml").read_text(encoding="utf-8"))["run"]["steps"]
                status = f"incomplete: step {meta['scalars']['step']} of {steps}; credsim run --resume {final_path(path)}"
            rows.append((final_path(path).name, status))
        elif (path / "summary.json").is_file():
            rows.append((path.name, "complete"))
    for name, status in rows:
        out_console.print(f"{name:<40} {status}", markup=False, highlight=False, soft_wrap=True)
    if not rows:
        out_console.print(f"no runs in {folder}", markup=False)


@app.command()
@_guard
def report(
    run_dir: Path = typer.Argument(..., help="A run folder (written by `credsim run`)."),
    figures: Optional[Path] = typer.Option(None, "--figures", help="Also save every figure as a PNG in this folder."),
) -> None:
    """(Re)build the run's report.html: one self-contained page with every figure."""
    from .report import write_report

    open_run(run_dir)  # a clear error if it is not a run folder
    start = time.perf_counter()
    path = write_report(run_dir, figures=figures)
    out_console.print(f"report written to {path} in {time.perf_counter() - start:.1f} s", highlight=False)


@app.command()
@_guard
def compare(
    run_dirs: List[Path] = typer.Argument(..., help="Two or more run folders; the first is the reference."),
    out: Path = typer.Option(Path("compare.html"), "--out", help="The HTML page to write."),
) -> None:
    """Compare finished runs: a table of final metrics with differences, and compare.html with
    the time series overlaid."""
    from .report import write_compare

    if len(run_dirs) < 2:
        raise BadInput(f"compare needs two or more run folders; got {len(run_dirs)}")
    _check_parent(out, "--out")
    runs = [open_run(d) for d in run_dirs]
    path, cmp = write_compare(runs, out)
    print_table(out_console, cmp.header(), cmp.formatted(),
                title="final metrics (differences: each run minus the first)")
    out_console.print(f"comparison written to {path}", highlight=False)


@app.command()
@_guard
def query(
    run_dir: Path = typer.Argument(..., help="A run folder (written by `credsim run`)."),
    sql: str = typer.Argument(..., help="SQL over the tables register, appeals, persons, companies, timeseries."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write the whole result to this CSV file."),
    parquet: Optional[Path] = typer.Option(None, "--parquet", help="Write the whole result to this Parquet file."),
    max_rows: int = typer.Option(50, "--max-rows", min=1, help="Rows printed at most (files get every row)."),
) -> None:
    """SQL over a run's tables (DuckDB); prints the result, or writes it with --csv/--parquet."""
    from .output.query import run_query

    for path, opt in ((csv, "--csv"), (parquet, "--parquet")):
        if path is not None:
            _check_parent(path, opt)
    with open_run(run_dir) as run:
        run_query(run, sql, out_console, csv=csv, parquet=parquet, max_rows=max_rows)


def _check_parent(path: Path, option: str) -> None:
    if not path.parent.is_dir():
        raise BadInput(f"{option} {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a folder; give a file name")


@app.command()
@_guard
def scenarios() -> None:
    """List the built-in scenarios, one line each."""
    for name in builtin_names():
        out_console.print(f"{name:<16} {builtin_summary(name)}", highlight=False, markup=False, soft_wrap=True)


@app.command()
@_guard
def show(
    scenario: str = typer.Argument(..., help="A built-in name or a .toml file."),
    set_: List[str] = typer.Option([], "--set", help="KEY=VALUE overrides, as for `run`."),
) -> None:
    """Print the fully resolved scenario as TOML."""
    sys.stdout.write(to_toml(load_scenario(scenario, sets=set_)))


@app.command()
@_guard
def validate(file: str = typer.Argument(..., help="A scenario .toml file (or a built-in name).")) -> None:
    """Check a scenario file and explain every problem (exit status 2 if there is one)."""
    sc = load_scenario(file)
    out_console.print(f"ok: {file} is a valid scenario ('{sc.name}', {len(sc.rules)} rules)",
                      highlight=False, markup=False)


@app.command()
@_guard
def dashboard(
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to serve on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to serve on; anything but loopback makes the page reachable from other machines."),
) -> None:
    """Serve the dashboard, a web page to run and compare scenarios, on http://127.0.0.1:PORT/."""
    from .dashboard.server import LOOPBACK, bind, serve, url

    if host not in LOOPBACK:
        err_console.print(f"warning: --host {host} makes the dashboard reachable from other machines: it has no "
                          "login, and anyone who reaches it can start runs on this one. Use it on a network you trust.",
                          markup=False, soft_wrap=True)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise BadInput(f"--host {host} --port {port}: cannot serve there ({exc.strerror or exc}); "
                       "choose another port, or --port 0 for any free one") from None
    out_console.print(f"credsim dashboard on {url(sock)} (Ctrl-C to stop)", highlight=False, markup=False,
                      soft_wrap=True)
    sys.stdout.flush()
    serve(sock, host)


@app.command()
@_guard
def sweep(
    sweep_file: Path = typer.Argument(..., help="A sweep .toml file: base scenario, parameters, replicates, "
                                                "outcomes (see docs/sweep.md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="The sweep folder (default sweeps/<name>). Run the "
                                                           "same command again to finish an interrupted sweep."),
    executor: str = typer.Option("processes", "--executor",
                                 help="sequential, processes (this machine's cores) or dask (dask.distributed)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                            help="With --executor dask: an existing cluster's scheduler address "
                                                 "(tcp://host:8786) or scheduler file; without it a local cluster."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                          help="Worker processes for processes or a local Dask cluster "
                                               "(default: every core)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Many runs: a grid and/or sampled parameters x replicates, streamed to DIR as they finish
    (outcomes.parquet, timeseries/ by point, results.zarr); a rerun computes only what is missing."""
    from .sweep import run_sweep
    from .sweep.executors import EXECUTORS, default_workers

    if executor not in EXECUTORS:
        raise BadInput(f"--executor {executor!r}: allowed: {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        raise BadInput(f"--scheduler {scheduler!r}: allowed only with --executor dask")
    if workers is not None and (executor == "sequential" or scheduler is not None):
        raise BadInput(f"--workers {workers}: allowed only with --executor processes, or dask without --scheduler "
                       "(an existing cluster has the workers it has)")
    show = err_console.is_terminal and not quiet
    state = {"finished": 0, "failed": 0, "out": None}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("elapsed,"), TimeRemainingColumn(), TextColumn("left"), console=err_console,
                  disable=not show, transient=True) as bar:
        task = bar.add_task("planning the sweep", total=None, start=False)

        def on_start(plan, reused):
            state.update(out=out or Path("sweeps") / plan.spec.name, finished=reused, name=plan.spec.name)
            bar.update(task, description=f"{plan.spec.name}: runs", total=plan.n_runs, completed=reused)
            bar.start_task(task)

        def on_result(result):
            state["finished"] += 1
            state["failed"] += not result.ok
            failed = f" ({state['failed']} failed)" if state["failed"] else ""
            bar.update(task, advance=1, description=f"{state['name']}: runs{failed}")

        try:
            summary = run_sweep(sweep_file, out, executor, workers, scheduler, on_start=on_start,
                                on_result=on_result)
        except KeyboardInterrupt:
            bar.stop()
            if state["out"] is None:
                err_console.print("interrupted before any run started: nothing was written", markup=False)
            else:
                err_console.print(f"interrupted: {state['finished']} finished runs are kept in {state['out']}; run "
                                  "the same command again to compute only the missing ones", markup=False,
                                  soft_wrap=True)
            raise typer.Exit(130) from None
    where = executor if executor == "sequential" else (
        f"dask at {scheduler}" if scheduler else f"{executor}, {workers or default_workers()} workers")
    out_console.print(f"{summary.runs} runs: {summary.reused} reused from an earlier attempt, "
                      f"{summary.succeeded + summary.failed} run now: {summary.succeeded} succeeded, "
                      f"{summary.failed} failed; {summary.wall_s:.1f} s ({where}"
                      + (f"; {summary.run_s / summary.succeeded:.2f} s a run)" if summary.succeeded else ")"),
                      highlight=False, markup=False)
    for line in summary.errors:
        out_console.print(f"  failed: {line}", highlight=False, markup=False, soft_wrap=True)
    if summary.failed:
        out_console.print(f"  (every error in {summary.out}/runs/point=P/rep=R.error.json; the same command "
                          "retries the failed runs)", highlight=False, markup=False)
    out_console.print(f"results in {summary.out}: outcomes.parquet, timeseries/ (by point), results.zarr",
                      highlight=False, markup=False)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
@_guard
def sensitivity(
    sweep_dir: Path = typer.Argument(..., help="A finished sweep folder (written by `credsim sweep`)."),
    outcome: List[str] = typer.Option([], "--outcome", help="A reduced outcome, e.g. blacklist_share_final; "
                                                             "repeatable (default: every outcome)."),
    resamples: int = typer.Option(100, "--resamples", min=10, help="Bootstrap resamples for the intervals."),
) -> None:
    """Which sampled parameters matter: Sobol' S1 and ST with 95 % intervals, or Morris mu*, for each
    outcome on replicate means, with the seed noise; writes sensitivity.csv and sensitivity.png."""
    from .sweep.sensitivity import analyze

    result = analyze(sweep_dir, outcome or None, resamples=resamples)
    cols = ("S1", "ST") if result.method == "sobol" else ("mu_star",)
    for (cell, label, measure), t in result.table.groupby(["cell", "cell_label", "measure"], sort=False):
        note = result.noise[(result.noise["cell"] == cell) & (result.noise["measure"] == measure)].iloc[0]
        share = note["seed_noise_share"]
        noise = (f"seed noise {share:.3f} of the variance of replicate means" if share == share
                 else "seed noise: not measured (one replicate)")
        rows = [[r.parameter, r.role or "-", *[f"{getattr(r, c):.3f} ± {getattr(r, c + '_conf'):.3f}"
                                              for c in cols]] for r in t.itertuples()]
        header = ["parameter", "role", *[{"S1": "first order S1", "ST": "total ST", "mu_star": "mu*"}[c]
                                         for c in cols]]
        print_table(out_console, header, rows, title=measure + (f" [{label}]" if label != "all points" else ""),
                    numeric_from=2)
        out_console.print(f"  {noise}: a total index at or below it cannot be told from no effect"
                          if share == share else f"  {noise}", highlight=False, markup=False, soft_wrap=True)
    csv, png = result.write(sweep_dir)
    out_console.print(f"indices in {csv}, figure in {png}", highlight=False, markup=False)


@app.command()
@_guard
def calibrate(
    scenario: str = typer.Argument(..., help="A built-in name or a .toml file."),
    targets: Path = typer.Argument(..., help="A targets .toml file (see credsim.validation.calibrate)."),
    out: Path = typer.Option(..., "--out", help="Where to write the fitted scenario (.toml)."),
    replications: Optional[int] = typer.Option(None, "--replications", min=1, help="Seeds per evaluation."),
    agents: Optional[int] = typer.Option(None, "--agents", min=100, help="Persons per run."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Months per run."),
    evaluations: Optional[int] = typer.Option(None, "--evaluations", min=0, help="Optimiser budget."),
) -> None:
    """Fit the parameters named in TARGETS to its targets; write the fitted scenario to --out."""
    from .validation import calibrate as cal

    _check_parent(out, "--out")
    if not targets.is_file():
        raise BadInput(f"targets {targets}: no such file")
    try:
        spec = cal.read_targets(targets, replications=replications, agents=agents, steps=steps,
                                max_evaluations=evaluations)
    except (ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"targets {targets}: {exc}") from None
    load_scenario(scenario)  # a bad scenario fails here, before any run
    best, table = cal.fit(scenario, spec, log=lambda m: err_console.print(m, markup=False, highlight=False))
    out.write_text(cal.fitted_toml(scenario, best, table, spec))
    rows = [[r["statistic"], f"{r['target']:.4g}", r["range"], f"{r['simulated']:.4g}", r["interval"],
             "pass" if r["pass"] else "FAIL"] for _, r in table.iterrows()]
    print_table(out_console, ["target", "value", "accepted", "simulated", "95% interval", ""], rows,
                title=f"{scenario} fitted: {out}")


def main() -> None:
    app(prog_name="credsim")


if __name__ == "__main__":
    main()
