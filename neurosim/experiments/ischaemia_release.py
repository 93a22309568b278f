"""Ischaemia of 10-13 min and release: threshold tracking and post-ischaemic ectopy.

The human protocol (a cuff at 200 mmHg around the limb): sensory-axon threshold falls
by about a third over the first 8 min, then plateaus (Lin, Grosskreutz & Burke); after
release the axons hyperpolarise (threshold rises above baseline) and ectopic activity
(paraesthesiae) is stronger than during the ischaemia, and stronger in sensory than in
motor axons (Mogyoros et al. 2000; Han et al. 2008).

File tables: see :mod:`neurosim.experiments._root`. Results: ``root.nc`` (the labelled
:class:`~neurosim.simulate.root.RootResult` dataset), ``summary.json``, and the figure
``ischaemia_release.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurosim.experiments import ExperimentReport, register
from neurosim.experiments._root import ROOT_TABLES, read_root, root_kwargs, save_dataset

__all__ = ["run", "analyse"]


def _phase_times(compression) -> tuple[float, float]:
    """Start and end (ms) of the cuff's hold at full pressure from the schedule."""
    phases = compression.schedule.describe()
    held = [p for p in phases if p.get("name") == "compression"]
    if held:
        return held[0]["start_ms"], held[0]["start_ms"] + held[0]["duration_ms"]
    t = np.linspace(0.0, compression.schedule.end, 20001)
    p = compression.schedule.pressure(t)
    on = t[p >= 0.5 * p.max()]
    return float(on[0]), float(on[-1])


def _nan_none(x):
    return float(x) if np.isfinite(x) else None


def analyse(ds, onset_ms: float, release_ms: float) -> dict:
    """Threshold and ectopic measures per axon kind from a root dataset."""
    out = {}
    tt = ds["track_time"].values * 1e3
    for kind in np.unique(ds["kind"].values):
        sel = ds["kind"].values == kind
        thr = ds["threshold_change"].values[sel]
        mean = np.nanmean(np.where(np.isfinite(thr), thr, np.nan), axis=0)
        rel_min = (tt - onset_ms) / 60e3

        def at(minutes, mean=mean, rel_min=rel_min):
            if not rel_min.size:
                return None
            i = int(np.argmin(np.abs(rel_min - minutes)))
            return float(mean[i]) if abs(rel_min[i] - minutes) < 0.51 else None

        during = (tt > onset_ms) & (tt <= release_ms)
        after = tt > release_ms
        inexc = ~np.isfinite(thr)
        ev_t = ds["event_time"].values * 1e3
        ev_ax = ds["event_axon"].values
        ev_w = ds["event_weight"].values
        axons = ds["axon"].values[sel]
        in_kind = np.isin(ev_ax, axons)
        dur_s = (release_ms - onset_ms) * 1e-3
        post_s = (ds["time"].values[-1] * 1e3 - release_ms) * 1e-3
        n_during = ev_w[in_kind & (ev_t >= onset_ms) & (ev_t < release_ms)].sum()
        n_after = ev_w[in_kind & (ev_t >= release_ms)].sum()
        out[str(kind)] = {
            "n_axons": int(sel.sum()),
            "threshold_change_pct": {f"{m:g}min": at(m) for m in (2, 4, 6, 8, 10, 12)},
            "threshold_min_pct": _nan_none(np.nanmin(mean[during])) if during.any() else None,
            "threshold_post_max_pct": _nan_none(np.nanmax(mean[after])) if after.any() else None,
            "fraction_inexcitable_during": float(inexc[:, during].any(axis=1).mean())
            if during.any()
            else 0.0,
            "ectopic_rate_during_hz": float(n_during / max(dur_s, 1e-9) / sel.sum()),
            "ectopic_rate_after_hz": float(n_after / max(post_s, 1e-9) / sel.sum()),
        }
    return out


@register("ischaemia_release", ROOT_TABLES)
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run an ischaemia-and-release experiment file (see the module docstring)."""
    from neurosim.simulate.root import simulate_root

    name = cfg["experiment"]["name"]
    compression, groups, run_cfg = read_root(cfg)
    onset, release = _phase_times(compression)
    wall0 = time.perf_counter()
    res = simulate_root(compression, groups, run_cfg["duration"], **root_kwargs(run_cfg))
    wall = time.perf_counter() - wall0
    ds = res.dataset()
    ds.attrs.update(
        experiment=name,
        onset_s=onset * 1e-3,
        release_s=release * 1e-3,
        wall_s=wall,
    )
    files = [save_dataset(ds, out / "root.nc")]
    summary = analyse(ds, onset, release)
    n_axons = int(ds.sizes["axon"])
    summary["timing"] = {
        "wall_s": wall,
        "axons": n_axons,
        "simulated_min": run_cfg["duration"] / 60e3,
        "per_group_wall_s": {g.kind: g.wall_s for g in res.groups},
    }
    spath = out / "summary.json"
    spath.write_text(json.dumps(summary, indent=2))
    files.append(spath)
    from neurosim.figures.ischaemia_release import plot

    files.append(plot(ds, out / "ischaemia_release.png"))
    lines = [
        f"{name}: cuff from {onset / 60e3:.1f} to {release / 60e3:.1f} min, "
        f"{n_axons} axons, {run_cfg['duration'] / 60e3:g} min simulated in {wall:.0f} s wall"
    ]
    for kind, s in summary.items():
        if kind == "timing":
            continue
        tc = s["threshold_change_pct"]
        seq = ", ".join(f"{k} {v:+.0f}%" for k, v in tc.items() if v is not None)
        lines.append(f"{kind}: threshold change during ischaemia: {seq}")
        post = s["threshold_post_max_pct"]
        lines.append(
            f"{kind}: ectopic rate {s['ectopic_rate_during_hz']:.2f} Hz/axon during, "
            f"{s['ectopic_rate_after_hz']:.2f} Hz/axon after release; peak threshold after "
            f"release {'-' if post is None else f'{post:+.0f}%'}"
        )
    return ExperimentReport(name=name, lines=lines, metrics=summary, files=files)
