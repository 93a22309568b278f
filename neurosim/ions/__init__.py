"""Ion and oxygen dynamics: the slow layer of an axon batch.

Where ions live
---------------
Concentrations live in *pools* that are taken as well mixed. Intracellular pools (one
per node of Ranvier for a myelinated axon: the node and the half internodes on either
side, about a millimetre; one per compartment otherwise) hold [Na]i, [K]i and O2.
Extracellular pools hold [Na]o and [K]o. A myelinated axon has two per node unit:

- the *endoneurial* space around the node, which exchanges with the blood (at a rate
  that scales with blood flow) and with flow-independent sources (CSF for a nerve root),
  and where glial (Schwann cell) uptake acts;
- the *periaxonal* space between axolemma and myelin along the internode: a film
  nanometres thick, so its volume is tiny, and it exchanges only with the endoneurial
  space, slowly, through the paranodal junctions. K released by internodal channels
  accumulates here; this is where raised [K]o reverses the post-ischaemic
  hyperpolarisation (Mogyoros et al. 2000, Muscle Nerve 23:310).

Other cables have one extracellular pool per intracellular pool.

What moves ions
---------------
Reversal potentials follow the concentrations (Nernst). The Na/K pump (3 Na out, 2 K
in) is electrogenic and enters the voltage equation as a steady outward current; its
rate falls with O2 (Wei, Ullah & Schiff 2014, J Neurosci 34:11733) and rises with
[Na]i and [K]o (Cressman et al. 2009, J Comput Neurosci 26:159). Each compartment's
net membrane current (ionic + pump + capacitive) is its axial inflow; it is booked as
K+, the main carrier of axoplasmic current, entering the intracellular pool and leaving
the extracellular pool. This keeps ions exactly conserved.

Two ways to specify the pump (``[ions] mode``):

``"balanced"`` (axon models)
    The published axon models have lumped, nonspecific leaks and no pump. At the
    model's resting state every compartment is put in ionic steady state: its leak is
    split into Na and K parts with a reversal ``E_L'`` and a resting pump current
    ``I_p = g_L (E_L' - E_L)`` is added, so that ``g_L (v - E_L') + I_p = g_L (v - E_L)``
    at every v (the published electrical model, exactly), with ``E_L'`` solved from the
    compartment's Na balance ``I_Na + w g_L (v - E_Na) + 3 I_p = 0``; K then balances
    with the axial current. The pump and O2 use are expressed relative to this baseline.
``"explicit"`` (published ion models such as Cressman 2009)
    Pump rate (mM/s of cycles per intracellular volume), glial uptake and diffusion are
    given as in the paper.

Currents of other ions (Ca, Cl) keep fixed reversals and are not booked. A
nonspecific gated current (e.g. HCN) is booked to Na and K by the fraction
``w = (E - E_K)/(E_Na - E_K)`` of its reversal, which then follows the concentrations
as ``w E_Na + (1 - w) E_K``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.kernels import ions as K
from neurosim.modelfile import Field, read_table
from neurosim.validate import check_positive

__all__ = [
    "ION_FIELDS",
    "IonParams",
    "IonLayer",
    "PoolLayout",
    "read_ions",
    "site_conductance",
    "SPECIES",
]

_POS = {"lo": 0.0, "lo_open": True}
_NONNEG = {"lo": 0.0}

#: the concentrations of a pool (mM)
SPECIES = ("nai", "ki", "nao", "ko", "o2")

ION_FIELDS = {
    "mode": Field(
        "str",
        default="balanced",
        choices=("balanced", "explicit"),
        doc="pump from the resting balance, or given explicitly",
    ),
    "pools": Field(
        "str",
        default="auto",
        choices=("auto", "node", "compartment"),
        doc="well-mixed units: per node of Ranvier, or per compartment",
    ),
    "periaxonal": Field(
        "bool", default=True, doc="separate periaxonal pools on myelinated axons (node pools)"
    ),
    "periaxonal_exchange": Field(
        "rate",
        default=5e-5,
        **_NONNEG,
        doc="periaxonal <-> endoneurial exchange (paranodal junction)",
    ),
    "periaxonal_volume_scale": Field(
        "float", default=1.0, **_POS, doc="periaxonal volume relative to the geometric film"
    ),
    "nao": Field("concentration", default=145.0, **_POS, doc="bath/plasma [Na]"),
    "ko": Field("concentration", default=4.0, **_POS, doc="bath/plasma [K]"),
    "nai": Field(
        "concentration",
        default=None,
        **_POS,
        doc="initial [Na]i (default: from the model's E_Na by Nernst)",
    ),
    "ki": Field(
        "concentration",
        default=None,
        **_POS,
        doc="initial [K]i (default: from the model's E_K by Nernst)",
    ),
    "volume_ratio": Field(
        "float", default=7.0, **_POS, doc="intracellular / extracellular volume (Cressman beta)"
    ),
    "volume_to_area": Field(
        "length",
        default=None,
        **_POS,
        doc="intracellular volume per membrane area (default: geometry)",
    ),
    "diffusion": Field(
        "rate",
        default=1.33e-3,
        **_NONNEG,
        doc="extracellular exchange with the blood/bath at full flow",
    ),
    "diffusion_csf": Field(
        "rate", default=0.0, **_NONNEG, doc="flow-independent exchange (CSF, neighbouring tissue)"
    ),
    "glia_rate": Field("flux", default=66.7, **_NONNEG, doc="maximal glial K uptake"),
    "glia_half": Field("concentration", default=18.0, doc="[K]o of half-maximal uptake"),
    "glia_slope": Field("concentration", default=2.5, **_POS, doc="uptake slope"),
    "pump_rate": Field(
        "flux", default=1.25, **_NONNEG, doc="maximal pump rate (explicit mode; cycles per volume)"
    ),
    "pump_na_half": Field("concentration", default=25.0, doc="[Na]i of half activation"),
    "pump_na_slope": Field("concentration", default=3.0, **_POS, doc="Na activation slope"),
    "pump_k_half": Field("concentration", default=5.5, doc="[K]o of half activation"),
    "pump_k_slope": Field("concentration", default=1.0, **_POS, doc="K activation slope"),
    "electrogenic": Field("bool", default=True, doc="pump current in the voltage equation"),
    "conservation": Field(
        "str",
        default="explicit",
        choices=("explicit", "cressman"),
        doc="book [K]i and [Na]o by fluxes, or Cressman's closure",
    ),
    "oxygen": Field("bool", default=True, doc="O2 dynamics and O2-dependent pump"),
    "o2_arterial": Field("oxygen", default=1.0, **_POS, doc="O2 of the supply (32 mg/L)"),
    "o2_baseline": Field("oxygen", default=0.875, **_POS, doc="tissue O2 at full flow (28 mg/L)"),
    "o2_half": Field("oxygen", default=0.625, **_POS, doc="O2 of half pump rate (20 mg/L)"),
    "o2_slope": Field("oxygen", default=0.09375, **_POS, doc="pump O2 slope (3 mg/L)"),
    "pump_anaerobic": Field(
        "float",
        default=0.0,
        lo=0.0,
        hi=1.0,
        doc="fraction of the pump rate kept by glycolysis at zero O2",
    ),
    "o2_exchange": Field(
        "rate", default=1.7e-4, **_NONNEG, doc="O2 exchange with the blood at full flow"
    ),
    "o2_exchange_csf": Field("rate", default=0.0, **_NONNEG, doc="flow-independent O2 exchange"),
}


@dataclass(frozen=True)
class IonParams:
    """Checked ``[ions]`` table in internal units (see :data:`ION_FIELDS`)."""

    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def read_ions(table: dict, where: str = "ions") -> IonParams:
    """Check an ``[ions]`` table; returns :class:`IonParams`."""
    p = read_table(table, ION_FIELDS, where)
    if p["oxygen"] and p["o2_baseline"] >= p["o2_arterial"]:
        raise ValueError(
            f"`{where}.o2_baseline` = {p['o2_baseline']:g} mM must be below "
            f"`{where}.o2_arterial` = {p['o2_arterial']:g} mM (tissue consumes O2)"
        )
    return IonParams(p)


def site_conductance(k, gstate: np.ndarray) -> np.ndarray:
    """Conductance (uS) of every channel site at the given gate states, shape (B, S)."""
    g = k.gbar.copy()
    for c in range(len(k.cur_ptr) - 1):
        s0, s1 = k.cur_ptr[c], k.cur_ptr[c + 1]
        for j in range(k.cur_gate_ptr[c], k.cur_gate_ptr[c + 1]):
            base = k.gate_base[k.cur_gate[j]]
            g[:, s0:s1] *= gstate[:, base : base + s1 - s0] ** k.cur_gate_pow[j]
    return g


# site classes
_NA, _K, _FIXED, _MIXED = 0, 1, 2, 3

#: longest internal step (ms) of the concentration equations within a slow step. Each
#: substep is exact for the linear part (exponential relaxation to the partner pool,
#: implicit Nernst feedback of the thin films); what it resolves is the drift of the
#: pump and glial rates with the concentrations, slow (seconds) outside firing. 100 ms
#: agrees with 10 ms to well under 1% of every excursion (tests/test_ions.py).
SUBSTEP = 100.0

#: feedback rate x substep above which an extracellular pool is advanced implicitly
_STIFF = 0.2


def _pool_sum(values: np.ndarray, pool: np.ndarray, n_pools: int) -> np.ndarray:
    """Sum (B, m) values into (B, n_pools) by the pool index of each column (in column
    order, as ``np.add.at`` would, but an order of magnitude faster)."""
    B = values.shape[0]
    idx = (pool[None, :] + n_pools * np.arange(B)[:, None]).ravel()
    return np.bincount(idx, weights=values.ravel(), minlength=B * n_pools).reshape(B, n_pools)


@dataclass
class PoolLayout:
    """Where the ions of a batch live (see the module docstring).

    Attributes
    ----------
    pool_i : int array (n,)
        Intracellular pool (= node unit) of each compartment; P pools.
    pool_o : int array (n,)
        Extracellular pool of each compartment; Q pools.
    o_parent : int array (Q,)
        -1 for a pool that exchanges with blood/bath; else the extracellular pool it
        exchanges with (a periaxonal pool's endoneurial pool).
    o_unit : int array (Q,)
        Intracellular pool (unit) whose blood flow an extracellular pool sees.
    volume : float array (B, n)
        Axoplasm volume of each compartment (um3).
    area : float array (B, n)
        Axolemma area of each compartment (um2).
    o_volume : float array (B, Q)
        Volume of each extracellular pool (um3); endoneurial pools may be left NaN, to
        be set to the unit's axoplasm / ``volume_ratio``.
    """

    pool_i: np.ndarray
    pool_o: np.ndarray
    o_parent: np.ndarray
    o_unit: np.ndarray
    volume: np.ndarray
    area: np.ndarray
    o_volume: np.ndarray


class IonLayer:
    """Concentrations and O2 of a :class:`~neurosim.simulate.cable.CableSimulation` batch.

    Parameters
    ----------
    sim : CableSimulation
        The fast layer; its reversal potentials and ``i_extra`` are written here.
    params : IonParams
    layout : PoolLayout
    """

    def __init__(self, sim, params: IonParams, layout: PoolLayout):
        self.sim = sim
        self.p = params
        k = sim.k
        B, n = k.B, k.n
        L = layout
        for name in ("volume", "area"):
            if getattr(L, name).shape != (B, n):
                raise ValueError(f"`{name}` has shape {getattr(L, name).shape}; expected {(B, n)}")
        self.pool = np.asarray(L.pool_i, dtype=np.int64)  # the node units
        self.pool_o = np.asarray(L.pool_o, dtype=np.int64)
        self.P = int(self.pool.max()) + 1
        self.Q = int(self.pool_o.max()) + 1
        self.o_parent = np.asarray(L.o_parent, dtype=np.int64)
        self.o_unit = np.asarray(L.o_unit, dtype=np.int64)
        self.to_bath = self.o_parent < 0
        self.comp_area = np.asarray(L.area, dtype=float)
        self.comp_volume = np.asarray(L.volume, dtype=float)
        self.vol_i = _pool_sum(np.asarray(L.volume, dtype=float), self.pool, self.P)
        if (self.vol_i <= 0).any():
            raise ValueError("every intracellular pool needs a positive volume")
        vo = np.array(L.o_volume, dtype=float)
        unit_default = (self.vol_i / params.volume_ratio)[:, self.o_unit]
        self.vol_o = np.where(np.isnan(vo), unit_default, vo)
        if (self.vol_o <= 0).any():
            raise ValueError("every extracellular pool needs a positive volume")
        self.celsius = k.celsius[:, None]
        self.comp = k.site_comp
        self.has = self.comp_area > 0  # compartments with membrane

        # classify every site: Na, K, fixed-reversal ion, or nonspecific (mixed Na/K)
        S = k.site_comp.shape[0]
        self.site_class = np.full(S, _FIXED, dtype=np.int64)
        self.site_leak = np.zeros(S, dtype=bool)
        for c, (_, _, _, ion, sl) in enumerate(k.currents):
            self.site_class[sl] = {"na": _NA, "k": _K, None: _MIXED}.get(ion, _FIXED)
            if ion is None and k.cur_gate_ptr[c + 1] == k.cur_gate_ptr[c]:
                self.site_leak[sl] = True

        # initial concentrations: the model's own E_Na and E_K (first Na / K site)
        rtf = K.rt_over_f(self.celsius)
        self.nao = np.full((B, self.Q), params.nao)
        self.ko = np.full((B, self.Q), params.ko)
        ena0 = self._first_erev(_NA, 50.0)
        ek0 = self._first_erev(_K, -90.0)
        shape = (B, self.P)
        self.nai = (
            np.full(shape, params.nai)
            if params.nai
            else np.broadcast_to(params.nao * np.exp(-ena0 / rtf), shape).copy()
        )
        self.ki = (
            np.full(shape, params.ki)
            if params.ki
            else np.broadcast_to(params.ko * np.exp(-ek0 / rtf), shape).copy()
        )
        self.o2 = np.full(shape, params.o2_baseline if params.oxygen else params.o2_arterial)
        self.baseline = {s: getattr(self, s).copy() for s in SPECIES}
        # nonspecific sites: Na fraction of their published reversal
        ena_c, ek_c = self.reversals()
        ena_s, ek_s = ena_c[:, self.comp], ek_c[:, self.comp]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.w = np.clip((k.erev - ek_s) / (ena_s - ek_s), 0.0, 1.0)
        self.w[:, self.site_class != _MIXED] = 0.0
        self.i_pump0 = np.zeros((B, n))  # balanced mode: resting pump per compartment (nA)
        self.activity0 = self.pump_activity()
        self.oxidative0 = self._ion_activity() * self._oxidative()
        self.axial = np.zeros((B, n))  # mean axial inflow of the last window (nA)
        #: amounts (mM um3) that have left the pools to the blood/bath and into glia
        self.ledger = {
            "na_bath": np.zeros((B, self.Q)),
            "k_bath": np.zeros((B, self.Q)),
            "k_glia": np.zeros((B, self.Q)),
        }

    # -- helpers ----------------------------------------------------------------------
    def _first_erev(self, cls: int, default: float) -> np.ndarray:
        idx = np.flatnonzero(self.site_class == cls)
        if idx.size == 0:
            return np.full((self.sim.k.B, 1), default)
        return self.sim.k.erev[:, idx[0] : idx[0] + 1]

    def reversals(self) -> tuple[np.ndarray, np.ndarray]:
        """Nernst E_Na and E_K (mV) at every compartment, shape (B, n)."""
        ena = K.nernst(self.nao[:, self.pool_o], self.nai[:, self.pool], 1, self.celsius)
        ek = K.nernst(self.ko[:, self.pool_o], self.ki[:, self.pool], 1, self.celsius)
        return ena, ek

    def pool_reversals(self) -> tuple[np.ndarray, np.ndarray]:
        """E_Na and E_K (mV) against each unit's endoneurial (or only) extracellular
        pool, shape (B, P): the values to report per unit."""
        first_o = np.zeros(self.P, dtype=np.int64)
        for q in range(self.Q - 1, -1, -1):
            if self.to_bath[q]:
                first_o[self.o_unit[q]] = q
        ena = K.nernst(self.nao[:, first_o], self.nai, 1, self.celsius)
        ek = K.nernst(self.ko[:, first_o], self.ki, 1, self.celsius)
        return ena, ek

    def _ion_activity(self) -> np.ndarray:
        """f([Na]i) f([K]o) of the pump at each compartment, shape (B, n)."""
        p = self.p
        return K.logistic(self.nai[:, self.pool], p.pump_na_half, p.pump_na_slope) * K.logistic(
            self.ko[:, self.pool_o], p.pump_k_half, p.pump_k_slope
        )

    def _oxidative(self) -> np.ndarray:
        """The O2-dependent (oxidative) factor of the pump at each compartment, (B, n).

        Wei et al.'s logistic, shifted and rescaled to be exactly 0 at zero O2: no
        oxidative ATP and no O2 use, so O2 decays to 0, never below.
        """
        p = self.p
        at0 = K.logistic(0.0, p.o2_half, p.o2_slope)
        o2 = self.o2[:, self.pool]
        return (K.logistic(o2, p.o2_half, p.o2_slope) - at0) / (1.0 - at0)

    def pump_activity(self) -> np.ndarray:
        """Pump rate relative to its maximum at each compartment,
        f([Na]i) f([K]o) (a + (1 - a) f(O2)) with ``a`` the anaerobic (glycolytic)
        fraction, shape (B, n)."""
        p = self.p
        f = self._ion_activity()
        if p.oxygen:
            a = p.pump_anaerobic
            f = f * (a + (1.0 - a) * self._oxidative())
        return f

    def compartment_pump(self) -> np.ndarray:
        """Pump current at every compartment (nA, outward: one net charge per cycle)."""
        act = self.pump_activity()
        if self.p.mode == "explicit":
            # cycles per volume (mM/ms) -> charge per time (nA): F V 1e-6
            return self.p.pump_rate * 1e-3 * act * K.FARADAY * self.comp_volume * 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.i_pump0 > 0, self.i_pump0 * act / self.activity0, 0.0)

    def pump_current(self) -> np.ndarray:
        """Pump current of each intracellular pool (nA), shape (B, P)."""
        return _pool_sum(self.compartment_pump(), self.pool, self.P)

    # -- baseline balance (balanced mode) --------------------------------------------
    def balance(self) -> None:
        """Split leaks and set the resting pump of every compartment so that the present
        (resting) state is an ionic steady state with unchanged electrical behaviour.

        Per compartment c with leak conductance g_L and published reversal E0: the leak
        Na fraction w gives E' = w E_Na + (1 - w) E_K and the pump I_p = g_L (E' - E0);
        the Na balance ``I_Na + w g_L (v - E_Na) + 3 I_p = 0`` is linear in w.
        """
        sim, k = self.sim, self.sim.k
        n = k.n
        g = site_conductance(k, sim.gstate)
        ena_c, ek_c = self.reversals()
        ena = ena_c[:, self.comp]
        v = sim.v[:, self.comp]
        cls, leak = self.site_class, self.site_leak
        gated_mixed = (cls == _MIXED) & ~leak
        i_na_s = np.where(cls == _NA, g * (v - ena), 0.0)
        i_na_s += np.where(gated_mixed, self.w * g * (v - ena), 0.0)
        i_na = _pool_sum(i_na_s, self.comp, n)
        g_leak = _pool_sum(np.where(leak, g, 0.0), self.comp, n)
        # g-weighted published leak reversal of each compartment
        with np.errstate(divide="ignore", invalid="ignore"):
            e0 = _pool_sum(np.where(leak, g * k.erev, 0.0), self.comp, n) / g_leak
        vc = sim.v
        # w gL (v - ENa) + 3 gL (w (ENa - EK) + EK - E0) = -I_Na
        coef = g_leak * (vc - ena_c) + 3.0 * g_leak * (ena_c - ek_c)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = (-i_na - 3.0 * g_leak * (ek_c - e0)) / coef
            ip = g_leak * (w * ena_c + (1 - w) * ek_c - e0)
        # compartments whose axolemma is gone (a fully bared paranode: its membrane now
        # belongs to the node) carry no current and need no balance
        g_any = _pool_sum(g, self.comp, n)
        need = self.has & (g_any > 0)
        no_leak = need & (g_leak <= 0)
        if no_leak.any():
            b, c = np.argwhere(no_leak)[0]
            raise ValueError(
                f"compartment {sim.morphology.label(int(c))} has membrane but no leak: the "
                f"balanced pump needs a leak in every compartment to keep the rest unchanged"
            )
        bad = need & ~((w >= 0) & (w <= 1) & (ip >= 0) & np.isfinite(ip))
        if bad.any():
            b, c = np.argwhere(bad)[0]
            raise ValueError(
                f"cannot balance ions at rest in member {b}, compartment "
                f"{sim.morphology.label(int(c))}: leak Na fraction {w[b, c]:.3g} (allowed "
                f"0-1), pump {ip[b, c]:.3g} nA (allowed >= 0); the resting state needs more "
                f"Na influx than its leak and a pump can balance"
            )
        w_site = np.where(need, w, 0.5)[:, self.comp]  # bared compartments: g = 0, any w
        self.w = np.where(leak, w_site, self.w)
        self.i_pump0 = np.where(need, ip, 0.0)
        self.activity0 = self.pump_activity()
        self.oxidative0 = self._ion_activity() * self._oxidative()
        self.apply()

    # -- coupling to the fast layer -----------------------------------------------------
    def apply(self) -> None:
        """Write reversal potentials and the pump current into the fast layer."""
        k = self.sim.k
        ena_c, ek_c = self.reversals()
        ena, ek = ena_c[:, self.comp], ek_c[:, self.comp]
        cls = self.site_class
        na, kk, mixed = cls == _NA, cls == _K, cls == _MIXED
        k.erev[:, na] = ena[:, na]
        k.erev[:, kk] = ek[:, kk]
        k.erev[:, mixed] = self.w[:, mixed] * ena[:, mixed] + (1 - self.w[:, mixed]) * ek[:, mixed]
        self.sim.i_extra[:] = self.compartment_pump() if self.p.electrogenic else 0.0

    def start_window(self) -> None:
        """Zero the fast layer's charge accumulators and switch accumulation on."""
        self.sim.q_acc[:] = 0.0
        self.sim.g_acc[:] = 0.0
        self.sim.accumulate = True
        ena, ek = self.reversals()
        self._window_e = (ena[:, self.comp], ek[:, self.comp])
        self._window_v = self.sim.v.copy()

    def end_window(self, duration: float):
        """Mean Na and K currents (nA, outward +) and conductances (uS) per compartment
        over the window just integrated, each (B, n); also sets :attr:`axial`, the mean
        axial inflow of charge into each compartment (nA)."""
        sim = self.sim
        n = sim.k.n
        q, gint = sim.q_acc, sim.g_acc
        ena, ek = self._window_e
        cls, w = self.site_class, self.w
        split = w * (1 - w) * (ek - ena) * gint
        mixed = cls == _MIXED
        q_na = np.where(cls == _NA, q, 0.0) + np.where(mixed, w * q + split, 0.0)
        q_k = np.where(cls == _K, q, 0.0) + np.where(mixed, (1 - w) * q - split, 0.0)
        g_na = np.where(cls == _NA, gint, 0.0) + np.where(mixed, w * gint, 0.0)
        g_k = np.where(cls == _K, gint, 0.0) + np.where(mixed, (1 - w) * gint, 0.0)
        out = tuple(_pool_sum(x / duration, self.comp, n) for x in (q_na, q_k, g_na, g_k))
        # net membrane current of each compartment = its axial inflow (Kirchhoff)
        membrane = _pool_sum(q / duration, self.comp, n)
        membrane += sim.i_extra + sim.k.cap * (sim.v - self._window_v) / duration
        self.axial = membrane
        return out

    # -- the slow step ----------------------------------------------------------------
    def _fluxes(self, currents, ena_w, ek_w):
        """Na and K leaving the cell at every compartment (nA), pump included: (B, n)."""
        i_na0, i_k0, g_na, g_k = currents
        ena, ek = self.reversals()
        pump = self.compartment_pump()
        na_out = i_na0 + g_na * (ena_w - ena) + 3.0 * pump
        k_out = i_k0 + g_k * (ek_w - ek) - 2.0 * pump - self.axial
        return na_out, k_out

    def _exchange_rates(self, flow):
        """Per extracellular pool: rate (1/ms) of exchange with its partner, (B, Q)."""
        p = self.p
        flow_q = np.broadcast_to(np.asarray(flow, dtype=float), (self.sim.k.B, self.P))
        flow_q = flow_q[:, self.o_unit]
        bath = p.diffusion_csf + p.diffusion * flow_q
        return np.where(self.to_bath, bath, p.periaxonal_exchange)

    def _o2_use(self) -> np.ndarray:
        """O2 use per pool (mM/ms): the baseline use scaled by the pool's oxidative pump
        activity (the glycolytic fraction uses no O2)."""
        p = self.p
        use0 = (p.o2_exchange_csf + p.o2_exchange) * (p.o2_arterial - p.o2_baseline)
        act = _pool_sum(
            self._ion_activity() * self._oxidative() * self.comp_area, self.pool, self.P
        )
        act0 = _pool_sum(self.oxidative0 * self.comp_area, self.pool, self.P)
        return use0 * act / np.where(act0 > 0, act0, 1.0)

    def rates(self, currents, flow=1.0) -> dict[str, np.ndarray]:
        """Rates of change (mM/ms) of [Na]i (B, P), [K]o (B, Q) and O2 (B, P) at the
        present state with the window's mean currents: what sizes the slow step."""
        ena, ek = self.reversals()
        na_out, k_out = self._fluxes(currents, ena, ek)
        eps = self._exchange_rates(flow)
        partner = np.where(self.to_bath, self.p.ko, self.ko[:, np.maximum(self.o_parent, 0)])
        out = {
            "nai": -_pool_sum(na_out, self.pool, self.P) * 1e6 / (K.FARADAY * self.vol_i),
            "ko": _pool_sum(k_out, self.pool_o, self.Q) * 1e6 / (K.FARADAY * self.vol_o)
            - self._glia()
            - eps * (self.ko - partner),
        }
        if self.p.oxygen:
            flow_p = np.broadcast_to(np.asarray(flow, dtype=float), self.nai.shape)
            eps_o2 = self.p.o2_exchange_csf + self.p.o2_exchange * flow_p
            out["o2"] = -self._o2_use() + eps_o2 * (self.p.o2_arterial - self.o2)
        return out

    def step(self, dt: float, currents, flow=1.0, substep: float | None = None) -> None:
        """Advance concentrations and O2 by ``dt`` (ms) with the fast layer's mean currents.

        Parameters
        ----------
        dt : float
            Slow step (ms).
        currents : tuple
            ``(i_na, i_k, g_na, g_k)`` from :meth:`end_window` (nA, uS; (B, n)). Within
            the step the currents follow the reversal potentials linearly,
            ``I = I_window + g (E_window - E)``, at the window's voltage.
        flow : float or ndarray (B, P)
            Blood flow relative to normal per unit; scales exchange with the blood.
        substep : float, optional
            Longest internal step (ms) of the concentration equations (default
            :data:`SUBSTEP`).
        """
        p = self.p
        ena_w, ek_w = self.reversals()
        flow_p = np.broadcast_to(np.asarray(flow, dtype=float), self.nai.shape)
        eps = self._exchange_rates(flow)
        eps_o2 = p.o2_exchange_csf + p.o2_exchange * flow_p
        substep = SUBSTEP if substep is None else float(check_positive("substep", substep, "ms"))
        n_sub = max(1, int(np.ceil(dt / substep)))
        h = dt / n_sub
        g_na = _pool_sum(currents[2], self.pool_o, self.Q)  # uS per extracellular pool
        g_k = _pool_sum(currents[3], self.pool_o, self.Q)
        for _ in range(n_sub):
            na_out, k_out = self._fluxes(currents, ena_w, ek_w)
            if p.conservation == "cressman":
                self.nai = self.nai - _pool_sum(na_out, self.pool, self.P) * self._to_i * h
                self.ki = self.baseline["ki"] + self.baseline["nai"] - self.nai
                self.nao = (
                    self.baseline["nao"]
                    - p.volume_ratio * (self.nai - self.baseline["nai"])[:, self.o_unit]
                )
                moved_k = self._extracellular("ko", k_out, g_k, eps, p.ko, h, glia=True)
            else:
                moved_na = self._extracellular("nao", na_out, g_na, eps, p.nao, h)
                moved_k = self._extracellular("ko", k_out, g_k, eps, p.ko, h, glia=True)
                # the cell loses exactly what crossed into its extracellular pools
                self.nai = self.nai - _pool_sum(moved_na, self.o_unit, self.P) / self.vol_i
                self.ki = self.ki - _pool_sum(moved_k, self.o_unit, self.P) / self.vol_i
            if p.oxygen:
                self.o2 = K.relax(self.o2, -self._o2_use(), eps_o2, p.o2_arterial, h)
        self._check()
        self.apply()

    @property
    def _to_i(self) -> np.ndarray:
        return 1e6 / (K.FARADAY * self.vol_i)  # nA -> mM/ms per intracellular pool

    def _extracellular(self, name, out_c, g, eps, bath, h, glia=False) -> np.ndarray:
        """Advance one extracellular species over ``h``; return the amount (mM um3, (B,
        Q)) that crossed the membrane into each pool (channels, pump, axial booking).

        The membrane source is linearised in the pool's own concentration through the
        Nernst potential (``d I / d c = -g RT/(F c)``): the periaxonal film is so thin
        that this feedback acts in milliseconds, and an explicit step would oscillate.
        Each pool relaxes toward its partner (the bath, or for a film its endoneurial
        pool; films first) with rate ``eps + lambda``; the amount exchanged with the
        partner is integrated exactly, and the membrane amount is what remains of the
        change, so cell, pools, bath and glia balance to round-off.
        """
        c = getattr(self, name)
        to_o = 1e6 / (K.FARADAY * self.vol_o)
        rtf = K.rt_over_f(self.celsius)
        source = _pool_sum(out_c, self.pool_o, self.Q) * to_o  # mM/ms at the present c
        lam = g * rtf / c * to_o  # restoring rate of the Nernst feedback (1/ms)
        if name == "ko":
            # the pump takes up 2 K per cycle and speeds up with [K]o: dI_p/dK = I_p (1 -
            # f_K) / slope, another restoring rate of the film's K
            f_k = K.logistic(c[:, self.pool_o], self.p.pump_k_half, self.p.pump_k_slope)
            dpump = self.compartment_pump() * (1.0 - f_k) / self.p.pump_k_slope
            lam = lam + 2.0 * _pool_sum(dpump, self.pool_o, self.Q) * to_o
        # implicit only where an explicit step would not resolve the feedback (the thin
        # periaxonal films); the linearisation holds the voltage fixed, which overstates
        # the feedback where the membrane potential follows the reversal potential
        lam = np.where(lam * h > _STIFF, lam, 0.0)
        glia_rate = self._glia() if glia else np.zeros_like(c)
        new = c.copy()
        membrane = np.zeros_like(c)
        inflow = np.zeros_like(c)  # from films into their endoneurial pool (mM/ms)
        child = ~self.to_bath
        for group in (child, self.to_bath):
            if not group.any():
                continue
            partner = np.where(self.to_bath, bath, c[:, np.maximum(self.o_parent, 0)])
            src = source + lam * (c - partner) - glia_rate + inflow
            c_new, integral = K.relax_integral(c, src, lam + eps, partner, h)
            exchanged = eps * integral * self.vol_o  # left to the partner
            new = np.where(group, c_new, new)
            # membrane amount: change + exchanged + glia - film inflow
            mem = (c_new - c) * self.vol_o + exchanged + (glia_rate - inflow) * h * self.vol_o
            membrane = np.where(group, mem, membrane)
            if group is child:
                inflow += _pool_sum(
                    exchanged[:, child] / (h * self.vol_o[:, self.o_parent[child]]),
                    self.o_parent[child],
                    inflow.shape[1],
                )
            else:
                key = "na_bath" if name == "nao" else "k_bath"
                self.ledger[key] += np.where(group, exchanged, 0.0)
                if glia:
                    self.ledger["k_glia"] += np.where(group, glia_rate * h * self.vol_o, 0.0)
        setattr(self, name, new)
        return membrane

    def _glia(self) -> np.ndarray:
        """Glial K uptake (mM/ms) of endoneurial pools; in balanced mode only the part
        above baseline. Shape (B, Q)."""
        p = self.p
        up = p.glia_rate * 1e-3 * K.logistic(self.ko, p.glia_half, p.glia_slope)
        if p.mode == "balanced":
            up = up - p.glia_rate * 1e-3 * K.logistic(
                self.baseline["ko"], p.glia_half, p.glia_slope
            )
        return np.where(self.to_bath, up, 0.0)

    def content(self) -> dict[str, np.ndarray]:
        """Amount of Na and K (mM um3) of each batch member, shape (B,): in the cell and
        extracellular pools, plus what has left them to the blood/bath and into glia (the
        :attr:`ledger`). With ``conservation = "explicit"`` these are constant."""
        led = {k: v.sum(axis=1) for k, v in self.ledger.items()}
        return {
            "na": (self.nai * self.vol_i).sum(axis=1)
            + (self.nao * self.vol_o).sum(axis=1)
            + led["na_bath"],
            "k": (self.ki * self.vol_i).sum(axis=1)
            + (self.ko * self.vol_o).sum(axis=1)
            + led["k_bath"]
            + led["k_glia"],
        }

    def _check(self) -> None:
        for name in SPECIES:
            arr = getattr(self, name)
            bad = ~np.isfinite(arr) | (arr <= 0)
            if bad.any():
                b, q = np.argwhere(bad)[0]
                raise FloatingPointError(
                    f"[{name}] became {arr[b, q]:.4g} mM (non-positive or non-finite) in "
                    f"member {b}, pool {q}; the slow step is too long for these fluxes or "
                    f"the model is out of balance"
                )
