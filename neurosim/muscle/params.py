"""Muscle model files (``models/muscle/*.toml``): schema, loader, fatigue.

Tables: ``[model]``, ``[muscle]`` (Fuglevand 1993 twitches and rate coding),
``[emg]`` (MUAP shapes) and ``[fatigue]``. Values come back in internal units.

Fatigue is one number, ``fatigue.level`` in [0, 1], scaling four effects linearly:
twitch force down, contraction time up (slower, more fusing twitches; e.g. Fuglevand,
Macefield & Bigland-Ritchie 1999, J Neurophysiol 81:1718), spindle excitation up and
tendon-organ inhibition down (the "altered neuromuscular control" hypothesis of cramp,
Schwellnus 2009, Br J Sports Med 43:401; evidence is mixed, so the sizes are
parameters, not findings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neurosim.modelfile import Field, load_toml, merge_tables, read_table
from neurosim.validate import check_keys

__all__ = ["MUSCLE_SCHEMA", "MuscleModel", "load_muscle_model", "FatigueEffects", "fatigue"]

_CITE = Field("str", doc="source of the parameter group")


MUSCLE_SCHEMA: dict[str, dict[str, Field]] = {
    "model": {
        "name": Field("str", doc="model name"),
        "description": Field("str", default="", doc="one paragraph"),
        "inherits": Field("str", default="", doc="file this one starts from"),
    },
    "muscle": {
        "citation": _CITE,
        "twitch_range": Field("float", lo=1.0, lo_open=True, doc="RP: last / first twitch"),
        "contraction_time_max": Field("time", lo=0.0, lo_open=True, doc="first unit T"),
        "contraction_time_range": Field("float", lo=1.0, lo_open=True, doc="RT"),
        "min_rate": Field("frequency", lo=0.0, doc="rate at recruitment (MFR)"),
        "peak_rate_first": Field("frequency", lo=0.0, doc="PFR of the first unit"),
        "peak_rate_last": Field("frequency", lo=0.0, doc="PFR of the last unit"),
        "excitation_gain": Field("frequency", lo=0.0, lo_open=True, doc="Hz per unit"),
    },
    "emg": {
        "citation": _CITE,
        "sampling_rate": Field("frequency", lo=100.0, doc="EMG samples per second"),
        "amplitude_first": Field("voltage", lo=0.0, doc="MUAP amplitude A of unit 1"),
        "amplitude_exponent": Field("float", lo=0.0, hi=2.0, doc="A_i = A_1 (P_i/P_1)^x"),
        "width_first": Field("time", lo=0.0, lo_open=True, doc="MUAP lambda, unit 1"),
        "width_last": Field("time", lo=0.0, lo_open=True, doc="MUAP lambda, last unit"),
    },
    "fatigue": {
        "citation": _CITE,
        "level": Field("float", lo=0.0, hi=1.0, doc="0 fresh, 1 fully fatigued"),
        "twitch_force_loss": Field("float", lo=0.0, hi=1.0, hi_open=True, doc="at level 1"),
        "contraction_time_increase": Field("float", lo=0.0, doc="relative, at level 1"),
        "spindle_gain_increase": Field("float", lo=0.0, doc="relative, at level 1"),
        "tendon_organ_gain_loss": Field("float", lo=0.0, hi=1.0, doc="relative, at level 1"),
    },
}


@dataclass(frozen=True)
class MuscleModel:
    """A checked muscle model (values in internal units per table)."""

    name: str
    tables: dict
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    def __getitem__(self, table: str) -> dict:
        return self.tables[table]

    def with_overrides(self, overrides: dict, where: str = "overrides") -> MuscleModel:
        """A copy with some TOML values replaced (``{"fatigue": {"level": 0.5}}``)."""
        return muscle_model_from_dict(merge_tables(self.raw, overrides), self.source, where)


def muscle_model_from_dict(raw: dict, source: str = "", where: str = "") -> MuscleModel:
    """Check parsed muscle tables against :data:`MUSCLE_SCHEMA`."""
    prefix = f"{where}: " if where else ""
    check_keys(f"{prefix}muscle model file", raw.keys(), MUSCLE_SCHEMA.keys(), MUSCLE_SCHEMA)
    tables = {}
    for name, schema in MUSCLE_SCHEMA.items():
        try:
            tables[name] = read_table(raw[name], schema, name)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{prefix}{exc}") from exc
    m = tables["muscle"]
    for key in ("peak_rate_first", "peak_rate_last"):
        if m[key] < m["min_rate"]:
            raise ValueError(
                f"{prefix}`muscle.{key}` = {m[key]:g} Hz is out of range; allowed "
                f"[muscle.min_rate = {m['min_rate']:g}, inf) Hz"
            )
    return MuscleModel(name=tables["model"]["name"], tables=tables, source=source, raw=raw)


def load_muscle_model(path: str | Path, overrides: dict | None = None) -> MuscleModel:
    """Read (with ``model.inherits``), override and check a muscle model file."""
    path = Path(path)
    raw = load_toml(path)
    parent = raw.get("model", {}).get("inherits", "")
    if parent:
        raw = merge_tables(load_toml(path.parent / parent), raw)
    if overrides:
        raw = merge_tables(raw, overrides)
    return muscle_model_from_dict(raw, str(path), str(path))


@dataclass(frozen=True)
class FatigueEffects:
    """Multipliers that a fatigue level applies (1 = no change)."""

    twitch_force: float
    contraction_time: float
    spindle_gain: float
    tendon_organ_gain: float


def fatigue(table: dict) -> FatigueEffects:
    """Turn a ``[fatigue]`` table into multipliers (linear in the level)."""
    x = table["level"]
    return FatigueEffects(
        twitch_force=1.0 - x * table["twitch_force_loss"],
        contraction_time=1.0 + x * table["contraction_time_increase"],
        spindle_gain=1.0 + x * table["spindle_gain_increase"],
        tendon_organ_gain=1.0 - x * table["tendon_organ_gain_loss"],
    )
