"""Input checks shared by every layer: loud, early, and naming the key, value and range.

Every public entry point calls these before any work starts, so a bad value never
reaches a kernel. They raise :class:`ValueError` (or :class:`TypeError` for a wrong
kind of object); ``assert`` is kept for the package's own invariants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = [
    "check_finite",
    "check_positive",
    "check_nonnegative",
    "check_range",
    "check_int",
    "check_keys",
    "check_choice",
]


def _describe(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(float(arr)) if np.issubdtype(arr.dtype, np.number) else repr(value)
    return f"array of shape {arr.shape}"


def _as_float_array(key: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{key}` = {value!r} is not numeric") from exc
    return arr


def check_finite(key: str, value, unit: str = "") -> np.ndarray:
    """Return ``value`` as float64, refusing NaN and inf (naming the first bad element)."""
    arr = _as_float_array(key, value)
    bad = ~np.isfinite(arr)
    if bad.any():
        where = "" if arr.ndim == 0 else f" at index {tuple(int(i) for i in np.argwhere(bad)[0])}"
        first = float(arr[bad].flat[0])
        raise ValueError(f"`{key}` = {first!r}{' ' + unit if unit else ''}{where} is not finite")
    return arr


def check_range(
    key: str,
    value,
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    unit: str = "",
    lo_open: bool = False,
    hi_open: bool = False,
) -> np.ndarray:
    """Return ``value`` as float64 after checking ``lo <= value <= hi`` elementwise.

    ``lo_open``/``hi_open`` make the bound strict. The message names the key, the first
    offending value (and its index for arrays) and the allowed interval.
    """
    arr = check_finite(key, value, unit)
    below = arr <= lo if lo_open else arr < lo
    above = arr >= hi if hi_open else arr > hi
    bad = below | above
    if bad.any():
        first = float(arr[bad].flat[0])
        where = "" if arr.ndim == 0 else f" at index {tuple(int(i) for i in np.argwhere(bad)[0])}"
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        u = f" {unit}" if unit else ""
        raise ValueError(
            f"`{key}` = {first:g}{u}{where} is out of range; allowed {left}{lo:g}, {hi:g}{right}{u}"
        )
    return arr


def check_positive(key: str, value, unit: str = "") -> np.ndarray:
    """``value > 0`` elementwise, finite."""
    return check_range(key, value, 0.0, math.inf, unit=unit, lo_open=True)


def check_nonnegative(key: str, value, unit: str = "") -> np.ndarray:
    """``value >= 0`` elementwise, finite."""
    return check_range(key, value, 0.0, math.inf, unit=unit)


def check_int(key: str, value, lo: int = -(2**62), hi: int = 2**62) -> int:
    """An integer (not a bool, not a float with a fraction) in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"`{key}` = {value!r} must be an integer")
    if not lo <= int(value) <= hi:
        raise ValueError(f"`{key}` = {value} is out of range; allowed [{lo}, {hi}]")
    return int(value)


def check_keys(where: str, given: Iterable[str], allowed: Iterable[str], required=()) -> None:
    """Refuse unknown keys and report missing required ones, listing the valid names."""
    given = list(given)
    allowed = sorted(set(allowed))
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(repr(k) for k in unknown)} in {where}; "
            f"valid keys: {', '.join(allowed)}"
        )
    missing = [k for k in required if k not in given]
    if missing:
        raise ValueError(
            f"missing required key(s) {', '.join(repr(k) for k in missing)} in {where}"
        )


def check_choice(key: str, value, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices`` (listed in the message)."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"`{key}` = {value!r} is not one of: {', '.join(map(str, choices))}")
    return value
