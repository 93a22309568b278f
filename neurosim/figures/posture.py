"""Figure of a posture schedule or walking test on a stenotic root: pressure by posture,
blood flow and O2 at the lesion, [K]o and the node potential, and the ectopic raster."""

from __future__ import annotations

from pathlib import Path

from neurosim.figures import PALETTE, save, style
from neurosim.figures._root import ectopic_raster, kind_colour


def plot(ds, phases: list[dict], path, title: str = "") -> Path:
    """Four panels against time (min), phases labelled on top."""
    import matplotlib.pyplot as plt

    path = Path(path)
    t = ds["time"].values / 60
    kinds = list(dict.fromkeys(ds["kind"].values.tolist()))
    with style():
        fig, axes = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
        ax = axes[0]
        for kind in kinds:
            sel = ds["kind"].values == kind
            ax.plot(t, ds["pressure"].values[sel].max(0), color=PALETTE["black"])
            break
        ax.set_ylabel("pressure (mmHg)")
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        for kind in kinds:
            sel = ds["kind"].values == kind
            ax2.plot(t, ds["o2"].values[sel].mean(0), color=PALETTE["green"], ls="--")
            break
        ax2.set_ylabel("O2 (mg/L)", color=PALETTE["green"])
        for ph in phases:
            x0 = ph["start_ms"] / 60e3
            if x0 > t[-1]:
                continue
            ax.axvline(x0, color="0.7", lw=0.8)
            ax.text(
                x0,
                1.02,
                ph["name"],
                transform=ax.get_xaxis_transform(),
                rotation=30,
                fontsize=9,
                ha="left",
                va="bottom",
            )
        for kind in kinds:
            sel = ds["kind"].values == kind
            c = kind_colour(kind)
            axes[1].plot(t, ds["flow"].values[sel].mean(0), color=c, label=kind)
            axes[2].plot(t, ds["v"].values[sel].mean(0), color=c, label=kind)
        axes[1].set_ylabel("blood flow\n(rel. to normal)")
        axes[1].legend(frameon=False)
        axes[2].set_ylabel("lesion node\npotential (mV)")
        ax = axes[3]
        ectopic_raster(ax, ds, "axon (ectopic\nevents)")
        ax.set_xlabel("time (min)")
        if title:
            fig.suptitle(title, y=1.0)
        fig.align_ylabels(axes)
        save(fig, path)
    return path
