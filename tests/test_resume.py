"""Long runs that survive: interrupt, kill -9, resume to identical bytes; incomplete folders."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import credsim
from credsim.cli import app
from credsim.output.rundir import checkpoint_of, partial_path

runner = CliRunner()
ARGS = dict(agents=2500, steps=20, seed=3, **{"output.checkpoint_every": 4, "output.report": False})
SAME = ("scenario.toml", "timeseries.parquet", "register.parquet", "appeals.parquet",
        "persons.parquet", "companies.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    credsim.run("seed", out=out, **ARGS)
    return out


def assert_same_run(a: Path, b: Path) -> None:
    for name in SAME:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    for s in (sa, sb):
        s.pop("wall_time_s"), s.pop("output")
    assert sa == sb
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())


@pytest.mark.parametrize("stop_after", [1, 4, 9, 19])
def test_stop_then_resume_gives_identical_bytes(tmp_path, reference, stop_after):
    out = tmp_path / "run"
    done = []
    with pytest.raises(credsim.RunInterrupted) as exc:
        credsim.run("seed", out=out, on_step=done.append, should_stop=lambda: len(done) >= stop_after, **ARGS)
    assert exc.value.step == stop_after and "credsim run --resume" in str(exc.value)
    assert not out.exists() and checkpoint_of(partial_path(out)) is not None
    result = credsim.resume(out)
    assert result.path == out and not partial_path(out).exists()
    assert_same_run(reference, out)


def _kill_and_resume(tmp_path: Path, reference: Path, delay: float) -> str:
    out = tmp_path / f"run-{delay:.2f}"
    code = ("import credsim, sys; credsim.run('seed', out=sys.argv[1], agents=2500, steps=20, seed=3, "
            "**{'output.checkpoint_every': 4, 'output.report': False})")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if out.exists():
        outcome = "finished before the kill"
    elif checkpoint_of(partial_path(out)) is not None:
        credsim.resume(out)
        outcome = "resumed"
    else:
        # killed before the first checkpoint: nothing to resume, a new run starts clean
        r = runner.invoke(app, ["run", "seed", "--out", str(out), "--agents", "2500", "--steps", "20",
                                "--seed", "3", "--set", "output.checkpoint_every=4", "--set",
                                "output.report=false", "-q"])
        assert r.exit_code == 0, r.output
        outcome = "restarted"
    assert_same_run(reference, out)
    return outcome


def test_kill_9_at_random_points_then_resume(tmp_path, reference):
    rng = random.Random(7)
    outcomes = [_kill_and_resume(tmp_path, reference, rng.uniform(1.5, 4.5)) for _ in range(2)]
    assert outcomes  # each run ends identical to the uninterrupted one, whatever the kill hit


def test_kill_during_a_checkpoint_write(tmp_path, reference):
    out = tmp_path / "run"
    done = []
    with pytest.raises(credsim.RunInterrupted):
        credsim.run("seed", out=out, on_step=done.append, should_stop=lambda: len(done) >= 9, **ARGS)
    partial = partial_path(out)
    # what a kill -9 halfway through the next checkpoint and segment leaves behind
    (partial / "checkpoint.new").mkdir()
    (partial / "checkpoint.new" / "arrays.npz").write_bytes(b"\x00" * 100)
    (partial / "parts" / "register-000009.parquet").write_bytes(b"PAR1 truncated")
    (partial / "writer.pid").write_text("999999999")
    credsim.resume(out)
    assert_same_run(reference, out)


def test_incomplete_runs_are_listed_and_refused(tmp_path):
    out = tmp_path / "runs" / "stopped"
    done = []
    with pytest.raises(credsim.RunInterrupted):
        credsim.run("seed", out=out, on_step=done.append, should_stop=lambda: len(done) >= 3,
                    **dict(ARGS, **{"output.report": True}))
    r = runner.invoke(app, ["runs", str(tmp_path / "runs")])
    assert r.exit_code == 0 and "stopped" in r.output and "step 3 of 20" in r.output
    for args in (["query", str(out), "SELECT 1"], ["report", str(out)], ["compare", str(out), str(out)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert "interrupted after step 3 of 20" in r.output and "--resume" in r.output
    # a new run into the same folder does not destroy the interrupted one
    r = runner.invoke(app, ["run", "seed", "--out", str(out), "--agents", "500", "--steps", "2"])
    assert r.exit_code == 2 and "--resume" in r.output
    assert checkpoint_of(partial_path(out)) is not None
    r = runner.invoke(app, ["run", "--resume", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert credsim.open_run(out).summary["steps"] == 20
    assert (out / "report.html").is_file()


def test_ctrl_c_stops_after_the_step_with_a_checkpoint(tmp_path, reference):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "credsim", "run", "seed", "--out", str(out), "--agents",
                             "2500", "--steps", "20", "--seed", "3", "--set", "output.checkpoint_every=4",
                             "--set", "output.report=false", "-q"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not partial_path(out).exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)  # the handler is in place before the folder is made
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert "credsim run --resume" in err and "Traceback" not in err
    credsim.resume(out)
    assert_same_run(reference, out)


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = runner.invoke(app, ["run", "seed", "--agents", "500", "--steps", "2", "--out", str(blocker / "run")])
    assert r.exit_code == 2 and "cannot write the run" in r.output and "Traceback" not in r.output


def test_disk_full_keeps_the_last_checkpoint(tmp_path, reference, monkeypatch):
    import numpy as np

    out = tmp_path / "run"
    real = np.savez
    calls = []

    def savez(*args, **kwargs):
        calls.append(1)
        if len(calls) >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(credsim.output.RunFolderError, match="No space left on device.*last checkpoint is kept"):
        credsim.run("seed", out=out, **ARGS)
    monkeypatch.setattr(np, "savez", real)
    ckpt = checkpoint_of(partial_path(out))
    assert ckpt is not None and json.loads((ckpt / "meta.json").read_text())["scalars"]["step"] == 8
    credsim.resume(out)
    assert_same_run(reference, out)
