"""The travelling action potential of the Hodgkin-Huxley cable (teaching figure).

``models/cable/hh_cable.toml`` (10 mm x 10 um, Hodgkin & Huxley 1952 channels,
6.3 degC), stimulated at one end: (a) membrane potential along the cable at several
times — the same wave shape moving at the conduction velocity; (b) membrane potential
against time at several sites — the same spike arriving later further away.

:func:`compute` runs the model through :func:`neurosim.simulate.simulate_cable` and
saves the traces (``.npz``); :func:`plot` draws the figure from that file only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures.gallery import figure

__all__ = ["compute", "plot", "travelling_ap", "MODEL", "TIMES_MS", "SITES_MM"]

MODEL = Path(__file__).resolve().parents[2] / "models" / "cable" / "hh_cable.toml"
#: snapshot times of panel (a) (ms)
TIMES_MS = (2.0, 4.0, 6.0, 8.0, 10.0)
#: recording sites of panel (b) (mm from the stimulated end)
SITES_MM = (0.5, 2.5, 5.0, 7.5, 9.5)
_TSTOP = "14 ms"
_RECORD_DT = "0.05 ms"


def compute(path: str | Path, model: str | Path = MODEL) -> Path:
    """Run the HH cable recording every segment; save ``t``, ``v``, positions and CV.

    Saved arrays: ``t`` (T,) ms; ``v`` (n_segments, T) mV; ``position_um`` (n_segments,);
    ``cv_m_per_s`` scalar; ``model`` the model file's text.
    """
    from neurosim.simulate import simulate_cable
    from neurosim.simulate.load import load_model

    base = load_model(model)
    nseg = base.model.morphology.n
    sec = base.model.morphology.sections[0].name
    sites = [f"{sec}({(i + 0.5) / nseg:.6g})" for i in range(nseg)]
    mf = base.rebuild(
        {
            "protocol.tstop": _TSTOP,
            "protocol.record_dt": _RECORD_DT,
            "protocol.record": sites,
        }
    )
    res = simulate_cable(mf.model, mf.protocol)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        t=res.t,
        v=res.v[0],
        position_um=res.positions,
        cv_m_per_s=float(res.conduction_velocity()[0]),
        model=np.array(Path(model).read_text()),
    )
    return path


def plot(data: str | Path, png: str | Path) -> Path:
    """Draw the two panels from a file written by :func:`compute`."""
    import matplotlib.pyplot as plt

    from neurosim.figures import PALETTE, save, style

    with np.load(data, allow_pickle=False) as z:
        t, v, x, cv = z["t"], z["v"], z["position_um"] * 1e-3, float(z["cv_m_per_s"])
    colours = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple")]
    with style():
        fig, (ax_x, ax_t) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        for c, tm in zip(colours, TIMES_MS, strict=True):
            k = int(np.argmin(np.abs(t - tm)))
            ax_x.plot(x, v[:, k], color=c, lw=2, label=f"{t[k]:g} ms")
        ax_x.set_xlabel("position along the cable (mm)")
        ax_x.set_ylabel("membrane potential (mV)")
        ax_x.set_title("(a) snapshots in space")
        ax_x.legend(
            title="time",
            frameon=False,
            loc="upper center",
            ncol=3,
            columnspacing=0.8,
            handlelength=1.2,
        )
        for c, xm in zip(colours, SITES_MM, strict=True):
            j = int(np.argmin(np.abs(x - xm)))
            ax_t.plot(t, v[j], color=c, lw=2, label=f"{x[j]:.2f} mm")
        ax_t.set_xlabel("time (ms)")
        ax_t.set_ylabel("membrane potential (mV)")
        ax_t.set_title("(b) recordings in time")
        ax_t.legend(
            title="site",
            frameon=False,
            loc="upper center",
            ncol=3,
            columnspacing=0.8,
            handlelength=1.2,
        )
        for ax in (ax_x, ax_t):
            ax.axhline(0.0, color=PALETTE["black"], lw=0.6, ls=":")
            ax.set_ylim(-85.0, 100.0)  # room above the peaks for the legend
        fig.suptitle(
            f"Hodgkin-Huxley action potential travelling along a 10 µm axon "
            f"(conduction velocity {cv:.2f} m/s, 6.3 °C)"
        )
        png = Path(png)
        save(fig, png)
    return png


@figure("travelling_ap", "HH cable: membrane potential vs position and vs time (travelling AP)")
def travelling_ap(out_dir: Path, data_dir: Path) -> Path:
    data = compute(Path(data_dir) / "travelling_ap.npz")
    return plot(data, Path(out_dir) / "travelling_ap.png")
