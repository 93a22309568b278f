"""The one compilation setting every kernel shares.

- ``cache=True``: compiled code is written next to the sources and reused by later
  processes (the first import compiles, later ones load).
- ``error_model="numpy"``: float division by zero gives inf/nan as in numpy instead of
  raising; Python's check would also stop LLVM from vectorising loops. Callers check
  results for non-finite values instead.
- ``fastmath={"contract"}``: fused multiply-add only (no reassociation, no
  assumptions about NaN/inf), so results stay deterministic on one machine.
"""

from __future__ import annotations

from functools import partial

from numba import njit

__all__ = ["kernel", "inline_kernel"]

kernel = partial(njit, cache=True, error_model="numpy", fastmath={"contract"})
inline_kernel = partial(kernel, inline="always")
