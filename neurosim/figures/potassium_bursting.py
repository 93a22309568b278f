"""Potassium that a neuron's own spikes pile up can drive it into bursts (teaching
figure, stage 2: ion dynamics).

The Cressman et al. 2009 neuron (``models/cells/cressman2009.toml``; J Comput Neurosci
26:159, ModelDB 136773), run by neurosim's ion machinery from the starting state of the
published code (V -50 mV, [K]o 7.8 mM, [Na]i 15.5 mM), once with the bath at 4 mM K and
once at 8 mM: (a) firing rate, (b) extracellular [K], (c) intracellular [Na]. At 4 mM
the pump, the glia and diffusion to the bath clear the K of the first spikes and the
cell comes to rest; at 8 mM every spike adds K that depolarises the cell further, until
the Na the burst loads speeds up the pump, which clears the K and ends the burst:
periodic seizure-like bursts about 30 s apart (tests/test_cressman.py checks period,
spikes per burst and the ion ranges against the published code).

:func:`compute` runs both and saves the traces (``.npz``); :func:`plot` draws the figure
from that file only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures.gallery import figure

__all__ = ["compute", "plot", "potassium_bursting", "MODEL", "BATHS_MM", "START"]

MODEL = Path(__file__).resolve().parents[2] / "models" / "cells" / "cressman2009.toml"
#: bath [K] of the two runs (mM)
BATHS_MM = (4.0, 8.0)
#: starting state of the ModelDB 136773 code: V (mV), [K]o, [Na]i (mM); [K]i and [Na]o
#: on the paper's closure lines [K]i = 158 - [Na]i, [Na]o = 144 - 7 ([Na]i - 18)
START = {"v": -50.0, "ko": 7.8, "nai": 15.5}
_DURATION_MS = 60_000.0
_STEP_MS = 1.0  # the fully coupled step of tests/test_cressman.py
_BIN_MS = 250.0  # firing-rate bins


def compute(path: str | Path, model: str | Path = MODEL) -> Path:
    """Run the two baths; save ``t`` (T,) ms, ``ko`` and ``nai`` (2, T) mM, ``rate``
    (2, R) Hz in bins starting at ``rate_t`` (R,) ms, ``spikes`` per bath, ``baths``
    (mM) and ``model`` (the model file's text)."""
    from neurosim.simulate.ionic import IonicSimulation
    from neurosim.simulate.load import load_model

    edges = np.arange(0.0, _DURATION_MS + _BIN_MS, _BIN_MS)
    out = {"ko": [], "nai": [], "rate": [], "spikes": []}
    for bath in BATHS_MM:
        mf = load_model(model, {"ions.ko": f"{bath} mM", "model.v_init": f"{START['v']} mV"})
        sim = IonicSimulation(
            mf.model, mf.ions, dt=mf.protocol.dt, window=_STEP_MS, slow_dt=_STEP_MS, threads=1
        )
        ions = sim.ions
        nai = START["nai"]
        ions.nai[0], ions.ki[0] = nai, 158.0 - nai
        ions.nao[0], ions.ko[0] = 144.0 - 7.0 * (nai - 18.0), START["ko"]
        ions.apply()
        res = sim.run(_DURATION_MS)
        spikes = res.spike_times(0, res.spike_sites[0])
        out["ko"].append(res.traces["ko"][0, 0])
        out["nai"].append(res.traces["nai"][0, 0])
        out["rate"].append(np.histogram(spikes, edges)[0] / (_BIN_MS * 1e-3))
        out["spikes"].append(spikes.size)
        t = res.t
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        t=t,
        ko=np.stack(out["ko"]),
        nai=np.stack(out["nai"]),
        rate=np.stack(out["rate"]),
        rate_t=edges[:-1],
        spikes=np.array(out["spikes"]),
        baths=np.array(BATHS_MM),
        model=np.array(Path(model).read_text()),
    )
    return path


def plot(data: str | Path, png: str | Path) -> Path:
    """Draw the three panels from a file written by :func:`compute`."""
    import matplotlib.pyplot as plt

    from neurosim.figures import PALETTE, save, style

    with np.load(data, allow_pickle=False) as z:
        t, ko, nai = z["t"] * 1e-3, z["ko"], z["nai"]
        rate, rate_t, baths = z["rate"], z["rate_t"] * 1e-3, z["baths"]
    colours = [PALETTE["blue"], PALETTE["vermillion"]]
    with style():
        fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True, constrained_layout=True)
        for c, bath, r, k, n in zip(colours, baths, rate, ko, nai, strict=True):
            label = f"bath {bath:g} mM K"
            axes[0].step(rate_t, r, where="post", color=c, lw=1.5, label=label)
            axes[1].plot(t, k, color=c, lw=2, label=label)
            axes[2].plot(t, n, color=c, lw=2, label=label)
        axes[0].set_ylabel("firing rate (Hz)")
        axes[0].set_title("(a) spikes")
        axes[0].legend(frameon=False, loc="upper right")
        axes[1].set_ylabel("[K]o (mM)")
        axes[1].set_title("(b) extracellular potassium")
        axes[2].set_ylabel("[Na]i (mM)")
        axes[2].set_title("(c) intracellular sodium")
        axes[2].set_xlabel("time (s)")
        axes[2].set_xlim(t[0], t[-1])
        fig.suptitle("Potassium-driven bursting: the Cressman et al. (2009) neuron")
        png = Path(png)
        save(fig, png)
    return png


@figure(
    "potassium_bursting",
    "ion dynamics: a neuron rests at 4 mM bath K and bursts at 8 mM (Cressman 2009)",
)
def potassium_bursting(out_dir: Path, data_dir: Path) -> Path:
    data = compute(Path(data_dir) / "potassium_bursting.npz")
    return plot(data, Path(out_dir) / "potassium_bursting.png")
