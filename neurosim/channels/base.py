"""How a membrane mechanism is declared: parameters, gates, rates, currents.

A :class:`Mechanism` is the neurosim counterpart of a NEURON ``.mod`` file (NEURON's
``hh.mod`` is the model): named parameters with default, unit and valid range, gating
states with vectorised rate functions and a Q10 from a stated reference temperature, a
steady state to initialise them, and the ionic currents they gate. Everything is data,
so the compiled kernel can run any declared mechanism without code generation.

A subclass is not needed; a mechanism is an instance::

    HH = Mechanism(
        name="hh",
        params=(Param("gnabar", 0.12, "conductance_density", lo=0), ...),
        gates=(Gate("m", explinear(1.0, -40, 10), exp(4.0, -65, -18), q10=3, tref=6.3), ...),
        currents=(Current("ina", ion="na", gbar="gnabar", erev="ena", gates=(("m", 3), ("h", 1))), ...),
        citation="Hodgkin & Huxley 1952, J Physiol 117:500",
    )

Parameter names are namespaced by the framework (``"hh.gnabar"``) wherever a model file
or a batch refers to them; nobody formats those keys by hand (:meth:`Mechanism.key`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurosim.kernels import rates as _r
from neurosim.modelfile import Field

__all__ = [
    "Rate",
    "const",
    "exp",
    "sigmoid",
    "explinear",
    "bell",
    "Gate",
    "Param",
    "Current",
    "Mechanism",
    "IONS",
]

#: ions a current may carry; ``None`` marks a nonspecific current (e.g. a lumped leak)
IONS = ("na", "k", "ca", "cl")


@dataclass(frozen=True)
class Rate:
    """One standard rate form (see :mod:`neurosim.kernels.rates`); callable on voltages."""

    form: str
    p: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        if self.form not in _r.FORMS:
            raise ValueError(f"rate form {self.form!r} unknown; valid: {', '.join(_r.FORMS)}")
        if self.form in ("exp", "sigmoid", "explinear", "bell") and self.p[2] == 0:
            raise ValueError(f"{self.form} rate needs a non-zero scale, got {self.p}")
        if self.form == "bell" and self.p[3] == 0:
            raise ValueError(f"bell rate needs a non-zero second scale, got {self.p}")

    @property
    def code(self) -> int:
        return _r.FORMS[self.form]

    def __call__(self, v) -> np.ndarray:
        """Value at membrane potential ``v`` (mV); same code path as the kernels."""
        return _r.rate_array(self.code, self.p, v)


def const(value: float) -> Rate:
    """A voltage-independent value (a rate in 1/ms or a time constant in ms)."""
    return Rate("const", (float(value), 0.0, 0.0, 0.0))


def exp(rate: float, midpoint: float, scale: float) -> Rate:
    """``rate * exp((v - midpoint) / scale)`` (NeuroML HHExpRate)."""
    return Rate("exp", (float(rate), float(midpoint), float(scale), 0.0))


def sigmoid(rate: float, midpoint: float, scale: float) -> Rate:
    """``rate / (1 + exp(-(v - midpoint) / scale))`` (NeuroML HHSigmoidRate)."""
    return Rate("sigmoid", (float(rate), float(midpoint), float(scale), 0.0))


def explinear(rate: float, midpoint: float, scale: float) -> Rate:
    """``rate * x / (1 - exp(-x))``, ``x = (v - midpoint)/scale`` (NeuroML HHExpLinearRate).

    NEURON writes this as ``a * vtrap(-(v - midpoint), scale)`` with ``a = rate/scale``.
    """
    return Rate("explinear", (float(rate), float(midpoint), float(scale), 0.0))


def bell(rate: float, midpoint: float, scale_up: float, scale_down: float) -> Rate:
    """``rate / (exp((v - midpoint)/scale_up) + exp(-(v - midpoint)/scale_down))``."""
    return Rate("bell", (float(rate), float(midpoint), float(scale_up), float(scale_down)))


_GATE_KINDS = {"alpha_beta": 0, "inf_tau": 1}


@dataclass(frozen=True)
class Gate:
    """A gating variable ``x`` with ``dx/dt = phi (alpha (1 - x) - beta x)``.

    Parameters
    ----------
    name : str
        State name (``"m"``).
    first, second : Rate
        ``alpha`` and ``beta`` (1/ms) for ``kind="alpha_beta"``; the steady state and the
        time constant (ms) for ``kind="inf_tau"``.
    kind : {"alpha_beta", "inf_tau"}
    instantaneous : bool
        The gate sits at its steady state at every step (e.g. Na activation in
        single-compartment ion-dynamics models).
    q10, tref : float
        Temperature scaling ``phi = q10 ** ((celsius - tref) / 10)`` multiplies the rates
        (divides the time constant); ``tref`` in degC is the temperature the rates were
        fitted at.
    """

    name: str
    first: Rate
    second: Rate
    kind: str = "alpha_beta"
    instantaneous: bool = False
    q10: float = 1.0
    tref: float = 20.0

    def __post_init__(self) -> None:
        if self.kind not in _GATE_KINDS:
            raise ValueError(f"gate {self.name!r}: kind {self.kind!r} not in {list(_GATE_KINDS)}")
        if not (self.q10 > 0 and math.isfinite(self.q10)):
            raise ValueError(f"gate {self.name!r}: q10 = {self.q10!r} must be > 0")

    @property
    def mode(self) -> int:
        """Kernel code: 0 alpha/beta, 1 inf/tau, 2 and 3 their instantaneous versions."""
        return _GATE_KINDS[self.kind] + (2 if self.instantaneous else 0)

    def phi(self, celsius) -> np.ndarray:
        """Temperature factor multiplying the rates at ``celsius`` (degC)."""
        return self.q10 ** ((np.asarray(celsius, dtype=float) - self.tref) / 10.0)

    def inf(self, v) -> np.ndarray:
        """Steady state at ``v`` (mV); independent of temperature."""
        a = self.first(v)
        if self.kind == "inf_tau":
            return a
        return a / (a + self.second(v))

    def tau(self, v, celsius) -> np.ndarray:
        """Time constant (ms) at ``v`` (mV) and ``celsius`` (degC); 0 if instantaneous."""
        if self.instantaneous:
            return np.zeros_like(np.asarray(v, dtype=float))
        phi = self.phi(celsius)
        if self.kind == "inf_tau":
            return self.second(v) / phi
        return 1.0 / (phi * (self.first(v) + self.second(v)))


@dataclass(frozen=True)
class Param:
    """A mechanism parameter: default (internal units), dimension, allowed range, meaning."""

    name: str
    default: float
    dimension: str
    lo: float = -math.inf
    hi: float = math.inf
    doc: str = ""

    def field(self) -> Field:
        """The model-file schema entry for this parameter."""
        return Field(self.dimension, default=self.default, lo=self.lo, hi=self.hi, doc=self.doc)


@dataclass(frozen=True)
class Current:
    """An ohmic current ``gbar * prod(gate**power) * (v - erev)`` (outward positive).

    ``gbar`` and ``erev`` name parameters of the mechanism. ``ion`` is the carrier
    (``None`` for a nonspecific current); ion dynamics replace ``erev`` of ion-specific
    currents by the Nernst potential of that ion.
    """

    name: str
    ion: str | None
    gbar: str
    erev: str
    gates: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.ion is not None and self.ion not in IONS:
            raise ValueError(f"current {self.name!r}: ion {self.ion!r} not in {IONS} or None")
        for gate, power in self.gates:
            if not (isinstance(power, int) and 1 <= power <= 8):
                raise ValueError(f"current {self.name!r}: power of gate {gate!r} must be 1..8")


@dataclass(frozen=True)
class Mechanism:
    """A named set of gated currents with their parameters (one NEURON ``SUFFIX``)."""

    name: str
    params: tuple[Param, ...]
    currents: tuple[Current, ...]
    gates: tuple[Gate, ...] = ()
    citation: str = ""
    doc: str = ""
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pnames = [p.name for p in self.params]
        if len(set(pnames)) != len(pnames):
            raise ValueError(f"mechanism {self.name!r}: duplicate parameter names {pnames}")
        gnames = [g.name for g in self.gates]
        if len(set(gnames)) != len(gnames):
            raise ValueError(f"mechanism {self.name!r}: duplicate gate names {gnames}")
        used: dict[str, str] = {}
        for cur in self.currents:
            for pname in (cur.gbar, cur.erev):
                if pname not in pnames:
                    raise ValueError(
                        f"mechanism {self.name!r}: current {cur.name!r} refers to unknown "
                        f"parameter {pname!r}; parameters: {pnames}"
                    )
            for gname, _ in cur.gates:
                if gname not in gnames:
                    raise ValueError(
                        f"mechanism {self.name!r}: current {cur.name!r} uses unknown gate {gname!r}"
                    )
                if gname in used:
                    raise ValueError(
                        f"mechanism {self.name!r}: gate {gname!r} gates both {used[gname]!r} "
                        f"and {cur.name!r}; declare one gate per current"
                    )
                used[gname] = cur.name
        unused = set(gnames) - set(used)
        if unused:
            raise ValueError(f"mechanism {self.name!r}: gates {sorted(unused)} gate no current")
        self._index.update({p.name: p for p in self.params})
        self._index.update({"gate:" + g.name: g for g in self.gates})

    # -- names ---------------------------------------------------------------------------
    def key(self, pname: str) -> str:
        """Namespaced parameter key used by model files and batches: ``"hh.gnabar"``."""
        self.param(pname)
        return f"{self.name}.{pname}"

    def param(self, pname: str) -> Param:
        try:
            return self._index[pname]
        except KeyError:
            valid = ", ".join(p.name for p in self.params)
            raise ValueError(
                f"mechanism {self.name!r} has no parameter {pname!r}; valid: {valid}"
            ) from None

    def gate(self, gname: str) -> Gate:
        try:
            return self._index["gate:" + gname]
        except KeyError:
            raise ValueError(f"mechanism {self.name!r} has no gate {gname!r}") from None

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def schema(self) -> dict[str, Field]:
        """Model-file schema of this mechanism's parameter table."""
        return {p.name: p.field() for p in self.params}

    # -- reference (numpy) evaluation, used for steady states, tests and plots ------------
    def steady_state(self, v) -> dict[str, np.ndarray]:
        """Every gate at its steady state at ``v`` (mV)."""
        return {g.name: g.inf(v) for g in self.gates}

    def conductance(self, cur: Current, values: dict, states: dict) -> np.ndarray:
        """Conductance density (S/cm2) of one current for parameter values and gate states."""
        g = np.asarray(values.get(cur.gbar, self.param(cur.gbar).default), dtype=float)
        for gname, power in cur.gates:
            g = g * np.asarray(states[gname]) ** power
        return g

    def current_density(self, v, values: dict | None = None, states: dict | None = None):
        """Total outward current density (mA/cm2) at ``v``; steady-state gates by default."""
        values = values or {}
        states = states if states is not None else self.steady_state(v)
        total = 0.0
        for cur in self.currents:
            e = values.get(cur.erev, self.param(cur.erev).default)
            total = total + self.conductance(cur, values, states) * (np.asarray(v) - e)
        return total
