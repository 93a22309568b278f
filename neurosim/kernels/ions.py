"""Array functions of ion and oxygen bookkeeping (float64, any shape, no units).

Concentrations in mM, potentials in mV, charge in pC (= nA ms), volumes in um3, time
in ms. One pC moved across the membrane of 1 um3 changes the concentration by
``1e6 / F = 10.36 mM``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FARADAY",
    "GAS_CONSTANT",
    "rt_over_f",
    "nernst",
    "charge_to_mM",
    "current_to_rate",
    "logistic",
    "relax",
    "relax_integral",
]

FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)


def rt_over_f(celsius) -> np.ndarray:
    """RT/F in mV at ``celsius`` (26.7 mV at 37 degC)."""
    return GAS_CONSTANT * (273.15 + np.asarray(celsius, dtype=float)) / FARADAY * 1e3


def nernst(c_out, c_in, z: int, celsius) -> np.ndarray:
    """Reversal potential (mV) of an ion of valence ``z``."""
    return rt_over_f(celsius) / z * np.log(np.asarray(c_out) / np.asarray(c_in))


def charge_to_mM(q_pc, volume_um3) -> np.ndarray:
    """Concentration change (mM) when ``q_pc`` pC of a monovalent ion enter ``volume_um3``."""
    return np.asarray(q_pc) * 1e6 / (FARADAY * np.asarray(volume_um3))


def current_to_rate(i_na, volume_um3) -> np.ndarray:
    """Rate of concentration change (mM/ms) for an influx current ``i_na`` (nA)."""
    return charge_to_mM(i_na, volume_um3)


def logistic(x, half, slope) -> np.ndarray:
    """``1 / (1 + exp((half - x) / slope))``: rises from 0 to 1 around ``half``."""
    return 1.0 / (1.0 + np.exp((half - np.asarray(x)) / slope))


def relax(c, source, rate, c_eq, dt) -> np.ndarray:
    """Exact solution after ``dt`` of ``dc/dt = source - rate (c - c_eq)`` with constant
    ``source`` (mM/ms) and ``rate`` (1/ms, >= 0).

    Written as ``c + (source - rate (c - c_eq)) dt phi(rate dt)`` with
    ``phi(x) = (1 - exp(-x))/x`` (-> 1 as x -> 0), which stays accurate for any rate,
    including rates that are tiny but not zero (a nearly stopped blood flow).
    """
    c = np.asarray(c, dtype=float)
    x = np.broadcast_to(np.asarray(rate, dtype=float), c.shape) * dt
    small = x < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(small, 1.0 - 0.5 * x, -np.expm1(-x) / np.where(small, 1.0, x))
    return c + (source - np.asarray(rate) * (c - c_eq)) * dt * phi


def relax_integral(c, source, rate, c_eq, dt):
    """:func:`relax` and the time integral of ``c - c_eq`` over the step.

    Returns ``(c_new, integral)``; ``rate * integral`` is the amount per volume that the
    relaxation term moved (exchange with a partner), exactly, for any rate >= 0:
    ``integral = dt ((c - c_eq) phi(x) + source dt psi(x))`` with ``x = rate dt``,
    ``phi(x) = (1 - exp(-x))/x`` and ``psi(x) = (x - 1 + exp(-x))/x^2`` (-> 1/2).
    """
    c = np.asarray(c, dtype=float)
    rate = np.broadcast_to(np.asarray(rate, dtype=float), c.shape)
    x = rate * dt
    small = x < 1e-4
    xs = np.where(small, 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(small, 1.0 - x / 2 + x * x / 6, -np.expm1(-xs) / xs)
        psi = np.where(small, 0.5 - x / 6 + x * x / 24, (xs + np.expm1(-xs)) / (xs * xs))
    source = np.asarray(source, dtype=float)
    new = c + (source - rate * (c - c_eq)) * dt * phi
    integral = dt * ((c - c_eq) * phi + source * dt * psi)
    return new, integral
