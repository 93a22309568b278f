"""Channels of the Cressman et al. 2009 single-neuron ion-dynamics model.

Cressman JR, Ullah G, Ziburkus J, Schiff SJ, Barreto E (2009) The influence of sodium
and potassium dynamics on excitability, seizures, and the stability of persistent
states: I. Single neuron dynamics. J Comput Neurosci 26:159-170; erratum J Comput
Neurosci 30:781 (2011). The equations and constants below are those of the authors'
code for the full model, ModelDB 136773 (``Cressman_et_al_JCNS_1_fullmodel_RK4.c``,
function ``FullModel``), which the ModelDB README names as the code behind the paper's
figures. Membrane equation (uA/cm2, mV, ms)::

    C dV/dt = -(I_Na + I_K + I_Cl)
    I_Na = g_Na m_inf^3 h (V - E_Na) + g_NaL (V - E_Na)
    I_K  = (g_K n^4 + g_AHP Ca/(1 + Ca)) (V - E_K) + g_KL (V - E_K)
    I_Cl = g_ClL (V - E_Cl)

Rates (1/ms, V in mV), gates ``h`` and ``n`` multiplied by ``phi = 3``::

    alpha_m = 0.1 (V + 30) / (1 - exp(-0.1 (V + 30)))     beta_m = 4 exp(-(V + 55)/18)
    alpha_h = 0.07 exp(-(V + 44)/20)                       beta_h = 1/(1 + exp(-0.1 (V + 14)))
    alpha_n = 0.01 (V + 34) / (1 - exp(-0.1 (V + 34)))    beta_n = 0.125 exp(-(V + 44)/80)

``m`` is instantaneous (``m_inf = alpha_m/(alpha_m + beta_m)``). Conductances (mS/cm2):
g_Na 100, g_NaL 0.0175, g_K 40, g_KL 0.05, g_ClL 0.05; C = 1 uF/cm2;
E_Cl = 26.64 ln(6/130) = -81.9386 mV, fixed.

Temperature. The paper gives ``phi = 3`` and ``RT/F = 26.64 mV`` (the Nernst factor of
``E_Na``, ``E_K``), i.e. about 36 degC. neurosim computes RT/F from the model's
``celsius``; at 36 degC it is 26.6405 mV (2e-5 relative to 26.64, 0.002 mV on E_K). So
the model runs at 36 degC and the gates carry ``q10 = 3`` from ``tref = 26 degC``:
``phi = 3**((36 - 26)/10) = 3`` exactly there.

Not declared here: the Ca-activated AHP current ``g_AHP Ca/(1 + Ca) (V - E_K)`` with
``dCa/dt = -0.002 g_Ca (V - E_Ca)/(1 + exp(-(V + 25)/2.5)) - Ca/80`` (g_AHP = 0.01,
g_Ca = 0.1 mS/cm2, E_Ca = 120 mV). Its Ca pool is not a voltage gate and its current is
not ``gbar x gate^power``, so the mechanism framework cannot state it; at 0.01 mS/cm2
(a fifth of the K leak even when saturated) it is a small term, and integrating the
ModelDB equations with and without it (RK4, dt 0.01 ms, k_bath = 8 mM) gives burst
periods of 29.48 and 29.64 s and the same [K]o and [Na]i ranges to 0.03 mM. The
published reduced model omits it too. models/cells/cressman2009.toml states the choice.
"""

from __future__ import annotations

import math

from neurosim.channels.base import Current, Gate, Mechanism, Param, exp, explinear, sigmoid

__all__ = ["CRESSMAN", "CELSIUS_CRESSMAN", "PHI_CRESSMAN"]

_INF = math.inf
#: the temperature (degC) at which neurosim's RT/F is the paper's 26.64 mV (to 2e-5)
CELSIUS_CRESSMAN = 36.0
#: the paper's gating time-scale factor on h and n
PHI_CRESSMAN = 3.0
# q10 = phi from 10 degC below the model temperature gives exactly phi there
_TREF = CELSIUS_CRESSMAN - 10.0

_CITE = (
    "Cressman, Ullah, Ziburkus, Schiff & Barreto 2009, J Comput Neurosci 26:159 "
    "(erratum 30:781, 2011); equations as ModelDB 136773 (full model)"
)

CRESSMAN = Mechanism(
    name="cressman",
    params=(
        Param("gnabar", 0.1, "conductance_density", 0.0, _INF, "transient Na (100 mS/cm2)"),
        Param("gnal", 1.75e-5, "conductance_density", 0.0, _INF, "Na leak (0.0175 mS/cm2)"),
        Param("gkbar", 0.04, "conductance_density", 0.0, _INF, "delayed-rectifier K (40 mS/cm2)"),
        Param("gkl", 5e-5, "conductance_density", 0.0, _INF, "K leak (0.05 mS/cm2)"),
        Param("gcl", 5e-5, "conductance_density", 0.0, _INF, "Cl leak (0.05 mS/cm2)"),
        # E_Na and E_K follow the concentrations when ion dynamics run; these defaults
        # are their Nernst values at the model's resting state with k_bath = 4 mM
        # (models/cells/cressman2009.toml)
        Param("ena", 50.04, "voltage", -150.0, 150.0, "Na reversal"),
        Param("ek", -95.51, "voltage", -150.0, 150.0, "K reversal"),
        Param("ecl", -81.9386, "voltage", -150.0, 150.0, "Cl reversal: 26.64 ln(6/130), fixed"),
    ),
    gates=(
        # alpha_m = 0.1 (v + 30)/(1 - exp(-(v + 30)/10)) = explinear(0.1 * 10, -30, 10)
        Gate(
            "m",
            explinear(0.1 * 10.0, -30.0, 10.0),
            exp(4.0, -55.0, -18.0),
            instantaneous=True,
        ),
        Gate(
            "h",
            exp(0.07, -44.0, -20.0),
            sigmoid(1.0, -14.0, 10.0),
            q10=PHI_CRESSMAN,
            tref=_TREF,
        ),
        # alpha_n = 0.01 (v + 34)/(1 - exp(-(v + 34)/10)) = explinear(0.01 * 10, -34, 10)
        Gate(
            "n",
            explinear(0.01 * 10.0, -34.0, 10.0),
            exp(0.125, -44.0, -80.0),
            q10=PHI_CRESSMAN,
            tref=_TREF,
        ),
    ),
    currents=(
        Current("ina", "na", "gnabar", "ena", (("m", 3), ("h", 1))),
        Current("inal", "na", "gnal", "ena"),
        Current("ik", "k", "gkbar", "ek", (("n", 4),)),
        Current("ikl", "k", "gkl", "ek"),
        Current("icl", "cl", "gcl", "ecl"),
    ),
    citation=_CITE,
    doc="Hodgkin-Huxley-type Na (m_inf^3 h), K (n^4) and Na, K, Cl leaks of Cressman 2009",
)
