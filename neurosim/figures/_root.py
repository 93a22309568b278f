"""Pieces shared by the figures of root-stage results (a :class:`RootResult` dataset)."""

from __future__ import annotations

import numpy as np

from neurosim.figures import PALETTE

#: colour of each axon kind
KIND_COLOUR = {"motor": PALETTE["blue"], "sensory": PALETTE["vermillion"]}


def kind_colour(kind: str) -> str:
    return KIND_COLOUR.get(kind, PALETTE["purple"])


def ectopic_raster(ax, ds, ylabel: str = "axon") -> None:
    """Ectopic events against time (min), one row per axon, coloured by kind."""
    ev_t = ds["event_time"].values / 60
    ev_a = ds["event_axon"].values
    kind_of = ds["kind"].values
    for kind in dict.fromkeys(kind_of.tolist()):
        m = kind_of[ev_a] == kind if ev_a.size else np.zeros(0, bool)
        ax.plot(ev_t[m], ev_a[m], "|", ms=4, color=kind_colour(kind), label=kind)
    ax.set_ylim(-0.5, ds.sizes["axon"] - 0.5)
    ax.set_ylabel(ylabel)
