"""The ratio to Mesa measured in alternating blocks: Mesa's minimal model and the full `seed`
scenario kept up in two processes, taking turns.

    python -m benchmarks.paired --n 100000 --pairs 16 [--mesa-steps 1] [--seed-steps 120]

Why: the host is shared, and for seconds at a time a core does up to 40 % less work.  Run one
after the other, minutes apart (as `run_all.py`'s `mesa` and `seed` parts are), the two rates
see different phases of the host, and their ratio moves with them.  Here each pair is one
block of Mesa (`--mesa-steps` steps of one model that stays up, after its warm-up step) and one
block of credsim (a fresh simulation, built untimed, and `--seed-steps` steps; the rate after
the first step, as `full_seed.py` measures it), about a second each, back to back, in the
order ABBA (Mesa first in even pairs, credsim first in odd ones) so that a drift favours
neither.  Only one of the two runs at a time: the other waits on its pipe.

Reported: each pair's two rates and their ratio; `ratio_to_mesa`, credsim's median rate over
Mesa's (the figure the target reads: the same definition as the sequential ratio, measured in
the same minutes), and the median and range of the pairs' ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    from .common import MARKER, emit, log, stats
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import MARKER, emit, log, stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class Server:
    """A benchmark script in `--serve` mode: one JSON line back per line sent."""

    def __init__(self, name: str, cmd: list[str]):
        self.name = name
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  bufsize=1)
        self.info = self._read()

    def _read(self) -> dict:
        """The next JSON line; an error where the process ends first.  No timeout of its own:
        `run_all.py` runs this script under one."""
        for line in self.p.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        raise RuntimeError(f"{self.name}: no result (exit {self.p.wait()})")

    def block(self) -> dict:
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.p.stdin.close()
            self.p.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


def commands(mesa_python: str, n: int, mesa_steps: int, seed_steps: int, degree: float,
             space: str = "list") -> tuple[list[str], list[str]]:
    """The two servers' command lines: Mesa's minimal model and credsim's full `seed`."""
    return ([mesa_python, str(HERE / "mesa_minimal.py"), "--n", str(n), "--steps", str(mesa_steps),
             "--space", space, "--serve"],
            [sys.executable, "-m", "benchmarks.full_seed", "--n", str(n), "--steps", str(seed_steps),
             "--degree", str(degree), "--serve"])


def measure(mesa_cmd: list[str], seed_cmd: list[str], pairs: int) -> dict:
    """`pairs` pairs of blocks, ABBA; each server's first line (its `ready` figures) kept."""
    t0 = time.perf_counter()
    mesa = Server("mesa", mesa_cmd)
    seed = None
    try:
        seed = Server("seed", seed_cmd)
        rows = []
        for i in range(pairs):
            order = (mesa, seed) if i % 2 == 0 else (seed, mesa)
            got = {s.name: s.block() for s in order}
            m, c = got["mesa"]["agent_steps_per_s"], got["seed"]["agent_steps_per_s"]
            rows.append({"first": order[0].name, "mesa": m, "seed": c, "ratio": c / m})
            log(f"  pair {i}: Mesa {m / 1e3:.0f}k, seed {c / 1e6:.2f}M agent-steps/s: {c / m:.1f}x")
    finally:
        mesa.close()
        if seed is not None:
            seed.close()
    m_rates, c_rates = [r["mesa"] for r in rows], [r["seed"] for r in rows]
    return {
        "bench": "paired", "n": seed.info.get("n"), "pairs": pairs, "mesa": mesa.info, "seed": seed.info,
        "rows": rows, "mesa_agent_steps_per_s": stats(m_rates), "seed_agent_steps_per_s": stats(c_rates),
        # the target's figure: credsim's median rate over Mesa's, both from the same minutes
        "ratio_to_mesa": statistics.median(c_rates) / statistics.median(m_rates),
        "pair_ratio": stats([r["ratio"] for r in rows]),
        "wall_s": time.perf_counter() - t0,
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--mesa-steps", type=int, default=1, help="Mesa steps per block")
    ap.add_argument("--seed-steps", type=int, default=120, help="steps of each credsim block (a fresh run)")
    ap.add_argument("--degree", type=float, default=10.0)
    ap.add_argument("--space", default="list", choices=("list", "network", "networkgrid"))
    ap.add_argument("--mesa-python", default=str(ROOT / ".venv-mesa" / "bin" / "python"))
    a = ap.parse_args(argv)
    if a.pairs < 1:
        ap.error(f"--pairs {a.pairs}: allowed: 1 or more")
    if not Path(a.mesa_python).exists():
        ap.error(f"--mesa-python {a.mesa_python}: no such file (make the Mesa venv: see run_all.py)")
    res = measure(*commands(a.mesa_python, a.n, a.mesa_steps, a.seed_steps, a.degree, a.space), a.pairs)
    pr = res["pair_ratio"]
    log(f"paired: ratio of the medians {res['ratio_to_mesa']:.1f}x; the pairs' ratios {pr['median']:.1f}x "
        f"median, {pr['min']:.1f}-{pr['max']:.1f}x")
    emit(res)
    return res


if __name__ == "__main__":
    main()
