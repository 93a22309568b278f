"""The chain figure: pressure, blood flow, O2, [K] under the myelin and [Na]i, membrane
potential and ectopic spikes at the lesion, then, for each spinal segment, the
motor-neuron raster, force and surface EMG with the cramp marked."""

from __future__ import annotations

from pathlib import Path

from neurosim.figures import PALETTE, min_span, save, style
from neurosim.figures._root import ectopic_raster, kind_colour


def plot(res, path, title: str = "") -> Path:
    """``res``: a :class:`~neurosim.simulate.chain.ChainResult`."""
    import matplotlib.pyplot as plt

    path = Path(path)
    ds = res.root.dataset()
    t = ds["time"].values / 60
    kinds = list(dict.fromkeys(ds["kind"].values.tolist()))
    nseg = len(res.segments)
    with style():
        fig = plt.figure(figsize=(4.2 * max(nseg, 2) + 1, 19.5))
        # six panels against time (min), a spacer row for their time axis, then one
        # column of three panels per spinal segment
        gs = fig.add_gridspec(
            10, nseg, height_ratios=[1, 1, 1, 1, 1, 1.2, 0.3, 1.2, 1, 1], hspace=0.55
        )
        top = [fig.add_subplot(gs[i, :]) for i in range(6)]
        for a in top[1:]:
            a.sharex(top[0])
        ax = top[0]
        ax.plot(t, ds["pressure"].values.max(0), color=PALETTE["black"])
        ax.set_ylabel("pressure\n(mmHg)")
        holders = [
            any(_holds(seg, o) for o in res.segments if o is not seg) for seg in res.segments
        ]
        if title:
            ax.set_title(title, pad=34 if any(holders) else 18)
        # bands numbered, not named: adjacent segments' names would overlap; each spinal
        # column below carries its number and name. A segment that holds others (e.g.
        # the whole of standing) is a numbered bar above the panels, not a band over them
        for j, (seg, holder) in enumerate(zip(res.segments, holders, strict=True), 1):
            x0, x1 = seg.start / 60e3, (seg.start + seg.duration) / 60e3
            if holder:
                bar = dict(transform=ax.get_xaxis_transform(), clip_on=False)
                ax.plot([x0, x1], [1.14, 1.14], color=PALETTE["black"], lw=1.5, **bar)
                ax.text(
                    0.5 * (x0 + x1),
                    1.15,
                    str(j),
                    ha="center",
                    va="bottom",
                    fontsize=11,
                    fontweight="bold",
                    **bar,
                )
                continue
            for a in top:
                a.axvspan(
                    x0,
                    x1,
                    color=PALETTE["yellow"],
                    alpha=0.35,
                    lw=0,
                )
            ax.text(
                0.5 * (x0 + x1),
                1.02,
                str(j),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=11,
                fontweight="bold",
            )
        for kind in kinds:
            sel = ds["kind"].values == kind
            c = kind_colour(kind)
            top[1].plot(t, ds["flow"].values[sel].mean(0), color=c, label=f"{kind}: flow")
            top[2].plot(
                t, ds["ko_film"].values[sel].mean(0), color=c, label=f"{kind}: [K] under myelin"
            )
            top[3].plot(t, ds["nai"].values[sel].mean(0), color=c, label=kind)
            top[4].plot(t, ds["v"].values[sel].mean(0), color=c, label=kind)
        o2 = top[1].twinx()
        o2.spines["right"].set_visible(True)
        o2.plot(t, ds["o2"].values.mean(0), color=PALETTE["green"], ls="--")
        o2.set_ylabel("O2 (mg/L)", color=PALETTE["green"])
        spans = (
            (top[0], 20.0),
            (top[1], 0.2),
            (o2, 4.0),
            (top[2], 1.0),
            (top[3], 1.0),
            (top[4], 5.0),
        )
        for a, span in spans:
            min_span(a, span)
        top[1].set_ylabel("blood flow\n(rel.)")
        top[2].set_ylabel("[K] under\nmyelin (mM)")
        top[3].set_ylabel("[Na]i (mM)")
        top[3].legend(frameon=False, ncol=2)
        # the node's potential averaged over each fast window (run.window), so a firing
        # axon's trace is its mean level; the spikes themselves are in the raster below
        top[4].set_ylabel("V at lesion\nnode (mV)")
        ectopic_raster(top[5], ds, "ectopic spikes\n(axon)")
        top[5].set_xlabel("time (min)")
        for j, (seg, sp) in enumerate(zip(res.segments, res.spinal, strict=True)):
            a1 = fig.add_subplot(gs[7, j])
            a2 = fig.add_subplot(gs[8, j], sharex=a1)
            a3 = fig.add_subplot(gs[9, j], sharex=a1)
            a1.plot(sp.mn_time / 1e3, sp.mn_unit, "|", ms=2, color=PALETTE["black"])
            a1.set_ylim(-1, sp.n_units)
            a1.set_title(f"{j + 1}  {seg.name}", fontsize=11)
            a2.plot(sp.t / 1e3, 100 * sp.force_fraction, color=PALETTE["blue"])
            for k, (on, end) in enumerate(sp.cramp.intervals):
                a2.axvspan(
                    on / 1e3,
                    end / 1e3,
                    color=PALETTE["vermillion"],
                    alpha=0.25,
                    lw=0,
                    label="cramp" if k == 0 else None,
                )
            if sp.cramp.detected:
                a2.legend(frameon=False)
            a3.plot(sp.emg_t / 1e3, sp.emg, color=PALETTE["purple"], lw=0.4)
            a3.set_xlabel("time in segment (s)")
            if j == 0:
                a1.set_ylabel("motor unit")
                a2.set_ylabel("force (% max)")
                a3.set_ylabel("EMG (mV)")
        fig.align_ylabels(top)
        save(fig, path)
    return path


def _holds(seg, other) -> bool:
    """Whether ``other`` lies inside ``seg`` (both :class:`~neurosim.simulate.chain.Segment`)."""
    return seg.start <= other.start and other.start + other.duration <= seg.start + seg.duration


def _experiment(name: str) -> Path:
    """An experiment file of the repository (figures are regenerated from a checkout)."""
    p = Path(__file__).resolve().parents[2] / "experiments" / f"{name}.toml"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: the gallery figures need the repository's experiments/")
    return p


def _register() -> None:
    from neurosim.figures.gallery import figure

    @figure("chain", "the whole chain, stenosis: standing in extension against flexion")
    def chain_figure(out_dir: Path, data_dir: Path) -> Path:
        import shutil

        from neurosim.experiments import run_experiment

        rep = run_experiment(_experiment("stenosis_standing_vs_flexion"), data_dir)
        png = next(f for f in rep.files if f.suffix == ".png")
        return Path(shutil.copy(png, out_dir / "chain.png"))


_register()
