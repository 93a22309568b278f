"""Entry points, one per level: a batch of cables (:func:`simulate_cable`)."""

from __future__ import annotations

from neurosim.simulate.cable import CableSimulation, simulate_cable
from neurosim.simulate.model import CableModel, Placement, compile_batch
from neurosim.simulate.protocol import Protocol, Stimulus
from neurosim.simulate.result import CableResult

__all__ = [
    "CableModel",
    "CableResult",
    "CableSimulation",
    "Placement",
    "Protocol",
    "Stimulus",
    "compile_batch",
    "simulate_cable",
]
