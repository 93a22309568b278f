"""Ion and oxygen dynamics: the slow layer of an axon batch.

Concentrations live in *pools*: groups of compartments whose axoplasm and surrounding
extracellular space are taken as well mixed. The default for a myelinated axon is one
pool per node of Ranvier (the node and the half internodes on either side, about a
millimetre: intracellular diffusion of Na over the node-paranode distance takes
milliseconds, the slow layer's changes take seconds to minutes); for other cables one
pool per compartment. Per pool (batch, pool): [Na]i, [K]i, extracellular [Na]o, [K]o,
and dissolved O2.

Reversal potentials follow the concentrations (Nernst). The Na/K pump (3 Na out, 2 K in)
is electrogenic and enters the voltage equation as a steady outward current; its rate
falls with O2 (Wei, Ullah & Schiff 2014, J Neurosci 34:11733) and rises with [Na]i and
[K]o (Cressman et al. 2009, J Comput Neurosci 26:159). Extracellular K is cleared by
glial uptake and by exchange with blood/bath at a rate that scales with blood flow; O2
is exchanged with the blood likewise.

Two ways to specify the pump (``[ions] mode``):

``"balanced"`` (axon models)
    The published axon models have lumped, nonspecific leaks and no pump. At the
    model's resting state the pump is placed at uniform density on the axolemma of each
    pool, its density solved so that the pool's Na influx equals 3 x pump; each
    compartment's leak is split into Na and K parts with the reversal ``E_L'`` that keeps
    ``g_L (v - E_L') + I_pump = g_L (v - E_L)`` at every v. At baseline the model is
    exactly the published one; now it conserves ions, and the pump and O2 use are
    expressed relative to that baseline.
``"explicit"`` (published ion models such as Cressman 2009)
    Pump rate (mM/s of cycles per intracellular volume), glial uptake and diffusion are
    given as in the paper.

Charge entering a pool axially (the pool's net membrane current, including the pump
and the capacitive current) is booked as K+, the main carrier of axoplasmic current,
and leaves the extracellular pool likewise; this keeps ions exactly conserved and the
baseline exactly steady. Currents of other ions (Ca, Cl) keep fixed reversals and are
not booked. A nonspecific gated current (e.g. HCN) is booked to Na and K by the
fraction ``w = (E - E_K)/(E_Na - E_K)`` of its reversal, which then follows the
concentrations as ``w E_Na + (1 - w) E_K``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.kernels import ions as K
from neurosim.modelfile import Field, read_table

__all__ = ["ION_FIELDS", "IonParams", "IonLayer", "read_ions", "site_conductance", "SPECIES"]

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


def _pool_sum(values: np.ndarray, pool: np.ndarray, n_pools: int) -> np.ndarray:
    """Sum (B, m) values into (B, n_pools) by the pool index of each column."""
    out = np.zeros((values.shape[0], n_pools))
    np.add.at(out, (slice(None), pool), values)
    return out


class IonLayer:
    """Concentrations and O2 of a :class:`~neurosim.simulate.cable.CableSimulation` batch.

    Parameters
    ----------
    sim : CableSimulation
        The fast layer; its reversal potentials and ``i_extra`` are written here.
    params : IonParams
    volume : ndarray, shape (B, n)
        Intracellular volume of each compartment (um3); 0 for compartments without
        membrane (branch points).
    area : ndarray, shape (B, n)
        Axolemma area of each compartment (um2): where the pump sits.
    pool : ndarray of int, shape (n,)
        Pool of each compartment.
    """

    def __init__(self, sim, params: IonParams, volume, area, pool):
        self.sim = sim
        self.p = params
        k = sim.k
        B, n = k.B, k.n
        for name, arr in (("volume", volume), ("area", area)):
            if np.shape(arr) != (B, n):
                raise ValueError(f"`{name}` has shape {np.shape(arr)}; expected {(B, n)}")
        self.pool = np.asarray(pool, dtype=np.int64)
        self.P = int(self.pool.max()) + 1
        self.comp_area = np.asarray(area, dtype=float)
        self.vol_i = _pool_sum(np.asarray(volume, dtype=float), self.pool, self.P)
        if (self.vol_i <= 0).any():
            raise ValueError("every ion pool needs a positive intracellular volume")
        self.vol_o = self.vol_i / params.volume_ratio
        self.celsius = k.celsius[:, None]
        self.comp = k.site_comp
        self.site_pool = self.pool[self.comp]

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
        shape = (B, self.P)
        self.nao = np.full(shape, params.nao)
        self.ko = np.full(shape, params.ko)
        ena0 = self._first_erev(_NA, 50.0)
        ek0 = self._first_erev(_K, -90.0)
        self.nai = np.full(shape, params.nai) if params.nai else self.nao * np.exp(-ena0 / rtf)
        self.ki = np.full(shape, params.ki) if params.ki else self.ko * np.exp(-ek0 / rtf)
        self.o2 = np.full(shape, params.o2_baseline if params.oxygen else params.o2_arterial)
        self.baseline = {s: getattr(self, s).copy() for s in SPECIES}
        # nonspecific sites: Na fraction of their published reversal
        ena_s, ek_s = self._site_reversals()
        with np.errstate(divide="ignore", invalid="ignore"):
            self.w = np.clip((k.erev - ek_s) / (ena_s - ek_s), 0.0, 1.0)
        self.w[:, self.site_class != _MIXED] = 0.0
        self.pump_density = np.zeros(shape)  # balanced mode: resting pump (nA/um2)
        self.activity0 = self.pump_activity()
        self.axial = np.zeros(shape)  # mean axial inflow of the last window (nA)
        #: amounts (mM um3) that have left the pools to the blood/bath and into glia
        self.ledger = {
            "na_bath": np.zeros(shape),
            "k_bath": np.zeros(shape),
            "k_glia": np.zeros(shape),
        }

    # -- helpers ----------------------------------------------------------------------
    def _first_erev(self, cls: int, default: float) -> np.ndarray:
        idx = np.flatnonzero(self.site_class == cls)
        if idx.size == 0:
            return np.full((self.sim.k.B, 1), default)
        return self.sim.k.erev[:, idx[0] : idx[0] + 1]

    def reversals(self) -> tuple[np.ndarray, np.ndarray]:
        """Nernst E_Na and E_K (mV) per pool, shape (B, P)."""
        return (
            K.nernst(self.nao, self.nai, 1, self.celsius),
            K.nernst(self.ko, self.ki, 1, self.celsius),
        )

    def _site_reversals(self):
        ena, ek = self.reversals()
        return ena[:, self.site_pool], ek[:, self.site_pool]

    def pump_activity(self) -> np.ndarray:
        """Pump rate relative to its maximum, f([Na]i) f([K]o) f(O2), per pool (B, P)."""
        p = self.p
        f = K.logistic(self.nai, p.pump_na_half, p.pump_na_slope) * K.logistic(
            self.ko, p.pump_k_half, p.pump_k_slope
        )
        if p.oxygen:
            # Wei et al.'s logistic, shifted and rescaled to be exactly 0 at zero O2: no
            # oxidative ATP, no pumping and no O2 use, so O2 decays to 0, never below
            at0 = K.logistic(0.0, p.o2_half, p.o2_slope)
            f = f * (K.logistic(self.o2, p.o2_half, p.o2_slope) - at0) / (1.0 - at0)
        return f

    def pump_current(self) -> np.ndarray:
        """Pump current per pool (nA, outward: one net charge per cycle), (B, P)."""
        act = self.pump_activity()
        if self.p.mode == "explicit":
            # cycles per volume (mM/ms) -> charge per time (nA): F V 1e-6
            return self.p.pump_rate * 1e-3 * act * K.FARADAY * self.vol_i * 1e-6
        return self.pump_density * self.pool_area * act / self.activity0

    @property
    def pool_area(self) -> np.ndarray:
        return _pool_sum(self.comp_area, self.pool, self.P)

    def compartment_pump(self) -> np.ndarray:
        """Pump current per compartment (nA, outward), spread by axolemma area, (B, n)."""
        share = self.comp_area / self.pool_area[:, self.pool]
        return self.pump_current()[:, self.pool] * share

    # -- baseline balance (balanced mode) --------------------------------------------
    def balance(self) -> None:
        """Place the pump and split the leaks so that the present (resting) state is an
        ionic steady state with unchanged electrical behaviour (module docstring).

        Unknown per pool: the pump density ``rho`` (nA/um2). Each compartment's pump is
        ``rho A_c``; its leak reversal becomes ``E_L' = E_L + rho A_c / g_L``, i.e. the
        Na fraction ``w_c = (E_L' - E_K)/(E_Na - E_K)``. The pool's Na balance
        ``sum(I_Na) + sum(w_c g_L (v - E_Na)) + 3 rho A = 0`` is linear in ``rho``.
        """
        sim, k = self.sim, self.sim.k
        B = k.B
        g = site_conductance(k, sim.gstate)
        v = sim.v[:, self.comp]
        ena_s, ek_s = self._site_reversals()
        cls = self.site_class
        leak = self.site_leak
        gated_mixed = (cls == _MIXED) & ~leak
        # Na current of the channels and of the Na part of gated nonspecific currents
        i_na_sites = np.where(cls == _NA, g * (v - ena_s), 0.0)
        i_na_sites += np.where(gated_mixed, self.w * g * (v - ena_s), 0.0)
        i_na = _pool_sum(i_na_sites, self.site_pool, self.P)
        # leak sites: w_s = (E0 + rho a_s/g_s - EK)/(ENa - EK), with a_s the axolemma area
        # of the site's compartment shared among that compartment's leak sites by g
        g_leak_comp = np.zeros((B, k.n))
        np.add.at(g_leak_comp, (slice(None), self.comp), np.where(leak, g, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            a_site = np.where(
                leak,
                self.comp_area[:, self.comp]
                * g
                / np.where(g_leak_comp[:, self.comp] > 0, g_leak_comp[:, self.comp], 1.0),
                0.0,
            )
        span = ena_s - ek_s
        # Na leak current = w g (v - ENa) = [(E0 - EK) g + rho a] (v - ENa) / span
        na_leak_0 = np.where(leak, (k.erev - ek_s) * g * (v - ena_s) / span, 0.0)
        na_leak_rho = np.where(leak, a_site * (v - ena_s) / span, 0.0)
        coef = _pool_sum(na_leak_rho, self.site_pool, self.P) + 3.0 * self.pool_area
        rho = -(i_na + _pool_sum(na_leak_0, self.site_pool, self.P)) / coef
        has_leak = _pool_sum(np.where(leak, g, 0.0), self.site_pool, self.P) > 0
        w_new = np.where(
            leak,
            (
                k.erev
                - ek_s
                + np.where(leak, rho[:, self.site_pool] * a_site / np.where(g > 0, g, 1.0), 0.0)
            )
            / span,
            self.w,
        )
        bad = (rho < 0) | ~np.isfinite(rho) | ~has_leak
        no_leak = (self.comp_area > 0) & (g_leak_comp <= 0)
        if no_leak.any():
            b, c = np.argwhere(no_leak)[0]
            raise ValueError(
                f"compartment {sim.morphology.label(int(c))} has membrane but no leak: the "
                f"balanced pump needs a leak in every compartment to keep the rest unchanged"
            )
        bad_site = leak & ((w_new < 0) | (w_new > 1))
        if bad.any() or bad_site.any():
            if bad.any():
                b, q = np.argwhere(bad)[0]
                what = f"pump density {rho[b, q]:.3g} nA/um2 (allowed >= 0, needs a leak)"
            else:
                b, s = np.argwhere(bad_site)[0]
                q = self.site_pool[s]
                what = f"leak Na fraction {w_new[b, s]:.3g} (allowed 0-1)"
            raise ValueError(
                f"cannot balance ions at rest in member {b}, pool {q}: {what}; the resting "
                f"state needs more Na influx or K efflux than its leak can carry"
            )
        self.w = np.where(leak, w_new, self.w)
        self.pump_density = rho
        self.activity0 = self.pump_activity()
        self.apply()

    # -- coupling to the fast layer -----------------------------------------------------
    def apply(self) -> None:
        """Write reversal potentials and the pump current into the fast layer."""
        k = self.sim.k
        ena, ek = self._site_reversals()
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
        self._window_e = self._site_reversals()
        self._window_v = self.sim.v.copy()

    def end_window(self, duration: float):
        """Mean Na and K currents (nA, outward +) and conductances (uS) per pool over the
        window just integrated, each (B, P); also sets :attr:`axial`, the mean axial
        inflow of charge into each pool (nA)."""
        sim = self.sim
        q, gint = sim.q_acc, sim.g_acc
        ena, ek = self._window_e
        cls, w = self.site_class, self.w
        split = w * (1 - w) * (ek - ena) * gint
        mixed = cls == _MIXED
        q_na = np.where(cls == _NA, q, 0.0) + np.where(mixed, w * q + split, 0.0)
        q_k = np.where(cls == _K, q, 0.0) + np.where(mixed, (1 - w) * q - split, 0.0)
        g_na = np.where(cls == _NA, gint, 0.0) + np.where(mixed, w * gint, 0.0)
        g_k = np.where(cls == _K, gint, 0.0) + np.where(mixed, (1 - w) * gint, 0.0)
        to_pool = [_pool_sum(x / duration, self.site_pool, self.P) for x in (q_na, q_k, g_na, g_k)]
        # net membrane current of each compartment = axial inflow (Kirchhoff)
        membrane = np.zeros_like(sim.v)
        np.add.at(membrane, (slice(None), self.comp), q / duration)
        membrane += sim.i_extra + sim.k.cap * (sim.v - self._window_v) / duration
        self.axial = _pool_sum(membrane, self.pool, self.P)
        return tuple(to_pool)

    # -- the slow step ----------------------------------------------------------------
    def rates(self, currents, flow=1.0) -> dict[str, np.ndarray]:
        """Rates of change (mM/ms) of [Na]i, [K]o and O2 at the present state with the
        window's mean currents, each (B, P): what the adaptive slow step is sized by."""
        p = self.p
        i_na0, i_k0, _, _ = currents
        flow = np.broadcast_to(np.asarray(flow, dtype=float), self.nai.shape)
        eps = p.diffusion_csf + p.diffusion * flow
        ip = self.pump_current()
        na_out = i_na0 + 3.0 * ip
        k_out = i_k0 - 2.0 * ip - self.axial
        out = {
            "nai": -na_out * 1e6 / (K.FARADAY * self.vol_i),
            "ko": k_out * 1e6 / (K.FARADAY * self.vol_o) - self._glia() - eps * (self.ko - p.ko),
        }
        if p.oxygen:
            use0 = (p.o2_exchange_csf + p.o2_exchange) * (p.o2_arterial - p.o2_baseline)
            eps_o2 = p.o2_exchange_csf + p.o2_exchange * flow
            out["o2"] = -use0 * self.pump_activity() / self.activity0 + eps_o2 * (
                p.o2_arterial - self.o2
            )
        return out

    def step(self, dt: float, currents, flow=1.0, substep: float = 50.0) -> None:
        """Advance concentrations and O2 by ``dt`` (ms) with the fast layer's mean currents.

        Parameters
        ----------
        dt : float
            Slow step (ms).
        currents : tuple
            ``(i_na, i_k, g_na, g_k)`` from :meth:`end_window` (nA, uS; (B, P)). Within
            the step the currents follow the reversal potentials linearly,
            ``I = I_window + g (E_window - E)``, at the window's voltage.
        flow : float or ndarray (B, P)
            Blood flow relative to normal (0-1); scales exchange with the blood.
        substep : float
            Longest internal step (ms) of the concentration equations.
        """
        p = self.p
        i_na0, i_k0, g_na, g_k = currents
        ena_w, ek_w = self.reversals()
        flow = np.broadcast_to(np.asarray(flow, dtype=float), self.nai.shape)
        eps = p.diffusion_csf + p.diffusion * flow
        eps_o2 = p.o2_exchange_csf + p.o2_exchange * flow
        n_sub = max(1, int(np.ceil(dt / substep)))
        h = dt / n_sub
        to_i = 1e6 / (K.FARADAY * self.vol_i)  # nA -> mM/ms
        to_o = 1e6 / (K.FARADAY * self.vol_o)
        use0 = (p.o2_exchange_csf + p.o2_exchange) * (p.o2_arterial - p.o2_baseline)
        for _ in range(n_sub):
            ena, ek = self.reversals()
            ip = self.pump_current()
            na_out = i_na0 + g_na * (ena_w - ena) + 3.0 * ip  # Na leaving the cell (nA)
            k_out = i_k0 + g_k * (ek_w - ek) - 2.0 * ip - self.axial
            if p.conservation == "cressman":
                self.nai = self.nai - na_out * to_i * h
                self.ki = self.baseline["ki"] + self.baseline["nai"] - self.nai
                self.nao = self.baseline["nao"] - p.volume_ratio * (self.nai - self.baseline["nai"])
            else:
                self.nai = self.nai - na_out * to_i * h
                self.ki = self.ki - k_out * to_i * h
                src = na_out * to_o
                new = K.relax(self.nao, src, eps, p.nao, h)
                self.ledger["na_bath"] += (self.nao + src * h - new) * self.vol_o
                self.nao = new
            glia = self._glia()
            src = k_out * to_o - glia
            new = K.relax(self.ko, src, eps, p.ko, h)
            self.ledger["k_bath"] += (self.ko + src * h - new) * self.vol_o
            self.ledger["k_glia"] += glia * h * self.vol_o
            self.ko = new
            if p.oxygen:
                # O2 use: the baseline use (steady at full flow) scaled by pump activity
                use = use0 * self.pump_activity() / self.activity0
                self.o2 = K.relax(self.o2, -use, eps_o2, p.o2_arterial, h)
        self._check()
        self.apply()

    def _glia(self) -> np.ndarray:
        """Glial K uptake (mM/ms); in balanced mode only the part above baseline."""
        p = self.p
        up = p.glia_rate * 1e-3 * K.logistic(self.ko, p.glia_half, p.glia_slope)
        if p.mode == "balanced":
            up = up - p.glia_rate * 1e-3 * K.logistic(
                self.baseline["ko"], p.glia_half, p.glia_slope
            )
        return up

    def content(self) -> dict[str, np.ndarray]:
        """Amount of Na and K (mM um3) of each batch member, shape (B,): in the cell and
        extracellular pools, plus what has left them to the blood/bath and into glia (the
        :attr:`ledger`). With ``conservation = "explicit"`` these are constant."""
        led = {k: v.sum(axis=1) for k, v in self.ledger.items()}
        return {
            "na": (self.nai * self.vol_i + self.nao * self.vol_o).sum(axis=1) + led["na_bath"],
            "k": (self.ki * self.vol_i + self.ko * self.vol_o).sum(axis=1)
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
                    f"member {b}, ion pool {q}; the slow step is too long for these "
                    f"fluxes or the model is out of balance"
                )
