"""Hodgkin-Huxley 1952 squid-axon channels, as NEURON's ``hh`` mechanism.

Hodgkin AL, Huxley AF (1952) A quantitative description of membrane current and its
application to conduction and excitation in nerve. J Physiol 117:500-544.
Rates are written, as in NEURON's ``src/nrnoc/hh.mod``, for a resting potential of
-65 mV, with Q10 = 3 from 6.3 degC applied to every rate.
"""

from __future__ import annotations

import math

from neurosim.channels.base import Current, Gate, Mechanism, Param, exp, explinear, sigmoid

__all__ = ["HH"]

_Q10, _TREF = 3.0, 6.3

HH = Mechanism(
    name="hh",
    params=(
        Param("gnabar", 0.12, "conductance_density", 0.0, math.inf, "maximal Na conductance"),
        Param("gkbar", 0.036, "conductance_density", 0.0, math.inf, "maximal K conductance"),
        Param("gl", 0.0003, "conductance_density", 0.0, math.inf, "leak conductance"),
        Param("el", -54.3, "voltage", -150.0, 150.0, "leak reversal potential"),
        Param("ena", 50.0, "voltage", -150.0, 150.0, "Na reversal potential"),
        Param("ek", -77.0, "voltage", -150.0, 150.0, "K reversal potential"),
    ),
    gates=(
        Gate("m", explinear(1.0, -40.0, 10.0), exp(4.0, -65.0, -18.0), q10=_Q10, tref=_TREF),
        Gate("h", exp(0.07, -65.0, -20.0), sigmoid(1.0, -35.0, 10.0), q10=_Q10, tref=_TREF),
        Gate("n", explinear(0.1, -55.0, 10.0), exp(0.125, -65.0, -80.0), q10=_Q10, tref=_TREF),
    ),
    currents=(
        Current("ina", "na", "gnabar", "ena", (("m", 3), ("h", 1))),
        Current("ik", "k", "gkbar", "ek", (("n", 4),)),
        Current("il", None, "gl", "el"),
    ),
    citation="Hodgkin & Huxley 1952, J Physiol 117:500; rates as NEURON's hh.mod",
    doc="Squid giant axon Na, K and leak currents",
)
