"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

Every executor takes ``{chunk index: task arguments}`` and yields ``(chunk index,
rows)`` as chunks finish, in any order; only the caller (the coordinating process)
writes results. A chunk is a pure function of its arguments, so running it again after
a lost worker gives the same rows.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

__all__ = ["evaluate_chunk", "SerialExecutor", "PoolExecutor", "DaskExecutor"]


def evaluate_chunk(
    target_type: str, cfg: dict, points: list[dict], seeds: list[int], threads: int | None
) -> list[dict]:
    """Run one chunk: the task every executor ships (importable on any worker)."""
    from neurosim.sweep.evaluators import get_evaluator

    rows = get_evaluator(target_type).evaluate(cfg, points, seeds, threads)
    if len(rows) != len(points):
        raise ValueError(
            f"the {target_type!r} evaluator returned {len(rows)} rows for {len(points)} points"
        )
    return [dict(r) for r in rows]


class SerialExecutor:
    """Chunks one after another in this process (batched kernels on ``threads`` cores)."""

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1

    def run(self, tasks: dict[int, tuple]) -> Iterator[tuple[int, list]]:
        for c, args in tasks.items():
            yield c, evaluate_chunk(*args)

    def close(self) -> None:
        return None


def _init_worker(threads: int) -> None:
    from neurosim.simulate.cable import set_threads

    set_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """A pool worker's watchdog: end the worker once the sweep that started it is gone
    (killed, say), instead of computing a chunk whose result nobody will store. A
    worker is re-parented when its parent dies, so its parent id changes."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


class PoolExecutor:
    """A local process pool (spawned processes). A worker that dies breaks the pool; the
    chunks that had not finished run again in a fresh pool (at most ``max_restarts``).
    A worker whose sweep process is killed ends itself within about a second (a
    watchdog thread), instead of finishing a chunk nobody will store.

    Parameters
    ----------
    workers : int
        Processes.
    threads : int
        Kernel threads per process.
    """

    name = "pool"

    def __init__(self, workers: int, threads: int = 1, max_restarts: int = 3) -> None:
        import multiprocessing

        self.workers = workers
        self.threads = threads
        self.max_restarts = max_restarts
        self.restarts = 0
        self._ctx = multiprocessing.get_context("spawn")

    def run(self, tasks: dict[int, tuple]) -> Iterator[tuple[int, list]]:
        remaining = dict(tasks)
        while remaining:
            pool = ProcessPoolExecutor(
                self.workers,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(self.threads,),
            )
            clean = False
            try:
                futs = {pool.submit(evaluate_chunk, *args): c for c, args in remaining.items()}
                try:
                    for f in as_completed(futs):
                        c = futs[f]
                        rows = f.result()
                        del remaining[c]
                        yield c, rows
                    clean = True
                except BrokenProcessPool:
                    self.restarts += 1
                    # chunks that finished before the pool broke are good
                    for f, c in futs.items():
                        if c in remaining and f.done() and not f.cancelled():
                            if f.exception() is None:
                                rows = f.result()
                                del remaining[c]
                                yield c, rows
                    if self.restarts > self.max_restarts:
                        raise RuntimeError(
                            f"the local process pool broke {self.restarts} times (a worker "
                            f"died); {len(remaining)} chunks not run. Rerun the sweep to resume"
                        ) from None
            finally:
                pool.shutdown(wait=clean, cancel_futures=True)

    def close(self) -> None:
        return None


class DaskExecutor:
    """Chunks as tasks on a Dask distributed cluster.

    Chunks are submitted as the cluster's threads free up, never more at once, so the
    last chunks go to whichever worker is idle. A worker that dies mid-task is the
    scheduler's business: it reruns the task on another worker. Connection is made
    here, so an unreachable scheduler fails before any store is touched.

    Parameters
    ----------
    address : str
        Scheduler address (``tcp://host:8786``).
    threads : int
        Kernel threads per task.
    timeout : float
        Seconds to wait for the scheduler to answer.
    """

    name = "dask"

    def __init__(self, address: str, threads: int = 1, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise ValueError("--scheduler needs dask[distributed] installed") from exc
        if not isinstance(address, str) or not address:
            raise ValueError(f"--scheduler {address!r}: expected an address like tcp://host:8786")
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - every failure to connect means the same
            raise ValueError(
                f"--scheduler {address!r} does not answer ({type(exc).__name__}: {exc}); "
                f"nothing was run or written"
            ) from None
        self.threads = threads
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self._tag = uuid.uuid4().hex[:8]

    def run(self, tasks: dict[int, tuple]) -> Iterator[tuple[int, list]]:
        from distributed import as_completed as dask_completed

        pending = list(tasks.items())
        futs = {}

        def submit() -> None:
            c, args = pending.pop(0)
            f = self.client.submit(
                evaluate_chunk,
                *args[:-1],
                self.threads if args[-1] is None else args[-1],
                key=f"neurosim-sweep-{self._tag}-{c}",
                pure=False,
            )
            futs[f] = c
            done.add(f)

        # As many chunks in flight as the cluster has threads, the next submitted as one
        # finishes: the scheduler would otherwise hand a one-thread worker two chunks
        # (Dask's default worker-saturation 1.1), and a worker could sit idle at the end
        # while another still holds a queued chunk.
        done = dask_completed(loop=self.client.loop)
        for _ in range(min(len(pending), self._slots())):
            submit()
        try:
            for f in done:
                c = futs.pop(f)
                rows = f.result()
                for _ in range(min(len(pending), self._slots() - len(futs))):
                    submit()
                yield c, rows
        finally:
            self.client.cancel(list(futs))

    def _slots(self) -> int:
        """Threads of the cluster's workers now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        self.client.close()


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1
