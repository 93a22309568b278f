"""Model files: ``models/**/*.toml`` -> a checked :class:`CableModel` and its protocol.

Layout of a model file (every quantity a string with its unit)::

    [model]
    name = "hh_cable"
    kind = "cable"                 # which builder reads [morphology]: see BUILDERS
    description = "..."
    citation = "..."
    celsius = "6.3 degC"
    v_init = "-65 mV"
    rest = false                   # true: start from the steady state of the equations

    [morphology]                   # schema depends on the kind
    L = "10 mm"
    ...

    [mechanisms.hh]                # label; `mechanism` defaults to the label
    where = "*"                    # glob over section names
    gnabar = "0.12 S/cm2"

    [protocol]
    dt = "25 us"
    tstop = "50 ms"
    record = ["cable(0.005)", ...]
    cv = ["cable(0.255)", "cable(0.755)"]
    [[protocol.stimulus]]
    site = "cable(0.005)"
    delay = "1 ms"
    dur = "0.5 ms"
    amp = "20 nA"

Unknown keys, missing required keys, missing or wrong units and values out of range are
refused with the dotted key, the value and the allowed range, before anything is built.
Overrides (``{"morphology.diam": "12 um"}``) patch the file's tables first and are
checked the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from neurosim.channels import get_mechanism
from neurosim.modelfile import Field, load_toml, read_table
from neurosim.morphology import Morphology, Section
from neurosim.simulate.model import TEMPERATURE_RANGE, CableModel
from neurosim.simulate.protocol import MAX_DT, METHODS, Protocol, Stimulus
from neurosim.validate import check_keys

__all__ = ["ModelFile", "load_model", "register_builder", "BUILDERS", "MODEL_FIELDS"]

MODEL_FIELDS = {
    "name": Field("str", doc="model name"),
    "kind": Field("str", doc="builder of the morphology (see BUILDERS)"),
    "description": Field("str", default="", doc="one line"),
    "citation": Field("str", default="", doc="where the model comes from"),
    "celsius": Field(
        "temperature", lo=TEMPERATURE_RANGE[0], hi=TEMPERATURE_RANGE[1], doc="temperature"
    ),
    "v_init": Field("voltage", default=-65.0, lo=-200.0, hi=100.0, doc="initial potential"),
    "rest": Field("bool", default=False, doc="initialise at the steady state"),
    "gating_shift": Field(
        "voltage", default=0.0, lo=-30.0, hi=30.0, doc="surface-potential shift of all gating"
    ),
}

SECTION_FIELDS = {
    "name": Field("str", default="cable", doc="section name"),
    "parent": Field("str", default="", doc="parent section ('' for the root)"),
    "parent_x": Field("float", default=1.0, lo=0.0, hi=1.0, doc="attachment point on parent"),
    "L": Field("length", lo=0.0, lo_open=True, doc="length"),
    "diam": Field("length", lo=0.0, lo_open=True, doc="diameter"),
    "nseg": Field("int", default=1, lo=1, hi=100_000, doc="segments"),
    "Ra": Field("resistivity", default=35.4, lo=0.0, lo_open=True, doc="axial resistivity"),
    "cm": Field(
        "capacitance_density", default=1.0, lo=0.0, lo_open=True, doc="membrane capacitance"
    ),
}

PROTOCOL_FIELDS = {
    "dt": Field("time", default=0.025, lo=0.0, hi=MAX_DT, lo_open=True, doc="time step"),
    "tstop": Field("time", lo=0.0, lo_open=True, doc="duration"),
    "method": Field("str", default="backward_euler", choices=tuple(METHODS), doc="integrator"),
    "record": Field("list", default=[], doc="recording sites"),
    "record_dt": Field("time", default=0.0, lo=0.0, doc="sampling interval (0: every step)"),
    "detect": Field("list", default=[], doc="spike-detection sites (default: record)"),
    "threshold": Field("voltage", default=0.0, lo=-100.0, hi=100.0, doc="spike threshold"),
    "cv": Field("list", default=[], doc="two sites for the conduction velocity"),
    "max_spikes": Field("int", default=0, lo=0, doc="spike slots per site (0: auto)"),
    "stimulus": Field("list", default=[], doc="current-clamp pulses (array of tables)"),
}

STIMULUS_FIELDS = {
    "site": Field("str", doc="section(x)"),
    "delay": Field("time", lo=0.0, doc="onset of the first pulse"),
    "dur": Field("time", lo=0.0, lo_open=True, doc="pulse duration"),
    "amp": Field("current", lo=-1e6, hi=1e6, doc="amplitude (depolarising > 0)"),
    "number": Field("int", default=1, lo=1, doc="pulses in a train"),
    "interval": Field("time", default=0.0, lo=0.0, doc="onset-to-onset interval"),
}

Builder = Callable[[dict, dict], CableModel]
#: model kind -> function(config, model table) building the CableModel
BUILDERS: dict[str, Builder] = {}
#: kind -> module that registers its builder (imported on first use)
_LAZY = {"mrg": "neurosim.simulate.axons"}


def register_builder(kind: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        BUILDERS[kind] = fn
        return fn

    return deco


@dataclass
class ModelFile:
    """A loaded model file: the model, its default protocol, and what it was built from.

    ``source`` is the file as parsed; ``overrides`` were applied on top of it.
    """

    path: Path | None
    source: dict
    model: CableModel
    protocol: Protocol
    overrides: dict = field(default_factory=dict)
    #: the checked ``[ions]`` table (:class:`neurosim.ions.IonParams`), if the file has one
    ions: object = None

    def rebuild(self, overrides: dict) -> ModelFile:
        """The same file with more overrides (e.g. another fibre diameter)."""
        return load_config(self.source, {**self.overrides, **overrides}, self.path)


def _apply_overrides(cfg: dict, overrides: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = cfg
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise ValueError(
                    f"override {dotted!r}: no table {part!r} in the model file; tables: "
                    f"{', '.join(k for k, v in node.items() if isinstance(v, dict))}"
                )
            node = node[part]
        node[parts[-1]] = value
    return cfg


def _section(table: dict, where: str) -> Section:
    s = read_table(table, SECTION_FIELDS, where)
    return Section(
        name=s["name"],
        L=s["L"],
        diam=s["diam"],
        nseg=s["nseg"],
        Ra=s["Ra"],
        cm=s["cm"],
        parent=s["parent"] or None,
        parent_x=s["parent_x"],
    )


def insert_mechanisms(model: CableModel, tables: dict, where_default: str = "*") -> None:
    """Insert every ``[mechanisms.<label>]`` table: ``mechanism`` (default: the label),
    ``where`` (a glob over section names) and parameter values with units."""
    for label, table in tables.items():
        if not isinstance(table, dict):
            raise TypeError(f"`mechanisms.{label}` must be a table")
        table = dict(table)
        mech = get_mechanism(table.pop("mechanism", label))
        where = table.pop("where", where_default)
        values = read_table(table, mech.schema(), f"mechanisms.{label}", partial=True)
        model.insert(mech, where, label=label, **values)


@register_builder("cable")
def _build_cable(cfg: dict, m: dict) -> CableModel:
    """One unbranched section from ``[morphology]``."""
    morph = Morphology([_section(cfg.get("morphology", {}), "morphology")])
    model = CableModel(
        m["name"],
        morph,
        celsius=m["celsius"],
        v_init=m["v_init"],
        rest=m["rest"],
        gating_shift=m["gating_shift"],
        description=m["description"],
        citation=m["citation"],
    )
    insert_mechanisms(model, cfg.get("mechanisms", {}))
    return model


@register_builder("tree")
def _build_tree(cfg: dict, m: dict) -> CableModel:
    """Sections from ``[[morphology.sections]]``, parents before children."""
    morph_t = cfg.get("morphology", {})
    check_keys("[morphology]", morph_t.keys(), ["sections"], ["sections"])
    sections = morph_t["sections"]
    if not isinstance(sections, list) or not sections:
        raise ValueError("`morphology.sections` must be a non-empty array of tables")
    secs = [_section(t, f"morphology.sections[{i}]") for i, t in enumerate(sections)]
    model = CableModel(
        m["name"],
        Morphology(secs),
        celsius=m["celsius"],
        v_init=m["v_init"],
        rest=m["rest"],
        gating_shift=m["gating_shift"],
        description=m["description"],
        citation=m["citation"],
    )
    insert_mechanisms(model, cfg.get("mechanisms", {}))
    return model


def read_protocol(table: dict, where: str = "protocol") -> Protocol:
    """A checked :class:`Protocol` from a ``[protocol]`` table."""
    p = read_table(table, PROTOCOL_FIELDS, where)
    stimuli = []
    for i, st in enumerate(p["stimulus"]):
        s = read_table(st, STIMULUS_FIELDS, f"{where}.stimulus[{i}]")
        stimuli.append(
            Stimulus(s["site"], s["delay"], s["dur"], s["amp"], s["number"], s["interval"])
        )
    if p["cv"] and len(p["cv"]) != 2:
        raise ValueError(f"`{where}.cv` = {p['cv']!r} must name exactly two sites")
    record_every = 1
    if p["record_dt"] > 0:
        ratio = p["record_dt"] / p["dt"]
        if abs(ratio - round(ratio)) > 1e-9 * ratio or round(ratio) < 1:
            raise ValueError(
                f"`{where}.record_dt` = {p['record_dt']:g} ms is not a whole multiple of "
                f"`{where}.dt` = {p['dt']:g} ms"
            )
        record_every = int(round(ratio))
    for key in ("record", "detect", "cv"):
        for s in p[key]:
            if not isinstance(s, str):
                raise TypeError(f"`{where}.{key}` must be a list of site strings, got {s!r}")
    proto = Protocol(
        tstop=p["tstop"],
        dt=p["dt"],
        stimuli=tuple(stimuli),
        record=tuple(p["record"]),
        record_every=record_every,
        detect=tuple(p["detect"]) if p["detect"] else None,
        threshold=p["threshold"],
        cv=tuple(p["cv"]) if p["cv"] else None,
        method=p["method"],
        max_spikes=p["max_spikes"] or None,
    )
    proto.check()
    return proto


def load_config(cfg: dict, overrides: dict | None = None, path: Path | None = None) -> ModelFile:
    """Build a :class:`ModelFile` from an already-parsed model file."""
    overrides = dict(overrides or {})
    patched = _apply_overrides(cfg, overrides)
    where = str(path) if path else "model file"
    top_allowed = {"model", "morphology", "mechanisms", "protocol", "fiber", "ions"}
    unknown = [k for k in patched if k not in top_allowed]
    if unknown:
        raise ValueError(
            f"{where}: unknown table(s) {', '.join(map(repr, unknown))}; valid: "
            f"{', '.join(sorted(top_allowed))}"
        )
    m = read_table(patched.get("model", {}), MODEL_FIELDS, "model")
    kind = m["kind"]
    if kind not in BUILDERS and kind in _LAZY:
        __import__(_LAZY[kind])
    if kind not in BUILDERS:
        raise ValueError(
            f"`model.kind` = {kind!r} is not known; valid: {', '.join(sorted(BUILDERS))}"
        )
    model = BUILDERS[kind](patched, m)
    if "protocol" not in patched:
        raise ValueError(f"{where}: missing [protocol] table (dt, tstop, stimuli, recording)")
    protocol = read_protocol(patched["protocol"])
    for s in (
        *protocol.record,
        *protocol.detect_sites,
        *(protocol.cv or ()),
        *(st.site for st in protocol.stimuli),
    ):
        model.site(s)  # every site must exist on this morphology
    ions = None
    if "ions" in patched:
        from neurosim.ions import read_ions

        ions = read_ions(patched["ions"])
    return ModelFile(path, copy.deepcopy(cfg), model, protocol, overrides, ions)


def load_model(path: str | Path, overrides: dict | None = None) -> ModelFile:
    """Read, check and build a model file.

    Parameters
    ----------
    path : str or Path
        ``models/.../NAME.toml``.
    overrides : dict, optional
        Dotted keys of the file with new values (with units), e.g.
        ``{"morphology.diam": "12 um"}``.
    """
    path = Path(path)
    return load_config(load_toml(path), overrides, path)
