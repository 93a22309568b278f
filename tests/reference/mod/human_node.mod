TITLE Node of Ranvier of human motor and sensory axons (reference implementation)

COMMENT
Nodal membrane of the human myelinated axon models of neurosim's reference data:
fast Na (m^3 h), persistent Na (mp^3), slow K (s), fast K (n^4) and leak.
Written for neurosim from the parameter set of Gaines JS, Finn KE, Slopsema JP,
Heyboer LA, Polasek KH (2018) J Comput Neurosci 45:29-43 (ModelDB 243841), which extends
McIntyre CC, Richardson AG, Grill WM (2002) J Neurophysiol 87:995-1006, and from
neurosim's SCIENCE.md section 3 (not copied from any published .mod file).

The Na rate constants are RANGE parameters so that one mechanism serves the motor and
the sensory parameter sets (human_neuron.py sets them). Every rate has the form
    a = A (v - V) / (1 - exp(-(v - V)/k))            ("linoid", activation-like)
    b = A (V - v) / (1 - exp( (v - V)/k))            (the mirrored linoid)
    b = A / (1 + exp(-(v - V)/k))                    (sigmoid)
with amplitudes in 1/ms, midpoints V and slopes k in mV.
Temperature: Na activation (m, mp) Q10 2.2 and inactivation (h) Q10 2.9 from 20 degC,
slow K Q10 3 from 36 degC (MRG), fast K Q10 3 from tref_kf (34 degC: SCIENCE.md s.3).
ENDCOMMENT

NEURON {
    SUFFIX human_node
    NONSPECIFIC_CURRENT inaf, inap, iks, ikf, il
    RANGE gnabar, gnapbar, gksbar, gkfbar, gl, ena, ek, el
    RANGE am_A, am_V, bm_A, bm_V, ah_A, ah_V, ah_k, bh_A, bh_V, bh_k
    RANGE amp_A, amp_V, bmp_A, bmp_V, tref_kf
    RANGE inaf, inap, iks, ikf, il
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 3.0 (S/cm2) <0, 1e9>
    gnapbar = 0.01 (S/cm2) <0, 1e9>
    gksbar = 0.08 (S/cm2) <0, 1e9>
    gkfbar = 0.02568 (S/cm2) <0, 1e9>
    gl = 0.007 (S/cm2) <0, 1e9>
    ena = 50.0 (mV)
    ek = -90.0 (mV)
    el = -90.0 (mV)
    : motor defaults; human_neuron.py overrides them for the sensory node
    am_A = 1.86 (/ms)
    am_V = -20.4 (mV)
    bm_A = 0.086 (/ms)
    bm_V = -25.7 (mV)
    ah_A = 0.062 (/ms)
    ah_V = -114.0 (mV)
    ah_k = 11.0 (mV)
    bh_A = 2.3 (/ms)
    bh_V = -31.8 (mV)
    bh_k = 13.4 (mV)
    amp_A = 0.01 (/ms)
    amp_V = -27.0 (mV)
    bmp_A = 0.00025 (/ms)
    bmp_V = -34.0 (mV)
    tref_kf = 34.0 (degC)
    celsius (degC)
}

STATE {
    m h mp s n
}

ASSIGNED {
    v (mV)
    inaf (mA/cm2)
    inap (mA/cm2)
    iks (mA/cm2)
    ikf (mA/cm2)
    il (mA/cm2)
    m_inf h_inf mp_inf s_inf n_inf
    tau_m (ms)
    tau_h (ms)
    tau_mp (ms)
    tau_s (ms)
    tau_n (ms)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    inaf = gnabar * m * m * m * h * (v - ena)
    inap = gnapbar * mp * mp * mp * (v - ena)
    iks = gksbar * s * (v - ek)
    ikf = gkfbar * n * n * n * n * (v - ek)
    il = gl * (v - el)
}

DERIVATIVE states {
    rates(v)
    m' = (m_inf - m) / tau_m
    h' = (h_inf - h) / tau_h
    mp' = (mp_inf - mp) / tau_mp
    s' = (s_inf - s) / tau_s
    n' = (n_inf - n) / tau_n
}

INITIAL {
    rates(v)
    m = m_inf
    h = h_inf
    mp = mp_inf
    s = s_inf
    n = n_inf
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b, q_act, q_inact, q_ks, q_kf
    UNITSOFF
    q_act = 2.2 ^ ((celsius - 20) / 10)
    q_inact = 2.9 ^ ((celsius - 20) / 10)
    q_ks = 3.0 ^ ((celsius - 36) / 10)
    q_kf = 3.0 ^ ((celsius - tref_kf) / 10)

    a = q_act * amp_A * linoid(v - amp_V, 10.2)
    b = q_act * bmp_A * linoid(bmp_V - v, 10)
    tau_mp = 1 / (a + b)
    mp_inf = a / (a + b)

    a = q_act * am_A * linoid(v - am_V, 10.3)
    b = q_act * bm_A * linoid(bm_V - v, 9.16)
    tau_m = 1 / (a + b)
    m_inf = a / (a + b)

    a = q_inact * ah_A * linoid(ah_V - v, ah_k)
    b = q_inact * bh_A / (1 + exp(-(v - bh_V) / bh_k))
    tau_h = 1 / (a + b)
    h_inf = a / (a + b)

    a = q_ks * 0.3 / (1 + exp(-(v + 53) / 5))
    b = q_ks * 0.03 / (1 + exp(-(v + 90) / 1))
    tau_s = 1 / (a + b)
    s_inf = a / (a + b)

    a = q_kf * 0.0462 * linoid(v + 83.2, 1.1)
    b = q_kf * 0.0824 * linoid(-66 - v, 10.5)
    tau_n = 1 / (a + b)
    n_inf = a / (a + b)
    UNITSON
}

FUNCTION linoid(x, k) {
    : x / (1 - exp(-x/k)); its limit at x = 0 is k (series keeps 0/0 away)
    if (fabs(x / k) < 1e-6) {
        linoid = k * (1 + x / (2 * k))
    } else {
        linoid = x / (1 - exp(-x / k))
    }
}
