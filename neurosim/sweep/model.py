"""The built-in sweep target: a cable/axon model file (``models/**/*.toml``).

A chunk of points runs as few batched cable runs as its structure allows:

- keys the kernels take per batch member (``model.celsius``, ``model.v_init``, a
  mechanism parameter of one placement, ``protocol.stimulus[i].amp``) become a ``batch``
  mapping or per-member stimulus amplitudes of one run;
- every other key (geometry, ``nseg``, ``fiber.diameter``, ``protocol.dt``, ...) is
  applied by rebuilding the model; points whose rebuilt models share topology, mechanism
  layout and protocol still run as one batch (one model per member), the rest as
  separate runs.

Outputs per point: ``cv_m_per_s`` (if the protocol names ``cv`` sites; NaN when the
spike did not propagate), and per spike-detection site ``spike_count_<site>`` and
``ap_peak_<site>`` (peak of the first spike, mV; NaN if none), where ``<site>`` is the
site as written in the model file with non-alphanumerics replaced by ``_``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from neurosim.modelfile import Field, load_toml
from neurosim.sweep.evaluators import Evaluator, register_evaluator
from neurosim.sweep.spec import split_key, with_point

__all__ = [
    "ModelEvaluator",
    "model_field",
    "model_outputs",
    "evaluate_model_points",
    "site_name",
]


def site_name(site: str) -> str:
    """``"cable(0.005)"`` -> ``"cable_0_005"`` (for output names)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", site).strip("_")


def _split_cfg(cfg: dict) -> tuple[dict, Path | None]:
    raw = {k: v for k, v in cfg.items() if k != "_path"}
    return raw, (Path(cfg["_path"]) if "_path" in cfg else None)


def _unknown(key: str, where: str, valid) -> ValueError:
    return ValueError(
        f"unknown parameter `{key}`: {where} has no such key; valid keys: "
        f"{', '.join(sorted(valid))}"
    )


def model_field(cfg: dict, key: str) -> Field:
    """The schema :class:`Field` of a dotted key of a model file (its unit and range).

    Parameters
    ----------
    cfg : dict
        The parsed model file.
    key : str
        ``"morphology.diam"``, ``"mechanisms.hh.gnabar"``, ``"protocol.stimulus[0].amp"``,
        ``"fiber.diameter"``, ``"model.celsius"``, ``"ions.ko"``, ...

    Raises
    ------
    ValueError
        The key names no scalar of the model file's schema.
    """
    from neurosim.simulate.load import (
        MODEL_FIELDS,
        PROTOCOL_FIELDS,
        SECTION_FIELDS,
        STIMULUS_FIELDS,
    )

    cfg, _ = _split_cfg(cfg)
    parts = split_key(key)
    top, rest = parts[0], parts[1:]
    tables = ("model", "morphology", "fiber", "mechanisms", "protocol", "ions")
    kind = cfg.get("model", {}).get("kind")
    if top == "model":
        schema, where = MODEL_FIELDS, "[model]"
    elif top == "morphology" and kind == "tree":
        secs = cfg.get("morphology", {}).get("sections", [])
        if len(rest) < 2 or rest[0] != "sections" or not isinstance(rest[1], int):
            raise ValueError(f"unknown parameter `{key}`: use morphology.sections[i].<key>")
        if not 0 <= rest[1] < len(secs):
            raise ValueError(f"`{key}`: the model file has {len(secs)} sections")
        schema, where, rest = SECTION_FIELDS, f"[morphology.sections[{rest[1]}]]", rest[2:]
    elif top == "morphology" and kind == "cable":
        schema, where = SECTION_FIELDS, "[morphology]"
    elif top == "fiber" and kind == "mrg":
        from neurosim.simulate.axons import FIBER_FIELDS

        schema, where = FIBER_FIELDS, "[fiber]"
    elif top == "mechanisms":
        from neurosim.channels import get_mechanism

        mechs = cfg.get("mechanisms", {})
        if not rest or rest[0] not in mechs:
            raise ValueError(
                f"unknown parameter `{key}`: the model file has no [mechanisms.{rest[0] if rest else ''}]"
                f"; mechanisms: {', '.join(mechs) or 'none'}"
            )
        label = rest[0]
        mech = get_mechanism(mechs[label].get("mechanism", label))
        schema, where, rest = mech.schema(), f"[mechanisms.{label}] ({mech.name})", rest[1:]
    elif top == "protocol" and rest[:1] == ["stimulus"]:
        stims = cfg.get("protocol", {}).get("stimulus", [])
        if len(rest) < 2 or not isinstance(rest[1], int):
            raise ValueError(f"unknown parameter `{key}`: use protocol.stimulus[i].<key>")
        if not 0 <= rest[1] < len(stims):
            raise ValueError(f"`{key}`: the model file has {len(stims)} [[protocol.stimulus]]")
        schema, where, rest = STIMULUS_FIELDS, f"[[protocol.stimulus]][{rest[1]}]", rest[2:]
    elif top == "protocol":
        schema, where = PROTOCOL_FIELDS, "[protocol]"
    elif top == "ions":
        from neurosim.ions import ION_FIELDS

        schema, where = ION_FIELDS, "[ions]"
    else:
        raise ValueError(
            f"unknown parameter `{key}`: {top!r} is not a table of a {kind!r} model file; "
            f"tables: {', '.join(t for t in tables if t != 'fiber' or kind == 'mrg')}"
        )
    if len(rest) != 1 or not isinstance(rest[0], str) or rest[0] not in schema:
        raise _unknown(key, where, schema)
    fld = schema[rest[0]]
    if fld.kind in ("list", "table", "quantity_list"):
        raise ValueError(f"`{key}` is a {fld.kind}, not a scalar; it cannot be swept")
    return fld


def _detect_sites(protocol) -> list[str]:
    sites = list(protocol.detect_sites)
    for s in protocol.cv or ():
        if s not in sites:
            sites.append(s)
    return sites


def model_outputs(cfg: dict) -> dict[str, dict]:
    """Output name -> attrs (units, long_name, site) of a model target."""
    from neurosim.simulate.load import load_config

    raw, path = _split_cfg(cfg)
    proto = load_config(raw, None, path).protocol
    out = {}
    if proto.cv:
        out["cv_m_per_s"] = {
            "units": "m/s",
            "long_name": f"conduction velocity {proto.cv[0]} -> {proto.cv[1]} (NaN: none)",
        }
    for s in _detect_sites(proto):
        out[f"spike_count_{site_name(s)}"] = {
            "units": "1",
            "long_name": f"spikes at {s}",
            "site": s,
        }
        out[f"ap_peak_{site_name(s)}"] = {
            "units": "mV",
            "long_name": f"peak of the first spike at {s} (NaN: none)",
            "site": s,
        }
    return out


def _classify(base, key: str, fld: Field):
    """How a key reaches the kernels: ("batch", batch key), ("amp", stimulus index) or
    ("rebuild", None)."""
    parts = split_key(key)
    if parts in (["model", "celsius"], ["model", "v_init"]):
        return "batch", parts[1]
    if parts[0] == "protocol" and len(parts) == 4 and parts[1] == "stimulus" and parts[3] == "amp":
        return "amp", parts[2]
    if parts[0] == "mechanisms" and len(parts) == 3:
        label, pname = parts[1], parts[2]
        pls = [pl for pl in base.model.placements if pl.label == label]
        if len(pls) != 1 or pname not in {p.name for p in pls[0].mechanism.params}:
            return "rebuild", None
        pl = pls[0]
        mech = pl.mechanism
        table = base.source.get("mechanisms", {}).get(label, {})
        expected = fld.read(table[pname], key) if pname in table else mech.param(pname).default
        # builders may rescale a value per compartment (MRG internodes): then only a
        # rebuild gives the right per-compartment value
        if not np.array_equal(pl.value(pname), np.full(pl.comps.shape, expected)):
            return "rebuild", None
        if pl.label != mech.name:
            return "batch", f"{label}:{mech.key(pname)}"
        same = [q for q in base.model.placements if q.mechanism is mech]
        return ("batch", mech.key(pname)) if len(same) == 1 else ("rebuild", None)
    return "rebuild", None


def _same_layout(a, b) -> bool:
    """Whether two models can share one batch (topology and mechanism layout)."""
    ga, gb = a.morphology.geometry, b.morphology.geometry
    if a.morphology.n != b.morphology.n or not np.array_equal(ga.parent, gb.parent):
        return False
    if ga.double != gb.double or a.rest != b.rest or len(a.placements) != len(b.placements):
        return False
    return all(
        p.mechanism is q.mechanism and np.array_equal(p.comps, q.comps)
        for p, q in zip(a.placements, b.placements, strict=True)
    )


def evaluate_model_points(
    cfg: dict, points: list[dict], threads: int | None = None
) -> list[dict[str, float]]:
    """Evaluate points of a model file in as few batched runs as possible.

    Parameters
    ----------
    cfg : dict
        The parsed model file (optionally with ``"_path"`` for messages).
    points : list of dict
        Dotted key -> TOML-shaped value (e.g. ``{"mechanisms.hh.gnabar": "0.1 S/cm2"}``);
        every point must have the same keys.
    threads : int, optional
        Kernel threads (default: all).

    Returns
    -------
    list of dict
        Per point, the outputs of :func:`model_outputs` as floats.
    """
    from neurosim.simulate import simulate_cable
    from neurosim.simulate.load import load_config

    if not points:
        return []
    raw, path = _split_cfg(cfg)
    keys = list(points[0])
    for j, p in enumerate(points):
        if list(p) != keys:
            raise ValueError(f"point {j} has keys {list(p)}; expected {keys}")
    base = load_config(raw, None, path)
    fields = {k: model_field(raw, k) for k in keys}
    how = {k: _classify(base, k, fields[k]) for k in keys}
    rebuild = [k for k in keys if how[k][0] == "rebuild"]

    # one model per distinct structural setting
    groups: dict[tuple, list[int]] = {}
    for j, p in enumerate(points):
        groups.setdefault(tuple(repr(p[k]) for k in rebuild), []).append(j)
    built = []  # (ModelFile, member indices)
    for members in groups.values():
        first = points[members[0]]
        mf = load_config(with_point(raw, {k: first[k] for k in rebuild}), None, path)
        built.append((mf, members))
    # groups that can share a batch
    runs: list[list] = []
    for mf, members in built:
        for run in runs:
            if run[0].protocol == mf.protocol and _same_layout(run[0].model, mf.model):
                run[1].extend((mf.model, j) for j in members)
                break
        else:
            runs.append([mf, [(mf.model, j) for j in members]])

    sites = _detect_sites(base.protocol)
    out: list[dict | None] = [None] * len(points)
    for mf, members in runs:
        idx = [j for _, j in members]
        models = [m for m, _ in members]
        batch = {}
        amps: dict[int, np.ndarray] = {}
        for k in keys:
            kind, target = how[k]
            if kind == "rebuild":
                continue
            vals = np.array([fields[k].read(points[j][k], k) for j in idx], dtype=float)
            if kind == "batch":
                batch[target] = vals
            else:
                amps[target] = vals
        protocol = mf.protocol
        if amps:
            stims = list(protocol.stimuli)
            for i, a in amps.items():
                stims[i] = replace(stims[i], amp=a)
            protocol = replace(protocol, stimuli=tuple(stims))
        res = simulate_cable(models, protocol, batch, threads=threads)
        cv = res.conduction_velocity() if protocol.cv else None
        for b, j in enumerate(idx):
            row = {}
            if cv is not None:
                row["cv_m_per_s"] = float(cv[b])
            for d, s in enumerate(sites):
                n = int(res.spike_counts[b, d])
                row[f"spike_count_{site_name(s)}"] = float(n)
                row[f"ap_peak_{site_name(s)}"] = float(res.spike_peaks[b, d, 0]) if n else np.nan
            out[j] = row
    return out  # type: ignore[return-value]


@register_evaluator("model")
class ModelEvaluator(Evaluator):
    """Model files (``models/**/*.toml``): batched cable runs of the file's protocol."""

    def load(self, path: Path) -> dict:
        cfg = copy.deepcopy(load_toml(path))
        cfg["_path"] = str(Path(path).resolve())
        return cfg

    def check_parameters(self, cfg: dict, names: list[str]) -> dict[str, Field]:
        return {n: model_field(cfg, n) for n in names}

    def check_point(self, cfg: dict, point: dict) -> None:
        from neurosim.simulate.load import load_config

        raw, path = _split_cfg(cfg)
        load_config(with_point(raw, point), None, path)

    def outputs(self, cfg: dict) -> dict[str, dict]:
        return model_outputs(cfg)

    def evaluate(self, cfg, points, seeds, threads=None):
        return evaluate_model_points(cfg, points, threads=threads)

    def provenance(self, cfg: dict) -> dict:
        from neurosim.simulate.load import load_config

        raw, path = _split_cfg(cfg)
        mf = load_config(raw, None, path)
        p = mf.protocol
        return {
            "model": mf.model.name,
            "dt_ms": p.dt,
            "tstop_ms": p.tstop,
            "method": p.method,
            "celsius_degC": mf.model.celsius,
        }
