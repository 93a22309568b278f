"""Compression model files: ``models/compression/*.toml`` -> lesion, schedule, laws.

Layout (every quantity a string with its unit; pressure rates as ``"5 mmHg/s"``)::

    [compression]            name, description, citation
    [root]                   extension_proximal, extension_distal (root beyond the
                             simulated axon, to the blood supply); length, segments
                             (a root grid for calibration runs without an axon)
    [lesion]                 cord_end = "start" | "end"
    [[lesion.level]]         center (from the cord end) or node; length; scale
    [schedule]               kind = "constant" | "ramp" | "posture"
                             constant: pressure, speed
                             ramp: target, speed, start, baseline, hold, release_speed
                             posture: transition, initial, [[schedule.phase]]
    [[schedule.phase]]       posture or pressure; duration (omit for the last: held);
                             start, rise_time, walking (gait on/off)
    [postures]               baseline pressure per posture (overrides)
    [gait.upright], [gait.flexed]   rate, amplitude, width
    [flow]                   arterial, arterial_ref, surround, venous_outlet, feed,
                             length_constant, venous_ratio, stop, rung
    [flow.arteriole]         mean, spread (fractions of arterial pressure)
    [flow.capillary], [flow.venule]   mean, spread (mmHg)
    [flow.vein]              median (mmHg), log_sd
    [flow.hyperaemia]        enabled, gain, half, washout
    [damage]                 enabled, threshold, reference, time_constant, exponent,
                             onset_gain, onset_half, edge_width, retraction,
                             exposed_leak, widening
    [ions]                   recommended ion-layer settings for this tissue (a
                             neurosim.ions [ions] table)

Every table is checked (:func:`neurosim.modelfile.read_table`) before anything is
built: unknown keys, missing units and out-of-range values raise ``ValueError`` naming
the dotted key.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from neurosim.compression.damage import DamageLaw
from neurosim.compression.driver import CompressionDriver
from neurosim.compression.flow import FlowLaw, Hyperaemia, VesselClass
from neurosim.compression.lesion import CORD_ENDS, Lesion, Level, RootGrid
from neurosim.compression.schedule import (
    POSTURES,
    WALKING,
    Gait,
    Phase,
    PressureSchedule,
    constant,
    ramp,
)
from neurosim.modelfile import Field, load_toml, read_table
from neurosim.validate import check_keys

__all__ = ["CompressionFile", "load_compression", "compression_from_config", "parse_speed"]

_POS = {"lo": 0.0, "lo_open": True}
_NONNEG = {"lo": 0.0}

COMPRESSION_FIELDS = {
    "name": Field("str", doc="model name"),
    "description": Field("str", default="", doc="one line"),
    "citation": Field("str", default="", doc="sources"),
}
ROOT_FIELDS = {
    "extension_proximal": Field("length", default=0.0, **_NONNEG, doc="root beyond the start end"),
    "extension_distal": Field("length", default=0.0, **_NONNEG, doc="root beyond the far end"),
    "length": Field("length", default=None, **_POS, doc="root length (calibration grid)"),
    "segments": Field("int", default=100, lo=1, hi=100_000, doc="segments of that grid"),
}
LESION_FIELDS = {
    "cord_end": Field("str", default="start", choices=CORD_ENDS, doc="end at the spinal cord"),
    "level": Field("list", doc="compressed levels (array of tables)"),
}
LEVEL_FIELDS = {
    "center": Field("length", default=None, **_NONNEG, doc="centre, from the cord end"),
    "node": Field("int", default=None, lo=0, doc="node of Ranvier at the centre"),
    "length": Field("length", **_POS, doc="length of the compressed zone"),
    "scale": Field("float", default=1.0, **_POS, doc="pressure relative to the schedule"),
}
SCHEDULE_FIELDS = {
    "kind": Field("str", choices=("constant", "ramp", "posture"), doc="schedule type"),
    "pressure": Field("pressure", default=None, **_NONNEG, doc="constant: pressure"),
    "target": Field("pressure", default=None, **_NONNEG, doc="ramp: target pressure"),
    "speed": Field("str", default="inf", doc="constant/ramp: onset speed (mmHg/s)"),
    "start": Field("time", default=0.0, **_NONNEG, doc="ramp: start of the rise"),
    "baseline": Field("pressure", default=0.0, **_NONNEG, doc="ramp: pressure before/after"),
    "hold": Field("time", default=None, **_POS, doc="ramp: time at target (omit: to the end)"),
    "release_speed": Field("str", default="inf", doc="ramp: release speed (mmHg/s)"),
    "transition": Field("time", default=2000.0, **_NONNEG, doc="posture: change time"),
    "initial": Field("pressure", default=None, **_NONNEG, doc="posture: pressure before"),
    "gap": Field("pressure", default=0.0, **_NONNEG, doc="pressure between timed phases"),
    "phase": Field("list", default=[], doc="posture: phases (array of tables)"),
}
PHASE_FIELDS = {
    "posture": Field("str", default=None, choices=(*POSTURES, *WALKING), doc="posture name"),
    "name": Field("str", default=None, doc="label (default: the posture)"),
    "pressure": Field("pressure", default=None, doc="baseline (default: the posture's)"),
    "duration": Field("time", default=None, doc="length (omit for the last: held)"),
    "start": Field("time", default=None, doc="start (default: end of the previous)"),
    "rise_time": Field("time", default=None, doc="transition into the phase"),
    "walking": Field("bool", default=None, doc="gait oscillation (default: walking postures)"),
}
POSTURE_FIELDS = {
    name: Field("pressure", default=p, **_NONNEG, doc=f"{name}") for name, p in POSTURES.items()
}
GAIT_FIELDS = {
    "rate": Field("frequency", default=1.5, **_POS, doc="waves per second"),
    "amplitude": Field("pressure", default=None, **_NONNEG, doc="rise at the wave peak"),
    "width": Field("float", default=0.5, lo=0.0, hi=1.0, lo_open=True, doc="raised fraction"),
}
FLOW_FIELDS = {
    "arterial": Field("pressure", **_POS, doc="mean arterial pressure"),
    "arterial_ref": Field(
        "pressure", default=None, **_POS, doc="where flow = 1 (default: arterial)"
    ),
    "surround": Field("pressure", default=0.0, **_NONNEG, doc="normal pressure around the root"),
    "venous_outlet": Field("pressure", default=5.0, **_NONNEG, doc="venous outlet pressure"),
    "feed": Field("float", default=0.9, lo=0.0, hi=1.0, lo_open=True, doc="supply / arterial"),
    "length_constant": Field("length", default=30e3, **_POS, doc="longitudinal supply"),
    "venous_ratio": Field("float", default=2.0, **_POS, doc="venous/arterial rail"),
    "stop": Field("float", default=0.05, lo=0.0, hi=0.5, lo_open=True, doc="'stopped' flow"),
    "rung": Field("list", default=[0.5, 0.25, 0.25], doc="nutritive path resistance split"),
    "arteriole": Field("table", default={}, doc="closing pressures (fractions of arterial)"),
    "capillary": Field("table", default={}, doc="closing pressures"),
    "venule": Field("table", default={}, doc="closing pressures"),
    "vein": Field("table", default={}, doc="closing pressures (log-normal)"),
    "hyperaemia": Field("table", default=None, doc="post-ischaemic hyperaemia"),
}
ARTERIOLE_FIELDS = {
    "mean": Field("float", default=0.8, lo=0.0, hi=1.0, lo_open=True, doc="x arterial"),
    "spread": Field("float", default=0.03, **_POS, doc="x arterial"),
}
CAPILLARY_FIELDS = {
    "mean": Field("pressure", default=35.0, **_POS, doc="mean closing pressure"),
    "spread": Field("pressure", default=3.0, **_POS, doc="standard deviation"),
}
VENULE_FIELDS = {
    "mean": Field("pressure", default=23.5, **_POS, doc="mean closing pressure"),
    "spread": Field("pressure", default=4.0, **_POS, doc="standard deviation"),
}
VEIN_FIELDS = {
    "median": Field("pressure", default=2.1, **_POS, doc="median closing pressure"),
    "log_sd": Field("float", default=0.8, **_POS, doc="standard deviation of the log"),
}
HYPERAEMIA_FIELDS = {
    "enabled": Field("bool", default=True, doc="add post-ischaemic hyperaemia"),
    "gain": Field("float", default=1.0, **_NONNEG, doc="largest relative increase"),
    "half": Field("time", default=300e3, **_POS, doc="ischaemia for half the increase"),
    "washout": Field("time", default=180e3, **_POS, doc="washout time at normal flow"),
}
DAMAGE_FIELDS = {
    "enabled": Field("bool", default=True, doc="paranodal retraction at the edges"),
    "threshold": Field("pressure", default=50.0, **_NONNEG, doc="no damage below"),
    "reference": Field("pressure", default=200.0, **_POS, doc="pressure of `time_constant`"),
    "time_constant": Field("time", default=7200e3 / math.log(2.0), **_POS, doc="1/rate"),
    "exponent": Field("float", default=1.5, **_POS, doc="pressure dependence"),
    "onset_gain": Field("float", default=2.0, lo=1.0, doc="rate x for a step onset"),
    "onset_half": Field("str", default="50 mmHg/s", doc="onset speed of half the gain"),
    "edge_width": Field("length", default=2500.0, **_POS, doc="damaged zone at each edge"),
    "retraction": Field("length", default=None, **_POS, doc="largest retraction"),
    "exposed_leak": Field("conductance_density", default=0.001, **_NONNEG, doc="bare leak"),
    "widening": Field("float", default=10.0, lo=1.0, doc="periaxonal widening"),
    "initial": Field("float", default=0.0, lo=0.0, hi=1.0, doc="damage at the start (chronic)"),
    "exposed_nav": Field(
        "float", default=0.0, lo=0.0, doc="transient Na of bared axolemma / node's"
    ),
    "exposed_nap": Field(
        "float", default=0.0, lo=0.0, doc="persistent Na of bared axolemma / node's"
    ),
}

#: pressure-rate units (no such dimension in neurosim.units): factor to mmHg/s
_SPEED_UNITS = {"mmHg/s": 1.0, "mmHg/min": 1.0 / 60.0, "kPa/s": 7.500615758, "mmHg/ms": 1e3}
_SPEED = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S+)\s*$")


def parse_speed(value, key: str) -> float:
    """``"5 mmHg/s"`` -> 5.0 (mmHg/s); ``"inf"`` -> inf (a step). Must be > 0."""
    if isinstance(value, str) and value.strip().lower() in ("inf", "step"):
        return math.inf
    if not isinstance(value, str):
        raise TypeError(f"`{key}` = {value!r}: expected a string like '5 mmHg/s' or 'inf'")
    m = _SPEED.match(value)
    if m is None or m.group(2) not in _SPEED_UNITS:
        raise ValueError(
            f"`{key}` = {value!r} is not a pressure rate; write '<number> <unit>' with unit "
            f"one of {', '.join(_SPEED_UNITS)}, or 'inf' for a step"
        )
    v = float(m.group(1)) * _SPEED_UNITS[m.group(2)]
    if not v > 0 or not math.isfinite(v):
        raise ValueError(f"`{key}` = {value!r} must be a positive finite rate (or 'inf')")
    return v


@dataclass
class CompressionFile:
    """A loaded compression model: lesion, schedule, flow law, damage law, ion settings."""

    path: Path | None
    source: dict
    name: str
    description: str
    citation: str
    lesion: Lesion
    schedule: PressureSchedule
    flow_law: FlowLaw
    arterial: float
    damage: DamageLaw | None
    ions: object
    extension: tuple[float, float]
    root_length: float | None
    root_segments: int
    overrides: dict = field(default_factory=dict)

    def driver(self, arterial=None, grade=1.0) -> CompressionDriver:
        """A :class:`CompressionDriver` with this file's settings (``arterial`` per
        member overrides the file's)."""
        return CompressionDriver(
            self.lesion,
            self.schedule,
            self.flow_law,
            self.damage,
            arterial=self.arterial if arterial is None else arterial,
            grade=grade,
            extension=self.extension,
        )

    def grid(self) -> RootGrid:
        """The calibration grid of ``[root] length``/``segments`` (no axon needed)."""
        if self.root_length is None:
            raise ValueError(f"{self.path or self.name}: no `[root] length` for a standalone grid")
        return RootGrid.uniform(self.root_length, self.root_segments, self.extension)

    def rebuild(self, overrides: dict) -> CompressionFile:
        return compression_from_config(self.source, {**self.overrides, **overrides}, self.path)


#: optional tables an override may create when the file omits them (their keys are
#: checked by their readers like any others)
_OPTIONAL_TABLES = ("postures", "gait", "gait.upright", "gait.flexed", "damage", "ions")


def _apply(cfg: dict, overrides: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = cfg
        for i, part in enumerate(parts[:-1]):
            if part not in node and ".".join(parts[: i + 1]) in _OPTIONAL_TABLES:
                node[part] = {}
            if part not in node or not isinstance(node[part], dict):
                raise ValueError(f"override {dotted!r}: no table {part!r} in the compression file")
            node = node[part]
        node[parts[-1]] = value
    return cfg


def _gait(table: dict | None, where: str, default: Gait) -> Gait:
    g = read_table(table or {}, GAIT_FIELDS, where)
    amp = default.amplitude if g["amplitude"] is None else g["amplitude"]
    out = Gait(rate=g["rate"], amplitude=amp, width=g["width"], phase=default.phase)
    out.check(where)
    return out


def _schedule(cfg: dict) -> PressureSchedule:
    s = read_table(cfg.get("schedule", {}), SCHEDULE_FIELDS, "schedule")
    kind = s["kind"]
    if kind == "constant":
        if s["pressure"] is None:
            raise ValueError("`schedule.pressure` is required for kind = 'constant'")
        return constant(s["pressure"], parse_speed(s["speed"], "schedule.speed"))
    if kind == "ramp":
        if s["target"] is None:
            raise ValueError("`schedule.target` is required for kind = 'ramp'")
        return ramp(
            s["target"],
            parse_speed(s["speed"], "schedule.speed"),
            start=s["start"],
            baseline=s["baseline"],
            hold=math.inf if s["hold"] is None else s["hold"],
            release_speed=parse_speed(s["release_speed"], "schedule.release_speed"),
        )
    # posture
    postures = read_table(cfg.get("postures", {}), POSTURE_FIELDS, "postures")
    gait_t = cfg.get("gait", {})
    if not isinstance(gait_t, dict):
        raise TypeError("`gait` must be a table")
    check_keys("[gait]", gait_t.keys(), ["upright", "flexed"])
    gaits = {
        "walking": _gait(gait_t.get("upright"), "gait.upright", WALKING["walking"][1]),
        "walking_flexed": _gait(gait_t.get("flexed"), "gait.flexed", WALKING["walking_flexed"][1]),
    }
    phases_t = s["phase"]
    if not phases_t:
        raise ValueError("`schedule.phase` needs at least one phase for kind = 'posture'")
    phases = []
    for i, pt in enumerate(phases_t):
        where = f"schedule.phase[{i}]"
        p = read_table(pt, PHASE_FIELDS, where)
        posture = p["posture"]
        if posture is None and p["pressure"] is None:
            raise ValueError(f"`{where}` needs a `posture` or a `pressure`")
        label = p["name"] or posture or f"phase{i}"
        base_posture = WALKING[posture][0] if posture in WALKING else posture
        pressure = p["pressure"] if p["pressure"] is not None else postures[base_posture]
        walking = p["walking"] if p["walking"] is not None else posture in WALKING
        gait = None
        if walking:
            gait = gaits["walking_flexed" if base_posture == "flexion" else "walking"]
        duration = p["duration"]
        if duration is None:
            if i != len(phases_t) - 1:
                raise ValueError(
                    f"`{where}.duration` is required (only the last phase may omit it)"
                )
            duration = math.inf
        phases.append(
            Phase(label, duration, pressure, gait=gait, start=p["start"], rise_time=p["rise_time"])
        )
    initial = s["initial"] if s["initial"] is not None else phases[0].pressure
    return PressureSchedule(phases, initial=initial, transition=s["transition"], gap=s["gap"])


def _flow(cfg: dict) -> tuple[FlowLaw, float]:
    f = read_table(cfg.get("flow", {}), FLOW_FIELDS, "flow")
    a = read_table(f["arteriole"], ARTERIOLE_FIELDS, "flow.arteriole")
    c = read_table(f["capillary"], CAPILLARY_FIELDS, "flow.capillary")
    v = read_table(f["venule"], VENULE_FIELDS, "flow.venule")
    d = read_table(f["vein"], VEIN_FIELDS, "flow.vein")
    hy = None
    if f["hyperaemia"] is not None:
        h = read_table(f["hyperaemia"], HYPERAEMIA_FIELDS, "flow.hyperaemia")
        if h["enabled"]:
            hy = Hyperaemia(gain=h["gain"], half=h["half"], washout=h["washout"])
    rung = f["rung"]
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in rung):
        raise TypeError(f"`flow.rung` = {rung!r} must be a list of 3 numbers")
    law = FlowLaw(
        arteriole=VesselClass("arteriole", a["mean"], a["spread"], tracks_arterial=True),
        capillary=VesselClass("capillary", c["mean"], c["spread"]),
        venule=VesselClass("venule", v["mean"], v["spread"]),
        vein=VesselClass("vein", d["median"], d["log_sd"], "lognormal"),
        rung=tuple(rung),
        feed=f["feed"],
        venous_outlet=f["venous_outlet"],
        surround=f["surround"],
        length_constant=f["length_constant"],
        venous_ratio=f["venous_ratio"],
        arterial_ref=f["arterial_ref"] if f["arterial_ref"] is not None else f["arterial"],
        stop=f["stop"],
        hyperaemia=hy,
    )
    law.check_arterial(f["arterial"], "flow.arterial")
    return law, f["arterial"]


def _damage(cfg: dict) -> DamageLaw | None:
    if "damage" not in cfg:
        return None
    d = read_table(cfg["damage"], DAMAGE_FIELDS, "damage")
    if not d["enabled"]:
        return None
    return DamageLaw(
        threshold=d["threshold"],
        reference=d["reference"],
        time_constant=d["time_constant"],
        exponent=d["exponent"],
        onset_gain=d["onset_gain"],
        onset_half=parse_speed(d["onset_half"], "damage.onset_half"),
        edge_width=d["edge_width"],
        retraction=d["retraction"],
        exposed_leak=d["exposed_leak"],
        widening=d["widening"],
        initial=d["initial"],
        exposed_nav=d["exposed_nav"],
        exposed_nap=d["exposed_nap"],
    )


def compression_from_config(cfg: dict, overrides: dict | None = None, path=None) -> CompressionFile:
    """Build a :class:`CompressionFile` from an already-parsed file."""
    overrides = dict(overrides or {})
    patched = _apply(cfg, overrides)
    where = str(path) if path else "compression file"
    allowed = {
        "compression",
        "root",
        "lesion",
        "schedule",
        "postures",
        "gait",
        "flow",
        "damage",
        "ions",
    }
    unknown = [k for k in patched if k not in allowed]
    if unknown:
        raise ValueError(
            f"{where}: unknown table(s) {', '.join(map(repr, unknown))}; valid: {', '.join(sorted(allowed))}"
        )
    head = read_table(patched.get("compression", {}), COMPRESSION_FIELDS, "compression")
    root = read_table(patched.get("root", {}), ROOT_FIELDS, "root")
    les = read_table(patched.get("lesion", {}), LESION_FIELDS, "lesion")
    levels = []
    for i, lt in enumerate(les["level"]):
        lv = read_table(lt, LEVEL_FIELDS, f"lesion.level[{i}]")
        levels.append(Level(lv["length"], center=lv["center"], node=lv["node"], scale=lv["scale"]))
    if not levels:
        raise ValueError("`lesion.level` needs at least one level")
    lesion = Lesion(tuple(levels), les["cord_end"])
    schedule = _schedule(patched)
    law, arterial = _flow(patched)
    damage = _damage(patched)
    ions = None
    if "ions" in patched:
        from neurosim.ions import read_ions

        ions = read_ions(patched["ions"])
    extension = (root["extension_proximal"], root["extension_distal"])
    if lesion.cord_end == "end":
        extension = extension[::-1]  # the grid's order is along the axon
    out = CompressionFile(
        path=Path(path) if path else None,
        source=copy.deepcopy(cfg),
        name=head["name"],
        description=head["description"],
        citation=head["citation"],
        lesion=lesion,
        schedule=schedule,
        flow_law=law,
        arterial=arterial,
        damage=damage,
        ions=ions,
        extension=extension,
        root_length=root["length"],
        root_segments=root["segments"],
        overrides=overrides,
    )
    if out.root_length is not None and all(lv.node is None for lv in levels):
        lesion.intervals(out.root_length)  # levels must fit the calibration root
    return out


def load_compression(path: str | Path, overrides: dict | None = None) -> CompressionFile:
    """Read, check and build a compression model file.

    Parameters
    ----------
    path : str or Path
        ``models/compression/NAME.toml``.
    overrides : dict, optional
        Dotted keys with new values (with units), e.g. ``{"flow.arterial": "60 mmHg"}``.
    """
    path = Path(path)
    return compression_from_config(load_toml(path), overrides, path)
