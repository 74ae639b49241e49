"""Executors: where the runs of a sweep happen.  Each yields results as runs finish.

- `sequential`: one run after another in this process (Numba uses every core for each run).
- `processes`: a pool of worker processes on this machine (one single-threaded run each).  A
  worker that dies takes the pool with it: the pool is made again and the runs that were in
  flight are tried again one at a time; a run that kills its worker alone is tried at most
  `retries` more times, then recorded as failed.  A run that the broken pool refused at submit
  (the worker died between a wait and the next submit) never started: it is simply sent again.
- `dask`: `dask.distributed`; a local cluster of single-threaded worker processes, or any
  existing cluster given its scheduler address or scheduler file (dask-jobqueue, dask-mpi,
  a cloud cluster).  Dask retries a run whose worker died; `retries` more for a run that raised
  outside the simulation (a run's own error is recorded, not retried).

Results never depend on the executor, the number of workers or the order of completion: each
run's seed comes from the plan, and the model gives the same numbers whatever the threads.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import uuid
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .plan import RunTask
from .task import RunResult, failure, run_task

EXECUTORS = ("sequential", "processes", "dask")
RunFn = Callable[[RunTask, "int | None"], RunResult]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def execute(tasks: Iterable[RunTask], executor: str = "processes", workers: int | None = None,
            scheduler: str | None = None, retries: int = 2, fn: RunFn = run_task) -> Iterator[RunResult]:
    """Run `tasks` and yield each `RunResult` as it finishes (in completion order)."""
    tasks = iter(tasks)
    first = next(tasks, None)
    if first is None:  # nothing to do: start no pool and no cluster
        return
    tasks = itertools.chain([first], tasks)
    if executor == "sequential":
        for task in tasks:
            yield fn(task, None)
    elif executor == "processes":
        yield from _processes(tasks, workers or default_workers(), retries, fn)
    elif executor == "dask":
        yield from _dask(tasks, workers, scheduler, retries, fn)
    else:
        raise ValueError(f"executor {executor!r}; allowed: {', '.join(EXECUTORS)}")


@contextlib.contextmanager
def _environ(**values: str):
    """Set environment variables for the processes started inside (restored after)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _watch_sweep(sweep_pid: int) -> None:
    """In a worker: exit as soon as the sweep's process is gone (killed), instead of lingering.

    The sweep's process, not the worker's parent: under forkserver the parent is the server,
    which itself stays alive as long as any worker does."""
    import threading
    import time

    def alive() -> bool:
        try:
            os.kill(sweep_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def watch() -> None:
        while alive():
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="credsim-sweep-watch").start()


def _context():
    """A fresh interpreter per worker, never a fork of this process (its Numba thread pool would
    not survive a fork): forkserver where there is one, with credsim imported once in the server
    so that workers (and a pool made again after a worker died) start in a fraction of a second;
    spawn elsewhere."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["credsim.sweep.task"])
        return ctx
    return multiprocessing.get_context("spawn")


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_watch_sweep,
                               initargs=(os.getpid(),))


def _stop(pool: ProcessPoolExecutor, wait_for_workers: bool) -> None:
    if not wait_for_workers:  # interrupted or abandoned: do not wait for runs in flight
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
    pool.shutdown(wait=wait_for_workers, cancel_futures=True)


def _processes(tasks: Iterable[RunTask], workers: int, retries: int, fn: RunFn) -> Iterator[RunResult]:
    """A pool of spawned workers.  When a worker dies the pool breaks and every run in flight is
    lost; those runs are tried again one at a time ("suspects"), so that a run which kills its
    worker while alone is known for sure: it fails after `retries` more such deaths, and the
    others are not blamed for it."""
    pending = iter(tasks)
    unsent: deque[RunTask] = deque()   # refused by a pool that broke as they were submitted
    suspects: deque[RunTask] = deque()
    lost_count: dict[tuple[int, int], int] = defaultdict(int)   # times a run lost its worker
    deaths: dict[tuple[int, int], int] = defaultdict(int)       # times it killed its worker alone
    inflight: dict = {}
    finished = False

    def send(task: RunTask, queue: deque[RunTask]) -> bool:
        """Submit `task`; if the pool has broken meanwhile (a worker died after the last wait),
        put it back at the front of `queue`: it never started, so it is not blamed or counted."""
        try:
            inflight[pool.submit(fn, task, 1)] = task
        except BrokenProcessPool:
            queue.appendleft(task)
            return False
        return True

    with _environ(NUMBA_NUM_THREADS="1"):  # each worker runs one single-threaded simulation
        pool = _new_pool(workers)
        try:
            while True:
                sent = True
                if suspects:
                    if not inflight:
                        sent = send(suspects.popleft(), suspects)
                else:
                    while sent and len(inflight) < 2 * workers:
                        task = unsent.popleft() if unsent else next(pending, None)
                        if task is None:
                            break
                        sent = send(task, unsent)
                if not inflight and sent:
                    break
                # a pool that broke with nothing in flight is made again below like any other
                done = wait(inflight, return_when=FIRST_COMPLETED)[0] if inflight else set()
                broken = not sent  # the runs in flight will report the break; none may be waited for
                for fut in done:
                    task = inflight[fut]
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    except Exception as exc:  # noqa: BLE001 - e.g. a task that cannot be pickled
                        result = failure(task, f"{type(exc).__name__}: {exc}")
                    del inflight[fut]
                    result.attempts = lost_count[task.key] + 1
                    yield result
                if broken:
                    lost = list(inflight.values())
                    inflight.clear()
                    _stop(pool, wait_for_workers=False)
                    pool = _new_pool(workers)
                    for task in lost:
                        lost_count[task.key] += 1
                    if len(lost) == 1:  # alone in flight: this run killed its worker
                        task = lost[0]
                        deaths[task.key] += 1
                        if deaths[task.key] > retries:
                            yield failure(task, f"its worker process died {deaths[task.key]} times running it "
                                                "alone (killed, out of memory or crashed)",
                                          attempts=lost_count[task.key])
                            continue
                    suspects.extend(lost)
            finished = True
        finally:
            _stop(pool, wait_for_workers=finished)


def _client(workers: int | None, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               env={"NUMBA_NUM_THREADS": "1"})
        return Client(cluster), cluster, 1
    if Path(scheduler).is_file():  # a scheduler file (dask-jobqueue, dask-mpi)
        return Client(scheduler_file=scheduler), None, None
    return Client(scheduler), None, None


def _dask(tasks: Iterable[RunTask], workers: int | None, scheduler: str | None, retries: int,
          fn: RunFn) -> Iterator[RunResult]:
    from distributed import as_completed

    client, cluster, threads = _client(workers, scheduler)
    token = uuid.uuid4().hex[:8]
    pending = iter(tasks)
    inflight: dict = {}
    completed = as_completed()

    def top_up() -> None:
        window = max(8, 2 * sum(client.nthreads().values()))
        while len(inflight) < window:
            task = next(pending, None)
            if task is None:
                return
            fut = client.submit(fn, task, threads, key=f"credsim-run-{token}-{task.point}-{task.replicate}",
                                retries=retries, pure=False)
            inflight[fut.key] = task
            completed.add(fut)

    try:
        top_up()
        for fut in completed:
            task = inflight.pop(fut.key)
            if fut.status == "finished":
                result = fut.result()
            else:  # KilledWorker (its worker died too often), or an error outside the simulation
                exc = fut.exception()
                result = failure(task, f"{type(exc).__name__}: {exc}", attempts=retries + 1)
            fut.release()
            yield result
            top_up()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
