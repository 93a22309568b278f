"""A cable model (morphology + inserted mechanisms + temperature) and its kernel arrays.

:class:`CableModel` is the declaration a model file turns into. :func:`compile_batch`
lays B models (or one model and per-member parameter values) out as the arrays of
:mod:`neurosim.kernels.cable`, shaped (batch, ...). Structural sweeps (fibre diameter)
pass one model per member with identical topology; parameter sweeps pass one model
and a ``batch`` mapping of namespaced keys to per-member values.

Batch keys
----------
``"celsius"``                  temperature (degC), shape (B,)
``"v_init"``                   initial potential (mV), shape (B,)
``"<mech>.<param>"``           e.g. ``"hh.gnabar"``: every placement of the mechanism,
                               shape (B,) or (B, sites of that placement)
``"<label>:<mech>.<param>"``   one labelled placement only (``"node:axnode.gnapbar"``)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.channels import Mechanism
from neurosim.morphology import Morphology
from neurosim.validate import check_range

__all__ = ["Placement", "CableModel", "KernelArrays", "compile_batch", "TEMPERATURE_RANGE"]

#: temperatures the models are defined for (degC); Q10 scaling is not trusted outside
TEMPERATURE_RANGE = (0.0, 45.0)


@dataclass
class Placement:
    """A mechanism inserted on some compartments, with its parameter values.

    ``values`` maps parameter names to a scalar or an array over ``comps`` (internal
    units, S/cm2 for densities); missing parameters take the mechanism's defaults.
    ``label`` names the placement for batch keys (``"node:axnode.gnapbar"``).
    """

    mechanism: Mechanism
    comps: np.ndarray
    values: dict = field(default_factory=dict)
    label: str = ""

    def value(self, pname: str) -> np.ndarray:
        """Per-site values of one parameter, shape (sites,)."""
        v = self.values.get(pname, self.mechanism.param(pname).default)
        return np.broadcast_to(np.asarray(v, dtype=float), self.comps.shape)


@dataclass
class CableModel:
    """Morphology, mechanisms, temperature and initial potential of one cell.

    Parameters
    ----------
    name : str
    morphology : Morphology
    placements : list of Placement
    celsius : float
        Temperature (degC).
    v_init : float
        Initial membrane potential (mV), or the starting guess when ``rest`` is set.
    rest : bool
        Initialise at the model's resting state (the steady state of the full equations,
        found from ``v_init``) instead of at ``v_init`` with gates at steady state.
    gating_shift : float
        Surface-potential shift (mV) of every voltage-dependent gate: each rate is
        evaluated at ``V - gating_shift``. Divalent cations ([Ca]o, [Mg]o) screen the
        fixed negative charge of the membrane surface; lowering them makes the potential
        the channels sense more depolarised, i.e. a negative shift (gating towards
        hyperpolarised voltages, Frankenhaeuser & Hodgkin 1957; Hille, Ion Channels, ch.
        20). See :func:`neurosim.electrolytes.surface_shift`.
    """

    name: str
    morphology: Morphology
    placements: list[Placement] = field(default_factory=list)
    celsius: float = 6.3
    v_init: float = -65.0
    rest: bool = False
    gating_shift: float = 0.0
    description: str = ""
    citation: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range("celsius", self.celsius, *TEMPERATURE_RANGE, unit="degC")
        check_range("v_init", self.v_init, -200.0, 100.0, unit="mV")
        check_range("gating_shift", self.gating_shift, -30.0, 30.0, unit="mV")

    def insert(self, mech: Mechanism, where: str = "*", label: str = "", **values) -> CableModel:
        """Insert ``mech`` on the sections matching the glob ``where``; returns self."""
        comps = self.morphology.compartments(where)
        for pname, val in values.items():
            p = mech.param(pname)
            arr = check_range(mech.key(pname), val, p.lo, p.hi)
            if arr.ndim and arr.shape != comps.shape:
                raise ValueError(
                    f"`{mech.key(pname)}` has shape {arr.shape}; expected a scalar or "
                    f"{comps.shape} (one per compartment of {where!r})"
                )
        self.placements.append(Placement(mech, comps, dict(values), label))
        return self

    def site(self, name: str) -> int:
        return self.morphology.compartment(name)

    def batch_keys(self) -> list[str]:
        """Every key a ``batch`` mapping may use for this model."""
        keys = ["celsius", "v_init"]
        for pl in self.placements:
            for p in pl.mechanism.params:
                key = pl.mechanism.key(p.name)
                if key not in keys:
                    keys.append(key)
                if pl.label and pl.label != pl.mechanism.name:
                    keys.append(f"{pl.label}:{key}")
        return keys


def _shifted(rate, shift: float) -> tuple:
    """Parameters of ``rate`` evaluated at ``V - shift``: every voltage-dependent form
    has its midpoint in ``p[1]``."""
    if shift == 0.0 or rate.form == "const":
        return rate.p
    p = list(rate.p)
    p[1] += shift
    return tuple(p)


@dataclass
class KernelArrays:
    """Everything :func:`neurosim.kernels.cable.integrate` needs except the protocol.

    ``currents`` describes each kernel current: ``(placement, mechanism, current name,
    ion, site slice)`` so that other layers (ion dynamics) can find their sites.
    """

    B: int
    parent: np.ndarray
    area: np.ndarray  # (B, n) um2
    position: np.ndarray  # (B, n) um: path distance from the root, per member
    cap: np.ndarray
    gax: np.ndarray
    capx: np.ndarray
    gxg: np.ndarray
    gxa: np.ndarray
    cur_ptr: np.ndarray
    site_comp: np.ndarray
    gbar: np.ndarray
    erev: np.ndarray
    cur_gate_ptr: np.ndarray
    cur_gate: np.ndarray
    cur_gate_pow: np.ndarray
    gate_cur: np.ndarray
    gate_base: np.ndarray
    gate_mode: np.ndarray
    gate_form: np.ndarray
    gate_par: np.ndarray
    phi: np.ndarray
    celsius: np.ndarray  # (B,)
    v_init: np.ndarray  # (B,)
    rest: bool
    currents: list = field(default_factory=list)
    gates: list = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.parent.shape[0]

    @property
    def double(self) -> bool:
        return self.capx.shape[1] > 0

    @property
    def n_gate_states(self) -> int:
        if not len(self.gate_cur):
            return 0
        last = len(self.gate_cur) - 1
        c = self.gate_cur[last]
        return int(self.gate_base[last] + self.cur_ptr[c + 1] - self.cur_ptr[c])


def _same_structure(models: list[CableModel]) -> None:
    ref = models[0]
    for k, m in enumerate(models[1:], start=1):
        if m.morphology.n != ref.morphology.n or not np.array_equal(
            m.morphology.geometry.parent, ref.morphology.geometry.parent
        ):
            raise ValueError(
                f"batch member {k} ({m.name!r}) has a different topology from member 0 "
                f"({ref.name!r}); a batch shares one topology (compartments and tree)"
            )
        if m.morphology.geometry.double != ref.morphology.geometry.double:
            raise ValueError(f"batch member {k}: single and double cables cannot be mixed")
        if len(m.placements) != len(ref.placements) or any(
            a.mechanism is not b.mechanism or not np.array_equal(a.comps, b.comps)
            for a, b in zip(m.placements, ref.placements, strict=True)
        ):
            raise ValueError(
                f"batch member {k} ({m.name!r}) inserts different mechanisms or on different "
                f"compartments from member 0; a batch shares one mechanism layout"
            )


def _resolve_batch(models: list[CableModel], batch: dict, B: int) -> dict:
    """Check batch keys and shapes; return key -> float array of shape (B,) or (B, k)."""
    valid = models[0].batch_keys()
    out = {}
    for key, val in batch.items():
        if key not in valid:
            raise ValueError(
                f"unknown batch key {key!r} for model {models[0].name!r}; valid: {', '.join(valid)}"
            )
        arr = np.asarray(val, dtype=float)
        if arr.ndim == 0 or arr.shape[0] != B:
            raise ValueError(
                f"batch key {key!r} has shape {arr.shape}; expected ({B},) or ({B}, k)"
            )
        out[key] = arr
    return out


def _member_values(models: list, pi: int, pname: str, values: dict, B: int) -> np.ndarray:
    """(B, sites) values of one parameter of placement ``pi``: the models' own values,
    replaced by a batch value under ``"mech.param"`` or ``"label:mech.param"``."""
    pl = models[0].placements[pi]
    mech = pl.mechanism
    ns = pl.comps.shape[0]
    first = models[0]
    if all(m is first for m in models):  # one model replicated (threshold searches)
        vals = np.repeat(first.placements[pi].value(pname)[None, :], B, axis=0)
    else:
        vals = np.stack([m.placements[pi].value(pname) for m in models])
    keys = [mech.key(pname)]
    if pl.label:
        keys.append(f"{pl.label}:{mech.key(pname)}")
    for key in keys:
        if key in values:
            v = values[key]
            vals = np.broadcast_to(v[:, None] if v.ndim == 1 else v, (B, ns)).copy()
            p = mech.param(pname)
            check_range(key, vals, p.lo, p.hi)
    return vals


def compile_batch(models: CableModel | list[CableModel], batch: dict | None = None) -> KernelArrays:
    """Lay out a batch for the kernels.

    Parameters
    ----------
    models : CableModel or list of CableModel
        One model (broadcast over the batch) or one per member (same structure).
    batch : dict, optional
        Namespaced key -> per-member values (see the module docstring); all of length B.
        B is ``len(models)`` for a list, else the common length of the batch values (1
        if there are none).
    """
    batch = dict(batch or {})
    if isinstance(models, CableModel):
        lengths = {k: (np.asarray(v).shape[0] if np.ndim(v) else None) for k, v in batch.items()}
        if None in lengths.values() or len(set(lengths.values())) > 1:
            shown = ", ".join(
                f"{k!r}: {'a scalar' if n is None else f'length {n}'}" for k, n in lengths.items()
            )
            raise ValueError(f"batch values must all be arrays of one length B; got {shown}")
        B = next(iter(lengths.values())) if lengths else 1
        models = [models] * B
    else:
        models = list(models)
        if not models:
            raise ValueError("an empty list of models: a batch needs at least one member")
        B = len(models)
    if B < 1:
        raise ValueError("a batch needs at least one member")
    _same_structure(models)
    values = _resolve_batch(models, batch, B)

    geo = [m.morphology.geometry for m in models]
    stack = lambda attr: np.ascontiguousarray(np.stack([getattr(g, attr) for g in geo]))  # noqa: E731
    area = stack("area")
    double = geo[0].double
    empty = np.zeros((B, 0))

    celsius = np.array([m.celsius for m in models], dtype=float)
    if "celsius" in values:
        celsius = values["celsius"].copy()
    check_range("celsius", celsius, *TEMPERATURE_RANGE, unit="degC")
    v_init = np.array([m.v_init for m in models], dtype=float)
    if "v_init" in values:
        v_init = check_range("v_init", values["v_init"], -200.0, 100.0, unit="mV")
    if len({m.rest for m in models}) > 1:
        raise ValueError("batch members disagree on initialising at rest")
    if len({m.gating_shift for m in models}) > 1:
        raise ValueError("batch members disagree on the gating shift (one rate table per batch)")
    shift = float(models[0].gating_shift)

    cur_ptr, site_comp, gbar_cols, erev_cols = [0], [], [], []
    cur_gate_ptr, cur_gate, cur_gate_pow = [0], [], []
    gate_cur, gate_base, gate_mode, gate_form, gate_par, phi_cols = [], [], [], [], [], []
    currents, gates = [], []
    n_states = 0
    ref = models[0]
    for pi, pl in enumerate(ref.placements):
        mech = pl.mechanism
        comps = pl.comps
        ns = comps.shape[0]

        for cur in mech.currents:
            c = len(currents)
            sl = slice(cur_ptr[-1], cur_ptr[-1] + ns)
            currents.append((pi, mech.name, cur.name, cur.ion, sl))
            site_comp.append(comps)
            # density (S/cm2) * area (um2) * 1e-2 = uS
            gbar_cols.append(
                _member_values(models, pi, cur.gbar, values, B) * area[:, comps] * 1e-2
            )
            erev_cols.append(_member_values(models, pi, cur.erev, values, B))
            cur_ptr.append(cur_ptr[-1] + ns)
            for gname, power in cur.gates:
                gate = mech.gate(gname)
                cur_gate.append(len(gate_cur))
                cur_gate_pow.append(power)
                gates.append((pi, mech.name, gname, c))
                gate_cur.append(c)
                gate_base.append(n_states)
                n_states += ns
                gate_mode.append(gate.mode)
                gate_form.append((gate.first.code, gate.second.code))
                gate_par.append((_shifted(gate.first, shift), _shifted(gate.second, shift)))
                phi_cols.append(gate.phi(celsius))
            cur_gate_ptr.append(len(cur_gate))

    def arr(x, dtype, shape_if_empty):
        return (
            np.ascontiguousarray(np.array(x, dtype=dtype))
            if len(x)
            else np.zeros(shape_if_empty, dtype=dtype)
        )

    return KernelArrays(
        B=B,
        parent=geo[0].parent.copy(),
        area=area,
        position=stack("position"),
        cap=stack("cap"),
        gax=stack("gax"),
        capx=stack("capx") if double else empty,
        gxg=stack("gxg") if double else empty,
        gxa=stack("gxa") if double else empty,
        cur_ptr=np.array(cur_ptr, dtype=np.int64),
        site_comp=np.concatenate(site_comp).astype(np.int64)
        if site_comp
        else np.zeros(0, np.int64),
        gbar=np.ascontiguousarray(np.concatenate(gbar_cols, axis=1)) if gbar_cols else empty,
        erev=np.ascontiguousarray(np.concatenate(erev_cols, axis=1)) if erev_cols else empty,
        cur_gate_ptr=np.array(cur_gate_ptr, dtype=np.int64),
        cur_gate=arr(cur_gate, np.int64, 0),
        cur_gate_pow=arr(cur_gate_pow, np.int64, 0),
        gate_cur=arr(gate_cur, np.int64, 0),
        gate_base=arr(gate_base, np.int64, 0),
        gate_mode=arr(gate_mode, np.int64, 0),
        gate_form=arr(gate_form, np.int64, (0, 2)),
        gate_par=arr(gate_par, np.float64, (0, 2, 4)),
        phi=np.ascontiguousarray(np.stack(phi_cols, axis=1)) if phi_cols else np.zeros((B, 0)),
        celsius=celsius,
        v_init=v_init,
        rest=ref.rest,
        currents=currents,
        gates=gates,
    )
