"""Heatmaps of the pressure x duration grid: conduction slowing (blocked cells marked)
and ectopic rate, one row per axon kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures import save, style


def plot(gds, path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    kinds = [str(k) for k in gds["kind"].values]
    P = gds["pressure"].values
    D = gds["duration"].values
    with style():
        fig, axes = plt.subplots(len(kinds), 2, figsize=(10, 3.6 * len(kinds)), squeeze=False)
        for i, kind in enumerate(kinds):
            g = gds.sel(kind=kind)
            for j, (var, label, cmap) in enumerate(
                (
                    ("slowing", "conduction-time rise (%)", "cividis"),
                    ("ectopic_rate", "ectopic rate (Hz per axon)", "viridis"),
                )
            ):
                ax = axes[i, j]
                z = g[var].values
                im = ax.imshow(np.nan_to_num(z, nan=0.0), origin="lower", aspect="auto", cmap=cmap)
                blocked = g["conducting"].values == 0
                for pi, di in zip(*np.nonzero(blocked), strict=True):
                    ax.text(di, pi, "block", ha="center", va="center", color="w", fontsize=9)
                ax.set_xticks(range(D.size), [f"{d:g}" for d in D])
                ax.set_yticks(range(P.size), [f"{p:g}" for p in P])
                ax.set_xlabel("duration (min)")
                ax.set_ylabel("pressure (mmHg)")
                ax.set_title(f"{kind}: {label}", fontsize=11)
                fig.colorbar(im, ax=ax, shrink=0.85)
        fig.tight_layout()
        save(fig, path)
    return path
