"""Membrane mechanisms, declared like NEURON ``.mod`` files (see :mod:`.base`).

Look one up by name with :func:`get_mechanism`; :data:`MECHANISMS` lists them all.
"""

from __future__ import annotations

from neurosim.channels.base import (
    Current,
    Gate,
    Mechanism,
    Param,
    Rate,
    bell,
    const,
    exp,
    explinear,
    sigmoid,
)
from neurosim.channels.cressman import CRESSMAN
from neurosim.channels.hh import HH
from neurosim.channels.human import HUMAN_MECHANISMS
from neurosim.channels.mrg import MRG_NODE
from neurosim.channels.passive import PAS

__all__ = [
    "Current",
    "Gate",
    "Mechanism",
    "Param",
    "Rate",
    "bell",
    "const",
    "exp",
    "explinear",
    "sigmoid",
    "MECHANISMS",
    "get_mechanism",
    "register_mechanism",
]

#: name -> mechanism
MECHANISMS: dict[str, Mechanism] = {}


def register_mechanism(mech: Mechanism) -> Mechanism:
    """Make ``mech`` available to model files by its name."""
    if mech.name in MECHANISMS and MECHANISMS[mech.name] is not mech:
        raise ValueError(f"a different mechanism named {mech.name!r} is already registered")
    MECHANISMS[mech.name] = mech
    return mech


def get_mechanism(name: str) -> Mechanism:
    """The mechanism called ``name``; the error lists the valid names."""
    try:
        return MECHANISMS[name]
    except KeyError:
        raise ValueError(
            f"unknown mechanism {name!r}; valid: {', '.join(sorted(MECHANISMS))}"
        ) from None


for _m in (HH, PAS, MRG_NODE, *HUMAN_MECHANISMS):
    register_mechanism(_m)
register_mechanism(CRESSMAN)
