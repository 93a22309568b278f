"""Voltage-dependent rate functions: one safe ``exprel`` and the standard rate forms.

Every gate in neurosim is built from a handful of closed forms, the same ones NeuroML 2
standardises (``HHExpRate``, ``HHSigmoidRate``, ``HHExpLinearRate``) plus a constant and
the bell-shaped time constant common in motor-neuron models. A form is an integer code
and four parameters ``p = (p0, p1, p2, p3)``; ``v`` in mV, rates in 1/ms (or ms for a
time constant, or 1 for a steady state: the form does not care).

=========  ====  ===========================================================
form       code  value
=========  ====  ===========================================================
CONST      0     p0
EXP        1     p0 * exp((v - p1) / p2)
SIGMOID    2     p0 / (1 + exp(-(v - p1) / p2))
EXPLINEAR  3     p0 * x / (1 - exp(-x)),  x = (v - p1) / p2   (-> p0 at x = 0)
BELL       4     p0 / (exp((v - p1) / p2) + exp(-(v - p1) / p3))
=========  ====  ===========================================================

EXPLINEAR is ``p0 / exprel(-x)`` and is finite at the singular voltage ``v = p1``
(NEURON's ``vtrap``); that is the only place where 0/0 can arise.

All exponentials go through :func:`vexp`, written in plain arithmetic so that LLVM can
vectorise the kernels' loops over batch members (numba's ``math.exp`` is a scalar libm
call; the SVML vector library is not available in current llvmlite builds). It agrees
with libm's ``exp`` to about 2 ulp (tested).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from neurosim.kernels._jit import inline_kernel, kernel

__all__ = [
    "CONST",
    "EXP",
    "SIGMOID",
    "EXPLINEAR",
    "BELL",
    "FORMS",
    "vexp",
    "exprel",
    "rate",
    "rate_row",
    "rate_array",
]

CONST, EXP, SIGMOID, EXPLINEAR, BELL = 0, 1, 2, 3, 4
FORMS = {"const": CONST, "exp": EXP, "sigmoid": SIGMOID, "explinear": EXPLINEAR, "bell": BELL}

# Cody-Waite split of ln 2 (the high part has 11 trailing zero bits, so k * _LN2_HI is
# exact for |k| < 2^11) and 1/k! for the Taylor polynomial of exp on |r| <= ln2/2,
# whose degree-12 remainder is < 2e-17 relative.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125
_LN2_LO = 1.428606820309417232e-06
_C = tuple(1.0 / math.factorial(k) for k in range(13))


@intrinsic
def _bits_to_float(typingctx, x):
    """Reinterpret an int64 bit pattern as a float64 (an LLVM bitcast; vectorisable)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@inline_kernel
def vexp(x: float) -> float:
    """``exp(x)`` in arithmetic only (range reduction, polynomial, exponent bits).

    Arguments are clamped to [-708, 709] (the float64 range), so overflow gives
    ~8e307 instead of inf; membrane-model arguments never come near either bound.
    """
    x = min(max(x, -708.0), 709.0)
    k = math.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = _C[12]
    p = _C[11] + r * p
    p = _C[10] + r * p
    p = _C[9] + r * p
    p = _C[8] + r * p
    p = _C[7] + r * p
    p = _C[6] + r * p
    p = _C[5] + r * p
    p = _C[4] + r * p
    p = _C[3] + r * p
    p = _C[2] + r * p
    p = _C[1] + r * p
    p = _C[0] + r * p
    return p * _bits_to_float((np.int64(k) + 1023) << 52)


# Below this |x| exprel uses its Taylor series to x^5 (remainder x^6/5040 < 2e-16);
# above it (exp(x) - 1)/x loses at most eps/|x| ~ 2e-14 relative to cancellation.
_EXPREL_SERIES = 1e-2


@inline_kernel
def exprel(x: float) -> float:
    """``(exp(x) - 1) / x``, equal to 1 at ``x = 0`` and accurate near it."""
    series = 1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x / 720.0))))
    direct = (vexp(x) - 1.0) / x
    return series if abs(x) < _EXPREL_SERIES else direct


@inline_kernel
def rate(form: int, p0: float, p1: float, p2: float, p3: float, v: float) -> float:
    """Evaluate one rate form at membrane potential ``v`` (mV)."""
    if form == EXP:
        return p0 * vexp((v - p1) / p2)
    if form == SIGMOID:
        return p0 / (1.0 + vexp(-(v - p1) / p2))
    if form == EXPLINEAR:
        return p0 / exprel(-(v - p1) / p2)
    if form == BELL:
        return p0 / (vexp((v - p1) / p2) + vexp(-(v - p1) / p3))
    return p0


@inline_kernel
def rate_row(form, p0, p1, p2, p3, v, out, width):
    """``out[w] = rate(form, ..., v[w])`` for ``w < width``, one loop per form so that
    each loop is branch-free and vectorises across batch members."""
    if form == EXP:
        for w in range(width):
            out[w] = rate(EXP, p0, p1, p2, p3, v[w])
    elif form == SIGMOID:
        for w in range(width):
            out[w] = rate(SIGMOID, p0, p1, p2, p3, v[w])
    elif form == EXPLINEAR:
        for w in range(width):
            out[w] = rate(EXPLINEAR, p0, p1, p2, p3, v[w])
    elif form == BELL:
        for w in range(width):
            out[w] = rate(BELL, p0, p1, p2, p3, v[w])
    else:
        for w in range(width):
            out[w] = p0


@kernel
def _rate_loop(form, p, v, out):
    for i in range(v.size):
        out[i] = rate(form, p[0], p[1], p[2], p[3], v[i])


def rate_array(form: int, params, v) -> np.ndarray:
    """Vectorised :func:`rate` over an array of voltages (same code as the kernels).

    Parameters
    ----------
    form : int
        One of the codes above.
    params : sequence of 4 float
    v : array_like, mV
    """
    v = np.asarray(v, dtype=np.float64)
    p = np.zeros(4)
    p[: len(params)] = params
    out = np.empty(v.size)
    _rate_loop(int(form), p, np.ascontiguousarray(v.ravel()), out)
    return out.reshape(v.shape)
