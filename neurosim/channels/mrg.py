"""Nodal channels of the McIntyre-Richardson-Grill mammalian motor axon.

McIntyre CC, Richardson AG, Grill WM (2002) Modeling the excitability of mammalian nerve
fibers: influence of afterpotentials on the recovery cycle. J Neurophysiol 87:995-1006
(ModelDB 3810). Fast Na (m^3 h), persistent Na (m^3), slow K (s) and leak at the node of
Ranvier; rates (1/ms, v in mV) and Q10 factors as listed in neurosim's SCIENCE.md
section 3: 2.2 on Na activation and 2.9 on Na inactivation from 20 degC, 3.0 on Ks from
36 degC. Published copies of the model differ in a few constants; these follow
SCIENCE.md. The EXPLINEAR rates are written ``explinear(a * k, midpoint, k)`` so that the
published ``a (v - midpoint) / (1 - exp(-(v - midpoint) / k))`` is visible.
"""

from __future__ import annotations

import math

from neurosim.channels.base import Current, Gate, Mechanism, Param, explinear, sigmoid

__all__ = ["MRG_NODE"]

_INF = math.inf

MRG_NODE = Mechanism(
    name="mrg_node",
    params=(
        Param("gnabar", 3.0, "conductance_density", 0.0, _INF, "fast Na"),
        Param("gnapbar", 0.01, "conductance_density", 0.0, _INF, "persistent Na"),
        Param("gkbar", 0.08, "conductance_density", 0.0, _INF, "slow K"),
        Param("gl", 0.007, "conductance_density", 0.0, _INF, "leak"),
        Param("ena", 50.0, "voltage", -150.0, 150.0, "Na reversal"),
        Param("ek", -90.0, "voltage", -150.0, 150.0, "K reversal"),
        Param("el", -90.0, "voltage", -150.0, 150.0, "leak reversal"),
    ),
    gates=(
        Gate(
            "m",
            explinear(1.86 * 10.3, -21.4, 10.3),
            explinear(0.086 * 9.16, -25.7, -9.16),
            q10=2.2,
            tref=20.0,
        ),
        Gate(
            "h",
            explinear(0.062 * 11.0, -114.0, -11.0),
            sigmoid(2.3, -31.8, 13.4),
            q10=2.9,
            tref=20.0,
        ),
        Gate(
            "mp",
            explinear(0.01 * 10.2, -27.0, 10.2),
            explinear(0.00025 * 10.0, -34.0, -10.0),
            q10=2.2,
            tref=20.0,
        ),
        Gate("s", sigmoid(0.3, -53.0, 5.0), sigmoid(0.03, -90.0, 1.0), q10=3.0, tref=36.0),
    ),
    currents=(
        Current("inaf", "na", "gnabar", "ena", (("m", 3), ("h", 1))),
        Current("inap", "na", "gnapbar", "ena", (("mp", 3),)),
        Current("iks", "k", "gkbar", "ek", (("s", 1),)),
        Current("il", None, "gl", "el"),
    ),
    citation="McIntyre, Richardson & Grill 2002, J Neurophysiol 87:995 (ModelDB 3810)",
    doc="MRG node of Ranvier: fast and persistent Na, slow K, leak",
)
