"""neurosim: how a compressed nerve root makes leg muscles cramp.

Layers (arrows point down): ``kernels`` <- declarations (``channels``, ``morphology``,
``ions``, ``compression``, ``spinal``, ``muscle``) <- entry points (``simulate``,
``chain``) <- drivers (``experiments``, ``sweep``, ``figures``, ``cli``).
"""

from __future__ import annotations

__version__ = "0.1.0"


class NeurosimWarning(UserWarning):
    """Warnings raised by neurosim itself (tests turn these into errors)."""


__all__ = ["__version__", "NeurosimWarning"]
