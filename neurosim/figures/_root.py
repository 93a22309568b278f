"""Pieces shared by the figures of root-stage results (a :class:`RootResult` dataset)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from neurosim.figures import PALETTE

#: colour of each axon kind
KIND_COLOUR = {"motor": PALETTE["blue"], "sensory": PALETTE["vermillion"]}


def kind_colour(kind: str) -> str:
    return KIND_COLOUR.get(kind, PALETTE["purple"])


def ectopic_raster(ax, ds, ylabel: str = "axon", empty_note: bool = True) -> None:
    """Ectopic events against time (min), one row per axon, coloured by kind. With
    several kinds the y ticks name each kind's rows (in its colour) instead of
    numbering the axons; ``empty_note`` writes "no ectopic spike" across an empty panel
    (an empty panel alone reads as a plotting failure)."""
    ev_t = ds["event_time"].values / 60
    ev_a = ds["event_axon"].values
    kind_of = ds["kind"].values
    kinds = list(dict.fromkeys(kind_of.tolist()))
    for kind in kinds:
        m = kind_of[ev_a] == kind if ev_a.size else np.zeros(0, bool)
        ax.plot(ev_t[m], ev_a[m], "|", ms=4, color=kind_colour(kind), label=kind)
    ax.set_ylim(-0.5, ds.sizes["axon"] - 0.5)
    ax.set_ylabel(ylabel)
    if len(kinds) > 1:
        ax.set_yticks([np.flatnonzero(kind_of == k).mean() for k in kinds], kinds)
        for label, kind in zip(ax.get_yticklabels(), kinds, strict=True):
            label.set_color(kind_colour(kind))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if empty_note and not ev_t.size:
        ax.text(0.5, 0.5, "no ectopic spike", transform=ax.transAxes, ha="center", va="center")
