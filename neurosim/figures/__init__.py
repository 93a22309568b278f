"""Teaching figures: read saved results, never re-run physics.

House style for every figure (slides and papers): axes labelled with units, type
readable at slide size, and the Okabe-Ito colour-blind-safe palette. Use
:func:`style` as a context manager around plotting code and :data:`PALETTE` for colours.
"""

from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg")  # figures are files; no display on CI machines

import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["PALETTE", "style", "save", "min_span"]

#: Okabe & Ito (2008) colour-blind-safe palette
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

_RC = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(
        color=[
            PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")
        ]
    ),
    "axes.formatter.useoffset": False,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}


@contextlib.contextmanager
def style():
    """Apply the house plotting style inside a ``with`` block."""
    with plt.rc_context(_RC):
        yield


def save(fig, path) -> None:
    """Write ``fig`` to ``path`` (PNG) and close it."""
    fig.savefig(path)
    plt.close(fig)


def min_span(ax, span: float) -> None:
    """Widen the y-axis to at least ``span`` around its data: a flat trace then reads
    as flat instead of as round-off magnified to the full height."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - 0.5 * span, mid + 0.5 * span)
