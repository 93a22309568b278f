"""Blood flow in a compressed nerve root against pressure (teaching figure, stage 1).

``models/compression/pig_cauda_equina.toml``, the flow law calibrated on Olmarker,
Rydevik, Holm & Bagge 1989 (J Orthop Res 7:817; SCIENCE.md section 1): (a) the flow of
each vessel class against the pressure on the root at the pigs' mean arterial pressure
(150 mmHg), with the published pressures at which flow stopped (mean +/- SD) as bands:
venules close first, then capillaries, arterioles last; (b) the pressure that stops
each class against arterial pressure: only the arteriolar one follows it, so the same
compression starves a root sooner when blood pressure is low (Garfin et al. 1990).

:func:`compute` evaluates the flow law and saves it (``.npz``); :func:`plot` draws the
figure from that file only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.figures.gallery import figure

__all__ = ["compute", "plot", "blood_flow", "MODEL", "CLASSES", "OLMARKER_1989"]

MODEL = Path(__file__).resolve().parents[2] / "models" / "compression" / "pig_cauda_equina.toml"
#: vessel classes in the order they close
CLASSES = ("venule", "capillary", "arteriole")
_LABELS = {"venule": "venules", "capillary": "capillaries", "arteriole": "arterioles"}
#: Olmarker et al. 1989: class -> (mean, SD) of the pressure that stopped flow (mmHg),
#: at a mean arterial pressure of 150 +/- 14 mmHg
OLMARKER_1989 = {"venule": (30.0, 10.0), "capillary": (40.0, 6.0), "arteriole": (127.0, 18.0)}
MAP_1989 = (150.0, 14.0)


def compute(path: str | Path, model: str | Path = MODEL) -> Path:
    """Evaluate the flow law of ``model``; save the curves and breakpoints.

    Saved arrays: ``pressure`` (P,) mmHg; ``flow`` (3, P) relative flow per class of
    :data:`CLASSES` at 150 mmHg arterial pressure; ``arterial`` (A,) mmHg;
    ``breakpoint`` (3, A) mmHg; ``model`` the model file's text.
    """
    from neurosim.compression.load import load_compression

    law = load_compression(model).flow_law
    pressure = np.linspace(0.0, 200.0, 401)
    arterial = np.linspace(70.0, 180.0, 45)
    flow = np.stack([law.class_flow(c, pressure, MAP_1989[0]) for c in CLASSES])
    bp = np.array([[law.breakpoint(c, a) for a in arterial] for c in CLASSES])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        pressure=pressure,
        flow=flow,
        arterial=arterial,
        breakpoint=bp,
        model=np.array(Path(model).read_text()),
    )
    return path


def plot(data: str | Path, png: str | Path) -> Path:
    """Draw the two panels from a file written by :func:`compute`."""
    import matplotlib.pyplot as plt

    from neurosim.figures import PALETTE, save, style

    with np.load(data, allow_pickle=False) as z:
        p, flow, arterial, bp = z["pressure"], z["flow"], z["arterial"], z["breakpoint"]
    colours = [PALETTE[k] for k in ("sky", "green", "vermillion")]
    with style():
        fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        for c, name, f in zip(colours, CLASSES, flow, strict=True):
            mean, sd = OLMARKER_1989[name]
            ax_f.axvspan(mean - sd, mean + sd, color=c, alpha=0.15, lw=0)
            ax_f.plot(p, 100.0 * f, color=c, lw=2, label=_LABELS[name])
        ax_f.set_xlabel("pressure on the root (mmHg)")
        ax_f.set_ylabel("blood flow (% of normal)")
        ax_f.set_title("(a) flow per vessel class, arterial 150 mmHg")
        ax_f.set_xlim(p[0], p[-1])
        ax_f.set_ylim(0.0, 105.0)
        ax_f.legend(
            frameon=False,
            loc="center right",
            title="shaded: flow stopped\nin pigs (mean ± SD)",
            alignment="left",
        )
        for c, name, b in zip(colours, CLASSES, bp, strict=True):
            ax_b.plot(arterial, b, color=c, lw=2, label=_LABELS[name])
            mean, sd = OLMARKER_1989[name]
            ax_b.errorbar(
                MAP_1989[0],
                mean,
                xerr=MAP_1989[1],
                yerr=sd,
                color=c,
                marker="o",
                capsize=3,
                lw=1.2,
            )
        ax_b.set_xlabel("mean arterial pressure (mmHg)")
        ax_b.set_ylabel("pressure that stops the flow (mmHg)")
        ax_b.set_title("(b) closing pressure against blood pressure")
        ax_b.legend(
            frameon=False,
            loc="center right",
            title="model; points: pigs\n(mean ± SD)",
            alignment="left",
        )
        fig.suptitle(
            "Compression stops the root's blood flow vessel class by vessel class "
            "(Olmarker et al. 1989)"
        )
        png = Path(png)
        save(fig, png)
    return png


@figure("blood_flow", "root blood flow against pressure: venules, capillaries, arterioles close")
def blood_flow(out_dir: Path, data_dir: Path) -> Path:
    data = compute(Path(data_dir) / "blood_flow.npz")
    return plot(data, Path(out_dir) / "blood_flow.png")
