"""Cable response: a model file's protocol over a list of stimulus amplitudes.

A small, fast experiment (a frequency-current curve of an axon or cable): for each
amplitude, one member of a single batched run of the model file's protocol with that
amplitude on one of its stimuli; reports the spike count and mean firing rate at one
site and the conduction velocity. It is the standard quick scenario of the regression
checks (``tests/baselines/``) and a sweepable experiment kind.

Experiment file::

    [experiment]
    kind = "cable_response"
    name = "hh_fi_curve"

    [cable_response]
    model = "../models/cable/hh_cable.toml"   # relative to the experiment file
    stimulus = 0                  # which [[protocol.stimulus]] carries the amplitudes
    amplitudes = ["2 nA", "5 nA", "10 nA"]
    duration = "40 ms"            # optional: that stimulus's duration
    site = "cable(0.755)"         # optional: where spikes are counted (default: the
                                  # second cv site, else the last detection site)

    [overrides.protocol]          # optional: replacements of model-file keys, as tables
    tstop = "50 ms"

The firing rate is the number of spikes at ``site`` over the whole run divided by the
stimulus duration (Hz). Results: ``results/<name>/summary.json``.

Sweeps may vary ``cable_response.duration`` and any ``overrides.<model-file key>``;
outputs per amplitude k: ``rate_hz_<k>``, ``spike_count_<k>``, ``cv_m_per_s_<k>``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from neurosim.experiments import ExperimentReport, register
from neurosim.modelfile import Field, load_toml, read_table

__all__ = [
    "run",
    "SCHEMA",
    "check_parameters",
    "evaluate_points",
    "sweep_outputs",
    "sweep_provenance",
]

SCHEMA = {
    "model": Field("str", doc="model file, relative to the experiment file"),
    "stimulus": Field("int", 0, lo=0, doc="index of the stimulus whose amplitude varies"),
    "amplitudes": Field("quantity_list", unit_of="current", doc="stimulus amplitudes"),
    "duration": Field("time", None, lo=0.0, lo_open=True, doc="stimulus duration"),
    "site": Field("str", "", doc="spike-counting site (default: second cv site)"),
}
#: experiment-file keys a sweep may vary (besides ``overrides.<model-file key>``)
SWEEPABLE = {"cable_response.duration": SCHEMA["duration"]}


def _flatten(table: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _read(cfg: dict) -> dict:
    """Checked settings and the model file (overrides applied) of an experiment."""
    from neurosim.simulate.load import load_config
    from neurosim.sweep.model import _detect_sites
    from neurosim.sweep.spec import set_dotted

    if "cable_response" not in cfg:
        raise ValueError("missing [cable_response] table")
    c = read_table(cfg["cable_response"], SCHEMA, "cable_response")
    base = Path(cfg.get("_path", ".")).resolve().parent
    model_path = (base / c["model"]).resolve()
    raw = load_toml(model_path)
    overrides = cfg.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError("`overrides` must be a table of model-file tables")
    for key, value in _flatten(overrides).items():
        set_dotted(raw, key, value)
    stims = raw.get("protocol", {}).get("stimulus", [])
    i = c["stimulus"]
    if not 0 <= i < len(stims):
        raise ValueError(
            f"`cable_response.stimulus` = {i}: the model file has {len(stims)} stimuli"
        )
    if c["duration"] is not None:
        stims[i]["dur"] = f"{c['duration']!r} ms"
    raw["_path"] = str(model_path)
    mf = load_config({k: v for k, v in raw.items() if k != "_path"}, None, model_path)
    sites = _detect_sites(mf.protocol)
    site = c["site"] or (mf.protocol.cv[1] if mf.protocol.cv else sites[-1])
    if site not in sites:
        raise ValueError(
            f"`cable_response.site` = {site!r} is not a spike-detection site of the model "
            f"file; sites: {', '.join(sites)}"
        )
    return {
        "model_cfg": raw,
        "model_file": mf,
        "stimulus": i,
        "amplitudes": c["amplitudes"],
        "duration": mf.protocol.stimuli[i].dur,
        "site": site,
    }


def _model_points(r: dict, extra: dict | None = None) -> list[dict]:
    key = f"protocol.stimulus[{r['stimulus']}].amp"
    return [{**(extra or {}), key: f"{a!r} nA"} for a in r["amplitudes"]]


def _responses(r: dict, rows: list[dict], duration: float) -> dict:
    from neurosim.sweep.model import site_name

    counts = [rw[f"spike_count_{site_name(r['site'])}"] for rw in rows]
    cvs = [rw.get("cv_m_per_s", math.nan) for rw in rows]
    return {
        "spike_count": counts,
        "rate_hz": [n / duration * 1e3 for n in counts],
        "cv_m_per_s": cvs,
    }


@register("cable_response", ("cable_response", "overrides"))
def run(cfg: dict, out: Path) -> ExperimentReport:
    """Run the amplitudes as one batch; save ``summary.json``."""
    from neurosim.sweep.model import evaluate_model_points

    r = _read(cfg)
    rows = evaluate_model_points(r["model_cfg"], _model_points(r))
    resp = _responses(r, rows, r["duration"])
    name = cfg["experiment"]["name"]
    clean = lambda xs: [None if isinstance(x, float) and math.isnan(x) else x for x in xs]  # noqa: E731
    metrics = {
        "model": r["model_file"].model.name,
        "site": r["site"],
        "duration_ms": r["duration"],
        "amplitudes_nA": list(r["amplitudes"]),
        "spike_count": [int(n) for n in resp["spike_count"]],
        "rate_hz": resp["rate_hz"],
        "cv_m_per_s": clean(resp["cv_m_per_s"]),
    }
    out = Path(out)
    path = out / "summary.json"
    path.write_text(json.dumps(metrics, indent=2))
    lines = [
        f"{name}: model {metrics['model']}, spikes counted at {r['site']}, "
        f"stimulus {r['stimulus']} for {r['duration']:g} ms",
        f"{'amplitude (nA)':>15}{'spikes':>8}{'rate (Hz)':>11}{'CV (m/s)':>10}",
    ]
    for a, n, f, v in zip(
        metrics["amplitudes_nA"],
        metrics["spike_count"],
        metrics["rate_hz"],
        metrics["cv_m_per_s"],
        strict=True,
    ):
        lines.append(f"{a:>15g}{n:>8d}{f:>11.2f}{'-' if v is None else f'{v:.4f}':>10}")
    return ExperimentReport(name=name, lines=lines, metrics=metrics, files=[path])


# -- sweep hooks (see neurosim.sweep.evaluators) ----------------------------------------
def check_parameters(cfg: dict, names: list[str]) -> dict[str, Field]:
    """Fields of swept keys: ``cable_response.duration`` and ``overrides.<model key>``."""
    from neurosim.sweep.model import model_field

    r = _read(cfg)
    out = {}
    for n in names:
        if n in SWEEPABLE:
            out[n] = SWEEPABLE[n]
        elif n.startswith("overrides."):
            out[n] = model_field(r["model_cfg"], n.removeprefix("overrides."))
        else:
            raise ValueError(
                f"unknown parameter `{n}` for a cable_response experiment; sweepable: "
                f"{', '.join(SWEEPABLE)}, overrides.<model-file key>"
            )
    return out


def sweep_outputs(cfg: dict) -> dict[str, dict]:
    r = _read(cfg)
    out = {}
    for k, a in enumerate(r["amplitudes"]):
        at = f"at {r['site']}, stimulus {a:g} nA"
        out[f"rate_hz_{k}"] = {"units": "Hz", "long_name": f"firing rate {at}", "amp_nA": a}
        out[f"spike_count_{k}"] = {"units": "1", "long_name": f"spikes {at}", "amp_nA": a}
        out[f"cv_m_per_s_{k}"] = {
            "units": "m/s",
            "long_name": f"conduction velocity, stimulus {a:g} nA",
            "amp_nA": a,
        }
    return out


def evaluate_points(cfg: dict, points: list[dict], seeds: list[int]) -> list[dict[str, float]]:
    """All points x amplitudes as batched runs of the model (deterministic: no seeds used)."""
    from neurosim.sweep.model import evaluate_model_points
    from neurosim.sweep.spec import with_point

    r = _read(cfg)
    model_points, durations = [], []
    for p in points:
        rp = _read(with_point(cfg, p)) if p else r
        extra = {
            k.removeprefix("overrides."): v for k, v in p.items() if k != "cable_response.duration"
        }
        if "cable_response.duration" in p:
            extra[f"protocol.stimulus[{r['stimulus']}].dur"] = p["cable_response.duration"]
        model_points.extend(_model_points(r, extra))
        durations.append(rp["duration"])
    rows = evaluate_model_points(r["model_cfg"], model_points)
    n = len(r["amplitudes"])
    out = []
    for j, dur in enumerate(durations):
        resp = _responses(r, rows[j * n : (j + 1) * n], dur)
        row = {}
        for k in range(n):
            row[f"rate_hz_{k}"] = resp["rate_hz"][k]
            row[f"spike_count_{k}"] = resp["spike_count"][k]
            row[f"cv_m_per_s_{k}"] = resp["cv_m_per_s"][k]
        out.append(row)
    return out


def check_point(cfg: dict, point: dict) -> None:
    from neurosim.sweep.spec import with_point

    _read(with_point(cfg, point))


def sweep_provenance(cfg: dict) -> dict:
    p = _read(cfg)["model_file"].protocol
    return {"dt_ms": p.dt, "tstop_ms": p.tstop, "method": p.method}
