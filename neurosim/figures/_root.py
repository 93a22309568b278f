"""Pieces shared by the figures of root-stage results (a :class:`RootResult` dataset)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from neurosim.figures import PALETTE

#: colour of each axon kind
KIND_COLOUR = {"motor": PALETTE["blue"], "sensory": PALETTE["vermillion"]}


def kind_colour(kind: str) -> str:
    return KIND_COLOUR.get(kind, PALETTE["purple"])


def ectopic_raster(ax, ds, ylabel: str = "axon") -> None:
    """Ectopic events against time (min), one row per axon, coloured by kind (each
    kind's rows named at the right edge when there are several kinds; "no ectopic
    spike" written across an empty panel)."""
    ev_t = ds["event_time"].values / 60
    ev_a = ds["event_axon"].values
    kind_of = ds["kind"].values
    kinds = list(dict.fromkeys(kind_of.tolist()))
    for kind in kinds:
        m = kind_of[ev_a] == kind if ev_a.size else np.zeros(0, bool)
        ax.plot(ev_t[m], ev_a[m], "|", ms=4, color=kind_colour(kind), label=kind)
    ax.set_ylim(-0.5, ds.sizes["axon"] - 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if len(kinds) > 1:  # name each kind's rows at the right edge, in its colour
        for kind in kinds:
            rows = np.flatnonzero(kind_of == kind)
            ax.text(
                1.01,
                rows.mean(),
                kind,
                transform=ax.get_yaxis_transform(),
                color=kind_colour(kind),
                ha="left",
                va="center",
                fontsize=9,
            )
    if not ev_t.size:  # say so: an empty panel reads as a plotting failure
        ax.text(0.5, 0.5, "no ectopic spike", transform=ax.transAxes, ha="center", va="center")
