"""Neurogenic against vascular claudication: the same walk, two causes.

Left, a stenotic root with a healthy calf (``experiments/walking_cramp.toml``); right, a
healthy root with a narrowed calf artery (``experiments/vascular_claudication.toml``).
Rows: pressure at the root, ectopic spikes of the root's axons, the calf's O2 store and
fatigue, and the cramp verdict of each spinal segment (peak involuntary force).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neurosim.figures import PALETTE, save, style
from neurosim.figures._root import ectopic_raster

__all__ = ["plot"]

COLUMNS = (
    ("walking_cramp", "neurogenic: stenotic root, healthy calf"),
    ("vascular_claudication", "vascular: healthy root, narrowed calf artery"),
)


def _load(folder: Path) -> dict:
    import xarray as xr

    with xr.open_dataset(folder / "root.nc") as ds:
        root = ds.load()
    perf = dict(np.load(folder / "muscle_perfusion.npz"))
    summary = json.loads((folder / "summary.json").read_text())
    return {"root": root, "perfusion": perf, "summary": summary}


def plot(folders: list[Path], path: Path, titles=None) -> Path:
    """``folders``: the result folders of the neurogenic and the vascular scenario."""
    import matplotlib.pyplot as plt

    data = [_load(Path(f)) for f in folders]
    titles = titles or [Path(f).name for f in folders]
    with style():
        fig, axes = plt.subplots(
            4, len(data), figsize=(6.2 * len(data), 11), sharex="col", squeeze=False
        )
        for j, (d, title) in enumerate(zip(data, titles, strict=True)):
            ds, perf, summary = d["root"], d["perfusion"], d["summary"]
            t = ds["time"].values / 60
            ax = axes[0, j]
            ax.plot(t, ds["pressure"].values.max(0), color=PALETTE["black"])
            ax.set_title(title, fontsize=12)
            ax.set_ylim(0, 220)
            ectopic_raster(axes[1, j], ds, "ectopic spikes\n(axon)", empty_note=False)
            n_ect = summary["ectopic_spikes"]
            axes[1, j].text(
                0.02, 0.9, f"{n_ect} ectopic spikes", transform=axes[1, j].transAxes, fontsize=10
            )
            ax = axes[2, j]
            tp = perf["time"] / 60e3
            ax.plot(tp, 100 * perf["o2_store"], color=PALETTE["green"], label="O2 store")
            ax.plot(tp, 100 * perf["fatigue"], color=PALETTE["orange"], label="fatigue")
            ax.set_ylim(-5, 105)
            ax = axes[3, j]
            for v in summary["verdicts"]:
                x0 = v["start_min"]
                w = v["duration_s"] / 60
                colour = PALETTE["vermillion"] if v["cramp"] else PALETTE["sky"]
                ax.bar(
                    x0 + w / 2,
                    100 * v["peak_force_fraction"],
                    width=max(w, 0.3),
                    color=colour,
                    zorder=3,
                )
            ax.set_xlabel("time (min)")
            for a in axes[:, j]:
                _walking_band(a, perf)
        top = max(a.get_ylim()[1] for a in axes[3])
        for a in axes[3]:
            a.set_ylim(0, top)  # the same force scale in both columns
        axes[0, 0].set_ylabel("pressure at\nthe root (mmHg)")
        axes[2, 0].set_ylabel("calf (%)")
        axes[2, 0].legend(frameon=False, loc="center left")
        axes[3, 0].set_ylabel("peak involuntary\nforce (% max)")
        from matplotlib.patches import Patch

        axes[3, -1].legend(
            handles=[
                Patch(color=PALETTE["vermillion"], label="cramp"),
                Patch(color=PALETTE["sky"], label="no cramp"),
                Patch(color=PALETTE["yellow"], alpha=0.35, label="walking"),
            ],
            frameon=False,
            loc="upper left",
        )
        for col in axes.T:
            fig.align_ylabels(col)
        save(fig, path)
    return Path(path)


def _walking_band(ax, perf) -> None:
    """Shade the walking stretch (where the calf's O2 demand is raised)."""
    walk = perf["demand"] > 1.0
    if not walk.any():
        return
    tp = perf["time"] / 60e3
    idx = np.flatnonzero(walk)
    ax.axvspan(tp[idx[0]], tp[idx[-1]], color=PALETTE["yellow"], alpha=0.35, lw=0, zorder=0)


def _register() -> None:
    from neurosim.figures.chain import _experiment
    from neurosim.figures.gallery import figure

    @figure("claudication", "neurogenic against vascular claudication: the same walk, two causes")
    def claudication_figure(out_dir: Path, data_dir: Path) -> Path:
        from neurosim.experiments import run_experiment

        folders = []
        for name, _ in COLUMNS:
            rep = run_experiment(_experiment(name), data_dir)
            folders.append(Path(data_dir) / rep.name)
        return plot(folders, out_dir / "claudication.png", [t for _, t in COLUMNS])


_register()
