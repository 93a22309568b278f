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
import types
from functools import partial

import numba
from numba import njit

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

__all__ = ["kernel", "inline_kernel", "variant"]

kernel = partial(njit, cache=True, error_model="numpy", fastmath={"contract"})
inline_kernel = partial(kernel, inline="always")


def variant(func, suffix: str):
    """A copy of ``func`` under the name ``<name>_<suffix>``, to compile with other options.

    numba's on-disk cache names an entry by the function's qualified name and line and
    keys it by signature only, not by options: compiling one function both with
    ``parallel=True`` and without would share one entry, and whichever compiled first
    would be loaded for both (the parallel kernel then ran on one thread).
    """
    name = f"{func.__name__}_{suffix}"
    copy = types.FunctionType(
        func.__code__.replace(co_name=name, co_qualname=name),
        func.__globals__,
        name,
        func.__defaults__,
        func.__closure__,
    )
    copy.__qualname__ = name
    copy.__doc__ = func.__doc__
    copy.__module__ = func.__module__
    return copy
