"""Whole-chain scenarios: compressed root -> ectopic discharge -> spinal cord -> cramp.

An experiment file of kind ``scenario`` holds the root-stage tables of
:mod:`neurosim.experiments._root` plus::

    [spinal]
    model = "../models/spinal/motoneuron_pool.toml"
    muscle = "../models/muscle/fuglevand_1993.toml"

    [[segments]]                       # where the spinal cord and muscle run
    name = "standing in extension"
    start = "20 min"
    duration = "30 s"

The run prints one verdict line per segment (cramp or not, onset, duration) and writes
``root.nc`` (the root stage), ``spinal_<i>.npz``/``.json`` (each spinal run),
``summary.json`` and the chain figure ``<name>.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from neurosim.experiments import ExperimentReport, register
from neurosim.experiments._root import read_root, root_kwargs, save_dataset
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


def _spinal_models(cfg: dict):
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
    return load_spinal_model(paths["model"]), load_muscle_model(paths["muscle"])


@register("scenario")
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run a whole-chain scenario file (see the module docstring)."""
    from neurosim.simulate.chain import simulate_chain

    name = cfg["experiment"]["name"]
    compression, groups, run_cfg = read_root(cfg)
    segments = read_segments(cfg)
    spinal, muscle = _spinal_models(cfg)
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
    )
    wall = time.perf_counter() - wall0
    ds = res.root.dataset()
    ds.attrs.update(experiment=name, wall_s=wall)
    files = [save_dataset(ds, out / "root.nc")]
    for i, sp in enumerate(res.spinal):
        p = sp.save(out / f"spinal_{i}")
        files += [p, p.with_suffix(".json")]
    verdicts = res.verdicts()
    summary = {
        "verdicts": verdicts,
        "cramp": {v["segment"]: v["cramp"] for v in verdicts},
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
        else:
            verdict = "no cramp"
        lines.append(
            f"{name}: {v['segment']} ({v['start_min']:g} min, {v['ectopic_inputs']} ectopic "
            f"spikes in): {verdict}"
        )
    lines.append(
        f"{name}: {run_cfg['duration'] / 60e3:g} min of root and spinal stage in {wall:.0f} s"
    )
    return ExperimentReport(name=name, lines=lines, metrics=summary, files=files)
