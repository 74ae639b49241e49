"""The full `seed` scenario (every mechanism on): society generation, steps, per-phase time
against each phase's own bound, peak memory.  Run it in a fresh process per size
(`run_all.py` does) so that peak memory is this size's own.

    python -m benchmarks.full_seed --n 1000000 --steps 24 [--degree 10] [--bandwidth GBps]
                                   [--ns-per-random NS]
    python -m benchmarks.full_seed --n 100000 --steps 120 --serve    # for paired.py

Two parts, in one process.  First the rate: `--steps` steps as a user runs them, nothing
wrapped; the first step loads the compiled kernels from Numba's cache and is the warm-up (the
Mesa benchmark takes one too): `agent_steps_per_s` counts the steps after it, and
`agent_steps_per_s_whole` the whole run with it.  Then the breakdown: the run made again from
a fresh simulation of the same scenario and seed (the same steps; `--phase-steps` of them,
default all), timed by phase.  The timers, kernel timers
and draw counters cost about 0.8 ms a step at 1e5 (5 %), so the rate is not taken from them.

Timers wrap, without changing credsim: every entry of `credsim.engine.simulation.PHASES`,
`Simulation._perceive` (the pass over every tie after each step), `Simulation._remember_actions`
and `credsim.metrics.step_row`; "other" is the rest of `Simulation.step`.  Society generation is
`make_society` inside `Simulation.__init__`; "init, rest" is the initial state and first pass.
Inside each phase, the time spent in compiled kernels is timed apart (`KernelTimers`: every
Numba kernel of credsim that Python calls directly is wrapped once the society is built); the
rest of the phase ("glue": Python, NumPy calls and kernel launches' argument handling) is what
fusing phases or moving the step's Python into one compiled driver could save.

Each phase's bound = bytes / bandwidth + random numbers x ns per random number:
- bytes: the arrays the phase must read and write at least once (a fused pass, no NumPy
  temporaries), counted from the code in `PHASE_BYTES` below (sizes from the live arrays, so a
  dtype change shows); per-tie terms from the graph: the tie pass reads indptr, every slot
  (nbr) and gathers score, black, acted and observed of every live tie; the ties
  phase reads the slots of every person with a tie cost > 0 and gathers the salience of
  their ties.  Per-record index arrays (small) are left out.
- random numbers: counted while the run goes, by wrapping each of `sim.rng`'s generators
  with a counter (the size of every array they return), charged to the phase that drew them;
  ns per number from `rngcost.py` (NumPy `Generator.random(dtype=float32)`, one thread).
Bytes and random numbers are added (NumPy draws them in a separate pass), so the bound is what
a phase would cost if it were one pass at full bandwidth with today's random generator.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

import numpy as np

try:
    from .common import emit, log, peak_rss_bytes, reset_peak, rss_bytes, stats
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import emit, log, peak_rss_bytes, reset_peak, rss_bytes, stats

# phase -> [(array, passes)], passes: 1 = read or written once, 2 = read and written.
# "mask:k" = k person-length bool arrays handed between phases (did, attempts, punished...).
# Counted from src/credsim/mechanisms/*.py, engine/simulation.py and metrics.py (2025 layout);
# a path that no longer exists is skipped and listed in the output as `missing`.
PHASE_BYTES: dict[str, list[tuple[str, float]]] = {
    "rollout": [],
    "actions": [
        ("view.degree", 1), ("state.income", 1), ("persons.conscientiousness", 1),
        ("persons.risk_aversion", 1), ("state.risk", 1), ("state.salience", 1),
        ("state.internalization", 1), ("state.hardship", 1), ("persons.dissent_threshold", 1),
        ("state.employer", 1), ("persons.region", 1), ("state.pressure", 1), ("persons.has_child", 1),
        ("view.tie_did", 1),  # one packed word: a 12-bit lane per disapproved action
        ("state.default_out", 2), ("mask:14", 1),  # 7 did, dissent_private, fulfilled, 5 attempts
        ("companies.propensity", 1), ("state.c_default_out", 2),
    ],
    "feedback": [],
    "observation": [("mask:8", 1), ("persons.region", 1), ("persons.education", 1)],
    "scoring": [
        ("state.personal", 2), ("state.false_points", 2), ("view.tie_mean", 1), ("view.listed_ties", 1),
        ("state.score", 1), ("state.grade", 1), ("mask:2", 1),
        ("state.c_score", 2), ("state.c_grade", 1),
    ],
    "lists": [
        ("state.months_listed", 2), ("state.black", 2), ("state.score", 1), ("state.personal", 1),
        ("state.false_points", 1), ("state.default_out", 1), ("state.list_cause", 2), ("state.red", 1),
        ("mask:1", 2), ("state.c_score", 1), ("state.c_black", 2), ("state.c_months_listed", 2),
    ],
    "consequences": [
        ("mask:5", 1), ("state.black", 1), ("state.employer", 2), ("persons.income_base", 1),
        ("state.income", 1), ("state.hardship", 2), ("persons.hardship0", 1), ("state.pressure", 2),
        ("state.refusals", 2), ("state.red", 1), ("persons.region", 1), ("mask:2", 2),
    ],
    "learning": [
        ("mask:5", 1), ("view.tie_did", 1), ("view.tie_obs", 1), ("state.risk", 2),
        ("state.internalization", 2), ("state.salience", 2), ("mask:2", 1),
    ],
    "ties": [("state.score", 1), ("state.black", 1), ("view.friend_degree", 1), ("graph.target_friends", 1)],
    "perceive": [
        ("graph.indptr", 1), ("graph.nbr", 1),
        ("view.tie_mean", 1), ("view.listed_ties", 1), ("view.degree", 1), ("view.friend_degree", 1),
        ("view.tie_did", 1), ("view.tie_obs", 1),
    ],
    "remember": [("mask:7", 1), ("state.acted", 1), ("state.observed", 1)],
    "metrics": [
        ("state.score", 1), ("state.grade", 1), ("state.black", 1), ("state.red", 1), ("mask:8", 1),
        ("state.default_out", 1), ("view.degree", 1), ("view.friend_degree", 1), ("view.tie_mean", 1),
        ("state.internalization", 1), ("state.salience", 1), ("state.risk", 1), ("state.hardship", 1),
        ("state.employer", 1), ("state.income", 1),
    ],
}


class CountingRNG:
    """A `numpy.random.Generator` stand-in that counts the numbers drawn, per phase."""

    def __init__(self, g, counter: dict, label: list):
        self._g, self._counter, self._label = g, counter, label

    def __getattr__(self, name):
        f = getattr(self._g, name)
        if not callable(f):
            return f

        def draw(*args, **kwargs):
            out = f(*args, **kwargs)
            key = self._label[-1]
            self._counter[key] = self._counter.get(key, 0) + int(np.size(out))
            return out

        return draw


class KernelTimers:
    """Times every credsim Numba kernel that Python calls directly, charged to the current
    phase (`label[-1]`).  Only entry points are wrapped: a kernel that another kernel calls
    by name is left alone (a kernel compiled later would otherwise see the Python wrapper),
    and so are `inline="always"` helpers.  `restore()` puts the kernels back."""

    def __init__(self, times: dict, label: list):
        from numba.core.registry import CPUDispatcher

        mods = [m for name, m in list(sys.modules.items())
                if m is not None and (name == "credsim" or name.startswith("credsim."))]
        found = {}
        for m in mods:
            for k, v in vars(m).items():
                if isinstance(v, CPUDispatcher):
                    found[id(v)] = v
        called = {name for v in found.values() for name in v.py_func.__code__.co_names}
        entry = {i: v for i, v in found.items()
                 if v.__name__ not in called and v.targetoptions.get("inline", "never") != "always"}
        self._patched = []
        wrappers = {i: self._wrap(v, times, label) for i, v in entry.items()}
        for m in mods:
            for k, v in list(vars(m).items()):
                if id(v) in wrappers:
                    setattr(m, k, wrappers[id(v)])
                    self._patched.append((m, k, v))
        self.kernels = sorted({f"{v.py_func.__module__}.{v.__name__}" for v in entry.values()})

    @staticmethod
    def _wrap(kernel, times, label):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return kernel(*args, **kwargs)
            finally:
                key = label[-1]
                times[key] = times.get(key, 0.0) + time.perf_counter() - t
        return timed

    def restore(self) -> None:
        for m, k, v in self._patched:
            setattr(m, k, v)
        self._patched = []


def _resolve(sim, path: str):
    root, _, attr = path.partition(".")
    roots = {"state": lambda: sim.state, "persons": lambda: sim.society.persons,
             "companies": lambda: sim.society.companies, "graph": lambda: sim.society.graph,
             "view": lambda: sim.view}
    try:
        return getattr(roots[root](), attr)
    except (KeyError, AttributeError):
        return None


def phase_bytes(sim, n: int, cand_slots: float, cand: float) -> tuple[dict, list]:
    out, missing = {}, []
    for phase, items in PHASE_BYTES.items():
        total = 0.0
        for path, passes in items:
            if path.startswith("mask:"):
                total += int(path[5:]) * n * passes
                continue
            arr = _resolve(sim, path)
            if arr is None:
                missing.append(f"{phase}:{path}")
                continue
            total += arr.nbytes * passes
        out[phase] = total
    st, g = sim.state, sim.society.graph
    live = int(np.count_nonzero(g.nbr >= 0))
    per_tie = st.score.itemsize + st.black.itemsize + st.acted.itemsize + st.observed.itemsize
    out["perceive"] += live * per_tie
    # ties: slots of every person with a cost > 0 (nbr, family) + the salience of their ties
    out["ties"] += cand_slots * (g.nbr.itemsize + g.family.itemsize + st.salience.itemsize) + cand * 8
    return out, missing


def _cand(sim) -> tuple[int, int]:
    """Persons the ties phase visits (tie cost > 0) and their slots; untimed, after a step."""
    try:
        from credsim.mechanisms.ties import tie_cost
        cost, _ = tie_cost(sim)
    except Exception:  # noqa: BLE001 - the engine may have moved on; the bound is then approximate
        return 0, 0
    g = sim.society.graph
    cand = np.flatnonzero(cost > 0)
    return len(cand), int((g.indptr[cand + 1] - g.indptr[cand]).sum())


def _scenario(n: int, steps: int, degree: float, seed: int):
    import credsim
    return credsim.load_scenario("seed", overrides={"population.agents": n, "network.mean_degree": degree,
                                                    "run.steps": steps, "run.seed": seed})


def timed_steps(sim, steps: int, quiet: bool = False) -> list[float]:
    """Seconds of each of `steps` plain steps (nothing wrapped)."""
    per_step = []
    for t in range(steps):
        t1 = time.perf_counter()
        sim.step()
        per_step.append(time.perf_counter() - t1)
        if not quiet:
            log(f"  step {t}: {per_step[-1]:.3f} s")
    return per_step


def after_first(per_step: list[float]) -> list[float]:
    """The steps after the warm-up step (all of them where there is only one)."""
    return per_step[1:] if len(per_step) > 1 else per_step


def rate_after_first(n: int, per_step: list[float]) -> float:
    """Agent-steps/s as Mesa's is measured: the steps after the warm-up step."""
    later = after_first(per_step)
    return n * len(later) / sum(later)


def serve(n: int, steps: int, degree: float, seed: int) -> None:
    """For `paired.py`: per line read from stdin, a fresh simulation of the scenario (built
    untimed) and `steps` plain steps; the rate as `run` measures it."""
    import credsim

    try:
        from .common import serve as serve_blocks
    except ImportError:
        from common import serve as serve_blocks
    sc = _scenario(n, steps, degree, seed)
    credsim.Simulation(sc).step()  # the kernels loaded (or compiled) before the first block

    def block() -> dict:
        gc.collect()
        sim = credsim.Simulation(sc)
        per_step = timed_steps(sim, steps, quiet=True)
        return {"step_s": statistics.median(after_first(per_step)),
                "agent_steps_per_s": rate_after_first(n, per_step)}
    serve_blocks(block, {"bench": "full_seed", "n": n, "steps": steps, "mean_degree_requested": degree})


def run(n: int, steps: int, degree: float, seed: int, count_rng: bool = True,
        phase_steps: int | None = None) -> dict:
    """`steps` steps timed as a user runs them (no wrappers; the first is the warm-up, as in the
    Mesa benchmark, and is reported apart); then the same run again from a fresh simulation of
    the same scenario and seed, `phase_steps` steps (default `steps`: the very steps timed)
    with the phase and kernel timers and the draw counters, for the breakdown per phase."""
    import credsim
    import credsim.metrics as M
    from credsim.engine import simulation as S

    phase_steps = steps if phase_steps is None else phase_steps
    sc = _scenario(n, max(steps, phase_steps), degree, seed)
    times: dict[str, float] = {}
    label = ["other"]

    def timer(name, f):
        def g(*args, **kwargs):
            label.append(name)
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t
                label.pop()
        return g

    orig_phases, orig_row, orig_make = S.PHASES, M.step_row, getattr(S, "make_society", None)
    if orig_make is not None:  # where the engine builds the society some other way, it is not timed apart
        S.make_society = timer("society", orig_make)
    try:
        t0 = time.perf_counter()
        sim = credsim.Simulation(sc)
        init_s = time.perf_counter() - t0
    finally:
        if orig_make is not None:
            S.make_society = orig_make
    society_s = times.pop("society", float("nan"))
    rss_init = rss_bytes()
    peak_init = peak_rss_bytes()
    log(f"  init {init_s:.1f} s (society {society_s:.1f} s); memory {rss_init / 2**30:.2f} GiB, "
        f"peak so far {peak_init / 2**30:.2f} GiB")
    peak_reset = reset_peak()  # from here VmHWM is the steps' own peak
    # 1. the rate: plain steps, nothing wrapped
    per_step = timed_steps(sim, steps)
    peak_steps = peak_rss_bytes() if peak_reset else None
    peak_run = max(peak_init, peak_steps or 0)
    # 2. the breakdown: the same steps again, every phase and kernel timed, every draw counted
    del sim
    gc.collect()
    sim = credsim.Simulation(sc)
    ktimers = None
    ktimes: dict[str, float] = {}
    drawn: dict[str, int] = {}
    phase_step, cands = [], []
    rng = sim.rng
    S.PHASES = tuple((nm, timer(nm, f)) for nm, f in orig_phases)
    M.step_row = timer("metrics", orig_row)
    try:
        for attr, name in (("_perceive", "perceive"), ("_remember_actions", "remember")):
            if hasattr(sim, attr):
                setattr(sim, attr, timer(name, getattr(sim, attr)))
        ktimers = KernelTimers(ktimes, label)
        if count_rng and isinstance(rng, dict):
            sim.rng = {k: CountingRNG(v, drawn, label) for k, v in rng.items()}
        times.clear()
        for t in range(phase_steps):
            t1 = time.perf_counter()
            sim.step()
            phase_step.append(time.perf_counter() - t1)
            label.append("untimed")  # kernels _cand calls are not part of the step
            try:
                cands.append(_cand(sim))
            finally:
                label.pop()
            log(f"  step {t} again, timed by phase: {phase_step[-1]:.3f} s")
    finally:
        if ktimers is not None:
            ktimers.restore()
        S.PHASES, M.step_row = orig_phases, orig_row
        for attr in ("_perceive", "_remember_actions"):
            sim.__dict__.pop(attr, None)
        sim.rng = rng
    ktimes.pop("untimed", None)
    total = sum(per_step)
    phase_total = sum(phase_step)
    times["other"] = phase_total - sum(times.values())
    cand = statistics.mean(c[0] for c in cands) if cands else 0.0
    cand_slots = statistics.mean(c[1] for c in cands) if cands else 0.0
    nbytes, missing = phase_bytes(sim, n, cand_slots, cand)
    g = sim.society.graph
    later = after_first(per_step)
    est_120 = total + (120 - steps) * statistics.median(later) if steps < 120 else None
    k = max(phase_steps, 1)
    return {
        "n": n, "steps": steps, "mean_degree_requested": degree,
        "live_ties_per_person": int(np.count_nonzero(g.nbr >= 0)) / n, "slots_per_person": len(g.nbr) / n,
        "companies": len(sim.state.c_score),
        "init_s": init_s, "society_s": society_s, "init_rest_s": init_s - society_s,
        "steps_s": total, "step_s": stats(per_step), "first_step_s": per_step[0],
        # the rate as Mesa's is measured: the steps after a warm-up step, nothing wrapped
        "agent_steps_per_s": rate_after_first(n, per_step),
        "agent_steps_per_s_whole": n * steps / total,  # the first step (kernels loaded) included
        "agent_steps_per_s_steady": n / statistics.median(later),
        "est_120_steps_s": est_120,
        "phase_steps": phase_steps, "phase_steps_s": phase_total,
        "phase_step_s": stats(phase_step) if phase_step else None,
        "phase_s_per_step": {name: v / k for name, v in times.items()},
        "phase_kernel_s_per_step": {name: v / k for name, v in ktimes.items()},
        "kernel_s_per_step": sum(ktimes.values()) / k,
        "kernels_timed": ktimers.kernels if ktimers is not None else [],
        "phase_bytes_per_step": nbytes, "phase_bytes_missing": missing,
        "phase_randoms_per_step": {name: v / k for name, v in drawn.items()},
        "ties_candidates_per_step": cand, "ties_candidate_slots_per_step": cand_slots,
        "rss_after_init_bytes": rss_init, "peak_rss_after_init_bytes": peak_init,
        "peak_rss_steps_bytes": peak_steps, "peak_rss_bytes": peak_run,  # the timed run's
        "final_blacklist_share": sim.rows[-1].get("blacklist_share") if sim.rows else None,
    }


def bounds(res: dict, bandwidth_GBps: float, ns_per_random: float) -> list[dict]:
    """One row per phase: time, bytes, random numbers, bound, ratio; slowest-over-bound first."""
    rows = []
    names = set(res["phase_s_per_step"]) | set(res["phase_bytes_per_step"])
    for name in names:
        t = res["phase_s_per_step"].get(name, 0.0)
        b = res["phase_bytes_per_step"].get(name)
        r = res["phase_randoms_per_step"].get(name, 0)
        bt = b / (bandwidth_GBps * 1e9) if b is not None else None
        rt = r * ns_per_random * 1e-9
        bound = (bt or 0.0) + rt if (b is not None or r) else None
        kt = res.get("phase_kernel_s_per_step")  # None in results from before the kernel timers
        k = kt.get(name, 0.0) if kt is not None else None
        rows.append({"phase": name, "s_per_step": t, "kernel_s": k, "glue_s": None if k is None else t - k,
                     "bytes": b, "bytes_s": bt, "randoms": r, "randoms_s": rt, "bound_s": bound,
                     "ratio": t / bound if bound else None,
                     "excess_s": t - (bound or 0.0)})
    rows.sort(key=lambda x: -x["excess_s"])
    return rows


def print_table(res: dict, rows: list[dict], file=sys.stderr) -> None:
    print(f"full seed n={res['n']:,}, {res['steps']} steps: {res['step_s']['median'] * 1e3:.0f} ms/step median, "
          f"{res['agent_steps_per_s'] / 1e6:.2f} M agent-steps/s; society {res['society_s']:.1f} s; "
          f"peak memory {res['peak_rss_bytes'] / 2**30:.2f} GiB", file=file)
    per_step = res["phase_steps_s"] / max(res["phase_steps"], 1)
    print(f"timed by phase (the first {res['phase_steps']} steps again): in compiled kernels {res['kernel_s_per_step'] * 1e3:.1f} ms "
          f"of {per_step * 1e3:.1f} ms a step (mean); glue {(per_step - res['kernel_s_per_step']) * 1e3:.1f} ms", file=file)
    print(f"{'phase':14s} {'ms/step':>9s} {'kernels':>8s} {'glue':>6s} {'MB':>9s} {'rand/N':>7s} {'bound ms':>9s} "
          f"{'ratio':>7s} {'excess ms':>10s}", file=file)
    n = res["n"]
    for r in rows:
        print(f"{r['phase']:14s} {r['s_per_step'] * 1e3:9.1f} {(r['kernel_s'] or 0.0) * 1e3:8.1f} {(r['glue_s'] or 0.0) * 1e3:6.1f} "
              f"{(r['bytes'] or 0) / 1e6:9.1f} {r['randoms'] / n:7.2f} "
              f"{(r['bound_s'] or 0) * 1e3:9.2f} {r['ratio'] if r['ratio'] is not None else float('nan'):7.1f} "
              f"{r['excess_s'] * 1e3:10.1f}", file=file)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--degree", type=float, default=20.0, help="network.mean_degree (the issue's 1e7 target uses 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bandwidth", type=float, default=None, help="GB/s (default: measure a STREAM triad here)")
    ap.add_argument("--ns-per-random", type=float, default=None, help="default: measure NumPy's here")
    ap.add_argument("--no-count-rng", action="store_true", help="do not wrap the generators to count draws")
    ap.add_argument("--phase-steps", type=int, default=None,
                    help="steps of the run made again, timed by phase (default: --steps)")
    ap.add_argument("--serve", action="store_true",
                    help="for paired.py: a fresh run of --steps steps per line read from stdin, its rate")
    a = ap.parse_args(argv)
    if a.serve:
        serve(a.n, a.steps, a.degree, a.seed)
        return {}
    log(f"full seed n={a.n:,} degree={a.degree} steps={a.steps}")
    res = run(a.n, a.steps, a.degree, a.seed, count_rng=not a.no_count_rng, phase_steps=a.phase_steps)
    bw, nsr = a.bandwidth, a.ns_per_random
    if bw is None:
        try:
            from .stream import measure
        except ImportError:
            from stream import measure
        bw = measure(mib=256, reps=5, numpy_reps=1)["bandwidth_GBps"]
    if nsr is None:
        try:
            from .rngcost import measure as rng_measure
        except ImportError:
            from rngcost import measure as rng_measure
        nsr = rng_measure(n=10_000_000, reps=5)["ns_per_random"]
    res.update(bench="full_seed", bandwidth_GBps=bw, ns_per_random=nsr)
    res["phases"] = bounds(res, bw, nsr)
    tot_bound = sum(r["bound_s"] or 0.0 for r in res["phases"])
    res["step_bound_s"] = tot_bound
    res["ratio_to_bound"] = res["step_s"]["median"] / tot_bound if tot_bound else None
    print_table(res, res["phases"])
    emit(res)
    return res


if __name__ == "__main__":
    main()
