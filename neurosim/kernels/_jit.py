"""The one compilation setting every kernel shares.

- ``cache=True``: compiled code is written next to the sources and reused by later
  processes (the first import compiles, later ones load).
- ``error_model="numpy"``: float division by zero gives inf/nan as in numpy instead of
  raising; Python's check would also stop LLVM from vectorising loops. Callers check
  results for non-finite values instead.
- ``fastmath={"contract"}``: fused multiply-add only (no reassociation, no
  assumptions about NaN/inf), so results stay deterministic on one machine.

Threads: numba's ``workqueue`` layer is the default here (``NUMBA_THREADING_LAYER``
overrides it). Measured on this project's 2-core machines under load, a parallel call
costs ~0.2 ms with ``workqueue`` against ~20 ms with GNU OpenMP's spinning threads,
which matters for the ion layer's many short windows.
"""

from __future__ import annotations

import os
from functools import partial

import numba
from numba import njit

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

__all__ = ["kernel", "inline_kernel"]

kernel = partial(njit, cache=True, error_model="numpy", fastmath={"contract"})
inline_kernel = partial(kernel, inline="always")
