"""Figure of the ischaemia-and-release experiment: the cuff, the ions under it, the
threshold of motor and sensory axons, and their ectopic discharge."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures import PALETTE, save, style
from neurosim.figures._root import ectopic_raster, kind_colour


def _shade(ax, ds) -> None:
    on, off = ds.attrs.get("onset_s"), ds.attrs.get("release_s")
    if on is not None and off is not None:
        ax.axvspan(on / 60, off / 60, color="0.92", zorder=0, lw=0)


def plot(ds, path) -> Path:
    """Five panels against time (min): pressure and O2; [K]o (endoneurial and under the
    myelin); membrane potential at the lesion; threshold change (mean and range per
    kind); ectopic events (raster, one row per axon)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    t = ds["time"].values / 60
    tt = ds["track_time"].values / 60
    kinds = list(dict.fromkeys(ds["kind"].values.tolist()))
    with style():
        fig, axes = plt.subplots(5, 1, figsize=(8, 12), sharex=True)
        ax = axes[0]
        ax.plot(t, ds["pressure"].values[0], color=PALETTE["black"], label="cuff pressure")
        ax.set_ylabel("pressure (mmHg)")
        ax2 = ax.twinx()
        ax2.plot(t, ds["o2"].values[0], color=PALETTE["green"], label="O2")
        ax2.set_ylabel("O2 (mg/L)", color=PALETTE["green"])
        ax2.spines["right"].set_visible(True)
        ax.set_title("Cuff ischaemia and release")
        for kind in kinds:
            sel = ds["kind"].values == kind
            c = kind_colour(kind)
            axes[1].plot(
                t, ds["ko_film"].values[sel].mean(0), color=c, label=f"{kind}, under myelin"
            )
            axes[1].plot(
                t, ds["ko"].values[sel].mean(0), color=c, ls="--", label=f"{kind}, endoneurial"
            )
            axes[2].plot(t, ds["v"].values[sel].mean(0), color=c, label=kind)
            thr = ds["threshold_change"].values[sel]
            thr = np.where(np.isfinite(thr), thr, np.nan)
            axes[3].plot(tt, np.nanmean(thr, 0), "-o", ms=3, color=c, label=kind)
            if sel.sum() > 1:
                axes[3].fill_between(
                    tt, np.nanmin(thr, 0), np.nanmax(thr, 0), color=c, alpha=0.2, lw=0
                )
        axes[1].set_ylabel("[K]o (mM)")
        axes[1].legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes[2].set_ylabel("node potential (mV)")
        axes[2].legend(frameon=False)
        axes[3].axhline(0, color="0.5", lw=0.8)
        axes[3].set_ylabel("threshold change (%)")
        axes[3].legend(frameon=False)
        ax = axes[4]
        ectopic_raster(ax, ds, "axon")
        ax.set_xlabel("time (min)")
        ax.set_title("ectopic discharge", fontsize=11)
        for a in axes:
            _shade(a, ds)
        fig.align_ylabels(axes)
        save(fig, path)
    return path
