"""neurosim: how a compressed nerve root makes leg muscles cramp.

Layers (arrows point down): ``kernels`` <- declarations (``channels``, ``morphology``,
``ions``, ``compression``, ``spinal``, ``muscle``) <- entry points (``simulate``,
``chain``) <- drivers (``experiments``, ``sweep``, ``figures``, ``cli``).

The public API is re-exported here and imported on first use, so that ``import
neurosim`` stays cheap for commands that need only one level.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"


class NeurosimWarning(UserWarning):
    """Warnings raised by neurosim itself (tests turn these into errors)."""


_PUBLIC = {
    "simulate_cable": "neurosim.simulate",
    "CableSimulation": "neurosim.simulate",
    "CableModel": "neurosim.simulate",
    "CableResult": "neurosim.simulate",
    "Protocol": "neurosim.simulate",
    "Stimulus": "neurosim.simulate",
    "load_model": "neurosim.simulate.load",
    "ModelFile": "neurosim.simulate.load",
    "Section": "neurosim.morphology",
    "Morphology": "neurosim.morphology",
    "Mechanism": "neurosim.channels",
    "get_mechanism": "neurosim.channels",
    "load_compression": "neurosim.compression.load",
    "AxonGroup": "neurosim.simulate.root",
    "root_axon": "neurosim.simulate.root",
    "simulate_root": "neurosim.simulate.root",
    "Segment": "neurosim.simulate.chain",
    "simulate_chain": "neurosim.simulate.chain",
    "run_experiment": "neurosim.experiments",
}

__all__ = ["__version__", "NeurosimWarning", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
