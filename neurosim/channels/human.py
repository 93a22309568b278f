"""Channels of human myelinated motor and sensory axons (MRG double cable + Howells/Gaines).

Gaines JS, Finn KE, Slopsema JP, Heyboer LA, Polasek KH (2018) A model of motor and
sensory axon activation in the median nerve using surface electrical stimulation.
J Comput Neurosci 45:29-43 (ModelDB 243841) extended the McIntyre-Richardson-Grill axon
(J Neurophysiol 87:995, 2002) with the channels that threshold tracking shows in human
axons (Howells, Trevillion, Bostock & Burke 2012, J Physiol 590:1625): fast K (Kv1,
``n^4``), internodal slow K (Kv7, ``s``) and HCN (``q``), and fitted separate motor and
sensory parameter sets.

Constants and where they come from
----------------------------------
Fast K ``n`` (:data:`KF`): ``a = 0.0462 (v + 83.2) / (1 - exp(-(v + 83.2)/1.1))``,
``b = 0.0824 (-66 - v) / (1 - exp((v + 66)/10.5))`` 1/ms: SCIENCE.md section 3, the same
numbers as ModelDB 243841 (``anA, anB, anC, bnA, bnB, bnC``).

HCN ``q`` (:data:`HCN_MOTOR`, :data:`HCN_SENSORY`): ``a = 0.00522 exp(-(v - V)/12.2)``,
``b = 0.00522 exp((v - V)/12.2)`` 1/ms, reversal -54.9 mV: SCIENCE.md section 3 and
ModelDB 243841 (``aqA, aqC, eq``). ``V`` = -107.3 mV for motor axons (SCIENCE.md,
ModelDB ``*_motor.mod``) and -94.2 mV for sensory axons (ModelDB ``*_sensory.mod``: the
13.1 mV depolarised HCN activation Howells et al. 2012 found in sensory axons).

Internodal slow K ``s`` (:data:`KS_INTERNODE`): the MRG nodal Ks rates (SCIENCE.md).

Nodes (:data:`NODE_MOTOR`, :data:`NODE_SENSORY`): fast Na ``m^3 h``, persistent Na
``mp^3``, slow K ``s`` and leak, with the rate constants of ModelDB 243841
``node_motor.mod`` / ``node_sensory.mod``. The motor node is the MRG node of SCIENCE.md
except the fast Na activation midpoint (-20.4 mV instead of -21.4 mV: Gaines et al.
2018); the sensory node has every Na rate refitted (Gaines et al. 2018).

Temperature: Na gates Q10 2.2 (activation) and 2.9 (inactivation) from 20 degC and
nodal Ks Q10 3 from 36 degC, as MRG. The channels Howells et al. 2012 added (fast K,
HCN, internodal Ks) take Q10 3 from 34 degC, the temperature of the human recordings,
as SCIENCE.md section 3 states. This is a deviation from the ModelDB 243841 code, which
scales them by 3 from 36 degC (its MRG Ks factor): at 37 degC their rates here are
3**0.2 = 1.25 times those of the published code.

The EXPLINEAR rates are written ``explinear(a * k, midpoint, k)`` so that the published
``a (v - midpoint) / (1 - exp(-(v - midpoint)/k))`` is visible (see :mod:`.mrg`).
"""

from __future__ import annotations

import math

from neurosim.channels.base import Current, Gate, Mechanism, Param, exp, explinear, sigmoid

__all__ = [
    "Q10_HUMAN",
    "TREF_HUMAN",
    "HCN_V_MOTOR",
    "HCN_V_SENSORY",
    "KF",
    "KS_INTERNODE",
    "HCN_MOTOR",
    "HCN_SENSORY",
    "NODE_MOTOR",
    "NODE_SENSORY",
    "HUMAN_MECHANISMS",
]

_INF = math.inf
#: Q10 and reference temperature (degC) of the channels added for human axons
Q10_HUMAN, TREF_HUMAN = 3.0, 34.0
#: HCN half-activation (mV) in motor and sensory axons (Gaines et al. 2018)
HCN_V_MOTOR, HCN_V_SENSORY = -107.3, -94.2

_CITE_GAINES = (
    "Gaines, Finn, Slopsema, Heyboer & Polasek 2018, J Comput Neurosci 45:29 "
    "(ModelDB 243841); Howells, Trevillion, Bostock & Burke 2012, J Physiol 590:1625"
)


def _kf_gate() -> Gate:
    return Gate(
        "n",
        explinear(0.0462 * 1.1, -83.2, 1.1),
        explinear(0.0824 * 10.5, -66.0, -10.5),
        q10=Q10_HUMAN,
        tref=TREF_HUMAN,
    )


def _ks_gate(tref: float) -> Gate:
    return Gate("s", sigmoid(0.3, -53.0, 5.0), sigmoid(0.03, -90.0, 1.0), q10=3.0, tref=tref)


KF = Mechanism(
    name="human_kf",
    params=(
        Param("gkbar", 0.02568, "conductance_density", 0.0, _INF, "fast K (Kv1)"),
        Param("ek", -90.0, "voltage", -150.0, 150.0, "K reversal"),
    ),
    gates=(_kf_gate(),),
    currents=(Current("ikf", "k", "gkbar", "ek", (("n", 4),)),),
    citation=_CITE_GAINES,
    doc="Fast (Kv1) potassium current of nodes and juxtaparanodes, n^4",
)

KS_INTERNODE = Mechanism(
    name="human_ks",
    params=(
        Param("gkbar", 0.002581, "conductance_density", 0.0, _INF, "internodal slow K"),
        Param("ek", -90.0, "voltage", -150.0, 150.0, "K reversal"),
    ),
    gates=(_ks_gate(TREF_HUMAN),),
    currents=(Current("iks", "k", "gkbar", "ek", (("s", 1),)),),
    citation=_CITE_GAINES,
    doc="Internodal slow (Kv7) potassium current, MRG rates, Q10 3 from 34 degC",
)


def _hcn(name: str, vhalf: float, gbar: float, which: str) -> Mechanism:
    return Mechanism(
        name=name,
        params=(
            Param("ghbar", gbar, "conductance_density", 0.0, _INF, "HCN (Ih)"),
            Param("eh", -54.9, "voltage", -150.0, 150.0, "HCN reversal (mixed Na/K)"),
        ),
        gates=(
            Gate(
                "q",
                exp(0.00522, vhalf, -12.2),
                exp(0.00522, vhalf, 12.2),
                q10=Q10_HUMAN,
                tref=TREF_HUMAN,
            ),
        ),
        # a mixed Na/K current: nonspecific until ion dynamics split it
        currents=(Current("ih", None, "ghbar", "eh", (("q", 1),)),),
        citation=_CITE_GAINES,
        doc=f"Hyperpolarisation-activated cation current (HCN) of {which} axons, "
        f"half-activation {vhalf:g} mV",
    )


HCN_MOTOR = _hcn("human_hcn_motor", HCN_V_MOTOR, 0.002232, "motor")
HCN_SENSORY = _hcn("human_hcn_sensory", HCN_V_SENSORY, 0.003102, "sensory")


def _node(name: str, which: str, gkbar: float, gl: float, rates: dict) -> Mechanism:
    r = rates
    return Mechanism(
        name=name,
        params=(
            Param("gnabar", 3.0, "conductance_density", 0.0, _INF, "fast Na"),
            Param("gnapbar", 0.01, "conductance_density", 0.0, _INF, "persistent Na"),
            Param("gkbar", gkbar, "conductance_density", 0.0, _INF, "slow K"),
            Param("gl", gl, "conductance_density", 0.0, _INF, "leak"),
            Param("ena", 50.0, "voltage", -150.0, 150.0, "Na reversal"),
            Param("ek", -90.0, "voltage", -150.0, 150.0, "K reversal"),
            Param("el", -90.0, "voltage", -150.0, 150.0, "leak reversal"),
        ),
        gates=(
            Gate(
                "m",
                explinear(r["am"][0] * 10.3, -r["am"][1], 10.3),
                explinear(r["bm"][0] * 9.16, -r["bm"][1], -9.16),
                q10=2.2,
                tref=20.0,
            ),
            Gate(
                "h",
                explinear(r["ah"][0] * r["ah"][2], -r["ah"][1], -r["ah"][2]),
                sigmoid(r["bh"][0], -r["bh"][1], r["bh"][2]),
                q10=2.9,
                tref=20.0,
            ),
            Gate(
                "mp",
                explinear(r["amp"][0] * 10.2, -r["amp"][1], 10.2),
                explinear(r["bmp"][0] * 10.0, -r["bmp"][1], -10.0),
                q10=2.2,
                tref=20.0,
            ),
            _ks_gate(36.0),
        ),
        currents=(
            Current("inaf", "na", "gnabar", "ena", (("m", 3), ("h", 1))),
            Current("inap", "na", "gnapbar", "ena", (("mp", 3),)),
            Current("iks", "k", "gkbar", "ek", (("s", 1),)),
            Current("il", None, "gl", "el"),
        ),
        citation=_CITE_GAINES,
        doc=f"Node of Ranvier of human {which} axons: fast and persistent Na, slow K, leak "
        "(add human_kf for the nodal fast K)",
    )


# (amplitude 1/ms, midpoint magnitude mV[, slope mV]) as ModelDB 243841 lists them
NODE_MOTOR = _node(
    "human_node_motor",
    "motor",
    gkbar=0.08,
    gl=0.007,
    rates={
        "am": (1.86, 20.4),
        "bm": (0.086, 25.7),
        "ah": (0.062, 114.0, 11.0),
        "bh": (2.3, 31.8, 13.4),
        "amp": (0.01, 27.0),
        "bmp": (0.00025, 34.0),
    },
)
NODE_SENSORY = _node(
    "human_node_sensory",
    "sensory",
    gkbar=0.04106,
    gl=0.006005,
    rates={
        "am": (1.77753, 20.1795),
        "bm": (0.0823, 25.4746),
        "ah": (0.075286, 112.7124, 8.3910),
        "bh": (2.8083, 30.5435, 10.2263),
        "amp": (0.00957, 26.852),
        "bmp": (0.0002401, 33.8333),
    },
)

HUMAN_MECHANISMS = (KF, KS_INTERNODE, HCN_MOTOR, HCN_SENSORY, NODE_MOTOR, NODE_SENSORY)
