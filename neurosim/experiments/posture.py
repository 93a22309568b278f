"""Posture schedules and the walking test on a stenotic root (two experiment kinds).

``posture_schedule``: a day in postures (lying, standing, extension, flexion, ...) from
the compression file's ``[schedule]`` (``kind = "posture"``); per phase, blood flow and O2
at the lesion, the threshold change and the ectopic rate of motor and sensory axons. The
calibration point (SCIENCE.md section 1; Takahashi et al. 1995): standing in extension
gives ectopic discharge where lying and flexion give none.

``walking_test``: the same machinery on a schedule with a ``walking`` phase followed by
sitting (the treadmill test of neurogenic claudication): the time from the start of
walking to the first ectopic discharge, and the time from sitting down to the last.

File tables: see :mod:`neurosim.experiments._root`. Results: ``root.nc``,
``summary.json`` and the figure (``posture_schedule.png`` / ``walking_test.png``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurosim.experiments import ExperimentReport, register
from neurosim.experiments._root import ROOT_TABLES, read_root, root_kwargs, save_dataset

__all__ = ["run_postures", "run_walking", "phase_table", "walking_times"]


def phase_table(ds, schedule) -> list[dict]:
    """Per schedule phase and axon kind: mean flow and O2 at the lesion over the phase's
    second half, ectopic rate (Hz per axon) over the whole phase, threshold change at its
    end."""
    t = ds["time"].values * 1e3
    tt = ds["track_time"].values * 1e3
    ev_t = ds["event_time"].values * 1e3
    ev_a = ds["event_axon"].values
    ev_w = ds["event_weight"].values
    end_all = t[-1]
    rows = []
    for ph in schedule.describe():
        t0 = ph["start_ms"]
        t1 = min(t0 + ph["duration_ms"], end_all)
        if t1 <= t0:
            continue
        late = (t >= 0.5 * (t0 + t1)) & (t <= t1)
        if not late.any():
            late = np.argmin(np.abs(t - t1)) == np.arange(t.size)
        row = {"phase": ph["name"], "start_min": t0 / 60e3, "end_min": t1 / 60e3}
        row["pressure_mmHg"] = ph["pressure_mmHg"]
        for kind in dict.fromkeys(ds["kind"].values.tolist()):
            sel = ds["kind"].values == kind
            axons = ds["axon"].values[sel]
            m = np.isin(ev_a, axons) & (ev_t >= t0) & (ev_t < t1)
            row[f"{kind}_flow"] = float(ds["flow"].values[sel][:, late].mean())
            row[f"{kind}_o2_mg_per_L"] = float(ds["o2"].values[sel][:, late].mean())
            row[f"{kind}_rate_hz"] = float(ev_w[m].sum() / ((t1 - t0) * 1e-3) / sel.sum())
            k = np.nonzero(tt <= t1 + 1e-6)[0]
            if k.size:
                thr = ds["threshold_change"].values[sel][:, k[-1]]
                row[f"{kind}_threshold_change_pct"] = float(np.nanmean(thr))
        rows.append(row)
    return rows


def walking_times(ds, schedule) -> dict:
    """Time (min) from the start of the first walking phase to the first ectopic event,
    and from the start of the next non-walking phase to the last event (None: none).

    The first event is the run's first: if the root fired before the walk (in a standing
    phase), ``onset_after_walking_min`` is negative and ``discharge_before_walking`` is
    true, rather than the onset being read from the first event after the walk began."""
    phases = schedule.describe()
    walk = next((p for p in phases if p["name"].startswith("walking")), None)
    if walk is None:
        raise ValueError("the schedule has no walking phase")
    w0 = walk["start_ms"]
    w1 = w0 + walk["duration_ms"]
    ev_t = ds["event_time"].values * 1e3
    out = {"walking_start_min": w0 / 60e3, "sitting_start_min": w1 / 60e3}
    out["onset_after_walking_min"] = float((ev_t.min() - w0) / 60e3) if ev_t.size else None
    out["discharge_before_walking"] = bool(ev_t.size and ev_t.min() < w0)
    late = ev_t[ev_t >= w1]
    out["stop_after_sitting_min"] = (
        float((late.max() - w1) / 60e3) if late.size else (0.0 if ev_t.size else None)
    )
    return out


def _run(cfg: dict, out: Path, kind: str) -> ExperimentReport:
    from neurosim.simulate.root import simulate_root

    name = cfg["experiment"]["name"]
    compression, groups, run_cfg = read_root(cfg)
    wall0 = time.perf_counter()
    res = simulate_root(compression, groups, run_cfg["duration"], **root_kwargs(run_cfg))
    wall = time.perf_counter() - wall0
    ds = res.dataset()
    ds.attrs.update(experiment=name, wall_s=wall)
    files = [save_dataset(ds, out / "root.nc")]
    rows = phase_table(ds, compression.schedule)
    summary = {"phases": rows, "timing": {"wall_s": wall, "axons": int(ds.sizes["axon"])}}
    kinds = list(dict.fromkeys(ds["kind"].values.tolist()))
    lines = [
        f"{name}: {compression.name}, {int(ds.sizes['axon'])} axons, "
        f"{run_cfg['duration'] / 60e3:g} min simulated in {wall:.0f} s wall"
    ]
    for r in rows:
        rates = ", ".join(f"{k} {r[f'{k}_rate_hz']:.2f} Hz" for k in kinds)
        lines.append(
            f"{r['phase']:<16} {r['pressure_mmHg']:6.1f} mmHg  flow {r[f'{kinds[0]}_flow']:.2f}  "
            f"O2 {r[f'{kinds[0]}_o2_mg_per_L']:.1f} mg/L  ectopic: {rates}"
        )
    if kind == "walking_test":
        wt = walking_times(ds, compression.schedule)
        summary["walking"] = wt
        on, off = wt["onset_after_walking_min"], wt["stop_after_sitting_min"]
        lines.append(
            "walking test: first ectopic discharge "
            + (
                "none"
                if on is None
                else f"{on:.1f} min after the start of walking"
                if on >= 0
                else f"{-on:.1f} min before the start of walking (the root fired already)"
            )
            + "; "
            + ("-" if off is None else f"last {off:.1f} min after sitting down")
        )
    spath = out / "summary.json"
    spath.write_text(json.dumps(summary, indent=2))
    files.append(spath)
    from neurosim.figures.posture import plot

    files.append(plot(ds, compression.schedule.describe(), out / f"{kind}.png", title=name))
    return ExperimentReport(name=name, lines=lines, metrics=summary, files=files)


@register("posture_schedule", ROOT_TABLES)
def run_postures(cfg: dict, out: Path) -> ExperimentReport:
    """Run a posture-schedule experiment file."""
    return _run(cfg, out, "posture_schedule")


@register("walking_test", ROOT_TABLES)
def run_walking(cfg: dict, out: Path) -> ExperimentReport:
    """Run a walking-test experiment file."""
    return _run(cfg, out, "walking_test")
