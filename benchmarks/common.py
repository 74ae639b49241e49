"""Helpers shared by the benchmark scripts (standard library and NumPy only, so the Mesa
venv can import them too).

Every script prints one line `BENCH_JSON {...}` with its figures; `run_all.py` runs each in a
fresh subprocess (so peak memory is the script's own) and collects those lines.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

MARKER = "BENCH_JSON "


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss where /proc is missing)."""
    peak = _status_kib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset this process's VmHWM (Linux: write 5 to /proc/self/clear_refs), so that a later
    peak_rss_bytes() is the peak since now.  False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_bytes() -> int:
    return _status_kib("VmRSS") or 0


def stats(values) -> dict:
    """Median, min, max and relative spread ((max - min) / median) of repeated measurements."""
    v = [float(x) for x in values]
    if not v:
        return {"n": 0}
    med = statistics.median(v)
    return {"median": med, "min": min(v), "max": max(v), "n": len(v),
            "spread": (max(v) - min(v)) / med if med else 0.0, "values": v}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Cores busy (all processes) over `seconds`, from /proc/stat: how loaded the machine is."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except (OSError, ValueError):
        return None
    total = t1 - t0
    return (os.cpu_count() or 1) * (1.0 - (i1 - i0) / total) if total else None


def emit(result: dict) -> None:
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    result.setdefault("python", platform.python_version())
    try:
        result.setdefault("loadavg_end", os.getloadavg())
    except OSError:
        pass
    print(MARKER + json.dumps(result), flush=True)


def serve(block, ready: dict) -> None:
    """Serve timed blocks to `paired.py`: emit `ready`, then for each line read from stdin run
    `block()` and emit what it returns, until stdin closes.  The process waits (idle, blocked on
    the read) while the other model runs, so the two never run at once."""
    emit(dict(ready, ready=True))
    for line in sys.stdin:
        if line.strip():
            emit(block())


def machine() -> dict:
    """The machine: CPU model, cores, caches, memory (from /proc and lscpu)."""
    info: dict = {"nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, val = line.split(":", 1)
                if key in ("MemTotal", "MemAvailable"):
                    info[key] = int(val.split()[0]) * 1024
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("L1d cache", "L2 cache", "L3 cache", "Hypervisor vendor", "Model name"):
                info[key.strip()] = val.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)
