"""The `credsim` command (Typer + Rich).

Exit status: 0 done; 2 bad input (file, key, value) with a message naming the key, the value
and what is allowed; 1 anything else.  A user's mistake never gets a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import api
from .output import RunFolderError, default_run_dir, write_run
from .society import TooBig
from .scenario import DEFAULT_SCENARIO, ScenarioError, builtin_names, load_raw, load_scenario, to_toml

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
        except (ScenarioError, RunFolderError, BadInput, TooBig) as exc:
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


KEY_OUTCOMES = (
    ("blacklist_share", "share blacklisted", "{:.2%}"),
    ("redlist_share", "share red-listed", "{:.2%}"),
    ("score_mean", "mean score", "{:.1f}"),
    ("late_bill_rate", "late bills / month", "{:.2%}"),
    ("misconduct_rate", "misconduct / month", "{:.2%}"),
    ("dissent_private_share", "dissent, private", "{:.2%}"),
    ("dissent_expressed_share", "dissent, expressed", "{:.2%}"),
    ("falsification_gap", "falsification gap", "{:.2%}"),
    ("innocents_listed", "innocents on the list", "{:,.0f}"),
    ("listed_isolated_share", "listed with no friend left", "{:.2%}"),
    ("internalization_mean", "internalization", "{:.3f}"),
    ("coverage_cameras", "camera coverage", "{:.2%}"),
)
KEY_TOTALS = (
    ("records_true", "true records"),
    ("records_false", "false records"),
    ("trips_refused", "trips refused"),
    ("jobs_lost", "jobs lost"),
    ("school_refusals", "school refusals"),
    ("service_refusals_true", "services refused (listed)"),
    ("service_refusals_false", "services refused (innocent)"),
    ("ties_cut", "ties cut"),
)


def _summary_table(result: api.Result) -> Table:
    sc = result.scenario
    table = Table(title=f"{sc.name}: {sc.population.agents:,} persons, {sc.run.steps} months, seed {sc.run.seed}")
    table.add_column("outcome")
    table.add_column("end of run", justify="right")
    last = result.timeseries.iloc[-1]
    for key, label, fmt in KEY_OUTCOMES:
        table.add_row(label, fmt.format(last[key]))
    for key, label in KEY_TOTALS:
        table.add_row(f"{label} (all months)", f"{int(result.summary['totals'][key]):,}")
    table.add_row("score Gini", f"{result.summary['score_gini']:.4f}")
    return table


@app.command()
@_guard
def run(
    scenario: str = typer.Argument(DEFAULT_SCENARIO, help="A built-in name (see `credsim scenarios`) or a .toml file."),
    agents: Optional[int] = typer.Option(None, "--agents", help="Number of persons (population.agents)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Number of monthly steps (run.steps)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Root random seed (run.seed)."),
    set_: List[str] = typer.Option([], "--set", help="KEY=VALUE with a dotted key of the scenario file; repeatable."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default runs/<scenario>-<seed>-<time>)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary table."),
    no_memory_check: bool = typer.Option(False, "--no-memory-check",
                                         help="Run even where the estimated memory exceeds what is available."),
) -> None:
    """Run a scenario and write its folder: scenario.toml, timeseries.parquet, summary.json."""
    sc = api.resolve(scenario, set_, agents=agents, steps=steps, seed=seed)
    target = out if out is not None else default_run_dir(sc)
    from .output.rundir import check_out_dir

    check_out_dir(target)
    show = out_console.is_terminal and not quiet
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
                  disable=not show, transient=True) as bar:
        task = bar.add_task(f"{sc.name} ({sc.population.agents:,} persons)", total=sc.run.steps)
        result = api.run(sc, on_step=lambda _row: bar.advance(task), memory_check=not no_memory_check)
    write_run(target, sc, result.timeseries.to_dict("records"), result.summary, result.wall_time)
    result.path = target
    if not quiet:
        out_console.print(_summary_table(result))
    out_console.print(f"run written to {target} in {result.wall_time:.1f} s", highlight=False)


@app.command()
@_guard
def scenarios() -> None:
    """List the built-in scenarios, one line each."""
    for name in builtin_names():
        desc = " ".join(str(load_raw(name).get("description", "")).split())
        first = desc.split(". ")[0].rstrip(".")
        out_console.print(f"{name:<16} {first}", highlight=False, markup=False, soft_wrap=True)


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


def main() -> None:
    app(prog_name="credsim")


if __name__ == "__main__":
    main()
