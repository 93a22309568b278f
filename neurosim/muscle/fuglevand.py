"""Fuglevand, Winter & Patla (1993) motor-unit pool: recruitment, rate coding, twitches.

Fuglevand AJ, Winter DA, Patla AE (1993) Models of recruitment and rate coding
organization in motor-unit pools. J Neurophysiol 70:2470-2488.

For unit i = 1..n:

* recruitment threshold excitation RTE_i = exp(i ln(RR) / n) (RR = 30);
* discharge rate (E - RTE_i) * g_e + MFR (MFR = 8 Hz, g_e = 1 Hz per excitation unit),
  capped at the peak rate PFR_i, falling linearly from 35 Hz (first) to 25 Hz (last);
* twitch peak force P_i = exp(i ln(RP) / n) (RP = 100, in units of the first twitch);
* contraction time T_i = T_L (1 / P_i)^(1/c), c = ln(RP) / ln(RT) (90 ms to 30 ms for
  T_L = 90 ms, RT = 3);
* twitch f_i(t) = P_i (t / T_i) exp(1 - t / T_i);
* activation gain g(T/ISI) = 1 where T/ISI <= 0.4, else
  [(1 - exp(-2 (T/ISI)^3)) / (T/ISI)] / [(1 - exp(-2 0.4^3)) / 0.4], applied to the
  twitch of each spike with the interval that precedes it.

The maximal excitation is the one at which the last unit reaches its peak rate,
E_max = RTE_n + (PFR_n - MFR) / g_e; with the default parameters the last unit is
recruited at RTE_n / E_max = 30 / 47 = 64% of it.

Arrays are float64; times in ms, rates in Hz, forces in units of the first unit's twitch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.validate import check_int, check_nonnegative, check_positive, check_range

__all__ = [
    "FuglevandPool",
    "fuglevand_pool",
    "gain",
    "GAIN_KNEE",
    "GAIN_NORM",
    "twitch",
    "force_from_spikes",
]

#: T/ISI below which the twitch is not amplified (Fuglevand et al. 1993)
GAIN_KNEE = 0.4
#: normalisation making the gain continuous at the knee
GAIN_NORM = (1.0 - np.exp(-2.0 * GAIN_KNEE**3)) / GAIN_KNEE


def gain(ratio) -> np.ndarray:
    """Fuglevand et al. (1993) activation gain as a function of T/ISI.

    Parameters
    ----------
    ratio : array_like
        Contraction time over the preceding interspike interval (dimensionless, >= 0),
        any shape.

    Returns
    -------
    ndarray
        Gain, same shape: 1 for ``ratio <= 0.4``, then rising to about 2.9 near ratio 1
        and falling slowly (so that force saturates with rate).
    """
    r = np.asarray(ratio, dtype=np.float64)
    out = np.ones_like(r)
    hi = r > GAIN_KNEE
    rh = r[hi]
    out[hi] = (1.0 - np.exp(-2.0 * rh**3)) / rh / GAIN_NORM
    return out


def twitch(t, peak: float, contraction_time: float) -> np.ndarray:
    """Twitch force ``peak (t/T) exp(1 - t/T)`` for ``t >= 0`` (0 before).

    Parameters
    ----------
    t : array_like
        Time after activation (ms), any shape.
    peak : float
        Peak force (first-unit twitch units).
    contraction_time : float
        Time to peak T (ms).
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.clip(t / contraction_time, 0.0, None)
    return np.where(t >= 0.0, peak * x * np.exp(1.0 - x), 0.0)


@dataclass(frozen=True)
class FuglevandPool:
    """Per-unit parameters of a Fuglevand pool (all arrays of shape (n,)).

    Attributes
    ----------
    rte : ndarray
        Recruitment threshold excitation (excitation units; first unit ~1).
    peak_rate : ndarray
        Peak discharge rate PFR_i (Hz).
    p : ndarray
        Twitch peak force (first-unit twitch units).
    t : ndarray
        Contraction time (ms).
    min_rate : float
        Rate at recruitment (Hz).
    excitation_gain : float
        Rate increase per excitation unit (Hz).
    """

    rte: np.ndarray
    peak_rate: np.ndarray
    p: np.ndarray
    t: np.ndarray
    min_rate: float
    excitation_gain: float

    @property
    def n(self) -> int:
        return len(self.rte)

    @property
    def e_max(self) -> float:
        """Excitation at which the last unit reaches its peak rate."""
        return float(self.rte[-1] + (self.peak_rate[-1] - self.min_rate) / self.excitation_gain)

    def rates(self, excitation) -> np.ndarray:
        """Steady discharge rates (Hz) for excitation levels.

        Parameters
        ----------
        excitation : array_like, shape (m,) or scalar
            Excitation (excitation units).

        Returns
        -------
        ndarray, shape (m, n)
            0 below threshold, then ``(E - RTE) g_e + MFR`` capped at the peak rate.
        """
        e = np.atleast_1d(np.asarray(excitation, dtype=np.float64))[:, None]
        r = (e - self.rte[None, :]) * self.excitation_gain + self.min_rate
        r = np.minimum(r, self.peak_rate[None, :])
        return np.where(e >= self.rte[None, :], r, 0.0)

    def steady_force(self, rates) -> np.ndarray:
        """Mean force (first-twitch units) of units firing regularly at ``rates``.

        The mean of a periodic train of gained twitches is
        ``P g(T f) * integral(twitch) * f`` with ``integral = P T e`` per twitch.

        Parameters
        ----------
        rates : array_like, shape (m, n)
            Discharge rates (Hz); zero means silent.

        Returns
        -------
        ndarray, shape (m,)
            Total mean force.
        """
        f = np.asarray(rates, dtype=np.float64) * 1e-3  # 1/ms
        g = gain(self.t[None, :] * f)
        return np.sum(self.p[None, :] * np.e * self.t[None, :] * g * f, axis=-1)

    def max_force(self) -> float:
        """Mean force with every unit at its peak rate (first-twitch units)."""
        return float(self.steady_force(self.peak_rate[None, :])[0])


def fuglevand_pool(
    n: int,
    *,
    recruitment_range: float = 30.0,
    twitch_range: float = 100.0,
    contraction_time_max: float = 90.0,
    contraction_time_range: float = 3.0,
    peak_rate_first: float = 35.0,
    peak_rate_last: float = 25.0,
    min_rate: float = 8.0,
    excitation_gain: float = 1.0,
) -> FuglevandPool:
    """Build the per-unit parameters of Fuglevand et al. (1993).

    Parameters
    ----------
    n : int
        Units (>= 1).
    recruitment_range, twitch_range, contraction_time_range : float
        RR, RP, RT (> 1).
    contraction_time_max : float
        Contraction time of the first (smallest) unit (ms).
    peak_rate_first, peak_rate_last, min_rate : float
        Rates (Hz).
    excitation_gain : float
        Hz per excitation unit.
    """
    n = check_int("pool.n_units", n, 1, 100000)
    check_range("recruitment_range", recruitment_range, 1.0, np.inf, lo_open=True)
    check_range("twitch_range", twitch_range, 1.0, np.inf, lo_open=True)
    check_range("contraction_time_range", contraction_time_range, 1.0, np.inf, lo_open=True)
    check_positive("contraction_time_max", contraction_time_max, "ms")
    check_nonnegative("min_rate", min_rate, "Hz")
    check_range("peak_rate_first", peak_rate_first, min_rate, np.inf, unit="Hz")
    check_range("peak_rate_last", peak_rate_last, min_rate, np.inf, unit="Hz")
    check_positive("excitation_gain", excitation_gain, "Hz")
    i = np.arange(1, n + 1, dtype=np.float64)
    rte = np.exp(i * np.log(recruitment_range) / n)
    p = np.exp(i * np.log(twitch_range) / n)
    c = np.log(twitch_range) / np.log(contraction_time_range)
    t = contraction_time_max * (1.0 / p) ** (1.0 / c)
    frac = (rte - rte[0]) / (rte[-1] - rte[0]) if n > 1 else np.zeros(1)
    peak = peak_rate_first - (peak_rate_first - peak_rate_last) * frac
    return FuglevandPool(
        rte=rte,
        peak_rate=peak,
        p=p,
        t=t,
        min_rate=float(min_rate),
        excitation_gain=float(excitation_gain),
    )


def force_from_spikes(
    unit: np.ndarray,
    times: np.ndarray,
    p: np.ndarray,
    t_contr: np.ndarray,
    t_grid: np.ndarray,
) -> np.ndarray:
    """Total force of activated muscle units on a time grid (sum of gained twitches).

    The reference implementation of the twitch model: the network integrates the
    same law with a second-order filter, and tests compare the two.

    Parameters
    ----------
    unit : ndarray of int, shape (k,)
        Unit index of each activation.
    times : ndarray, shape (k,)
        Activation times (ms).
    p, t_contr : ndarray, shape (n,)
        Twitch peak forces and contraction times (ms) per unit.
    t_grid : ndarray, shape (m,)
        Times (ms) at which the force is wanted.

    Returns
    -------
    ndarray, shape (m,)
        Force (first-twitch units).
    """
    unit = np.asarray(unit, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    force = np.zeros(len(t_grid))
    for u in np.unique(unit):
        ts = np.sort(times[unit == u])
        isi = np.diff(ts, prepend=-np.inf)
        g = gain(t_contr[u] / isi)
        for t0, gk in zip(ts, g, strict=True):
            lo = np.searchsorted(t_grid, t0)
            hi = np.searchsorted(t_grid, t0 + 12.0 * t_contr[u])
            force[lo:hi] += gk * twitch(t_grid[lo:hi] - t0, p[u], t_contr[u])
    return force
