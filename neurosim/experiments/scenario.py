"""Whole-chain scenarios: compressed root -> ectopic discharge -> spinal cord -> cramp.

An experiment file of kind ``scenario`` holds the root-stage tables of
:mod:`neurosim.experiments._root` plus::

    [spinal]
    model = "../models/spinal/motoneuron_pool.toml"
    muscle = "../models/muscle/fuglevand_1993.toml"
    ia_share = 0.2                     # optional: share of the Ia afferents that pass
                                       # the lesion (default 1: all carry its trains)
    [spinal.set.neuromodulation]       # optional overrides of the spinal model file
    level = 1.2
    [spinal.muscle_set.fatigue]        # optional overrides of the muscle model file
    level = 0.5

    [[segments]]                       # where the spinal cord and muscle run
    name = "standing in extension"
    start = "20 min"
    duration = "30 s"
    [spinal.set.simulation]            # only for a segment longer than the spinal
    max_duration = "8 min"             # model's (2 min in the shipped models)

    [electrolytes]                     # optional plasma values (neurosim.electrolytes)
    k = "4 mM"
    ca = "0.9 mM"                      # ionised
    mg = "0.35 mM"                     # ionised

    [muscle_perfusion]                 # optional calf O2 balance (vascular claudication,
    max_flow = 3.0                     # neurosim.muscle.perfusion); its fatigue feeds
                                       # the spinal segments

The run prints one verdict line per segment (cramp or not, onset, duration; the number
of cramps, the time in cramp and the end of the last where a segment holds several),
when the root's ectopic discharge starts and stops, and the first cramp; it writes
``root.nc`` (the root stage), ``spinal_<i>.npz``/``.json`` (each spinal run),
``summary.json`` and the chain figure ``<name>.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurosim.experiments import ExperimentReport, register
from neurosim.experiments._root import ROOT_TABLES, read_root, root_kwargs, save_dataset
from neurosim.modelfile import Field, read_table

__all__ = ["run", "read_segments"]

SEGMENT_FIELDS = {
    "name": Field("str", doc="label"),
    "start": Field("time", lo=0.0, doc="start in the protocol"),
    "duration": Field("time", lo=0.0, lo_open=True, doc="length of the spinal run"),
}
SPINAL_FIELDS = {
    "model": Field("str", doc="spinal model file, relative to the experiment file"),
    "muscle": Field("str", doc="muscle model file, relative to the experiment file"),
    "set": Field("table", default={}, doc="overrides of the spinal model file"),
    "muscle_set": Field("table", default={}, doc="overrides of the muscle model file"),
    "ia_share": Field(
        "float",
        default=1.0,
        lo=0.0,
        hi=1.0,
        doc="share of the pool's Ia afferents that pass the lesion and carry the root's "
        "ectopic trains (the rest are intact)",
    ),
}


def read_segments(cfg: dict):
    from neurosim.simulate.chain import Segment

    segs = cfg.get("segments")
    if not isinstance(segs, list) or not segs:
        raise ValueError("missing [[segments]] tables (where the spinal stage runs)")
    out = []
    for i, s in enumerate(segs):
        s = read_table(s, SEGMENT_FIELDS, f"segments[{i}]")
        out.append(Segment(s["name"], s["start"], s["duration"]))
    return out


def read_spinal(cfg: dict):
    """The scenario's ``[spinal]`` table: the spinal model, the muscle model (each with
    its overrides) and ``ia_share``."""
    from neurosim.muscle.params import load_muscle_model
    from neurosim.spinal.params import load_spinal_model

    base = Path(cfg["_path"]).parent
    t = read_table(cfg.get("spinal", {}), SPINAL_FIELDS, "spinal")
    paths = {}
    for key in ("model", "muscle"):
        p = (base / t[key]).resolve()
        if not p.is_file():
            raise ValueError(f"`spinal.{key}` = {t[key]!r}: no such file ({p})")
        paths[key] = p
    return (
        load_spinal_model(paths["model"], t["set"] or None),
        load_muscle_model(paths["muscle"], t["muscle_set"] or None),
        t["ia_share"],
    )


def read_modifiers(cfg: dict, spinal):
    """The scenario's ``[electrolytes]`` and ``[muscle_perfusion]``: returns the
    Electrolytes, their overrides (``axon``, ``ions``, ``spinal``) and the
    MusclePerfusion or None."""
    from neurosim.electrolytes import read_electrolytes
    from neurosim.muscle.perfusion import read_perfusion

    el = read_electrolytes(cfg.get("electrolytes"))
    over = el.overrides(spinal)
    clash = sorted(set(over["ions"]) & set(cfg.get("ions", {})))
    if "electrolytes" in cfg and clash:
        raise ValueError(
            f"[ions] sets {clash} and [electrolytes] sets the plasma values: give plasma "
            "K and Na in [electrolytes] only"
        )
    perf = cfg.get("muscle_perfusion")
    return el, over, (None if perf is None else read_perfusion(perf))


def _discharge_spans(ev: dict, kinds) -> dict:
    """First and last ectopic spike (min) of each axon kind, from the root's
    :meth:`~neurosim.simulate.root.RootResult.ectopic_events` ``ev``, or None where its
    axons never fired: when the discharge starts and stops, which the sampled spinal
    segments may miss."""
    out = {}
    for kind in dict.fromkeys(kinds):
        t = ev["time"][ev["kind"] == kind]
        out[kind] = (
            {"first_min": float(t.min()) / 60e3, "last_min": float(t.max()) / 60e3}
            if t.size
            else None
        )
    return out


@register("scenario", (*ROOT_TABLES, "segments", "spinal", "electrolytes", "muscle_perfusion"))
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run a whole-chain scenario file (see the module docstring)."""
    from neurosim.simulate.chain import first_cramp, simulate_chain

    name = cfg["experiment"]["name"]
    spinal, muscle, ia_share = read_spinal(cfg)
    electrolytes, over, perfusion = read_modifiers(cfg, spinal)
    if "electrolytes" in cfg:
        cfg = {**cfg, "ions": {**over["ions"], **cfg.get("ions", {})}}
        spinal = spinal.with_overrides(over["spinal"], "electrolytes")
    compression, groups, run_cfg = read_root(
        cfg, axon_set=over["axon"] if "electrolytes" in cfg else None
    )
    segments = read_segments(cfg)
    fatigue, muscle_o2 = None, None
    if perfusion is not None:
        muscle_o2 = perfusion.run(compression.schedule, run_cfg["duration"])
        own = float(muscle["fatigue"]["level"])
        fatigue = [
            max(
                own, float(np.interp(s.start + s.duration, muscle_o2["time"], muscle_o2["fatigue"]))
            )
            for s in segments
        ]
    wall0 = time.perf_counter()
    kw = root_kwargs(run_cfg)
    seed = kw.pop("seed")
    res = simulate_chain(
        compression,
        groups,
        run_cfg["duration"],
        segments,
        spinal=spinal,
        muscle=muscle,
        root_kwargs=kw,
        seed=seed,
        fatigue=fatigue,
        ia_share=ia_share,
    )
    res.meta["electrolytes"] = electrolytes
    res.meta["muscle_o2"] = muscle_o2
    wall = time.perf_counter() - wall0
    ds = res.root.dataset()
    ds.attrs.update(experiment=name, wall_s=wall)
    files = [save_dataset(ds, out / "root.nc")]
    for i, sp in enumerate(res.spinal):
        p = sp.save(out / f"spinal_{i}")
        files += [p, p.with_suffix(".json")]
    verdicts = res.verdicts()
    if muscle_o2 is not None:
        np.savez(out / "muscle_perfusion.npz", **muscle_o2)
        files.append(out / "muscle_perfusion.npz")
        for v, f in zip(verdicts, fatigue, strict=True):
            v["muscle_fatigue"] = f
    ectopic = res.root.ectopic_events()
    summary = {
        "electrolytes": vars(electrolytes),
        "gating_shift_mV": electrolytes.gating_shift,
        "muscle_ischaemia": None
        if muscle_o2 is None
        else {
            "o2_store_min": float(muscle_o2["o2_store"].min()),
            "fatigue_max": float(muscle_o2["fatigue"].max()),
        },
        "ectopic_spikes": int(len(ectopic["time"])),
        "ectopic_discharge": _discharge_spans(ectopic, res.root.kinds),
        "verdicts": verdicts,
        "cramp": {v["segment"]: v["cramp"] for v in verdicts},
        "first_cramp": first_cramp(verdicts),
        "timing": {
            "wall_s": wall,
            "root_wall_s": sum(g.wall_s for g in res.root.groups),
            "spinal_run_s": sum(sp.run_time for sp in res.spinal),
        },
    }
    spath = out / "summary.json"
    spath.write_text(json.dumps(summary, indent=2))
    files.append(spath)
    from neurosim.figures.chain import plot

    files.append(plot(res, out / f"{name}.png", title=cfg["experiment"].get("description", name)))
    lines = []
    for v in verdicts:
        if v["cramp"]:
            verdict = (
                f"CRAMP, onset {v['onset_s']:.1f} s, duration {v['cramp_duration_s']:.1f} s, "
                f"{v['rate_mean_hz']:.1f} pps"
            )
            if v["cramps"] > 1:
                verdict += (
                    f" ({v['cramps']} cramps, {v['time_in_cramp_s']:.1f} s in all, the last "
                    f"ending at {v['last_cramp_end_s']:.1f} s)"
                )
        else:
            verdict = "no cramp"
        lines.append(
            f"{name}: {v['segment']} ({v['start_min']:g} min, {v['ectopic_inputs']} ectopic "
            f"spikes in): {verdict}"
        )
    if muscle_o2 is not None:
        mi = summary["muscle_ischaemia"]
        lines.append(
            f"{name}: muscle O2 store down to {100 * mi['o2_store_min']:.0f}%, fatigue up to "
            f"{mi['fatigue_max']:.2f}; ectopic spikes in the root: {summary['ectopic_spikes']}"
        )
    spans = [
        f"{kind} {d['first_min']:.2f}-{d['last_min']:.2f} min" if d else f"{kind} none"
        for kind, d in summary["ectopic_discharge"].items()
    ]
    lines.append(f"{name}: ectopic discharge in the root: {', '.join(spans)}")
    fc = summary["first_cramp"]
    lines.append(
        f"{name}: first cramp {fc['time_min']:.2f} min into the protocol ({fc['segment']})"
        if fc
        else f"{name}: no cramp in any segment"
    )
    lines.append(
        f"{name}: {run_cfg['duration'] / 60e3:g} min of root and spinal stage in {wall:.0f} s"
    )
    return ExperimentReport(name=name, lines=lines, metrics=summary, files=files)
