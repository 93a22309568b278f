"""Booth, Rinzel & Kiehn (1997) two-compartment motor neuron: rate functions, tables, rest.

Booth V, Rinzel J, Kiehn O (1997) Compartmental model of vertebrate motoneurons for
Ca2+-dependent spiking and plateau potentials under pharmacological treatment.
J Neurophysiol 78:3371-3385.

The soma carries fast Na (instantaneous activation ``m_inf``, inactivation ``h``),
delayed-rectifier K (``n``), N-type Ca (``mn``, ``hn``) and Ca-activated K; the dendrite
carries N-type Ca, Ca-activated K and the L-type Ca current (``ml``) that makes the
persistent inward current. Gating: x_inf(V) = 1 / (1 + exp((V - theta) / sigma));
tau_h(V) = tau_h0 / (exp((V + 50)/15) + exp(-(V + 50)/16)) ms and
tau_n(V) = tau_n0 / (exp((V + 40)/40) + exp(-(V + 40)/50)) ms (V in mV).

Neuromodulation (serotonin) is represented as in Booth et al.: it scales both K(Ca)
conductances, by 3.136/5 = 0.627 (soma) and 0.69/1.1 = 0.627 (dendrite) in their
serotonergic setting. :func:`kca_scale` maps a level (0 = canonical, 1 = serotonergic)
onto that factor.

Parameters are plain floats in the internal units of :mod:`neurosim.units` (mV, ms,
S/cm2); this module is pure numpy and knows nothing of Brian2.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from neurosim.spinal.network import RATE_TABLE_COLUMNS, TAB_DV, TAB_N, TAB_VMIN

__all__ = [
    "boltzmann",
    "tau_h",
    "tau_n",
    "kca_scale",
    "rate_table",
    "resting_state",
]


def boltzmann(v, theta: float, sigma: float) -> np.ndarray:
    """Steady-state gate ``1 / (1 + exp((v - theta) / sigma))``.

    Parameters
    ----------
    v : array_like
        Membrane potential (mV), any shape.
    theta, sigma : float
        Half-activation (mV) and slope (mV; negative for activation).
    """
    x = np.clip((np.asarray(v, dtype=np.float64) - theta) / sigma, -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(x))


def tau_h(v, tau0: float) -> np.ndarray:
    """Na inactivation time constant (ms) of Booth et al. (1997); ``v`` in mV."""
    v = np.asarray(v, dtype=np.float64)
    return tau0 / (np.exp((v + 50.0) / 15.0) + np.exp(-(v + 50.0) / 16.0))


def tau_n(v, tau0: float) -> np.ndarray:
    """Delayed-rectifier activation time constant (ms) of Booth et al. (1997)."""
    v = np.asarray(v, dtype=np.float64)
    return tau0 / (np.exp((v + 40.0) / 40.0) + np.exp(-(v + 40.0) / 50.0))


def kca_scale(level: float, serotonergic_scale: float) -> float:
    """Multiplier of both K(Ca) conductances at neuromodulation ``level``.

    Linear in the level: 1 at level 0 (canonical), ``serotonergic_scale`` at level 1
    (Booth et al. 1997: 0.627), extrapolated beyond, never below zero.
    """
    return max(0.0, 1.0 - level * (1.0 - serotonergic_scale))


def rate_table(p: dict, dt: float) -> np.ndarray:
    """Rate functions on the network's voltage grid (NEURON TABLE style).

    Parameters
    ----------
    p : dict
        ``[motoneuron]`` parameters (internal units).
    dt : float
        Integration step (ms) for the ``*_decay`` columns, ``exp(-dt / tau(V))``.

    Returns
    -------
    ndarray, shape (TAB_N, 8)
        Columns :data:`neurosim.spinal.network.RATE_TABLE_COLUMNS` at
        ``V = TAB_VMIN + k * TAB_DV`` mV.
    """
    v = TAB_VMIN + TAB_DV * np.arange(TAB_N)
    cols = {
        "m_inf": boltzmann(v, p["th_m"], p["sl_m"]),
        "h_inf": boltzmann(v, p["th_h"], p["sl_h"]),
        "h_decay": np.exp(-dt / tau_h(v, p["tau_h"])),
        "n_inf": boltzmann(v, p["th_n"], p["sl_n"]),
        "n_decay": np.exp(-dt / tau_n(v, p["tau_n"])),
        "mn_inf": boltzmann(v, p["th_mn"], p["sl_mn"]),
        "hn_inf": boltzmann(v, p["th_hn"], p["sl_hn"]),
        "ml_inf": boltzmann(v, p["th_ml"], p["sl_ml"]),
    }
    return np.stack([cols[c] for c in RATE_TABLE_COLUMNS], axis=1)


def _currents(vs: float, vd: float, p: dict, kscale: float, i_soma: float) -> tuple:
    """Net outward current density (mA/cm2) of soma and dendrite with every gate and
    calcium at its steady state for (vs, vd)."""
    m = boltzmann(vs, p["th_m"], p["sl_m"])
    h = boltzmann(vs, p["th_h"], p["sl_h"])
    n = boltzmann(vs, p["th_n"], p["sl_n"])
    mns, hns = boltzmann(vs, p["th_mn"], p["sl_mn"]), boltzmann(vs, p["th_hn"], p["sl_hn"])
    mnd, hnd = boltzmann(vd, p["th_mn"], p["sl_mn"]), boltzmann(vd, p["th_hn"], p["sl_hn"])
    ml = boltzmann(vd, p["th_ml"], p["sl_ml"])
    ica_s = p["gcan_soma"] * mns**2 * hns * (vs - p["eca"])
    ica_d = (p["gcan_dend"] * mnd**2 * hnd + p["gcal"] * ml) * (vd - p["eca"])
    # [Ca] in uM; currents converted mA/cm2 -> uA/cm2 for the paper's alpha
    ca_s = max(0.0, -p["ca_alpha"] * ica_s * 1e3 / p["kca_soma"])
    ca_d = max(0.0, -p["ca_alpha"] * ica_d * 1e3 / p["kca_dend"])
    kd = p["kd"] * 1e3  # mM -> uM
    gk_s = p["gkdr"] * n**4 + p["gkca_soma"] * kscale * ca_s / (ca_s + kd)
    gk_d = p["gkca_dend"] * kscale * ca_d / (ca_d + kd)
    gc = p["g_coupling"]
    ps = p["p_soma"]
    out_s = (
        p["gnabar"] * m**3 * h * (vs - p["ena"])
        + gk_s * (vs - p["ek"])
        + ica_s
        + p["g_leak"] * (vs - p["e_leak"])
        + gc / ps * (vs - vd)
        - i_soma
    )
    out_d = (
        gk_d * (vd - p["ek"]) + ica_d + p["g_leak"] * (vd - p["e_leak"]) + gc / (1 - ps) * (vd - vs)
    )
    return float(out_s), float(out_d), (m, h, n, mns, hns, mnd, hnd, ml, ca_s, ca_d)


def resting_state(p: dict, kscale: float, i_soma: float = 0.0) -> dict:
    """The lowest (resting) steady state of the cell with constant somatic current.

    The dendrite's steady voltage is found for each soma voltage (it is unique for the
    currents here below the plateau), then the soma balance is solved by bisection,
    starting from the leak reversal and moving up, so that the first root (the resting
    state, not a plateau) is returned.

    Parameters
    ----------
    p : dict
        ``[motoneuron]`` parameters (internal units).
    kscale : float
        K(Ca) multiplier (:func:`kca_scale`).
    i_soma : float
        Constant somatic current density (mA/cm2).

    Returns
    -------
    dict
        ``Vs``, ``Vd`` (mV) and the gates ``h``, ``n``, ``mn_s``, ``hn_s``, ``mn_d``,
        ``hn_d``, ``ml`` and calcium ``ca_s``, ``ca_d`` (uM).
    """

    def vd_of(vs):
        f = lambda vd: _currents(vs, vd, p, kscale, i_soma)[1]  # noqa: E731
        lo = min(p["e_leak"], vs) - 30.0
        grid = np.linspace(lo, lo + 80.0, 161)
        vals = [f(x) for x in grid]
        for a, b, fa, fb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True):
            if fa <= 0.0 <= fb or fa >= 0.0 >= fb:
                return brentq(f, a, b, xtol=1e-10)
        raise ValueError("no dendritic steady state found")

    g = lambda vs: _currents(vs, vd_of(vs), p, kscale, i_soma)[0]  # noqa: E731
    grid = np.arange(p["e_leak"] - 30.0, p["e_leak"] + 40.0, 0.5)
    prev_v, prev_g = grid[0], g(grid[0])
    for v in grid[1:]:
        gv = g(v)
        if prev_g <= 0.0 <= gv or prev_g >= 0.0 >= gv:
            vs = brentq(g, prev_v, v, xtol=1e-10)
            vd = vd_of(vs)
            _, _, gates = _currents(vs, vd, p, kscale, i_soma)
            names = ("m", "h", "n", "mn_s", "hn_s", "mn_d", "hn_d", "ml", "ca_s", "ca_d")
            out = dict(zip(names, (float(x) for x in gates), strict=True))
            out.pop("m")
            out.update(Vs=float(vs), Vd=float(vd))
            return out
        prev_v, prev_g = v, gv
    raise ValueError("no resting state found between e_leak - 30 and e_leak + 40 mV")
