"""Sweep throughput: points per minute in one process, a local pool and a Dask cluster.

The built-in model target as shipped, ``models/cable/hh_cable.toml`` (100-segment HH
cable, 50 ms at dt 25 us, one stimulus), over a grid of ``hh.gnabar`` x ``hh.gkbar``
(every point a batch member; ``--chunk`` points per batched run). Three executors:

- one process (``workers = 1``; the batched kernels use every core's thread),
- the local process pool on all cores (the default of ``neurosim sweep``),
- a Dask ``LocalCluster`` with one single-threaded worker process per core.

Two figures each: ``run`` counts only the time the chunks take once workers exist
(what a long sweep converges to); ``wall`` includes starting the processes or the
cluster and creating the store (what a short sweep sees).

    .venv/bin/python benchmarks/sweep_throughput.py            # 96 points, chunk 8
    .venv/bin/python benchmarks/sweep_throughput.py --points 192 --chunk 16
    .venv/bin/python benchmarks/sweep_throughput.py --quick    # 16 points (smoke)
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "cable" / "hh_cable.toml"


def sweep_text(points: int, chunk: int) -> str:
    n_na = max(1, int(math.sqrt(points * 1.5)))
    n_k = max(1, points // n_na)
    return (
        f'[sweep]\nname = "throughput"\ntarget = "{MODEL}"\nchunk = {chunk}\nseed = 1\n'
        f"[parameters]\n"
        f'"mechanisms.hh.gnabar" = {{ range = ["0.08 S/cm2", "0.16 S/cm2"], n = {n_na} }}\n'
        f'"mechanisms.hh.gkbar" = {{ range = ["0.03 S/cm2", "0.045 S/cm2"], n = {n_k} }}\n'
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=96)
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="16 points, chunk 4")
    args = ap.parse_args()
    if args.quick:
        args.points, args.chunk = 16, 4

    from distributed import LocalCluster

    from neurosim.sweep import load_sweep, open_sweep, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sweep = tmp / "throughput.toml"
        sweep.write_text(sweep_text(args.points, args.chunk))
        spec = load_sweep(sweep)
        print(
            f"model {MODEL.relative_to(ROOT)}: {spec.n_points} points, chunk {spec.chunk}, "
            f"{args.workers} cores"
        )
        rows = []

        def timed(label, **kw):
            t0 = time.perf_counter()
            run = run_sweep(spec, tmp / f"{label}.zarr", quiet=True, **kw)
            wall = time.perf_counter() - t0
            assert run.ran == spec.n_points
            rows.append((label, run.points_per_minute, 60 * run.ran / wall, run))
            return run

        timed("one process", workers=1)
        timed("local pool", workers=args.workers)
        t0 = time.perf_counter()
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            start = time.perf_counter() - t0
            run = timed("dask LocalCluster", scheduler=cluster.scheduler_address)
        label, per_min, wall_min, _ = rows[-1]
        wall_min = 60 * run.ran / (run.ran * 60 / wall_min + start)
        rows[-1] = (label, per_min, wall_min, run)

        ref = open_sweep(rows[0][3].store).load()
        for _, _, _, r in rows[1:]:
            ds = open_sweep(r.store).load()
            for v in ref.data_vars:
                if not ds[v].equals(ref[v]):
                    raise SystemExit(f"{r.executor}: {v} differs from the one-process run")
        print(f"{'executor':<20}{'run (points/min)':>18}{'wall (points/min)':>19}")
        for label, per_min, wall_min, _ in rows:
            print(f"{label:<20}{per_min:>18.0f}{wall_min:>19.0f}")
        print("all three stores identical")


if __name__ == "__main__":
    main()
