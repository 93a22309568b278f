"""Electrically induced cramp: the cramp threshold frequency (Miller & Knight 2009).

Protocol (Miller TM, Knight CA 2009, Muscle Nerve 39:364; Minetto et al. 2009, J
Neurophysiol 102:1890): trains of nerve stimulation of rising frequency, each a few
seconds long and each from rest, until a cramp follows a train; the lowest such
frequency is the cramp threshold frequency (CTF). The stimulus excites motor axons
(M-wave twitches, antidromic spikes to the motor neurons) and Ia/Ib afferents (reflex,
disynaptic inhibition). Every group (normal, cramp-prone) is run with the spinal loop
intact and with the nerve blocked between the stimulation site and the cord, where only
the direct motor-axon activation remains. Optionally the cramp at threshold is repeated
with tendon stimulation (Golgi tendon organs) after the train (Khan & Burne 2007).

Experiment file (see ``experiments/electrically_induced_cramp.toml``)::

    [experiment]  kind, name, description
    [[groups]]    name, spinal (model file), muscle (model file), optional overrides
    [protocol]    start_frequency, frequency_step, max_frequency, train_duration, pre,
                  post, motor_fraction, ia_fraction, ib_fraction, conditions, seed, workers
    [cramp]       force_fraction, min_duration, smoothing, settle
    [tendon]      enabled, group, delay, duration, rate

Results go to ``results/<name>/``: ``summary.json`` (thresholds, every trial, cramp
metrics, timings), one ``.npz``/``.json`` pair per key trial, and the figure
``electrically_induced_cramp.png`` drawn from those files.
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.experiments import ExperimentReport, register
from neurosim.modelfile import Field, read_table
from neurosim.muscle.cramp import CrampCriteria
from neurosim.muscle.params import load_muscle_model
from neurosim.simulate.spinal import (
    NerveStimulation,
    SpinalResult,
    TendonStimulation,
    simulate_spinal,
)
from neurosim.spinal.params import load_spinal_model

__all__ = ["run", "PROTOCOL_SCHEMA", "CRAMP_SCHEMA", "TENDON_SCHEMA", "GROUP_SCHEMA"]

PROTOCOL_SCHEMA = {
    "start_frequency": Field("frequency", 4.0, lo=0.0, lo_open=True, doc="first train"),
    "frequency_step": Field("frequency", 2.0, lo=0.0, lo_open=True, doc="increment"),
    "max_frequency": Field("frequency", 40.0, lo=0.0, lo_open=True, doc="last train"),
    "train_duration": Field("time", 2000.0, lo=0.0, lo_open=True, doc="length of a train"),
    "pre": Field("time", 500.0, lo=0.0, doc="rest before the train"),
    "post": Field("time", 4000.0, lo=0.0, lo_open=True, doc="observation after the train"),
    "motor_fraction": Field("float", 0.3, lo=0.0, hi=1.0, doc="motor axons recruited"),
    "ia_fraction": Field("float", 1.0, lo=0.0, hi=1.0, doc="Ia axons recruited"),
    "ib_fraction": Field("float", 0.5, lo=0.0, hi=1.0, doc="Ib axons recruited"),
    "conditions": Field("list", ["intact", "blocked"], doc="intact and/or blocked"),
    "seed": Field("int", 1, lo=0, doc="seed of every trial"),
    "workers": Field("int", 0, lo=0, hi=64, doc="parallel trials (0: number of CPUs)"),
}
CRAMP_SCHEMA = {
    "force_fraction": Field("float", 0.02, lo=0.0, hi=1.0, lo_open=True, doc="of max force"),
    "min_duration": Field("time", 1000.0, lo=0.0, lo_open=True, doc="shortest cramp"),
    "smoothing": Field("time", 250.0, lo=0.0, doc="moving average of force"),
    "settle": Field("time", 300.0, lo=0.0, doc="after the last pulse"),
}
TENDON_SCHEMA = {
    "enabled": Field("bool", True, doc="repeat the threshold cramp with tendon stimulation"),
    "group": Field("str", "", doc="group to use (default: the first)"),
    "delay": Field("time", 1000.0, lo=0.0, doc="from the end of the train"),
    "duration": Field("time", 1000.0, lo=0.0, lo_open=True, doc="of the tendon train"),
    "rate": Field("frequency", 100.0, lo=0.0, lo_open=True, doc="tendon stimulation rate"),
}
GROUP_SCHEMA = {
    "name": Field("str", doc="label"),
    "spinal": Field("str", doc="spinal model file (relative to the experiment file)"),
    "muscle": Field("str", doc="muscle model file (relative to the experiment file)"),
    "spinal_overrides": Field("table", {}, doc="TOML-shaped replacements"),
    "muscle_overrides": Field("table", {}, doc="TOML-shaped replacements"),
}


@dataclass
class _Trial:
    group: str
    condition: str
    frequency: float
    result: SpinalResult

    @property
    def cramp(self) -> bool:
        return bool(self.result.cramp.detected)

    def row(self) -> dict:
        c = self.result.cramp
        return {
            "group": self.group,
            "condition": self.condition,
            "frequency_hz": self.frequency,
            "cramp": self.cramp,
            "duration_ms": c.duration,
            "peak_force_fraction": c.peak_force_fraction,
            "n_active_units": c.n_active_units,
            "rate_mean_hz": c.rate_mean,
            "run_time_s": self.result.run_time,
            "cpu_time_s": self.result.cpu_time,
        }


def _frequencies(p: dict) -> list[float]:
    n = int(math.floor((p["max_frequency"] - p["start_frequency"]) / p["frequency_step"] + 1e-9))
    return [round(p["start_frequency"] + k * p["frequency_step"], 9) for k in range(n + 1)]


def _check_config(cfg: dict) -> tuple:
    if "groups" not in cfg:
        raise ValueError("missing [[groups]] tables (the pools to test)")
    proto = read_table(cfg.get("protocol", {}), PROTOCOL_SCHEMA, "protocol")
    for c in proto["conditions"]:
        if c not in ("intact", "blocked"):
            raise ValueError(f"`protocol.conditions` item {c!r} is not one of: intact, blocked")
    if proto["max_frequency"] < proto["start_frequency"]:
        raise ValueError(
            f"`protocol.max_frequency` = {proto['max_frequency']:g} Hz is out of range; "
            f"allowed [start_frequency = {proto['start_frequency']:g}, inf) Hz"
        )
    crit = read_table(cfg.get("cramp", {}), CRAMP_SCHEMA, "cramp")
    tendon = read_table(cfg.get("tendon", {}), TENDON_SCHEMA, "tendon")
    groups = cfg["groups"]
    if not isinstance(groups, list) or not groups:
        raise ValueError("`groups` must be a non-empty array of tables ([[groups]])")
    base = Path(cfg.get("_path", ".")).parent
    models = []
    for k, g in enumerate(groups):
        g = read_table(g, GROUP_SCHEMA, f"groups[{k}]")
        spinal = load_spinal_model(base / g["spinal"], g["spinal_overrides"])
        muscle = load_muscle_model(base / g["muscle"], g["muscle_overrides"])
        total = proto["pre"] + proto["train_duration"] + proto["post"]
        if total > spinal["simulation"]["max_duration"]:
            raise ValueError(
                f"a trial lasts {total:g} ms, more than `simulation.max_duration` = "
                f"{spinal['simulation']['max_duration']:g} ms of {g['spinal']}"
            )
        models.append((g["name"], spinal, muscle))
    names = [m[0] for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"`groups.name` values must be unique, got {names}")
    if tendon["group"] and tendon["group"] not in names:
        raise ValueError(f"`tendon.group` = {tendon['group']!r} is not one of: {', '.join(names)}")
    return proto, crit, tendon, models


def _trial(spinal, muscle, proto, criteria, f, blocked, tendon=None) -> SpinalResult:
    start = proto["pre"]
    stim = NerveStimulation(
        trains=((start, start + proto["train_duration"], f),),
        motor_fraction=proto["motor_fraction"],
        ia_fraction=proto["ia_fraction"],
        ib_fraction=proto["ib_fraction"],
        blocked=blocked,
    )
    duration = proto["pre"] + proto["train_duration"] + proto["post"]
    return simulate_spinal(
        spinal,
        muscle,
        duration,
        stimulation=stim,
        tendon=tendon,
        seed=proto["seed"],
        criteria=criteria,
    )


def _ladder(name, condition, spinal, muscle, proto, criteria, freqs, workers, stop_at_cramp):
    """Run the frequency ladder in batches of ``workers``, stopping after the first cramp."""
    trials: list[_Trial] = []
    blocked = condition == "blocked"
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k in range(0, len(freqs), workers):
            batch = freqs[k : k + workers]
            results = list(
                pool.map(
                    lambda f: _trial(spinal, muscle, proto, criteria, f, blocked),
                    batch,
                )
            )
            trials += [_Trial(name, condition, f, r) for f, r in zip(batch, results, strict=True)]
            if stop_at_cramp and any(t.cramp for t in trials):
                break
    threshold = next((t.frequency for t in trials if t.cramp), None)
    return trials, threshold


def _fmt(x: float, nd: int = 1) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


@register("electrically_induced_cramp", ("groups", "protocol", "cramp", "tendon"))
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run the protocol for every group and condition; save results and the figure."""
    proto, crit, tendon_cfg, models = _check_config(cfg)
    criteria = CrampCriteria(
        force_fraction=crit["force_fraction"],
        min_duration=crit["min_duration"],
        smoothing=crit["smoothing"],
        settle=crit["settle"],
    )
    workers = proto["workers"] or max(1, os.cpu_count() or 1)
    freqs = _frequencies(proto)
    name = cfg["experiment"]["name"]
    out = Path(out)
    wall0 = time.perf_counter()

    # build (or find) the compiled network once, before any parallel trial
    first = _trial(models[0][1], models[0][2], proto, criteria, freqs[0], False)
    compile_time = first.compile_time
    built = bool(first.provenance.get("network_built"))

    summary: dict = {"experiment": name, "frequencies_hz": freqs, "groups": {}, "trials": []}
    all_trials: list[_Trial] = []
    saved: list[Path] = []
    lines = [
        f"electrically induced cramp: nerve trains of {proto['train_duration'] / 1e3:g} s at "
        f"{freqs[0]:g}-{freqs[-1]:g} Hz in {proto['frequency_step']:g} Hz steps; cramp = force "
        f"> {100 * crit['force_fraction']:g}% of max for > {crit['min_duration'] / 1e3:g} s "
        "after the train, no voluntary drive"
    ]
    key_trials: dict[str, _Trial] = {}
    for gname, spinal, muscle in models:
        g = summary["groups"].setdefault(gname, {"spinal_model": spinal.source})
        for condition in proto["conditions"]:
            trials, thr = _ladder(
                gname, condition, spinal, muscle, proto, criteria, freqs, workers, True
            )
            all_trials += trials
            g[condition] = {
                "threshold_hz": thr,
                "tested_up_to_hz": trials[-1].frequency,
            }
            if thr is not None:
                t = next(t for t in trials if t.frequency == thr)
                g[condition]["cramp_at_threshold"] = t.result.cramp.to_dict()
                key_trials[f"{gname}_{condition}_threshold"] = t
                below = [x for x in trials if x.frequency < thr]
                if below:
                    key_trials[f"{gname}_{condition}_below"] = below[-1]
                lines.append(f"{gname}, {condition}: cramp threshold frequency {thr:g} Hz")
            else:
                lines.append(
                    f"{gname}, {condition}: no cramp up to {trials[-1].frequency:g} Hz "
                    f"(threshold > {trials[-1].frequency:g} Hz)"
                )
        # the blocked nerve at the intact threshold (or the top frequency)
        intact_thr = g.get("intact", {}).get("threshold_hz")
        if "blocked" in proto["conditions"]:
            f_b = intact_thr if intact_thr is not None else freqs[-1]
            tb = next(
                (
                    t
                    for t in all_trials
                    if t.group == gname and t.condition == "blocked" and t.frequency == f_b
                ),
                None,
            )
            if tb is None:
                tb = _Trial(
                    gname, "blocked", f_b, _trial(spinal, muscle, proto, criteria, f_b, True)
                )
                all_trials.append(tb)
            key_trials[f"{gname}_blocked_at_intact_threshold"] = tb

    for gname, *_ in models:
        t = key_trials.get(f"{gname}_intact_threshold")
        if t is None:
            continue
        c = t.result.cramp
        lines.append(
            f"cramp at threshold ({gname}, {t.frequency:g} Hz): onset "
            f"{_fmt(c.onset / 1e3, 2)} s, duration {_fmt(c.duration / 1e3, 2)} s"
            f"{' (still going at the end of the record)' if c.ongoing else ''}, peak force "
            f"{_fmt(100 * c.peak_force_fraction)}% of max, discharge rate "
            f"{_fmt(c.rate_mean)} +/- {_fmt(c.rate_sd)} Hz over {c.n_active_units} units, "
            f"ISI CV {_fmt(c.isi_cv_mean, 2)}"
        )

    # tendon-organ stimulation during the cramp at threshold (Khan & Burne 2007)
    if tendon_cfg["enabled"]:
        gname = tendon_cfg["group"] or models[0][0]
        _, spinal, muscle = next(m for m in models if m[0] == gname)
        ref = key_trials.get(f"{gname}_intact_threshold")
        if ref is not None:
            t_end = proto["pre"] + proto["train_duration"]
            t0 = t_end + tendon_cfg["delay"]
            ts = TendonStimulation(trains=((t0, t0 + tendon_cfg["duration"], tendon_cfg["rate"]),))
            r = _trial(spinal, muscle, proto, criteria, ref.frequency, False, tendon=ts)
            key_trials[f"{gname}_tendon"] = _Trial(gname, "intact+tendon", ref.frequency, r)
            all_trials.append(key_trials[f"{gname}_tendon"])
            d0, d1 = ref.result.cramp.duration, r.cramp.duration
            summary["tendon"] = {
                "group": gname,
                "frequency_hz": ref.frequency,
                "start_ms": t0,
                "duration_ms": tendon_cfg["duration"],
                "rate_hz": tendon_cfg["rate"],
                "cramp_duration_without_ms": d0,
                "cramp_duration_with_ms": d1 if r.cramp.detected else 0.0,
                "cramp_detected_with": r.cramp.detected,
            }
            lines.append(
                f"tendon-organ stimulation ({tendon_cfg['rate']:g} Hz for "
                f"{tendon_cfg['duration'] / 1e3:g} s, {tendon_cfg['delay'] / 1e3:g} s after the "
                f"train): cramp duration {_fmt(d0 / 1e3, 2)} s -> "
                f"{_fmt((d1 if r.cramp.detected else 0.0) / 1e3, 2)} s"
            )

    trials_dir = out / "trials"
    files = {}
    for key, t in key_trials.items():
        p = t.result.save(trials_dir / key)
        files[key] = {
            "path": str(p.relative_to(out)),
            "frequency_hz": t.frequency,
            "group": t.group,
            "condition": t.condition,
        }
        saved += [p, p.with_suffix(".json")]
    summary["trials"] = [t.row() for t in all_trials]
    summary["key_trials"] = files
    run_time = sum(t.result.run_time for t in all_trials) + first.run_time
    cpu_time = sum(t.result.cpu_time for t in all_trials) + first.cpu_time
    wall = time.perf_counter() - wall0
    summary["timing"] = {
        "compile_s": compile_time,
        "network_built": built,
        "n_trials": len(all_trials) + 1,
        "simulated_s": (len(all_trials) + 1)
        * (proto["pre"] + proto["train_duration"] + proto["post"])
        / 1e3,
        "run_wall_sum_s": run_time,
        "run_cpu_s": cpu_time,
        "experiment_wall_s": wall,
        "workers": workers,
    }
    summary["protocol"] = {k: v for k, v in proto.items()}
    summary["cramp_criteria"] = crit
    spath = out / "summary.json"
    spath.write_text(json.dumps(summary, indent=2, default=_json))
    saved.append(spath)
    lines.append(
        f"timing: network {'built from scratch' if built else 'found in the cache (relinked)'}"
        f" in {compile_time:.1f} s, "
        f"{len(all_trials) + 1} trials ({summary['timing']['simulated_s']:.0f} s simulated) run "
        f"in {wall:.0f} s wall ({cpu_time:.0f} s CPU of the compiled network, {workers} workers)"
    )

    from neurosim.figures.electrically_induced_cramp import plot

    fig_path = plot(out)
    saved.append(fig_path)

    metrics = {
        "thresholds_hz": {
            g: {c: summary["groups"][g].get(c, {}).get("threshold_hz") for c in proto["conditions"]}
            for g in summary["groups"]
        },
        "cramp_at_threshold": {
            g: summary["groups"][g].get("intact", {}).get("cramp_at_threshold")
            for g in summary["groups"]
        },
        "tendon": summary.get("tendon"),
        "timing": summary["timing"],
    }
    return ExperimentReport(name=name, lines=lines, metrics=metrics, files=saved)


def _json(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(type(x))
