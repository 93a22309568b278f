"""Pressure x duration grid: conduction and ectopic firing of a compressed root.

Every pressure of the grid is a batch member (``replicates`` axons per pressure and kind;
the compression file's schedule is replaced by a constant pressure, the highest of the
grid, scaled per member by its ``grade`` = pressure / highest), so one batched run gives
the whole grid: at each duration of the grid the run measures, per axon, the conduction
time across the segment (NaN: blocked, or the evoked spike collided with an ectopic one),
the threshold at the lesion, and the ectopic rate since the previous duration.

Tables (besides those of :mod:`neurosim.experiments._root`, whose ``[[axons]]`` ``n`` and
``grade`` are set by the grid)::

    [grid]
    pressures = ["10 mmHg", "50 mmHg", "100 mmHg", "200 mmHg"]
    durations = ["5 min", "15 min", "30 min", "60 min"]
    replicates = 1
    onset = "inf"            # onset speed of the constant pressure (mmHg/s or "inf")

Results: ``root.nc`` (per axon), ``grid.nc`` (dims kind x pressure x duration:
``conducting`` fraction, ``conduction_time`` ms, ``slowing`` %, ``threshold_change`` %,
``ectopic_rate`` Hz), ``summary.json`` and ``pressure_duration_grid.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numba
import numpy as np

from neurosim.experiments import ExperimentReport, register
from neurosim.experiments._root import (
    ROOT_TABLES,
    RUN_FIELDS,
    read_root,
    root_kwargs,
    save_dataset,
)
from neurosim.modelfile import Field, read_table

__all__ = ["run", "grid_dataset"]

GRID_FIELDS = {
    "pressures": Field("quantity_list", unit_of="pressure", doc="pressures of the grid"),
    "durations": Field("quantity_list", unit_of="time", doc="durations of the grid"),
    "replicates": Field("int", default=1, lo=1, hi=1000, doc="axons per pressure and kind"),
    "onset": Field("str", default="inf", doc="onset speed (mmHg/s or inf)"),
}


def _read_grid(cfg: dict) -> dict:
    g = read_table(cfg.get("grid", {}), GRID_FIELDS, "grid")
    for key in ("pressures", "durations"):
        v = np.asarray(g[key], dtype=float)
        if v.size == 0:
            raise ValueError(f"`grid.{key}` is empty; give at least one value")
        if np.any(np.diff(v) <= 0):
            raise ValueError(f"`grid.{key}` = {g[key]} must increase strictly")
        g[key] = v
    if g["pressures"][0] < 0:
        raise ValueError(f"`grid.pressures` = {g['pressures'].tolist()} mmHg: negative pressure")
    if g["durations"][0] <= 0:
        raise ValueError(f"`grid.durations` must be positive, got {g['durations'].tolist()} ms")
    if g["pressures"][-1] <= 0:
        raise ValueError("`grid.pressures` needs a positive highest pressure")
    return g


def grid_dataset(ds, grid: dict):
    """Reduce a root dataset (members laid out kind x pressure x replicate) to the grid."""
    import xarray as xr

    P, D, R = grid["pressures"].size, grid["durations"].size, grid["replicates"]
    kinds = list(dict.fromkeys(ds["kind"].values.tolist()))
    tt = ds["track_time"].values * 1e3
    cols = [int(np.argmin(np.abs(tt - d))) for d in grid["durations"]]
    ev_t = ds["event_time"].values * 1e3
    ev_a = ds["event_axon"].values
    ev_w = ds["event_weight"].values
    out = {k: np.full((len(kinds), P, D), np.nan) for k in ("cond", "ctime", "slow", "thr", "rate")}
    bounds = np.concatenate([[0.0], grid["durations"]])
    for ki, kind in enumerate(kinds):
        axons = ds["axon"].values[ds["kind"].values == kind].reshape(P, R)
        for pi in range(P):
            ax = axons[pi]
            ct = ds["conduction_time"].values[ax]  # (R, K)
            thr = ds["threshold_change"].values[ax]
            for di, c in enumerate(cols):
                ok = np.isfinite(ct[:, c])
                out["cond"][ki, pi, di] = ok.mean()
                out["ctime"][ki, pi, di] = np.nanmean(ct[:, c]) if ok.any() else np.nan
                base = ct[:, 0]
                with np.errstate(invalid="ignore"):
                    sl = 100.0 * (ct[:, c] / base - 1.0)
                out["slow"][ki, pi, di] = np.nanmean(sl) if ok.any() else np.nan
                fin = np.isfinite(thr[:, c])
                out["thr"][ki, pi, di] = np.nanmean(thr[fin, c]) if fin.any() else np.nan
                m = np.isin(ev_a, ax) & (ev_t >= bounds[di]) & (ev_t < bounds[di + 1])
                span = (bounds[di + 1] - bounds[di]) * 1e-3
                out["rate"][ki, pi, di] = ev_w[m].sum() / span / R
    dims = ("kind", "pressure", "duration")
    return xr.Dataset(
        {
            "conducting": (dims, out["cond"], {"units": "1", "long_name": "fraction conducting"}),
            "conduction_time": (dims, out["ctime"], {"units": "ms"}),
            "slowing": (dims, out["slow"], {"units": "%", "long_name": "conduction-time rise"}),
            "threshold_change": (dims, out["thr"], {"units": "%"}),
            "ectopic_rate": (
                dims,
                out["rate"],
                {"units": "Hz", "long_name": "ectopic rate per axon since the previous duration"},
            ),
        },
        coords={
            "kind": kinds,
            "pressure": ("pressure", grid["pressures"], {"units": "mmHg"}),
            "duration": ("duration", grid["durations"] / 60e3, {"units": "min"}),
        },
    )


def simulate_grid(cfg: dict, grid: dict):
    """One batched root run of a grid: returns the root dataset, the grid dataset and
    the wall time (s)."""
    from neurosim.simulate.root import AxonGroup, simulate_root

    pmax = float(grid["pressures"][-1])
    cfg = dict(cfg)
    comp = dict(cfg.get("compression", {}))
    comp["set"] = {
        **comp.get("set", {}),
        "schedule": {"kind": "constant", "pressure": f"{pmax} mmHg", "speed": grid["onset"]},
    }
    cfg["compression"] = comp
    compression, groups, run_cfg = read_root(cfg)
    R = grid["replicates"]
    grade = np.repeat(grid["pressures"] / pmax, R)
    laid = [AxonGroup(g.kind, g.model, grade.size) for g in groups]
    durations = grid["durations"]
    # threshold tracking at every duration: the step that divides them all
    every = float(np.gcd.reduce(np.round(np.concatenate([[0.0], durations])).astype(np.int64)))
    if every <= 0 or durations[-1] / every > MAX_MEASUREMENTS:
        raise ValueError(
            f"`grid.durations` (min) {(durations / 60e3).tolist()} share no step coarser "
            f"than {every:g} ms: conduction is measured at each multiple of it, more than "
            f"{MAX_MEASUREMENTS} times; give durations on a common grid (e.g. whole minutes)"
        )
    kw = root_kwargs(run_cfg)
    kw["track_every"] = every
    wall0 = time.perf_counter()
    res = simulate_root(compression, laid, float(durations[-1]), grade=grade, **kw)
    wall = time.perf_counter() - wall0
    ds = res.dataset()
    return ds, grid_dataset(ds, grid), wall


#: most threshold-tracking times of one grid run (every multiple of the durations'
#: common step up to the longest)
MAX_MEASUREMENTS = 200


@register("pressure_duration_grid", (*ROOT_TABLES, "grid"))
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run a pressure x duration grid experiment file (see the module docstring)."""
    name = cfg["experiment"]["name"]
    grid = _read_grid(cfg)
    durations = grid["durations"]
    ds, gds, wall = simulate_grid(cfg, grid)
    ds.attrs.update(experiment=name, wall_s=wall)
    files = [save_dataset(ds, out / "root.nc")]
    files.append(save_dataset(gds, out / "grid.nc"))
    summary = {
        "pressures_mmHg": grid["pressures"].tolist(),
        "durations_min": (durations / 60e3).tolist(),
        "conducting": {
            k: gds["conducting"].sel(kind=k).values.tolist() for k in gds["kind"].values
        },
        "slowing_pct": {k: gds["slowing"].sel(kind=k).values.tolist() for k in gds["kind"].values},
        "ectopic_rate_hz": {
            k: gds["ectopic_rate"].sel(kind=k).values.tolist() for k in gds["kind"].values
        },
        "timing": {"wall_s": wall, "axons": int(ds.sizes["axon"])},
    }
    spath = out / "summary.json"
    spath.write_text(json.dumps(summary, indent=2, default=lambda x: None))
    files.append(spath)
    from neurosim.figures.pressure_duration_grid import plot

    files.append(plot(gds, out / "pressure_duration_grid.png"))
    lines = [
        f"{name}: {grid['pressures'].size} pressures x {durations.size} durations, "
        f"{int(ds.sizes['axon'])} axons, {durations[-1] / 60e3:g} min in {wall:.0f} s wall"
    ]
    for k in gds["kind"].values:
        for pi, p in enumerate(grid["pressures"]):
            c = gds["conducting"].sel(kind=k).values[pi]
            sl = gds["slowing"].sel(kind=k).values[pi]
            r = gds["ectopic_rate"].sel(kind=k).values[pi]
            cells = "  ".join(
                f"{d / 60e3:g}min: "
                + ("block" if c[i] == 0 else f"{sl[i]:+.0f}%")
                + (f" ect {r[i]:.1f}Hz" if r[i] > 0 else "")
                for i, d in enumerate(durations)
            )
            lines.append(f"{k:<8}{p:6.0f} mmHg  {cells}")
    return ExperimentReport(name=name, lines=lines, metrics=summary, files=files)


# -- sweeps: `neurosim sweep` over pressure, duration and the ion layer -----------------------
#
# A sweep point is one pressure held for one duration (``grid.pressure``,
# ``grid.duration``), optionally with ``ions.<key>`` values. The points of a chunk that
# share their ``ions`` values run as one grid (every pressure a batch member, every
# duration a measurement time of one run), so a grid sweep over pressure x duration
# costs one root run per chunk.

SWEEP_KEYS = {
    "grid.pressure": Field("pressure", lo=0.0, doc="constant pressure at the lesion"),
    "grid.duration": Field("time", lo=0.0, lo_open=True, doc="time under pressure"),
}
_GRID_OUTPUTS = {
    "conducting": (
        "1",
        "an evoked spike crossed the segment (1) or not (0: block, or collision with "
        "ectopic spikes) at the duration",
    ),
    "slowing": ("%", "conduction-time rise since the start"),
    "threshold_change": ("%", "threshold change at the lesion since the start"),
    "ectopic_rate": ("Hz", "ectopic rate per axon since the previous measurement"),
}


def _kinds(cfg: dict) -> list[str]:
    return [str(a.get("kind")) for a in cfg.get("axons", [])]


def sweep_outputs(cfg: dict) -> dict[str, dict]:
    return {
        f"{kind}_{key}": {"units": units, "long_name": f"{kind} axons: {doc}"}
        for kind in _kinds(cfg)
        for key, (units, doc) in _GRID_OUTPUTS.items()
    }


def check_parameters(cfg: dict, names: list[str]) -> dict[str, Field]:
    """Fields of swept keys: ``grid.pressure``, ``grid.duration`` and ``ions.<key>``
    (the ion layer's settings, :data:`neurosim.ions.ION_FIELDS`)."""
    from neurosim.ions import ION_FIELDS

    out = {}
    for n in names:
        if n in SWEEP_KEYS:
            out[n] = SWEEP_KEYS[n]
        elif n.startswith("ions.") and n.removeprefix("ions.") in ION_FIELDS:
            out[n] = ION_FIELDS[n.removeprefix("ions.")]
        else:
            raise ValueError(
                f"unknown sweep parameter {n!r} for a pressure_duration_grid experiment; "
                f"sweepable: {', '.join(SWEEP_KEYS)}, ions.<key> ({', '.join(sorted(ION_FIELDS))})"
            )
    if not {"grid.pressure", "grid.duration"} <= set(names):
        raise ValueError(
            "a pressure_duration_grid sweep needs both `grid.pressure` and `grid.duration` "
            f"among its parameters, got {names}"
        )
    return out


def _value(point: dict, key: str) -> float:
    return float(read_table({"v": point[key]}, {"v": SWEEP_KEYS[key]}, key)["v"])


def evaluate_points(cfg: dict, points: list[dict], seeds: list[int]) -> list[dict[str, float]]:
    """The chunk's points as grids: one root run per set of ``ions`` values."""
    base = _read_grid_defaults(cfg)
    groups: dict[tuple, list[int]] = {}
    for j, p in enumerate(points):
        ions = tuple(sorted((k, str(v)) for k, v in p.items() if k.startswith("ions.")))
        groups.setdefault(ions, []).append(j)
    results: list[dict[str, float]] = [{} for _ in points]
    for ions, idx in groups.items():
        pres = np.array([_value(points[j], "grid.pressure") for j in idx])
        durs = np.array([_value(points[j], "grid.duration") for j in idx])
        grid = {
            "pressures": np.unique(pres),
            "durations": np.unique(durs),
            "replicates": 1,
            "onset": base["onset"],
        }
        if grid["pressures"][-1] <= 0:
            grid["pressures"] = np.append(grid["pressures"], 1.0)  # grade reference only
        sub = dict(cfg)
        sub["ions"] = {**cfg.get("ions", {}), **{k.removeprefix("ions."): v for k, v in ions}}
        if not sub.get("run", {}).get("threads"):
            # "all cores" in a sweep means the cores the sweep gave this chunk (a pool
            # worker's share, --threads): the kernel thread count it has set
            sub["run"] = {**sub.get("run", {}), "threads": numba.get_num_threads()}
        _, gds, _ = simulate_grid(sub, grid)
        for j, p_, d_ in zip(idx, pres, durs, strict=True):
            cell = gds.sel(pressure=p_, duration=d_ / 60e3)
            results[j] = {
                f"{kind}_{key}": float(cell[key].sel(kind=kind).values)
                for kind in gds["kind"].values
                for key in _GRID_OUTPUTS
            }
    return results


def _read_grid_defaults(cfg: dict) -> dict:
    """The file's ``onset`` (its pressures and durations are replaced by the points')."""
    g = cfg.get("grid", {})
    return read_table({"onset": g.get("onset", "inf")}, {"onset": GRID_FIELDS["onset"]}, "grid")


def sweep_provenance(cfg: dict) -> dict:
    run = read_table(cfg.get("run", {}), RUN_FIELDS, "run")
    return {"dt_ms": run["dt"], "window_ms": run["window"], "slow_dt_ms": run["slow_dt"]}
