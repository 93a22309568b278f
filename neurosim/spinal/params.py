"""Spinal model files: the schema of ``models/spinal/*.toml`` and the loader.

A spinal model file has the tables below; every quantity carries a unit and every
table a ``citation``. A file may start from another one with ``inherits =
"other.toml"`` (path relative to the file) and then lists only what it changes; the
result is checked against the full schema, so an unknown or misspelt key still fails.

All values come back as floats in the internal units of :mod:`neurosim.units`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosim.modelfile import Field, load_toml, merge_tables, read_table
from neurosim.validate import check_keys

__all__ = ["SPINAL_SCHEMA", "SpinalModel", "load_spinal_model", "merge_tables"]

_CITE = Field("str", doc="source of the parameter group")


def _pos(kind, doc=""):
    return Field(kind, lo=0.0, lo_open=True, doc=doc)


def _nonneg(kind, doc=""):
    return Field(kind, lo=0.0, doc=doc)


def _volt(doc=""):
    return Field("voltage", lo=-200.0, hi=200.0, doc=doc)


def _slope(doc=""):
    return Field("voltage", lo=-100.0, hi=100.0, doc=doc)


SPINAL_SCHEMA: dict[str, dict[str, Field]] = {
    "model": {
        "name": Field("str", doc="model name"),
        "description": Field("str", default="", doc="one paragraph"),
        "inherits": Field("str", default="", doc="file this one starts from"),
    },
    "pool": {
        "citation": _CITE,
        "n_units": Field("int", lo=1, hi=10000, doc="motor units in the pool"),
        "recruitment_range": Field(
            "float", lo=1.0, lo_open=True, doc="ratio of last to first recruitment threshold"
        ),
        "drive_size_exponent": Field(
            "float", lo=0.0, hi=2.0, doc="descending drive density ~ RTE^-x"
        ),
        "ia_size_exponent": Field("float", lo=0.0, hi=2.0, doc="Ia EPSP ~ RTE^-x"),
        "ahp_size_exponent": Field("float", lo=0.0, hi=2.0, doc="soma K(Ca) ~ RTE^-x"),
        "ahp_variability": Field("float", lo=0.0, hi=2.0, doc="CV of soma K(Ca) across units"),
        "drive_saturation_first": Field(
            "float", lo=1.0, doc="excitation (x threshold) where unit 1's drive saturates"
        ),
        "drive_saturation_last": Field(
            "float", lo=1.0, doc="the same for the last unit (linear in between)"
        ),
    },
    "motoneuron": {
        "citation": _CITE,
        "c_m": _pos("capacitance_density", "membrane capacitance"),
        "p_soma": Field("float", lo=0.0, hi=1.0, lo_open=True, hi_open=True, doc="soma area"),
        "g_coupling": _pos("conductance_density", "soma-dendrite coupling"),
        "g_leak": _pos("conductance_density", "leak, both compartments"),
        "e_leak": _volt("leak reversal"),
        "gnabar": _nonneg("conductance_density", "soma fast Na"),
        "gkdr": _nonneg("conductance_density", "soma delayed rectifier"),
        "gcan_soma": _nonneg("conductance_density", "soma N-type Ca"),
        "gkca_soma": _nonneg("conductance_density", "soma K(Ca), canonical"),
        "gcan_dend": _nonneg("conductance_density", "dendrite N-type Ca"),
        "gkca_dend": _nonneg("conductance_density", "dendrite K(Ca), canonical"),
        "gcal": _nonneg("conductance_density", "dendrite L-type Ca (the PIC)"),
        "ena": _volt(),
        "ek": _volt(),
        "eca": _volt(),
        "th_m": _volt("Na activation half voltage"),
        "sl_m": _slope("Na activation slope"),
        "th_h": _volt("Na inactivation half voltage"),
        "sl_h": _slope("Na inactivation slope"),
        "tau_h": _pos("time", "Na inactivation time scale"),
        "th_n": _volt("Kdr half voltage"),
        "sl_n": _slope("Kdr slope"),
        "tau_n": _pos("time", "Kdr time scale"),
        "th_mn": _volt("CaN activation half voltage"),
        "sl_mn": _slope("CaN activation slope"),
        "tau_mn": _pos("time", "CaN activation time constant"),
        "th_hn": _volt("CaN inactivation half voltage"),
        "sl_hn": _slope("CaN inactivation slope"),
        "tau_hn": _pos("time", "CaN inactivation time constant"),
        "th_ml": _volt("CaL activation half voltage"),
        "sl_ml": _slope("CaL activation slope"),
        "tau_ml": _pos("time", "CaL activation time constant"),
        "kd": _pos("concentration", "K(Ca) half activation [Ca]"),
        "ca_f": Field("float", lo=0.0, lo_open=True, doc="free fraction of Ca"),
        "ca_alpha": Field("float", lo=0.0, doc="uM/ms per uA/cm2 of Ca current"),
        "kca_soma": _pos("rate", "Ca removal rate, soma"),
        "kca_dend": _pos("rate", "Ca removal rate, dendrite"),
        "spike_threshold": _volt("soma voltage counted as a spike"),
        "antidromic_voltage": _volt("soma voltage set by an antidromic spike"),
        "antidromic_guard": _nonneg("time", "no invasion this soon after a soma spike"),
    },
    "neuromodulation": {
        "citation": _CITE,
        "level": Field("float", lo=0.0, hi=2.0, doc="0 canonical, 1 serotonergic"),
        "gkca_scale_serotonergic": Field(
            "float", lo=0.0, hi=1.0, lo_open=True, doc="K(Ca) multiplier at level 1"
        ),
    },
    "pump": {
        "citation": _CITE,
        "current_per_spike": _nonneg(
            "current_density", "outward pump current added by one soma spike"
        ),
        "tau": _pos("time", "decay of the activity-dependent pump current"),
    },
    "noise": {
        "citation": _CITE,
        "sigma": _nonneg("current_density", "SD of synaptic background (soma)"),
        "tau": _pos("time", "correlation time"),
        "dendritic_fraction": Field("float", lo=0.0, hi=1.0, doc="share on the dendrite"),
    },
    "drive": {
        "citation": _CITE,
        "current_per_excitation": _nonneg(
            "current_density", "drive density per excitation unit, unit 1"
        ),
        "dendritic_fraction": Field("float", lo=0.0, hi=1.0, doc="share of drive on dendrite"),
    },
    "synapses": {
        "citation": _CITE,
        "e_exc": _volt("excitatory reversal"),
        "e_inh": _volt("inhibitory reversal"),
        "tau_ia": _pos("time", "Ia EPSC decay"),
        "tau_ib": _pos("time", "Ib-interneuron IPSC decay"),
        "tau_rc": _pos("time", "Renshaw IPSC decay"),
        "w_ia": _nonneg("conductance_density", "Ia synapse on unit 1 (dendrite)"),
        "w_ib": _nonneg("conductance_density", "Ib interneuron synapse (dendrite)"),
        "w_rc": _nonneg("conductance_density", "Renshaw synapse (soma)"),
        "ia_connectivity": Field("float", lo=0.0, hi=1.0, doc="P(Ia -> motor neuron)"),
    },
    "spindle": {
        "citation": _CITE,
        "n_afferents": Field("int", lo=0, hi=10000, doc="Ia afferents"),
        "baseline_rate": _nonneg("frequency", "rate at rest length, no fusimotor drive"),
        "velocity_gain": _nonneg("frequency", "Hz per (mm/s)^0.6"),
        "length_gain": _nonneg("frequency", "Hz per mm"),
        "fusimotor_gain": _nonneg("frequency", "Hz at full fusimotor drive"),
        "alpha_gamma_linkage": Field(
            "float", lo=0.0, doc="fusimotor drive per unit of descending excitation"
        ),
        "max_rate": _pos("frequency", "saturation"),
    },
    "tendon_organ": {
        "citation": _CITE,
        "n_afferents": Field("int", lo=0, hi=10000, doc="Ib afferents"),
        "baseline_rate": _nonneg("frequency", "rate without force"),
        "gain": _nonneg("frequency", "a in a ln(1 + F/F0)"),
        "force_scale": Field(
            "float", lo=0.0, lo_open=True, doc="F0 as a fraction of maximal force"
        ),
    },
    "ib_interneurons": {
        "citation": _CITE,
        "n": Field("int", lo=0, hi=10000, doc="Ib inhibitory interneurons"),
        "tau_m": _pos("time", "membrane time constant"),
        "tau_syn": _pos("time", "synaptic current decay"),
        "refractory": _nonneg("time", "refractory period"),
        "weight": Field("float", lo=0.0, doc="Ib EPSC, in units of threshold"),
        "p_in": Field("float", lo=0.0, hi=1.0, doc="P(Ib -> interneuron)"),
        "p_out": Field("float", lo=0.0, hi=1.0, doc="P(interneuron -> motor neuron)"),
    },
    "renshaw": {
        "citation": _CITE,
        "n": Field("int", lo=0, hi=10000, doc="Renshaw cells"),
        "tau_m": _pos("time", "membrane time constant"),
        "tau_syn": _pos("time", "synaptic current decay"),
        "refractory": _nonneg("time", "refractory period"),
        "weight": Field("float", lo=0.0, doc="motor-axon collateral EPSC, x threshold"),
        "p_in": Field("float", lo=0.0, hi=1.0, doc="P(motor neuron -> Renshaw)"),
        "p_out": Field("float", lo=0.0, hi=1.0, doc="P(Renshaw -> motor neuron)"),
    },
    "axons": {
        "citation": _CITE,
        "motor_velocity": _pos("velocity", "motor axon conduction velocity"),
        "ia_velocity": _pos("velocity", "Ia conduction velocity"),
        "ib_velocity": _pos("velocity", "Ib conduction velocity"),
        "cord_to_stimulation": _pos("length", "cord to nerve-stimulation site"),
        "stimulation_to_periphery": _pos("length", "stimulation site to muscle/receptors"),
        "ectopic_site": _nonneg("length", "ectopic (root) site, distance from cord"),
        "block_site": _pos("length", "nerve block, distance from cord"),
        "segment_time": _pos("time", "discretisation of the collision model"),
        "refractory": _pos("time", "axonal refractory period"),
    },
    "delays": {
        "citation": _CITE,
        "initial_segment": _pos("time", "soma <-> axon"),
        "neuromuscular": _pos("time", "axon terminal -> muscle fibre"),
        "ia_central": _pos("time", "Ia -> motor neuron, incl. intraspinal"),
        "ib_interneuron": _pos("time", "Ib -> interneuron"),
        "interneuron_motoneuron": _pos("time", "Ib interneuron -> motor neuron"),
        "renshaw_in": _pos("time", "motor axon collateral -> Renshaw"),
        "renshaw_out": _pos("time", "Renshaw -> motor neuron"),
    },
    "simulation": {
        "citation": _CITE,
        "dt": Field("time", lo=0.001, hi=0.2, doc="integration step"),
        "input_dt": _pos("time", "resolution of input time series"),
        "record_dt": _pos("time", "force / voltage record step"),
        "muscle_dt": _pos("time", "twitch-filter step"),
        "noise_dt": _pos("time", "synaptic-noise step"),
        "max_duration": _pos("time", "longest run the compiled network allows"),
        "max_ectopic": Field("int", lo=1, hi=100000, doc="ectopic events per axon/direction"),
        "connectivity_seed": Field("int", lo=0, doc="seed of the synaptic wiring"),
    },
}


def _raw_with_inheritance(path: Path, seen: tuple = ()) -> dict:
    path = path.resolve()
    if path in seen:
        raise ValueError(f"{path}: `model.inherits` makes a cycle through {seen[0]}")
    raw = load_toml(path)
    parent = raw.get("model", {}).get("inherits", "")
    if parent:
        base = _raw_with_inheritance((path.parent / parent), (*seen, path))
        raw = merge_tables(base, raw)
        raw["model"]["inherits"] = parent
    return raw


@dataclass(frozen=True)
class SpinalModel:
    """A checked spinal model: one dict of internal-unit values per table.

    Attributes
    ----------
    name : str
        ``model.name``.
    tables : dict of str to dict
        Every table of :data:`SPINAL_SCHEMA`, values in internal units.
    source : str
        File it was read from ('' if built in code).
    raw : dict
        The merged TOML tables (for provenance and :meth:`with_overrides`).
    """

    name: str
    tables: dict
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    def __getitem__(self, table: str) -> dict:
        return self.tables[table]

    def with_overrides(self, overrides: dict, where: str = "overrides") -> SpinalModel:
        """A copy with some TOML values replaced (``{"neuromodulation": {"level": 1.0}}``)."""
        return spinal_model_from_dict(merge_tables(self.raw, overrides), self.source, where)


def spinal_model_from_dict(raw: dict, source: str = "", where: str = "") -> SpinalModel:
    """Check a parsed spinal model (TOML tables) against :data:`SPINAL_SCHEMA`."""
    prefix = f"{where}: " if where else ""
    check_keys(f"{prefix}spinal model file", raw.keys(), SPINAL_SCHEMA.keys(), SPINAL_SCHEMA)
    tables: dict[str, Any] = {}
    for name, schema in SPINAL_SCHEMA.items():
        try:
            tables[name] = read_table(raw[name], schema, name)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{prefix}{exc}") from exc
    _cross_checks(tables, prefix)
    return SpinalModel(name=tables["model"]["name"], tables=tables, source=source, raw=raw)


def _cross_checks(t: dict, prefix: str) -> None:
    ax = t["axons"]
    if not ax["block_site"] < ax["cord_to_stimulation"]:
        raise ValueError(
            f"{prefix}`axons.block_site` = {ax['block_site'] / 1e3:g} mm is out of range; "
            f"allowed (0, {ax['cord_to_stimulation'] / 1e3:g}) mm (between cord and "
            "stimulation site)"
        )
    if not ax["ectopic_site"] < ax["cord_to_stimulation"]:
        raise ValueError(
            f"{prefix}`axons.ectopic_site` = {ax['ectopic_site'] / 1e3:g} mm is out of range; "
            f"allowed [0, {ax['cord_to_stimulation'] / 1e3:g}) mm"
        )
    sim = t["simulation"]
    for key in ("input_dt", "record_dt", "muscle_dt", "noise_dt"):
        ratio = sim[key] / sim["dt"]
        if ratio < 1.0 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(
                f"{prefix}`simulation.{key}` = {sim[key]:g} ms is out of range; allowed: a "
                f"whole multiple of simulation.dt = {sim['dt']:g} ms"
            )
    mn = t["motoneuron"]
    if not mn["spike_threshold"] > mn["e_leak"]:
        raise ValueError(
            f"{prefix}`motoneuron.spike_threshold` = {mn['spike_threshold']:g} mV is out of "
            f"range; allowed (> e_leak = {mn['e_leak']:g} mV)"
        )


def load_spinal_model(path: str | Path, overrides: dict | None = None) -> SpinalModel:
    """Read, inherit, override and check a spinal model file.

    Parameters
    ----------
    path : str or Path
        ``models/spinal/*.toml``.
    overrides : dict, optional
        TOML-shaped replacements applied after inheritance
        (``{"neuromodulation": {"level": 1.0}}``).
    """
    path = Path(path)
    raw = _raw_with_inheritance(path)
    if overrides:
        raw = merge_tables(raw, overrides)
    return spinal_model_from_dict(raw, str(path), str(path))
