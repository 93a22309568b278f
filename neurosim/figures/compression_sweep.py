"""Heatmaps of the 1000-point compression sweep of the axon stage
(``experiments/sweeps/compression_pressure_duration.toml``): ectopic rate and conduction
block against pressure and duration, one panel per axon kind, and the probability of a
cramp.

Cramp probability: the spinal stage (Brian2 pool and muscle, the flagship's models) fed
with the sensory axons' ectopic discharge at a given rate, as in a scenario segment
(every Ia afferent firing the sample axon's regular train at its own random phase), over
``SEGMENT`` ms, for ``SEEDS`` seeds per rate on a grid of rates; each cell of the sweep
gets the cramp fraction interpolated at its sensory ectopic rate. The motor axons'
ectopic discharge, which the flagship does not show, is left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures import PALETTE, save, style

__all__ = ["plot", "as_grid", "cramp_probability"]

SWEEP = "compression_pressure_duration"
#: ectopic rates (Hz per sensory axon) at which the spinal stage is run
RATES = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
SEEDS = 3
SEGMENT = 10_000.0


def cramp_probability(rates=RATES, seeds: int = SEEDS, segment: float = SEGMENT) -> dict:
    """Fraction of spinal runs that cramp when every Ia afferent carries regular ectopic
    spikes at each of ``rates`` (Hz), random phases; ``seeds`` runs per rate."""
    from neurosim.ectopic import Direction
    from neurosim.simulate.spinal import EctopicSpikes, default_models, simulate_spinal

    spinal, muscle = default_models()
    n_ia = int(spinal["spindle"]["n_afferents"])
    frac = []
    for r in rates:
        hits = 0
        for s in range(seeds):
            rng = np.random.default_rng(1000 + s)
            idx, times = [], []
            if r > 0:
                period = 1e3 / r
                for j in range(n_ia):
                    t = np.arange(rng.uniform(0, period), segment, period)
                    idx += [j] * t.size
                    times += t.tolist()
            order = np.argsort(times, kind="stable")
            ect = EctopicSpikes.from_arrays(
                "ia", np.asarray(idx, int)[order], np.asarray(times)[order], Direction.PROXIMAL
            )
            res = simulate_spinal(spinal, muscle, segment, ectopic=ect, seed=s)
            hits += bool(res.cramp.detected)
        frac.append(hits / seeds)
    return {"rate_hz": np.asarray(rates, float), "cramp_fraction": np.asarray(frac)}


def as_grid(ds, var: str):
    """A sweep dataset's ``var`` on the (pressure, duration) grid of its points."""
    p = ds["grid.pressure"].values
    d = ds["grid.duration"].values / 60e3
    P, D = np.unique(p), np.unique(d)
    z = np.full((P.size, D.size), np.nan)
    z[np.searchsorted(P, p), np.searchsorted(D, d)] = ds[var].values
    return P, D, z


def plot(ds, path, cramp: dict | None = None) -> Path:
    """``ds``: the sweep dataset; ``cramp``: :func:`cramp_probability` output (adds a
    panel of cramp probability against pressure and duration)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    kinds = [k for k in ("sensory", "motor") if f"{k}_ectopic_rate" in ds]
    n = len(kinds) + (cramp is not None)
    with style():
        fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.8), squeeze=False)
        if cramp is not None:
            ax = axes[0, -1]
            P, D, rate = as_grid(ds, "sensory_ectopic_rate")
            prob = np.interp(np.nan_to_num(rate), cramp["rate_hz"], cramp["cramp_fraction"])
            dd, pp = np.meshgrid(D, P)
            im = ax.pcolormesh(dd, pp, prob, shading="nearest", cmap="cividis", vmin=0, vmax=1)
            fig.colorbar(im, ax=ax, label="cramp probability")
            ax.set_xlabel("time under pressure (min)")
            ax.set_ylabel("pressure at the stenosis (mmHg)")
            ax.set_title("cramp (spinal stage, sensory ectopy)", fontsize=12)
        for ax, kind in zip(axes[0], kinds, strict=False):
            P, D, rate = as_grid(ds, f"{kind}_ectopic_rate")
            _, _, cond = as_grid(ds, f"{kind}_conducting")
            dd, pp = np.meshgrid(D, P)
            # a silent kind keeps a 0-1 Hz scale (an all-zero panel is not "mid-range")
            top = max(float(np.nanmax(rate)) if np.isfinite(rate).any() else 0.0, 1.0)
            im = ax.pcolormesh(dd, pp, rate, shading="nearest", cmap="viridis", vmin=0, vmax=top)
            fig.colorbar(im, ax=ax, label="ectopic rate (Hz per axon)")
            blocked = cond == 0
            if blocked.any():
                # no evoked spike crossed the segment: structural block, or collision with
                # ectopic spikes running the other way (neurosim.simulate.root.conduction_time)
                ax.plot(
                    dd[blocked],
                    pp[blocked],
                    "x",
                    color=PALETTE["orange"],
                    ms=4,
                    mew=1.2,
                    label="no conduction (block or collision)",
                )
                ax.legend(frameon=False, loc="lower right", labelcolor="w")
            ax.set_xlabel("time under pressure (min)")
            ax.set_ylabel("pressure at the stenosis (mmHg)")
            ax.set_title(f"{kind} axons ({ds.sizes['point']} points)", fontsize=12)
        fig.tight_layout()
        save(fig, path)
    return path


def _register() -> None:
    from neurosim.figures.gallery import figure

    @figure("compression_sweep", "ectopic rate and conduction block against pressure and duration")
    def compression_sweep_figure(out_dir: Path, data_dir: Path) -> Path:
        from neurosim.sweep import open_sweep, run_sweep

        sweep = Path(__file__).resolve().parents[2] / "experiments" / "sweeps" / f"{SWEEP}.toml"
        if not sweep.is_file():
            raise FileNotFoundError(f"{sweep}: the gallery figures need the repository")
        run = run_sweep(sweep, Path(data_dir) / f"{SWEEP}.zarr", quiet=True)
        ds = open_sweep(run.store).load()
        cramp = cramp_probability()
        np.savez(Path(data_dir) / "cramp_probability.npz", **cramp)
        return plot(ds, out_dir / "compression_sweep.png", cramp)


_register()
