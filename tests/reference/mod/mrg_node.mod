TITLE MRG 2002 mammalian motor axon node of Ranvier (reference implementation)

COMMENT
Nodal membrane of the McIntyre-Richardson-Grill double-cable axon:
  McIntyre CC, Richardson AG, Grill WM (2002) J Neurophysiol 87:995-1006 (ModelDB 3810).
Fast Na (m^3 h), persistent Na (m^3), slow K (s) and leak, written for neurosim's reference
data from the rates, conductances, reversals and Q10 factors listed in neurosim's
SCIENCE.md section 3 (not copied from any published .mod file).
Rates in 1/ms with V in mV; each Q10 factor is taken from that gate's own reference
temperature (20 C for the Na gates, 36 C for Ks).
The reversal potentials are parameters of this mechanism (nonspecific currents), so the
NEURON ion defaults (ena 50, ek -77) play no part.
ENDCOMMENT

NEURON {
    SUFFIX mrg_node
    NONSPECIFIC_CURRENT inaf, inap, iks, il
    RANGE gnabar, gnapbar, gkbar, gl, ena, ek, el
    RANGE inaf, inap, iks, il
    RANGE m_inf, h_inf, mp_inf, s_inf, tau_m, tau_h, tau_mp, tau_s
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 3.0 (S/cm2) <0, 1e9>
    gnapbar = 0.01 (S/cm2) <0, 1e9>
    gkbar = 0.08 (S/cm2) <0, 1e9>
    gl = 0.007 (S/cm2) <0, 1e9>
    ena = 50.0 (mV)
    ek = -90.0 (mV)
    el = -90.0 (mV)
    celsius (degC)
}

STATE {
    m h mp s
}

ASSIGNED {
    v (mV)
    inaf (mA/cm2)
    inap (mA/cm2)
    iks (mA/cm2)
    il (mA/cm2)
    m_inf h_inf mp_inf s_inf
    tau_m (ms)
    tau_h (ms)
    tau_mp (ms)
    tau_s (ms)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    inaf = gnabar * m * m * m * h * (v - ena)
    inap = gnapbar * mp * mp * mp * (v - ena)
    iks = gkbar * s * (v - ek)
    il = gl * (v - el)
}

DERIVATIVE states {
    rates(v)
    m' = (m_inf - m) / tau_m
    h' = (h_inf - h) / tau_h
    mp' = (mp_inf - mp) / tau_mp
    s' = (s_inf - s) / tau_s
}

INITIAL {
    rates(v)
    m = m_inf
    h = h_inf
    mp = mp_inf
    s = s_inf
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b, q_naf_m, q_naf_h, q_ks
    UNITSOFF
    q_naf_m = 2.2 ^ ((celsius - 20) / 10)
    q_naf_h = 2.9 ^ ((celsius - 20) / 10)
    q_ks = 3.0 ^ ((celsius - 36) / 10)

    : persistent Na activation (Q10 2.2 from 20 C, as the fast Na activation)
    a = q_naf_m * 0.01 * linoid(v + 27, 10.2)
    b = q_naf_m * 0.00025 * linoid(-(v + 34), 10)
    tau_mp = 1 / (a + b)
    mp_inf = a / (a + b)

    : fast Na activation
    a = q_naf_m * 1.86 * linoid(v + 21.4, 10.3)
    b = q_naf_m * 0.086 * linoid(-(v + 25.7), 9.16)
    tau_m = 1 / (a + b)
    m_inf = a / (a + b)

    : fast Na inactivation
    a = q_naf_h * 0.062 * linoid(-(v + 114), 11)
    b = q_naf_h * 2.3 / (1 + exp(-(v + 31.8) / 13.4))
    tau_h = 1 / (a + b)
    h_inf = a / (a + b)

    : slow K activation
    a = q_ks * 0.3 / (1 + exp((v + 53) / -5))
    b = q_ks * 0.03 / (1 + exp((v + 90) / -1))
    tau_s = 1 / (a + b)
    s_inf = a / (a + b)
    UNITSON
}

FUNCTION linoid(x, k) {
    : x / (1 - exp(-x/k)), whose limit at x = 0 is k; the series keeps the 0/0 away
    if (fabs(x / k) < 1e-6) {
        linoid = k * (1 + x / (2 * k))
    } else {
        linoid = x / (1 - exp(-x / k))
    }
}
