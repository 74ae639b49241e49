"""Run every benchmark of issue #3 with one command and report.

    .venv/bin/python -m benchmarks            # full: about 3-4 minutes on 2 cores
    .venv/bin/python -m benchmarks --quick    # a few minutes: no 1e7, fewer steps

Each benchmark runs in a fresh subprocess (its peak memory is its own):
  machine     CPU, cores, caches, memory
  stream      STREAM-like triad bandwidth (the bandwidth every bound divides by)
  gather      random / sorted / clustered gather of float32 from a 10M array (reference line)
  rngcost     ns per random number (NumPy float32; counter-based splitmix64 in Numba)
  mesa        the minimal model in Mesa 3.5.1, in the Mesa venv (`.venv-mesa`, Python 3.12+);
              skipped, with the command that makes the venv, where it is missing
  paired      Mesa's minimal model and the full `seed` at 1e5 in alternating blocks, about a
              second each (`paired.py`): the ratio to Mesa the target reads, both rates taken
              in the same minutes (needs the Mesa venv too)
  minimal     the minimal model on credsim's own network (`plain` loop and `blocked` kernel),
              at 1e5, 1e6, 1e7: agent-steps/s and the ratio to its memory-bandwidth bound
  seed        the full `seed` scenario at 1e5, 1e6, 1e7: society generation, agent-steps/s,
              peak memory, each phase against its own bound; 1e7 runs a few steps and
              extrapolates to 120 (labelled so)

Prints a summary, writes benchmarks/results/latest.json (every figure) and
benchmarks/results/latest.md (the tables docs/performance.md quotes), which opens with the
five targets of issue #3 as this run measured them.  The machine is noisy, so judge the
targets on several runs (`targets.py`):

    .venv/bin/python -m benchmarks --runs 3 --wait-quiet 60   # STEM-run1..3 and STEM: their medians
    .venv/bin/python -m benchmarks --combine A.json B.json C.json --out STEM   # runs made before
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

try:
    from .common import MARKER, cpu_busy, log, machine
    from .targets import combine, combined_markdown, run_table
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import MARKER, cpu_busy, log, machine
    from targets import combine, combined_markdown, run_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GiB = 2**30
MESA_VENV_HELP = ('~/.pyenv/versions/3.12.*/bin/python -m venv .venv-mesa && '
                  '.venv-mesa/bin/pip install "mesa==3.5.1" networkx numpy')
# rough peak memory (GiB) of the biggest runs, checked against MemAvailable before starting
NEED_GIB = {("minimal", 10_000_000): 9.0, ("seed", 10_000_000): 16.0}


WAIT_QUIET = {"seconds": 0.0, "cores": 0.5}


def _quiet() -> float | None:
    """Wait (up to --wait-quiet seconds) until other processes use under 0.5 cores; the load seen."""
    deadline = time.perf_counter() + WAIT_QUIET["seconds"]
    busy = cpu_busy(1.0)
    while busy is not None and busy > WAIT_QUIET["cores"] and time.perf_counter() < deadline:
        time.sleep(4.0)
        busy = cpu_busy(1.0)
    return busy


def _run(cmd: list[str], timeout: float) -> dict | None:
    busy = _quiet()
    log(f"$ {' '.join(cmd)}    (other processes busy: {_f(busy, '{:.1f}')} cores)")
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"  timed out after {timeout:.0f} s")
        return {"error": f"timed out after {timeout:.0f} s", "cmd": cmd}
    wall = time.perf_counter() - t
    res = None
    for line in p.stdout.splitlines():
        if line.startswith(MARKER):
            res = json.loads(line[len(MARKER):])
    if p.returncode != 0 or res is None:
        log(f"  failed (exit {p.returncode})")
        return {"error": f"exit {p.returncode}", "cmd": cmd, "stdout_tail": p.stdout[-2000:]}
    res["wall_s"] = wall
    res["cmd"] = " ".join(cmd)
    res["cores_busy_before"] = busy
    return res


def _py(module: str, *args) -> list[str]:
    return [sys.executable, "-m", f"benchmarks.{module}", *[str(a) for a in args]]


def _no_mesa(args) -> dict:
    """The result of a part that needs the Mesa venv where there is none: the command that makes it."""
    msg = f"skipped: no Mesa venv at {args.mesa_python}; make it with: {MESA_VENV_HELP}"
    log(msg)
    return {"skipped": msg}


def _mem_ok(kind: str, n: int, force: bool) -> str | None:
    need = NEED_GIB.get((kind, n))
    if need is None or force:
        return None
    avail = machine().get("MemAvailable", 0) / GiB
    if avail < need:
        return f"skipped: {avail:.1f} GiB available, needs about {need:.0f} GiB (--force to try)"
    return None


def plan(args) -> dict:
    if args.quick:
        p = {"minimal": [(100_000, 10, 3), (1_000_000, 10, 3)],
             "seed": [(100_000, 24, 1), (1_000_000, 6, 1)],
             "mesa": (100_000, 2, 2), "paired": (100_000, 4, 24)}
    else:
        p = {"minimal": [(100_000, 20, 5), (1_000_000, 10, 5), (10_000_000, 5, 5)],
             "seed": [(100_000, 120, 3), (1_000_000, 24, 1), (10_000_000, args.steps_1e7, 1)],
             "mesa": (100_000, 3, 3), "paired": (100_000, 16, 120)}
    if args.sizes:
        keep = {int(float(s)) for s in args.sizes.split(",")}
        p["minimal"] = [x for x in p["minimal"] if x[0] in keep]
        p["seed"] = [x for x in p["seed"] if x[0] in keep]
    return p


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few minutes: no 1e7, fewer steps and repetitions")
    ap.add_argument("--sizes", default=None, help="comma list of sizes to keep, e.g. 1e5,1e6")
    ap.add_argument("--only", default=None,
                    help="comma list of parts: stream,gather,rngcost,mesa,paired,minimal,seed")
    ap.add_argument("--degree", type=float, default=10.0, help="mean degree of the seed runs below 1e7 (seed default)")
    ap.add_argument("--degree-1e7", type=float, default=20.0, help="mean degree of the seed run at 1e7 (the target's)")
    ap.add_argument("--steps-1e7", type=int, default=8, help="steps of the seed run at 1e7 (extrapolated to 120)")
    ap.add_argument("--mesa-python", default=str(ROOT / ".venv-mesa" / "bin" / "python"))
    ap.add_argument("--mesa-space", default="list", choices=("list", "network", "networkgrid"))
    ap.add_argument("--force", action="store_true", help="run the 1e7 sizes even where memory looks short")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each benchmark wait up to this long for other processes to use < 0.5 cores")
    ap.add_argument("--render", default=None, metavar="JSON",
                    help="only re-render the Markdown of a results JSON (to --out), running nothing")
    ap.add_argument("--runs", type=int, default=1, metavar="K",
                    help="run everything K times (STEM-run1 ... STEM-runK) and write the targets' medians to STEM")
    ap.add_argument("--combine", nargs="+", default=None, metavar="JSON",
                    help="only combine the targets of results JSONs made before (to --out), running nothing")
    ap.add_argument("--out", default=str(HERE / "results" / "latest"), help="path stem of the .json and .md")
    args = ap.parse_args(argv)
    WAIT_QUIET["seconds"] = args.wait_quiet
    if args.runs < 1:
        ap.error(f"--runs {args.runs}: allowed: 1 or more")
    if args.combine:
        return _combine([_load_run(ap, f) for f in args.combine], [Path(f).stem for f in args.combine], Path(args.out))
    if args.render:
        out = json.loads(Path(args.render).read_text())
        _rebound(out)
        _ratios(out)
        md = markdown(out)
        Path(args.out).with_suffix(".md").write_text(md)
        print(md)
        return out
    if args.runs == 1:
        return _measure(args, argv, Path(args.out))
    stem = Path(args.out)
    outs = [_measure(args, argv, stem.with_name(f"{stem.name}-run{i + 1}")) for i in range(args.runs)]
    return _combine(outs, [f"run {i + 1}" for i in range(args.runs)], stem)


def _load_run(ap, path: str) -> dict:
    """A results JSON of one run, or a clear error naming the file."""
    try:
        out = json.loads(Path(path).read_text())
    except OSError as e:
        ap.error(f"--combine {path}: cannot be read ({e.strerror or e})")
    except ValueError as e:
        ap.error(f"--combine {path}: not JSON ({e})")
    if not isinstance(out, dict) or out.get("combined") or "date" not in out:
        ap.error(f"--combine {path}: not the results of one run of `python -m benchmarks` "
                 "(allowed: the .json a run writes)")
    return out


def _combine(outs: list[dict], names: list[str], stem: Path) -> dict:
    """The targets over several runs, written to stem.json and stem.md."""
    c = combine(outs, names)
    _write(stem, c, combined_markdown(c))
    return c


def _write(stem: Path, data: dict, md: str, note: str = "") -> None:
    """stem.json (the figures) and stem.md (the tables); the tables printed."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(data, indent=1))
    stem.with_suffix(".md").write_text(md)
    print(md)
    log(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.md')}{note}")


def _measure(args, argv, stem: Path) -> dict:
    """One run of every benchmark asked for; its figures to stem.json and its tables to stem.md."""
    parts = set(args.only.split(",")) if args.only else {"stream", "gather", "rngcost", "mesa", "paired", "minimal",
                                                         "seed"}
    p = plan(args)
    t_start = time.perf_counter()
    out: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                 "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
                 "machine": machine(), "git": _git(), "quick": args.quick}
    try:
        import numba
        import numpy
        out["versions"] = {"python": sys.version.split()[0], "numpy": numpy.__version__, "numba": numba.__version__,
                           "numba_threads": numba.config.NUMBA_NUM_THREADS}
    except ImportError:
        pass
    bw = nsr = gns = None
    if "stream" in parts:
        out["stream"] = _run(_py("stream", "--reps", 10), 900)
        bw = out["stream"].get("bandwidth_GBps")
    if "gather" in parts:
        out["gather"] = _run(_py("gather", "--reps", 5 if args.quick else 7), 900)
        g = out["gather"]
        key = max((k for k in g if k.startswith("random_") and k.endswith("t_ns")), default=None)
        gns = g[key]["min"] if key else None  # the most threads' best
    if "rngcost" in parts:
        out["rngcost"] = _run(_py("rngcost"), 600)
        nsr = out["rngcost"].get("ns_per_random")
    if "mesa" in parts:
        n, steps, reps = p["mesa"]
        if Path(args.mesa_python).exists():
            out["mesa"] = _run([args.mesa_python, str(HERE / "mesa_minimal.py"), "--n", str(n), "--steps", str(steps),
                                "--reps", str(reps), "--space", args.mesa_space], 3600)
        else:
            out["mesa"] = _no_mesa(args)
    if "paired" in parts:
        n, pairs, steps = p["paired"]
        if Path(args.mesa_python).exists():
            out["paired"] = _run(_py("paired", "--n", n, "--pairs", pairs, "--seed-steps", steps, "--degree",
                                     args.degree, "--mesa-python", args.mesa_python, "--space", args.mesa_space), 3600)
        else:
            out["paired"] = _no_mesa(args)
    extra_bw = ["--bandwidth", bw] if bw else []
    extra_nsr = ["--ns-per-random", nsr] if nsr else []
    if "minimal" in parts:
        out["minimal"] = []
        for n, steps, reps in sorted(p["minimal"]):
            skip = _mem_ok("minimal", n, args.force)
            r = {"n": n, "skipped": skip} if skip else _run(
                _py("minimal_credsim", "--n", n, "--steps", steps, "--reps", reps, *extra_bw,
                    *(["--gather-ns", gns] if gns else [])), 3600)
            out["minimal"].append(r)
    if "seed" in parts:
        out["seed"] = []
        for n, steps, reps in sorted(p["seed"]):
            deg = args.degree_1e7 if n >= 10_000_000 else args.degree
            skip = _mem_ok("seed", n, args.force)
            if skip:
                out["seed"].append({"n": n, "skipped": skip})
                continue
            runs = [_run(_py("full_seed", "--n", n, "--steps", steps, "--degree", deg, *extra_bw, *extra_nsr), 7200)
                    for _ in range(reps)]
            out["seed"].append(_merge_seed(runs))
    if "stream" in parts:
        # bandwidth again at the end: how much the machine drifted during the run
        out["stream_end"] = _run(_py("stream", "--reps", 5), 900)
    out["total_wall_s"] = time.perf_counter() - t_start
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(out, indent=1))  # the raw figures first, whatever follows
    _rebound(out)
    _ratios(out)
    _write(stem, out, markdown(out), f" ({out['total_wall_s'] / 60:.1f} min)")
    return out


def _git() -> dict:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        return {"commit": rev, "branch": branch, "src_modified": bool(dirty)}
    except OSError:
        return {}


def _merge_seed(runs: list[dict]) -> dict:
    """Several fresh-process runs of one size: the median run by agent-steps/s, with the rates of all."""
    ok = [r for r in runs if r and "error" not in r]
    if not ok:
        return runs[0]
    ok.sort(key=lambda r: r["agent_steps_per_s"])
    med = dict(ok[len(ok) // 2])
    rates = [r["agent_steps_per_s"] for r in ok]
    med["runs"] = len(ok)
    med["agent_steps_per_s_runs"] = rates
    med["agent_steps_per_s_best"] = max(rates)
    med["agent_steps_per_s_whole_runs"] = [r.get("agent_steps_per_s_whole") for r in ok]
    if len(ok) > 1:
        med["agent_steps_per_s_spread"] = (max(rates) - min(rates)) / med["agent_steps_per_s"]
    med["peak_rss_bytes_runs"] = [r["peak_rss_bytes"] for r in ok]
    med["society_s_runs"] = [r["society_s"] for r in ok]
    return med


def _rebound(out: dict) -> None:
    """Recompute every bound with the best triad rate of the two STREAM runs (start and end of
    the run): on a shared machine either can be depressed, and a bound should use what the
    machine can do.  Idempotent: bounds are recomputed from the bytes, not scaled."""
    rates = [x["bandwidth_GBps"] for x in (out.get("stream"), out.get("stream_end"))
             if x and "bandwidth_GBps" in x]
    if not rates:
        return
    bw = max(rates)
    out["bandwidth_GBps"] = bw
    for r in out.get("minimal") or []:
        if "kernels" not in r:
            continue
        total, far = r["bytes_per_step"]["total"], r["far_ties_per_person"] * r["n"]
        r["bandwidth_GBps"] = bw
        r["bound_s"] = total / (bw * 1e9)
        r["gather_bound_s"] = (total - 4 * far) / (bw * 1e9) + far * r["gather_ns"] * 1e-9
        r["strict_bound_s"] = (total - r["bytes_per_step"]["parts"].get("gathered_scores", 0)) / (bw * 1e9)
        for k in r["kernels"].values():
            k["ratio_to_bound"] = k["step_s"]["median"] / r["bound_s"]
            k["ratio_to_bound_best"] = k["step_s"]["min"] / r["bound_s"]
            k["ratio_to_gather_bound"] = k["step_s"]["median"] / r["gather_bound_s"]
            k["ratio_to_strict_bound"] = k["step_s"]["median"] / r["strict_bound_s"]
        r.update({key: r["kernels"][r["kernel"]][key] for key in ("ratio_to_bound", "ratio_to_bound_best",
                                                                   "ratio_to_gather_bound",
                                                                   "ratio_to_strict_bound")})
    try:
        from .full_seed import bounds
    except ImportError:
        from full_seed import bounds
    for r in out.get("seed") or []:
        if "phases" not in r:
            continue
        r["bandwidth_GBps"] = bw
        r["phases"] = bounds(r, bw, r["ns_per_random"])
        r["step_bound_s"] = sum(x["bound_s"] or 0.0 for x in r["phases"])
        r["ratio_to_bound"] = r["step_s"]["median"] / r["step_bound_s"] if r["step_bound_s"] else None


def _rate(r: dict | None) -> float | None:
    if not r or "error" in r or "skipped" in r:
        return None
    a = r.get("agent_steps_per_s")
    return a["median"] if isinstance(a, dict) else a


def _ratios(out: dict) -> None:
    mesa = _rate(out.get("mesa"))
    for key in ("minimal", "seed"):
        for r in out.get(key) or []:
            rate = _rate(r)
            if mesa and rate:
                r["ratio_to_mesa"] = rate / mesa
            for k in (r.get("kernels") or {}).values():
                if mesa:
                    k["ratio_to_mesa"] = k["agent_steps_per_s"]["median"] / mesa


# ---------------------------------------------------------------- Markdown

def _f(x, fmt="{:.2f}", none="-"):
    return none if x is None else fmt.format(x)


def _si(x):
    if x is None:
        return "-"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.3g}"


def _gib(b):
    return "-" if not b else f"{b / GiB:.2f} GiB"


def _later_mean(r: dict, key: str):
    """Mean ms of the steps after the first in r[key] (a `stats` dict with its values)."""
    v = (r.get(key) or {}).get("values") or []
    return 1e3 * sum(v[1:]) / (len(v) - 1) if len(v) > 1 else None


def _size(n):
    return {100_000: "1e5", 1_000_000: "1e6", 10_000_000: "1e7"}.get(n, f"{n:,}")


def markdown(out: dict) -> str:
    m = out.get("machine", {})
    L = [f"Measured {out['date']} on {m.get('cpu', '?')} ({m.get('nproc')} cores, "
         f"{m.get('MemTotal', 0) / GiB:.0f} GiB, L3 {m.get('L3 cache', '?')}), "
         f"credsim {out.get('git', {}).get('commit', '?')[:10]}"
         f"{' (src modified)' if out.get('git', {}).get('src_modified') else ''}, "
         f"Python {out.get('versions', {}).get('python')}, NumPy {out.get('versions', {}).get('numpy')}, "
         f"Numba {out.get('versions', {}).get('numba')}; command `{out['command'].strip()}`"
         f"{' (quick)' if out.get('quick') else ''}; total {out.get('total_wall_s', 0) / 60:.0f} min. "
         "Medians, with the spread (max - min) / median over repetitions.", ""]
    L += run_table(out)
    s, se = out.get("stream") or {}, out.get("stream_end") or {}
    g, rc = out.get("gather") or {}, out.get("rngcost") or {}
    if s and "error" not in s:
        L += ["**Machine reference lines**", "",
              "| measurement | median | best | spread |", "|---|---|---|---|"]
        for key, label in (("triad_numba_1t", "STREAM triad, Numba, 1 thread (GB/s)"),
                           ("triad_numba_2t", "STREAM triad, Numba, 2 threads (GB/s)"),
                           ("triad_numpy", "STREAM triad, NumPy (GB/s)"),
                           ("read_numba_1t", "read (sum), Numba, 1 thread (GB/s)"),
                           ("read_numba_2t", "read (sum), Numba, 2 threads (GB/s)")):
            if key in s:
                L.append(f"| {label} | {s[key]['median_GBps']:.1f} | {s[key]['best_GBps']:.1f} | {s[key]['spread']:.0%} |")
        if se and "error" not in se:
            L.append(f"| STREAM triad at the end of the run (GB/s) | {se['bandwidth_median_GBps']:.1f} | "
                     f"{se['bandwidth_GBps']:.1f} | |")
        for key, label in (("random_1t_ns", "gather float32 from 10M, random indices, 1 thread (ns/element)"),
                           ("random_2t_ns", "gather, random indices, 2 threads (ns/element)"),
                           ("local_2t_ns", "gather, local (+-60 of the owner), 2 threads (ns/element)"),
                           ("clustered99_2t_ns", "gather, 99 % local, 1 % random, 2 threads (ns/element)"),
                           ("clustered_2t_ns", "gather, clustered like credsim's ties (90 % local), 2 threads (ns/element)"),
                           ("sorted_1t_ns", "gather, sorted indices, 1 thread (ns/element)"),
                           ("sorted_2t_ns", "gather, sorted indices, 2 threads (ns/element)"),
                           ("random_numpy_ns", "gather, random indices, NumPy `take` (ns/element)")):
            if key in g:
                L.append(f"| {label} | {g[key]['median']:.2f} | {g[key]['min']:.2f} | {g[key]['spread']:.0%} |")
        for key, label in (("random_access_ns_clustered99_2t", "one random access among 99 local ones, 2 threads (ns)"),
                           ("random_access_ns_clustered_2t", "one random access among 9 local ones, 2 threads (ns)")):
            if key in g:
                L.append(f"| {label} | {g[key]:.1f} | | |")
        for key, label in (("numpy_float32_ns", "NumPy `Generator.random(float32)` (ns/number)"),
                           ("splitmix_1t_ns", "counter-based splitmix64, Numba, 1 thread (ns/number)"),
                           ("splitmix_2t_ns", "counter-based splitmix64, Numba, 2 threads (ns/number)")):
            if key in rc:
                L.append(f"| {label} | {rc[key]['median']:.2f} | {rc[key]['min']:.2f} | {rc[key]['spread']:.0%} |")
        L += ["", f"Bounds below divide by {out.get('bandwidth_GBps', s['bandwidth_GBps']):.1f} GB/s (the triad's best "
              "rate, as STREAM reports it, of the runs at the start and the end; STREAM counting: 24 B per element, write-allocate not counted) and charge "
              f"{_f(rc.get('ns_per_random'))} ns per NumPy random number (its best repetition).", ""]
    L += ["**Agent-steps per second**", "",
          "| model | persons | mean degree | agent-steps/s, median (best) | spread | peak memory | society | "
          "ratio to Mesa | ratio to bound, median (best) |",
          "|---|---|---|---|---|---|---|---|---|"]
    me = out.get("mesa") or {}
    if "skipped" in me:
        L.append(f"| Mesa 3.5.1 minimal | - | - | {me['skipped']} | | | | | |")
    elif "error" in me:
        L.append(f"| Mesa 3.5.1 minimal | - | - | failed: {me['error']} | | | | | |")
    elif me:
        L.append(f"| Mesa {me['mesa_version']} minimal (`{me['space']}`, G(n,m) graph) | {_size(me['n'])} | "
                 f"{me['mean_degree']:.1f} | {_si(me['agent_steps_per_s']['median'])} "
                 f"({_si(me['agent_steps_per_s']['max'])}) | "
                 f"{me['agent_steps_per_s']['spread']:.0%} | {_gib(me.get('peak_rss_bytes'))} | "
                 f"{me['build_s']:.1f} s (build) | 1 | - |")
    def failed(label: str, r: dict) -> bool:
        if "skipped" in r or "error" in r:
            L.append(f"| {label} | {_size(r.get('n', 0))} | | {r.get('skipped') or r.get('error')} | | | | | |")
            return True
        return False

    for r in out.get("minimal") or []:
        if failed("credsim minimal kernel", r):
            continue
        for name, k in r["kernels"].items():
            rate = k["agent_steps_per_s"]
            L.append(f"| credsim minimal kernel, `{name}` | {_size(r['n'])} | {r['live_ties_per_person']:.1f} | "
                     f"{_si(rate['median'])} ({_si(rate['max'])}) | {rate['spread']:.0%} | "
                     f"{_gib(r['peak_rss_bytes'])} (steps: {_gib(k.get('working_set_bytes', r.get('working_set_bytes')))}) | {r['society_s']:.1f} s | "
                     f"{_f(k.get('ratio_to_mesa'), '{:,.0f}')} | "
                     f"{k['ratio_to_bound']:.2f} ({k['ratio_to_bound_best']:.2f}); gather-aware "
                     f"{k['ratio_to_gather_bound']:.2f}; strict {_f(k.get('ratio_to_strict_bound'))} |")
    for r in out.get("seed") or []:
        if failed("credsim full `seed`", r):
            continue
        spread = r.get("agent_steps_per_s_spread")
        note = f"{r['runs']} runs" if r.get("runs", 1) > 1 else f"1 run, {r['steps']} steps; per-step {r['step_s']['spread']:.0%}"
        L.append(f"| credsim full `seed` ({r['steps']} steps) | {_size(r['n'])} | {r['live_ties_per_person']:.1f} | "
                 f"{_si(r['agent_steps_per_s'])} ({_si(r.get('agent_steps_per_s_best'))}) | {_f(spread, '{:.0%}', note)} | {_gib(r['peak_rss_bytes'])} | "
                 f"{r['society_s']:.1f} s | {_f(r.get('ratio_to_mesa'), '{:,.1f}')} | {_f(r.get('ratio_to_bound'))} |")
    pa = out.get("paired") or {}
    if "skipped" in pa or "error" in pa:
        L += ["", f"**Paired blocks**: {pa.get('skipped') or pa.get('error')}"]
    elif pa:
        m, c, pr = pa["mesa_agent_steps_per_s"], pa["seed_agent_steps_per_s"], pa["pair_ratio"]
        L += ["", f"**Paired blocks** (`paired.py`: Mesa's minimal model, {pa['mesa'].get('mesa_version')} "
              f"`{pa['mesa'].get('space')}`, and the full `seed`, both at {_size(pa['n'])}, in turn, Mesa first in even "
              f"pairs; {pa['pairs']} pairs of one Mesa step and one fresh {pa['seed'].get('steps')}-step run): Mesa "
              f"{_si(m['median'])} ({_si(m['min'])}-{_si(m['max'])}), `seed` {_si(c['median'])} ({_si(c['min'])}-"
              f"{_si(c['max'])}) agent-steps/s; **{pa['ratio_to_mesa']:.1f}x** (the medians' ratio, the target's "
              f"figure); the pairs' own ratios {pr['median']:.1f}x median, {pr['min']:.1f}-{pr['max']:.1f}x."]
    mins = [r for r in out.get("minimal") or [] if "kernels" in r]
    far = ", ".join(f"{r['far_ties_per_person']:.2f}" for r in mins)
    gather_note = (f"Gather-aware: the minimal kernel's bound with each far tie ({far} per person at "
                   f"{', '.join(_size(r['n']) for r in mins)}) charged one random gather "
                   f"({_f(mins[0]['gather_ns'])} ns) instead of 4 streamed bytes; strict: the bound without the gathered scores (\"state read and "
                   "written once, every tie read once\" taken literally, about 40 % lower). ") if mins else ""
    L += ["", "Ratio to Mesa: agent-steps/s over Mesa's on the minimal model at 1e5 in the same run. Ratio to bound: "
          "median (best) step time over (bytes a step must move / STREAM bandwidth), plus, for the full model, random "
          "numbers x ns per number. " + gather_note +
          "Peak memory: VmHWM of the benchmark's own process (society generation included; for the minimal "
          "kernel, `steps:` is what the arrays its steps touch take). The minimal kernel's degree is its live ties per person (credsim's generator, requested 10).", ""]
    if any(r.get("diagnostics") for r in mins):
        L += ["**Where the minimal kernel's time goes** (ms per step, medians; the diagnostics are half-kernels, "
              "not the model: `rows_only` is `plain`'s per-person loop over the slots without the gathers, "
              "`gathers_only` its gathers in one flat prefetched pass without per-person rows, `far_only` "
              "`blocked`'s far-tie pass; `layout` is the one-off build of the blocked layout, in seconds)", "",
              "| persons | bandwidth bound | gather-aware bound | rows_only | gathers_only | plain | prefetch | far_only | blocked | layout |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for r in mins:
            d, k = r.get("diagnostics") or {}, r["kernels"]

            def ms(x):
                return _f(x and x["step_s"]["median"] * 1e3, "{:.1f}")
            L.append(f"| {_size(r['n'])} | {r['bound_s'] * 1e3:.1f} | {r['gather_bound_s'] * 1e3:.1f} | "
                     f"{ms(d.get('rows_only'))} | {ms(d.get('gathers_only'))} | {ms(k.get('plain'))} | "
                     f"{ms(k.get('prefetch'))} | {ms(d.get('far_only'))} | {ms(k.get('blocked'))} | "
                     f"{_f(r.get('blocked_layout_s'), '{:.1f} s')} |")
        L.append("")
    for r in out.get("seed") or []:
        if "phases" not in r:
            continue
        est = r.get("est_120_steps_s")
        L += [f"**Full `seed` at {_size(r['n'])} persons, mean degree {r['mean_degree_requested']:.0f} "
              f"({r['live_ties_per_person']:.1f} live ties per person): per phase, against its bound**", "",
              f"Society generation {r['society_s']:.1f} s, rest of init {r['init_rest_s']:.1f} s; {r['steps']} steps in "
              f"{r['steps_s']:.1f} s (median step {r['step_s']['median'] * 1e3:.0f} ms, first {r['first_step_s'] * 1e3:.0f} ms; "
              f"{_si(r['agent_steps_per_s'])} agent-steps/s after the first step, "
              f"{_si(r.get('agent_steps_per_s_whole'))} with it)"
              + (f"; 120 steps **extrapolated**: {est:.0f} s ({est / 60:.1f} min, {r['n'] * 120 / est / 1e6:.2f} M agent-steps/s)"
                 if est else "") + f"; peak memory {_gib(r['peak_rss_bytes'])} (during the steps: "
              f"{_gib(r.get('peak_rss_steps_bytes'))}; resident after init: {_gib(r.get('rss_after_init_bytes'))}).", "",
              f"Per phase: the first {r.get('phase_steps', r['steps'])} steps made again from a fresh simulation, timed by "
              f"phase (the timers add to the step: steps 2 on take {_f(_later_mean(r, 'phase_step_s'), '{:.1f}')} ms a step "
              f"on the mean timed by phase, against {_f(_later_mean(r, 'step_s'), '{:.1f}')} ms without).", "",
              "| phase | ms/step | of which in compiled kernels | share | MB moved (min) | random numbers / person "
              "| bound ms | ratio | over bound, ms |",
              "|---|---|---|---|---|---|---|---|---|"]
        tot = sum(x["s_per_step"] for x in r["phases"])
        for x in r["phases"]:
            k = x.get("kernel_s")  # runs before the kernel timers have none
            L.append(f"| {x['phase']} | {x['s_per_step'] * 1e3:.1f} | {_f(k and k * 1e3, '{:.1f}')} | "
                     f"{x['s_per_step'] / tot:.0%} | "
                     f"{_f(x['bytes'] and x['bytes'] / 1e6, '{:.1f}')} | {x['randoms'] / r['n']:.2f} | "
                     f"{_f(x['bound_s'] and x['bound_s'] * 1e3, '{:.2f}')} | {_f(x['ratio'], '{:.1f}')} | "
                     f"{x['excess_s'] * 1e3:.1f} |")
        ks = r.get("kernel_s_per_step")
        L.append(f"| **step** | {tot * 1e3:.1f} | {_f(ks and ks * 1e3, '{:.1f}')} | | | | {r['step_bound_s'] * 1e3:.2f} | "
                 f"{_f(r.get('ratio_to_bound'), '{:.1f}')} | |")
        L.append("")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
