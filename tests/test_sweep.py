"""Sweeps: the plan and its seeds, executors that agree, resume, failures and retries."""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import sweep_helpers
from credsim.cli import app
from credsim.output import RunFolderError
from credsim.sweep import derive_seed, open_dataset, plan_sweep, read_outcomes, read_timeseries, run_sweep
from credsim.sweep import executors
from credsim.sweep.store import SweepDir

runner = CliRunner()

TINY = """
scenario = "seed"
seed = 11
replicates = 2

[parameters]
"population.agents" = 300
"run.steps" = 4
"scoring.network_weight" = [0.0, 0.4]
"lists.black_threshold" = { values = [600, 850], role = "lever" }

[outcomes]
score_mean = ["final", "mean"]
late_bill_rate = "sum"
blacklist_share = "max"
"""


def write(folder: Path, text: str, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_same_results(a: Path, b: Path) -> None:
    assert read_outcomes(a).equals(read_outcomes(b))
    assert read_timeseries(a).equals(read_timeseries(b))
    assert open_dataset(a).load().identical(open_dataset(b).load())
    assert (a / "outcomes.parquet").read_bytes() == (b / "outcomes.parquet").read_bytes()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("spec"), TINY)


@pytest.fixture(scope="module")
def sequential_dir(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "sequential"
    summary = run_sweep(tiny, out, executor="sequential")
    assert (summary.runs, summary.succeeded, summary.failed, summary.reused) == (8, 8, 0, 0)
    return out


def test_grid_expansion_and_seeds(tmp_path):
    spec = write(tmp_path, TINY.replace("[0.0, 0.4]", "[0.0, 0.2, 0.4]").replace("replicates = 2", "replicates = 5"))
    plan = plan_sweep(spec)
    assert (plan.n_points, plan.n_runs, plan.cells, plan.samples) == (6, 30, 6, 1)
    assert plan.points == [{"scoring.network_weight": w, "lists.black_threshold": t}
                           for w in (0.0, 0.2, 0.4) for t in (600, 850)]  # the first key varies slowest
    assert plan.base["population"]["agents"] == 300 and plan.steps == [4] * 6  # constants live in the base
    assert len(np.unique(plan.seeds)) == 30 and (plan.seeds >= 0).all()
    assert all(plan.seeds[p, r] == derive_seed(11, p, r) for p in range(6) for r in range(5))
    assert derive_seed(11, 0, 0) != derive_seed(12, 0, 0)
    more = plan_sweep(write(tmp_path, spec.read_text().replace("replicates = 5", "replicates = 7"), "more.toml"))
    assert (more.seeds[:, :5] == plan.seeds).all()  # a run's seed depends on (root, point, replicate) only
    tasks = list(plan.tasks(skip={(0, 0), (5, 4)}))
    assert len(tasks) == 28 and tasks[0].key == (0, 1) and tasks[0].seed == plan.seeds[0, 1]


def test_ranges_go_to_the_sampler_crossed_with_the_grid(tmp_path):
    text = TINY.replace('"scoring.network_weight" = [0.0, 0.4]',
                        '"lists.min_term" = { range = [1, 24], role = "uncertainty" }\n'
                        '"scoring.decay" = { range = [0.0, 0.05] }') + '\n[sampler]\nmethod = "latin"\nn = 5\n'
    plan = plan_sweep(write(tmp_path, text))
    assert (plan.n_points, plan.cells, plan.samples) == (10, 2, 5)
    assert [p["lists.black_threshold"] for p in plan.points] == [600] * 5 + [850] * 5
    terms = [p["lists.min_term"] for p in plan.points]
    assert all(isinstance(t, int) and 1 <= t <= 24 for t in terms)  # an integer setting is rounded
    assert terms[:5] == terms[5:]  # every grid cell gets the same samples
    assert plan.X.shape == (5, 2) and plan.problem["names"] == ["lists.min_term", "scoring.decay"]
    assert plan_sweep(write(tmp_path, text, "again.toml")).points == plan.points  # the sampler is seeded


def test_sequential_writes_every_output(sequential_dir, tiny):
    plan = plan_sweep(tiny)
    out = read_outcomes(sequential_dir)
    assert len(out) == 8 and (out["status"] == "ok").all() and out["error"].isna().all()
    assert list(out[["point", "replicate"]].itertuples(index=False, name=None)) == [(p, r) for p in range(4)
                                                                                     for r in range(2)]
    assert (out["seed"].to_numpy() == plan.seeds.ravel()).all()
    assert list(out["lists.black_threshold"]) == [600, 600, 850, 850] * 2
    ts = read_timeseries(sequential_dir)
    assert len(ts) == 8 * 4 and list(ts["step"][:4]) == [0, 1, 2, 3]
    assert {"seed", "scoring.network_weight", "lists.black_threshold", "score_mean"} <= set(ts.columns)
    last = ts[ts["step"] == 3].reset_index(drop=True)
    assert np.allclose(last["score_mean"], out["score_mean_final"])
    assert np.allclose(ts.groupby(["point", "replicate"])["late_bill_rate"].sum().to_numpy(), out["late_bill_rate_sum"])
    ds = open_dataset(sequential_dir)
    assert dict(ds.sizes) == {"point": 4, "replicate": 2, "step": 4, "outcome": 3, "measure": 4}
    assert ds.attrs["root_seed"] == 11 and ds.attrs["spec_hash"] == plan.digest() and "credsim_version" in ds.attrs
    assert ds["lists.black_threshold"].attrs["role"] == "lever"
    assert (ds["seed"].values == plan.seeds).all() and bool(ds["ok"].all())
    assert np.allclose(ds["series"].sel(outcome="score_mean", step=3).values.ravel(), out["score_mean_final"])
    assert sorted(p.name for p in sequential_dir.iterdir()) == [
        "base.toml", "outcomes.parquet", "points.parquet", "results.zarr", "runs", "sweep.json", "sweep.toml",
        "timeseries"]


def test_processes_give_identical_results(sequential_dir, tiny, tmp_path):
    summary = run_sweep(tiny, tmp_path / "p", executor="processes", workers=2)
    assert (summary.succeeded, summary.failed) == (8, 0)
    assert_same_results(sequential_dir, tmp_path / "p")


def test_dask_local_cluster_gives_identical_results(sequential_dir, tiny, tmp_path):
    summary = run_sweep(tiny, tmp_path / "d", executor="dask", workers=2)
    assert (summary.succeeded, summary.failed) == (8, 0)
    assert_same_results(sequential_dir, tmp_path / "d")


def test_dask_existing_cluster_with_threaded_workers(sequential_dir, tiny, tmp_path):
    """An existing cluster by its address; two threads in one worker run one simulation at a time."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        summary = run_sweep(tiny, tmp_path / "e", executor="dask", scheduler=cluster.scheduler_address)
    assert (summary.succeeded, summary.failed) == (8, 0)
    assert_same_results(sequential_dir, tmp_path / "e")


def test_interrupted_sweep_computes_only_missing_runs(sequential_dir, tiny, tmp_path):
    counting = functools.partial(sweep_helpers.counting, markers=str(tmp_path))
    out = tmp_path / "s"
    seen = []

    def stop_after_three(result):
        seen.append(result.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny, out, executor="sequential", on_result=stop_after_three, fn=counting)
    kept = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("point=*/rep=*.parquet")}
    assert len(kept) == 3 and not (out / "outcomes.parquet").exists()
    for marker in tmp_path.glob("ran-*"):
        marker.unlink()
    summary = run_sweep(tiny, out, executor="sequential", fn=counting)
    assert (summary.reused, summary.succeeded, summary.failed) == (3, 5, 0)
    assert len(list(tmp_path.glob("ran-*"))) == 5  # only the missing runs were computed
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert_same_results(sequential_dir, out)


def test_killed_sweep_finishes_on_rerun(tmp_path):
    spec = write(tmp_path, TINY.replace("replicates = 2", "replicates = 10").replace("= 300", "= 2000")
                 .replace("\"run.steps\" = 4", "\"run.steps\" = 8"))
    out = tmp_path / "k"
    proc = subprocess.Popen([sys.executable, "-m", "credsim", "sweep", str(spec), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers = []
    try:
        deadline = time.time() + 120
        while len(list((out / "runs").glob("point=*/rep=*.parquet"))) < 4 and time.time() < deadline:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(workers, timeout=20)  # orphaned workers notice and exit
    for p in alive:
        p.kill()
    assert not alive, "worker processes outlived the killed sweep"
    done = len(list((out / "runs").glob("point=*/rep=*.parquet")))
    assert 4 <= done < 40
    r = runner.invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert f"40 runs: {done} reused from an earlier attempt, {40 - done} run now: {40 - done} succeeded, 0 failed" \
        in " ".join(r.output.split())
    assert (read_outcomes(out)["status"] == "ok").all() and not list(out.rglob(".*.tmp-*"))


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(sequential_dir, tiny, tmp_path):
    out = tmp_path / "f"
    summary = run_sweep(tiny, out, executor="sequential", fn=sweep_helpers.bad_point_one)
    assert (summary.succeeded, summary.failed) == (6, 2)
    assert "lists.min_term" in summary.errors[0]
    assert "lists.min_term" in (out / "runs" / "point=1" / "rep=0.error.json").read_text()
    outcomes = read_outcomes(out)
    failed = outcomes[outcomes["status"] == "failed"]
    assert list(failed["point"]) == [1, 1] and failed["error"].str.contains("lists.min_term").all()
    assert failed["score_mean_final"].isna().all() and (outcomes["status"] != "failed").sum() == 6
    assert 1 not in set(read_timeseries(out)["point"])
    ds = open_dataset(out)
    assert not ds["ok"].sel(point=1).any() and np.isnan(ds["value"].sel(point=1)).all()
    again = run_sweep(tiny, out, executor="sequential")  # the failed runs are tried again
    assert (again.reused, again.succeeded, again.failed) == (6, 2, 0)
    assert not list((out / "runs").rglob("*.error.json"))
    assert_same_results(sequential_dir, out)


def test_a_dead_worker_is_replaced_and_its_run_retried(tiny, tmp_path):
    dies = functools.partial(sweep_helpers.dies, markers=str(tmp_path))
    spec = write(tmp_path, TINY.replace("replicates = 2", "replicates = 2\nretries = 1"))
    summary = run_sweep(spec, tmp_path / "w", executor="processes", workers=2, fn=dies)
    assert (summary.succeeded, summary.failed) == (7, 1)  # only the run that always kills its worker fails
    assert SweepDir(tmp_path / "w").read(0, 0)[1]["attempts"] == 2  # died once, then succeeded
    assert "point 1, replicate 0" in summary.errors[0] and "worker process died 2 times" in summary.errors[0]
    assert list(read_outcomes(tmp_path / "w")["status"]) == ["ok", "ok", "failed"] + ["ok"] * 5


class _PoolThatBreaksOnSubmit:
    """A stand-in for the process pool that reproduces a race the real one has: a worker dies while
    its run is in flight, the pool is marked broken, and the sweep submits another run before it
    has heard of the break, so that submit itself raises BrokenProcessPool; the runs in flight
    report the break a moment later (here 50 ms, from a timer, as from the pool's manager thread).
    Runs are computed at once in this process; run (1, 0) kills its worker every time, run (0, 0)
    the first time."""

    killed: set = set()

    def __init__(self, workers):
        self.pending, self.broken = [], False

    def submit(self, fn, task, threads):
        if self.broken:
            raise BrokenProcessPool("a child process terminated abruptly")
        fut = Future()
        if task.key == (1, 0) or (task.key == (0, 0) and task.key not in self.killed):
            self.killed.add(task.key)
            self.pending.append(fut)
            self.broken = True
            threading.Timer(0.05, self._fail_pending).start()
        else:
            fut.set_result(fn(task, None))
        return fut

    def _fail_pending(self):
        for fut in self.pending:
            fut.set_exception(BrokenProcessPool("a child process terminated abruptly"))

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_a_pool_that_breaks_as_a_run_is_submitted_loses_nothing(sequential_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "_new_pool", _PoolThatBreaksOnSubmit)
    monkeypatch.setattr(_PoolThatBreaksOnSubmit, "killed", set())
    spec = write(tmp_path, TINY.replace("replicates = 2", "replicates = 2\nretries = 1"))
    summary = run_sweep(spec, tmp_path / "w", executor="processes", workers=2)
    assert (summary.succeeded, summary.failed) == (7, 1)
    store = SweepDir(tmp_path / "w")
    assert store.read(0, 0)[1]["attempts"] == 2  # lost once with its worker, then succeeded
    assert store.read(0, 1)[1]["attempts"] == 1  # refused by the broken pool: never started, not counted
    assert "point 1, replicate 0" in summary.errors[0] and "worker process died 2 times" in summary.errors[0]
    outcomes = read_outcomes(tmp_path / "w")
    assert list(outcomes["status"]) == ["ok", "ok", "failed"] + ["ok"] * 5
    ok = outcomes[outcomes["status"] == "ok"]
    ref = read_outcomes(sequential_dir)
    ref = ref[ref["status"] == "ok"]
    assert ok.drop(columns=["wall_s", "attempts"], errors="ignore").reset_index(drop=True).equals(
        ref[(ref["point"] != 1) | (ref["replicate"] != 0)].drop(columns=["wall_s", "attempts"], errors="ignore")
        .reset_index(drop=True))


def test_a_folder_of_another_sweep_is_refused(sequential_dir, tmp_path):
    other = write(tmp_path, TINY.replace("replicates = 2", "replicates = 3"))
    with pytest.raises(RunFolderError, match="different sweep.*replicates"):
        run_sweep(other, sequential_dir, executor="sequential")
    r = runner.invoke(app, ["sweep", str(other), "--out", str(sequential_dir)])
    assert r.exit_code == 2 and "different sweep" in r.output and "Traceback" not in r.output
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("keep")
    r = runner.invoke(app, ["sweep", str(other), "--out", str(stranger)])
    assert r.exit_code == 2 and "not a sweep folder" in r.output
    assert sorted(p.name for p in stranger.iterdir()) == ["mine.txt"]


def test_cli_sweep_prints_counts_and_resumes(sequential_dir, tiny, tmp_path):
    out = tmp_path / "c"
    r = runner.invoke(app, ["sweep", str(tiny), "--out", str(out), "--executor", "sequential"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "8 runs: 0 reused from an earlier attempt, 8 run now: 8 succeeded, 0 failed" in text
    assert "outcomes.parquet" in text and "results.zarr" in text
    r = runner.invoke(app, ["sweep", str(tiny), "--out", str(out), "--executor", "sequential"])
    assert r.exit_code == 0 and "8 runs: 8 reused from an earlier attempt, 0 run now" in " ".join(r.output.split())
    assert_same_results(sequential_dir, out)
    assert pq.read_table(out / "points.parquet").num_rows == 4
