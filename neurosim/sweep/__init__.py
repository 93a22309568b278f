"""Parameter sweeps: a sweep file -> batched runs -> a resumable, labelled store.

>>> from neurosim.sweep import run_sweep, open_sweep
>>> run = run_sweep("experiments/sweeps/hh_cable_gnabar_gkbar.toml")   # all cores
>>> ds = open_sweep(run.store)         # xarray Dataset, dims ("point",)

Pieces (each its own module):

- :mod:`~neurosim.sweep.spec`: the sweep file, its design (grid / random / Latin
  hypercube) and the per-point seeds;
- :mod:`~neurosim.sweep.evaluators`: what a chunk of points runs, per target type
  (registry; experiment kinds plug in with ``evaluate_points``);
- :mod:`~neurosim.sweep.model`: the built-in ``"model"`` target (batched cable runs);
- :mod:`~neurosim.sweep.executors`: this process, a local process pool, a Dask cluster;
- :mod:`~neurosim.sweep.store`: the Zarr store with provenance, resumable;
- :mod:`~neurosim.sweep.runner`: :func:`run_sweep`, tying them together.
"""

from __future__ import annotations

from neurosim.sweep.evaluators import (
    EVALUATORS,
    Evaluator,
    get_evaluator,
    register_evaluator,
)
from neurosim.sweep.runner import SweepRun, default_store, run_sweep
from neurosim.sweep.spec import SweepSpec, load_sweep, point_seeds, with_point
from neurosim.sweep.store import SweepStore

__all__ = [
    "EVALUATORS",
    "Evaluator",
    "SweepRun",
    "SweepSpec",
    "SweepStore",
    "default_store",
    "get_evaluator",
    "load_sweep",
    "open_sweep",
    "point_seeds",
    "register_evaluator",
    "run_sweep",
    "with_point",
]


def open_sweep(path):
    """A sweep store as an :class:`xarray.Dataset` (lazy; ``done`` marks stored points)."""
    import xarray as xr

    return xr.open_zarr(str(path), consolidated=False)
