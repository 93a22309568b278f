"""Surface EMG synthesised from motor-unit action potentials.

Each activation of a muscle unit adds that unit's motor-unit action potential (MUAP)
to the signal. The MUAP is the first-order Hermite-Rodriguez function, the standard
compact model of a surface MUAP (Lo Conte LR, Merletti R, Sandri GV 1994, Hermite
expansions of compact support waveforms: applications to myoelectric signals, IEEE
Trans Biomed Eng 41:1147-1159):

    MUAP_i(t) = A_i (t / lambda_i) exp(-(t / lambda_i)^2)

a biphasic wave with peaks of +-A_i exp(-1/2)/sqrt(2) at t = +-lambda_i/sqrt(2)
(peak to peak about 0.86 A_i). Amplitude grows with unit
size (number of fibres, hence twitch force: A_i = A_1 P_i^a) and the waveform widens
for larger, deeper units (lambda from ``duration_first`` to ``duration_last``), as in
the surface-EMG model of Fuglevand, Winter & Patla (1992, Biol Cybern 67:143).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

__all__ = ["muap", "muap_parameters", "synthesize_emg"]


def muap(t, amplitude: float, width: float) -> np.ndarray:
    """First-order Hermite-Rodriguez MUAP.

    Parameters
    ----------
    t : array_like
        Time relative to the activation (ms), any shape.
    amplitude : float
        A (mV).
    width : float
        lambda (ms).
    """
    x = np.asarray(t, dtype=np.float64) / width
    return amplitude * x * np.exp(-(x**2))


def muap_parameters(
    p: np.ndarray,
    *,
    amplitude_first: float,
    amplitude_exponent: float,
    width_first: float,
    width_last: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude (mV) and width (ms) per unit, shape (n,) each, from twitch forces ``p``."""
    p = np.asarray(p, dtype=np.float64)
    amp = amplitude_first * (p / p[0]) ** amplitude_exponent
    frac = (np.log(p) - np.log(p[0])) / max(np.log(p[-1]) - np.log(p[0]), 1e-300)
    width = width_first + (width_last - width_first) * frac
    return amp, width


def synthesize_emg(
    unit: np.ndarray,
    times: np.ndarray,
    amplitude: np.ndarray,
    width: np.ndarray,
    duration: float,
    sampling_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of MUAPs at the activation times, sampled on a regular grid.

    Parameters
    ----------
    unit : ndarray of int, shape (k,)
        Unit of each activation.
    times : ndarray, shape (k,)
        Activation times (ms), i.e. arrival of the motor-axon spike at the muscle.
    amplitude, width : ndarray, shape (n,)
        MUAP parameters per unit (mV, ms).
    duration : float
        Length of the record (ms).
    sampling_rate : float
        Samples per second (Hz).

    Returns
    -------
    t : ndarray, shape (m,)
        Sample times (ms).
    emg : ndarray, shape (m,)
        Surface EMG (mV).
    """
    step = 1e3 / sampling_rate
    m = int(np.floor(duration / step)) + 1
    t = np.arange(m) * step
    emg = np.zeros(m)
    unit = np.asarray(unit, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    for u in np.unique(unit):
        ts = times[unit == u]
        train = np.zeros(m)
        np.add.at(train, np.clip(np.rint(ts / step).astype(np.int64), 0, m - 1), 1.0)
        half = int(np.ceil(4.0 * width[u] / step))
        kernel = muap(np.arange(-half, half + 1) * step, amplitude[u], width[u])
        emg += fftconvolve(train, kernel, mode="same")
    return t, emg
