"""Resumable sweeps: a killed sweep, a killed pool worker and a killed Dask worker.

In every case the store must end with exactly the full set of points, identical (to
the bit) to an uninterrupted run in one process, and a rerun must evaluate only the
points that were not stored: nothing completed is lost or run twice.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from neurosim.sweep import load_sweep, open_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]

# 32 points of the full HH cable (100 segments, 50 ms) in 16 chunks of 2
SWEEP = f"""
[sweep]
name = "resume"
target = "{ROOT}/models/cable/hh_cable.toml"
seed = 11
chunk = 2
[parameters]
"mechanisms.hh.gnabar" = {{ range = ["0.08 S/cm2", "0.16 S/cm2"], n = 8 }}
"model.celsius" = {{ values = ["6.3 degC", "10 degC", "15 degC", "18.5 degC"] }}
"""


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sweep") / "resume.toml"
    p.write_text(SWEEP)
    return p


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory):
    """The uninterrupted run, in this process."""
    out = tmp_path_factory.mktemp("ref") / "ref.zarr"
    run = run_sweep(sweep_file, out, workers=1, quiet=True)
    assert run.ran == 32
    return open_sweep(out).load()


def assert_identical(ds, ref) -> None:
    assert ds["done"].values.all()
    assert set(ds.data_vars) == set(ref.data_vars)
    for v in ref.data_vars:
        np.testing.assert_array_equal(ds[v].values, ref[v].values, err_msg=v)
    for c in ref.coords:
        np.testing.assert_array_equal(ds[c].values, ref[c].values, err_msg=c)


def _done(store: Path) -> int:
    try:
        return int(np.asarray(zarr.open_group(str(store), mode="r")["done"][:]).sum())
    except Exception:  # noqa: BLE001 - the store may not exist yet
        return 0


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            if (
                d.name.isdigit()
                and int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
            ):
                out.append(int(d.name))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_killed_sweep_resumes(sweep_file, reference, tmp_path):
    store = tmp_path / "killed.zarr"
    cmd = [sys.executable, "-m", "neurosim.cli", "sweep", str(sweep_file), "--out", str(store)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--quiet"],
        start_new_session=True,  # its pool workers share its process group
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while _done(store) < 16 and time.monotonic() < deadline and proc.poll() is None:
            if not workers and _done(store) > 0:
                workers = _children(proc.pid)  # the pool exists once a chunk is stored
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # the pool workers notice that their sweep is gone and stop computing
        assert workers, "the sweep should have started pool workers"
        deadline = time.monotonic() + 15
        while any(_running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_running(w) for w in workers), "pool workers outlived the sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its process group
        except ProcessLookupError:
            pass
    done_at_kill = _done(store)
    assert 16 <= done_at_kill < 32, f"killed at {done_at_kill}/32 points; expected near half"
    partial = open_sweep(store).load()
    done = partial["done"].values
    # `done` is the authority: outputs without their flags can only be the one chunk the
    # coordinator was writing when killed (outputs first, flags last); it will run again
    stray = np.flatnonzero(~done & ~np.isnan(partial["ap_peak_cable_0_005"].values))
    assert len(set(stray // 2)) <= 1
    rerun = run_sweep(sweep_file, store, workers=1, quiet=True)
    assert (rerun.skipped, rerun.ran) == (done_at_kill, 32 - done_at_kill)
    final = open_sweep(store).load()
    assert_identical(final, reference)
    # points stored before the kill were not rewritten
    for v in ("cv_m_per_s", "seed"):
        np.testing.assert_array_equal(final[v].values[done], partial[v].values[done])
    assert run_sweep(sweep_file, store, workers=1, quiet=True).ran == 0


def test_killed_pool_worker(sweep_file, reference, tmp_path):
    killed = []

    def kill_a_worker(chunk, stored):
        if not killed and stored >= 8:
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    run = run_sweep(
        sweep_file, tmp_path / "pool.zarr", workers=2, quiet=True, on_chunk=kill_a_worker
    )
    assert killed and run.executor == "pool"
    assert (run.ran, run.skipped) == (32, 0)
    assert_identical(open_sweep(run.store).load(), reference)


@pytest.mark.slow
def test_dask_localcluster_with_a_killed_worker(sweep_file, reference, tmp_path):
    from distributed import Client, LocalCluster

    def unfinished(dask_scheduler) -> int:
        return sum(
            str(k).startswith("neurosim-sweep") and t.state not in ("memory", "released", "erred")
            for k, t in dask_scheduler.tasks.items()
        )

    killed, in_flight = [], []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):

        def kill_a_worker(chunk, stored):
            in_flight.append(client.run_on_scheduler(unfinished))
            if not killed and stored >= 8:
                nanny = next(iter(cluster.workers.values()))
                pid = nanny.process.process.pid
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        run = run_sweep(
            sweep_file,
            tmp_path / "dask.zarr",
            scheduler=cluster.scheduler_address,
            quiet=True,
            on_chunk=kill_a_worker,
        )
    assert killed and run.executor == "dask"
    # chunks go to the scheduler as workers free up: never more than its 2 threads
    # (before: all 16 at once, so that a worker could hold a queued one while the other
    # sat idle)
    assert len(in_flight) == 16 and max(in_flight) <= 2, in_flight
    assert (run.ran, run.skipped) == (32, 0)
    assert_identical(open_sweep(run.store).load(), reference)


def test_chunking_does_not_change_results(sweep_file, reference, tmp_path):
    """Per-point results and seeds depend on the point, not on the chunk it ran in."""
    other = tmp_path / "rechunked.toml"
    other.write_text(SWEEP.replace("chunk = 2", "chunk = 5"))
    spec = load_sweep(other)
    ds = open_sweep(run_sweep(spec, tmp_path / "r5.zarr", workers=1, quiet=True).store).load()
    np.testing.assert_array_equal(ds["seed"].values, reference["seed"].values)
    for v in ("cv_m_per_s", "spike_count_cable_0_995"):
        # a batch of 5 vs 2 members takes the same kernel path per member: exact
        np.testing.assert_array_equal(ds[v].values, reference[v].values, err_msg=v)
