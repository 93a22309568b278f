TITLE Paranodal and internodal axolemma of human motor and sensory axons (reference)

COMMENT
MYSA, FLUT and STIN membrane of neurosim's human axon reference models: fast K (n^4),
slow K (s), HCN (q) and leak, written for neurosim from the parameter set of Gaines et al.
(2018) J Comput Neurosci 45:29-43 (ModelDB 243841) and neurosim's SCIENCE.md section 3
(Howells, Trevillion, Bostock & Burke 2012, J Physiol 590:1625), not copied from any
published .mod file. The HCN half-activation vhalf_q is a RANGE parameter (-107.3 mV
motor, -94.2 mV sensory). All three gates scale with Q10 3 from tref (34 degC).
Densities are given already scaled to the section's membrane (human_neuron.py multiplies
the per-axolemma values by innerD/fibreD, as the MRG construction does).
ENDCOMMENT

NEURON {
    SUFFIX human_internode
    NONSPECIFIC_CURRENT ikf, iks, ih, il
    RANGE gkfbar, gksbar, ghbar, gl, ek, eh, el, vhalf_q, tref
    RANGE ikf, iks, ih, il
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gkfbar = 0.02568 (S/cm2) <0, 1e9>
    gksbar = 0.002581 (S/cm2) <0, 1e9>
    ghbar = 0.002232 (S/cm2) <0, 1e9>
    gl = 0.0002 (S/cm2) <0, 1e9>
    ek = -90.0 (mV)
    eh = -54.9 (mV)
    el = -90.0 (mV)
    vhalf_q = -107.3 (mV)
    tref = 34.0 (degC)
    celsius (degC)
}

STATE {
    n s q
}

ASSIGNED {
    v (mV)
    ikf (mA/cm2)
    iks (mA/cm2)
    ih (mA/cm2)
    il (mA/cm2)
    n_inf s_inf q_inf
    tau_n (ms)
    tau_s (ms)
    tau_q (ms)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    ikf = gkfbar * n * n * n * n * (v - ek)
    iks = gksbar * s * (v - ek)
    ih = ghbar * q * (v - eh)
    il = gl * (v - el)
}

DERIVATIVE states {
    rates(v)
    n' = (n_inf - n) / tau_n
    s' = (s_inf - s) / tau_s
    q' = (q_inf - q) / tau_q
}

INITIAL {
    rates(v)
    n = n_inf
    s = s_inf
    q = q_inf
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b, phi
    UNITSOFF
    phi = 3.0 ^ ((celsius - tref) / 10)

    a = phi * 0.0462 * linoid(v + 83.2, 1.1)
    b = phi * 0.0824 * linoid(-66 - v, 10.5)
    tau_n = 1 / (a + b)
    n_inf = a / (a + b)

    a = phi * 0.3 / (1 + exp(-(v + 53) / 5))
    b = phi * 0.03 / (1 + exp(-(v + 90) / 1))
    tau_s = 1 / (a + b)
    s_inf = a / (a + b)

    : HCN: symmetric exponential rates around vhalf_q, 0.00522 /ms, 12.2 mV
    a = phi * 0.00522 * exp(-(v - vhalf_q) / 12.2)
    b = phi * 0.00522 * exp((v - vhalf_q) / 12.2)
    tau_q = 1 / (a + b)
    q_inf = a / (a + b)
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
