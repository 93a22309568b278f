"""Run a sweep: check everything, open (or resume) the store, run the missing chunks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neurosim.sweep.evaluators import get_evaluator, normalise_outputs
from neurosim.sweep.executors import (
    DaskExecutor,
    PoolExecutor,
    SerialExecutor,
    default_workers,
)
from neurosim.sweep.spec import SweepSpec, load_sweep
from neurosim.sweep.store import SweepStore
from neurosim.validate import check_int

__all__ = ["run_sweep", "SweepRun", "default_store"]


@dataclass
class SweepRun:
    """What one invocation of a sweep did.

    Attributes
    ----------
    store : Path
        The Zarr store.
    n_points : int
        Points in the sweep.
    ran : int
        Points evaluated by this invocation.
    skipped : int
        Points already stored when it started (resumed).
    seconds : float
        Wall time spent running chunks (store creation and checks excluded).
    executor : str
        ``"serial"``, ``"pool"`` or ``"dask"``.
    workers : int
    netcdf : Path or None
    """

    store: Path
    n_points: int
    ran: int
    skipped: int
    seconds: float
    executor: str
    workers: int
    netcdf: Path | None = None

    @property
    def points_per_minute(self) -> float:
        return 60.0 * self.ran / self.seconds if self.seconds > 0 else float("nan")

    def line(self) -> str:
        rate = f", {self.points_per_minute:.0f} points/min" if self.ran else ""
        return (
            f"{self.ran} points run, {self.skipped} already stored, {self.n_points} in all "
            f"({self.executor}, {self.workers} worker{'s' if self.workers != 1 else ''}, "
            f"{self.seconds:.1f} s{rate}) -> {self.store}"
        )


def default_store(spec: SweepSpec) -> Path:
    """``results/sweeps/<name>.zarr`` (relative to the working directory)."""
    return Path("results") / "sweeps" / f"{spec.name}.zarr"


def run_sweep(
    sweep: str | Path | SweepSpec,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
    quiet: bool = False,
    to_netcdf: str | Path | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    scheduler_timeout: float = 10.0,
) -> SweepRun:
    """Run (or resume) a sweep file and store its results.

    Parameters
    ----------
    sweep : str, Path or SweepSpec
        The sweep file (``experiments/sweeps/*.toml``) or an already loaded spec.
    out : str or Path, optional
        The Zarr store (default :func:`default_store`). An existing store of the same
        sweep is resumed: only points not stored yet run.
    workers : int, optional
        Local processes (default: all cores; 1: run in this process).
    scheduler : str, optional
        Address of a Dask distributed scheduler; overrides ``workers``.
    threads : int, optional
        Kernel threads per chunk (default: all cores in this process, cores / workers
        in a pool, 1 on Dask).
    quiet : bool
        No progress bar (it is also off when stderr is not a terminal).
    to_netcdf : str or Path, optional
        Also export the finished store to this NetCDF file.
    on_chunk : callable, optional
        ``on_chunk(chunk index, points stored so far)`` after each chunk is stored.
    scheduler_timeout : float
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    SweepRun

    Raises
    ------
    ValueError
        Bad sweep file, a store of another sweep at ``out``, an unreachable scheduler:
        all before any point runs (and, for the scheduler, before the store is touched).
    """
    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    evaluator = get_evaluator(spec.target_type)
    outputs = normalise_outputs(evaluator.outputs(spec.target_cfg))
    extra = evaluator.provenance(spec.target_cfg)
    store = SweepStore(Path(out) if out is not None else default_store(spec), spec)
    if store.exists():
        store.check_matches()
    if workers is not None:
        workers = check_int("workers", workers, 1, 4096)

    # connect before touching the store: a scheduler that does not answer leaves it as is
    if scheduler is not None:
        executor = DaskExecutor(scheduler, threads=threads or 1, timeout=scheduler_timeout)
    else:
        n = workers or default_workers()
        if n == 1:
            executor = SerialExecutor()
        else:
            executor = PoolExecutor(n, threads=threads or max(1, default_workers() // n))
    try:
        if not store.exists():
            store.create(outputs, extra)
        else:
            store.touch()
        pending = store.pending_chunks()
        if isinstance(executor, PoolExecutor) and len(pending) <= 1:
            executor = SerialExecutor()  # one chunk: not worth starting processes
        skipped = int(store.done().sum())
        tasks = {}
        for c in pending:
            sl = spec.chunk_slice(c)
            points = [spec.point(i) for i in range(sl.start, sl.stop)]
            seeds = [int(s) for s in spec.seeds[sl]]
            task_threads = threads if isinstance(executor, SerialExecutor) else executor.threads
            tasks[c] = (spec.target_type, spec.target_cfg, points, seeds, task_threads)
        ran = 0
        t0 = time.perf_counter()
        bar = _progress(spec, skipped, quiet)
        try:
            for c, rows in executor.run(tasks):
                store.write_chunk(c, rows, outputs)
                n_c = spec.chunk_slice(c).stop - spec.chunk_slice(c).start
                ran += n_c
                if bar is not None:
                    bar.update(n_c)
                if on_chunk is not None:
                    on_chunk(c, skipped + ran)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - t0
        store.touch()
    finally:
        executor.close()
    result = SweepRun(
        store=store.path,
        n_points=spec.n_points,
        ran=ran,
        skipped=skipped,
        seconds=seconds,
        executor=executor.name,
        workers=executor.workers,
    )
    if to_netcdf is not None:
        result.netcdf = store.to_netcdf(to_netcdf)
    return result


def _progress(spec: SweepSpec, initial: int, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(
        total=spec.n_points,
        initial=initial,
        unit="pt",
        desc=f"sweep {spec.name}",
        file=sys.stderr,
        dynamic_ncols=True,
    )
