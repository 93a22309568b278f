"""Figure of the electrically induced cramp experiment (reads saved results only).

Panels: (a) raster of motor-neuron discharges in the trial at the cramp threshold
frequency (first group, spinal loop intact); (b) muscle force of that trial, of the
same train with the nerve blocked proximally, and (if run) with tendon stimulation;
(c) surface EMG of the threshold trial; (d) cramp / no cramp per frequency for every
group and condition, with the thresholds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neurosim.figures import PALETTE, save, style

__all__ = ["plot"]


def _load(out: Path, rel: str) -> dict:
    path = out / rel
    arrays = dict(np.load(path))
    meta = json.loads(path.with_suffix(".json").read_text())
    arrays.update(meta)
    return arrays


def plot(out: str | Path) -> Path:
    """Draw ``out/electrically_induced_cramp.png`` from ``out/summary.json`` and trials."""
    import matplotlib.pyplot as plt

    out = Path(out)
    summary = json.loads((out / "summary.json").read_text())
    key = summary["key_trials"]
    groups = list(summary["groups"])
    g0 = groups[0]
    main = key.get(f"{g0}_intact_threshold") or key.get(f"{g0}_blocked_at_intact_threshold")
    with style():
        fig = plt.figure(figsize=(11, 9.5))
        gs = fig.add_gridspec(4, 2, width_ratios=[3, 1.25], height_ratios=[2.2, 1.3, 1.0, 0.01])
        ax_r = fig.add_subplot(gs[0, 0])
        ax_f = fig.add_subplot(gs[1, 0], sharex=ax_r)
        ax_e = fig.add_subplot(gs[2, 0], sharex=ax_r)
        ax_t = fig.add_subplot(gs[0:3, 1])
        if main is not None:
            d = _load(out, main["path"])
            t_s = d["mn_time"] / 1e3
            ax_r.plot(t_s, d["mn_unit"], "|", ms=2.5, color=PALETTE["black"], alpha=0.7)
            if len(d["stim_time"]):
                ax_r.axvspan(
                    d["stim_time"][0] / 1e3,
                    d["stim_time"][-1] / 1e3,
                    color=PALETTE["sky"],
                    alpha=0.25,
                    lw=0,
                    label=f"nerve stimulation {main['frequency_hz']:g} Hz",
                )
            ax_r.set_ylabel("motor unit\n(small -> large)")
            ax_r.set_ylim(-1, int(d["n_units"]))
            ax_r.legend(loc="upper right", frameon=False)
            ax_r.set_title(f"{g0}: train at the cramp threshold frequency, spinal loop intact")
            ax_f.plot(
                d["t"] / 1e3,
                100 * d["force_fraction"],
                color=PALETTE["blue"],
                label="intact",
                zorder=3,
            )
            crit = 100 * summary["cramp_criteria"]["force_fraction"]
            # the force evoked during the train is 10-20 times the cramp force: scale the
            # panel to what follows the train and mark the train as off scale
            t_end = d["stim_time"][-1] if len(d["stim_time"]) else -np.inf
            after = d["t"] > t_end + summary["cramp_criteria"]["settle"]
            f_after = 100 * d["force_fraction"][after]
            f_top = max(4.0 * crit, 1.6 * (f_after.max() if f_after.size else 0.0))
            c = d["cramp"]
            if c["detected"]:
                ax_f.axvspan(
                    c["onset"] / 1e3,
                    (c["onset"] + c["duration"]) / 1e3,
                    color=PALETTE["orange"],
                    alpha=0.15,
                    lw=0,
                    label="cramp",
                )
            blk = key.get(f"{g0}_blocked_at_intact_threshold")
            if blk is not None:
                b = _load(out, blk["path"])
                ax_f.plot(
                    b["t"] / 1e3,
                    100 * b["force_fraction"],
                    color=PALETTE["vermillion"],
                    label="nerve blocked proximally",
                )
            tnd = key.get(f"{g0}_tendon")
            if tnd is not None:
                td = _load(out, tnd["path"])
                ax_f.plot(
                    td["t"] / 1e3,
                    100 * td["force_fraction"],
                    color=PALETTE["green"],
                    ls="--",
                    label="+ tendon stimulation",
                )
                ts = summary["tendon"]
                ax_f.axvspan(
                    ts["start_ms"] / 1e3,
                    (ts["start_ms"] + ts["duration_ms"]) / 1e3,
                    color=PALETTE["green"],
                    alpha=0.12,
                    lw=0,
                )
            ax_f.axhline(crit, color=PALETTE["black"], lw=0.8, ls=":")
            ax_f.set_ylim(-0.05 * f_top, f_top)
            if len(d["stim_time"]):
                peak = 100 * d["force_fraction"].max()
                ax_f.text(
                    (d["stim_time"][0] + d["stim_time"][-1]) / 2e3,
                    0.9 * f_top,
                    f"evoked force\noff scale\n(peak {peak:.0f}%)",
                    ha="center",
                    va="top",
                    fontsize=8,
                )
            ax_f.set_ylabel("force\n(% of max)")
            ax_f.legend(loc="upper right", frameon=False, fontsize=9)
            ax_e.plot(d["emg_t"] / 1e3, d["emg"], color=PALETTE["black"], lw=0.4)
            # the same for the EMG: M-waves dwarf the cramp discharge
            e_after = np.abs(d["emg"][d["emg_t"] > t_end + summary["cramp_criteria"]["settle"]])
            if e_after.size and e_after.max() > 0:
                e_top = 1.3 * e_after.max()
                ax_e.set_ylim(-e_top, e_top)
                if len(d["stim_time"]):
                    ax_e.text(
                        (d["stim_time"][0] + d["stim_time"][-1]) / 2e3,
                        0.95 * e_top,
                        "M-waves off scale",
                        ha="center",
                        va="top",
                        fontsize=8,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.8},
                    )
            ax_e.set_ylabel("surface EMG\n(mV)")
            ax_e.set_xlabel("time (s)")
        # threshold ladder
        rows = summary["trials"]
        labels = []
        for k, g in enumerate(groups):
            for j, cond in enumerate(("intact", "blocked")):
                y = -(2 * k + j)
                rs = [r for r in rows if r["group"] == g and r["condition"] == cond]
                if not rs:
                    continue
                labels.append((y, f"{g}\n{cond}"))
                f = np.array([r["frequency_hz"] for r in rs])
                cr = np.array([r["cramp"] for r in rs])
                ax_t.plot(
                    f[~cr], np.full((~cr).sum(), y), "o", mfc="none", color=PALETTE["black"], ms=6
                )
                ax_t.plot(f[cr], np.full(cr.sum(), y), "o", color=PALETTE["vermillion"], ms=7)
                thr = summary["groups"][g].get(cond, {}).get("threshold_hz")
                if thr is not None:
                    ax_t.annotate(
                        f"{thr:g} Hz",
                        (thr, y),
                        xytext=(4, 6),
                        textcoords="offset points",
                        fontsize=9,
                    )
        ax_t.set_yticks([y for y, _ in labels], [lab for _, lab in labels])
        ax_t.set_ylim(min(y for y, _ in labels) - 0.7, 0.7)
        ax_t.set_xlabel("stimulation frequency (Hz)")
        ax_t.set_title("cramp (filled) after the train")
        ax_t.axvspan(14.9 - 1.3, 14.9 + 1.3, color=PALETTE["orange"], alpha=0.15, lw=0)
        ax_t.axvspan(25.5 - 1.6, 25.5 + 1.6, color=PALETTE["sky"], alpha=0.2, lw=0)
        ax_t.text(
            0.02,
            0.01,
            "bands: Miller & Knight 2009\n(cramp-prone / others)",
            transform=ax_t.transAxes,
            fontsize=8,
            va="bottom",
        )
        path = out / "electrically_induced_cramp.png"
        save(fig, path)
    return path
