"""Passive leak (NEURON's ``pas``): ``i = g (v - e)``."""

from __future__ import annotations

import math

from neurosim.channels.base import Current, Mechanism, Param

__all__ = ["PAS"]

PAS = Mechanism(
    name="pas",
    params=(
        Param("g", 0.001, "conductance_density", 0.0, math.inf, "leak conductance"),
        Param("e", -70.0, "voltage", -150.0, 150.0, "leak reversal potential"),
    ),
    currents=(Current("i", None, "g", "e"),),
    citation="passive membrane (NEURON's pas mechanism)",
    doc="Linear leak",
)
