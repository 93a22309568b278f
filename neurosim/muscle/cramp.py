"""Cramp detection and cramp metrics.

A cramp is involuntary sustained force: the (smoothed) muscle force stays above a set
fraction of maximal force, while there is no voluntary drive and no stimulation, for
longer than a set time. This follows the operational definitions used for electrically
induced cramps (Miller & Knight 2009, Muscle Nerve 39:364: EMG activity persisting
after the stimulation train; Minetto et al. 2009, J Neurophysiol 102:1890) expressed on
force, which the model has directly.

The metrics of a detected cramp are its onset (first threshold crossing in the
involuntary window), duration, peak force, and the discharge of the active units:
mean rate and interspike-interval coefficient of variation per unit (units with at
least ``min_spikes`` spikes in the cramp), then averaged over units as Minetto et al.
(2009) report them (14.5 +/- 5.1 pps, CV about 45%).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from neurosim.validate import check_nonnegative, check_positive, check_range

__all__ = ["CrampCriteria", "CrampMetrics", "detect_cramp", "unit_discharge"]


@dataclass(frozen=True)
class CrampCriteria:
    """What counts as a cramp.

    Attributes
    ----------
    force_fraction : float
        Threshold as a fraction of maximal force (default 0.02).
    min_duration : float
        Shortest cramp (ms; default 1000).
    smoothing : float
        Width of the moving average applied to the force before thresholding (ms;
        default 250), so that the ripple of unfused twitches does not split a cramp.
    settle : float
        Time after the last stimulation pulse before force counts as involuntary (ms;
        default 300: the last evoked twitches have decayed by then).
    drive_tolerance : float
        Largest descending excitation still counted as "no voluntary drive"
        (excitation units; default 0).
    min_spikes : int
        Spikes a unit needs in the cramp to count as active (default 5).
    """

    force_fraction: float = 0.02
    min_duration: float = 1000.0
    smoothing: float = 250.0
    settle: float = 300.0
    drive_tolerance: float = 0.0
    min_spikes: int = 5

    def __post_init__(self) -> None:
        check_range("cramp.force_fraction", self.force_fraction, 0.0, 1.0, lo_open=True)
        check_positive("cramp.min_duration", self.min_duration, "ms")
        check_nonnegative("cramp.smoothing", self.smoothing, "ms")
        check_nonnegative("cramp.settle", self.settle, "ms")
        check_nonnegative("cramp.drive_tolerance", self.drive_tolerance)
        if isinstance(self.min_spikes, bool) or int(self.min_spikes) != self.min_spikes:
            raise TypeError(f"`cramp.min_spikes` = {self.min_spikes!r} must be an integer")
        check_range("cramp.min_spikes", self.min_spikes, 3, 1e9)


@dataclass(frozen=True)
class CrampMetrics:
    """Outcome of cramp detection (NaN where not applicable).

    Attributes
    ----------
    detected : bool
        Whether a cramp was found.
    onset : float
        Start of the cramp (ms from the start of the run).
    duration : float
        Length (ms); a cramp still going at the end of the run is cut there
        (``ongoing`` is then True).
    ongoing : bool
        The cramp had not ended when the record ended.
    peak_force : float
        Peak smoothed force (first-twitch units).
    peak_force_fraction : float
        The same as a fraction of maximal force.
    n_active_units : int
        Units with at least ``min_spikes`` spikes during the cramp.
    rate_mean, rate_sd : float
        Mean and SD over active units of their mean discharge rate (Hz).
    isi_cv_mean : float
        Mean over active units of their ISI coefficient of variation.
    window_start : float
        Start of the involuntary window searched (ms).
    episodes : int
        Cramps in the record (each at least ``min_duration``); the other fields
        describe the first.
    total_duration : float
        Time spent in cramp over the record, all episodes together (ms).
    intervals : tuple of (float, float)
        Start and end of every cramp (ms from the start of the run).
    """

    detected: bool
    onset: float = math.nan
    duration: float = math.nan
    ongoing: bool = False
    peak_force: float = math.nan
    peak_force_fraction: float = math.nan
    n_active_units: int = 0
    rate_mean: float = math.nan
    rate_sd: float = math.nan
    isi_cv_mean: float = math.nan
    window_start: float = math.nan
    episodes: int = 0
    total_duration: float = 0.0
    intervals: tuple = ()

    def to_dict(self) -> dict:
        return asdict(self)


def unit_discharge(
    unit: np.ndarray, times: np.ndarray, t0: float, t1: float, min_spikes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean rate and ISI CV of each unit with enough spikes in ``[t0, t1]``.

    Parameters
    ----------
    unit, times : ndarray, shape (k,)
        Spike unit indices and times (ms).
    t0, t1 : float
        Window (ms).
    min_spikes : int
        Minimum number of spikes for a unit to count.

    Returns
    -------
    units : ndarray of int, shape (a,)
        Active units.
    rate : ndarray, shape (a,)
        Mean rate (Hz): (spikes - 1) / (last - first).
    cv : ndarray, shape (a,)
        SD / mean of the interspike intervals.
    """
    unit = np.asarray(unit, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    sel = (times >= t0) & (times <= t1)
    u_sel, t_sel = unit[sel], times[sel]
    units, rates, cvs = [], [], []
    for u in np.unique(u_sel):
        ts = np.sort(t_sel[u_sel == u])
        if len(ts) < min_spikes:
            continue
        isi = np.diff(ts)
        units.append(u)
        rates.append(1e3 / isi.mean())
        cvs.append(isi.std() / isi.mean())
    return np.asarray(units, dtype=np.int64), np.asarray(rates), np.asarray(cvs)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x.copy()
    kernel = np.ones(width) / width
    pad = width // 2
    xp = np.pad(x, (pad, width - 1 - pad), mode="edge")
    return np.convolve(xp, kernel, mode="valid")


def detect_cramp(
    t: np.ndarray,
    force: np.ndarray,
    max_force: float,
    *,
    drive: np.ndarray | None = None,
    last_stimulus: float = -math.inf,
    spike_unit: np.ndarray | None = None,
    spike_time: np.ndarray | None = None,
    criteria: CrampCriteria | None = None,
) -> CrampMetrics:
    """Find the cramps in a force record; the metrics are those of the first, with
    the number of cramps and the time spent in cramp over the record.

    Parameters
    ----------
    t : ndarray, shape (m,)
        Regular sample times (ms).
    force : ndarray, shape (m,)
        Muscle force (first-twitch units).
    max_force : float
        Maximal force (same units).
    drive : ndarray, shape (m,), optional
        Voluntary (descending) excitation on the same grid; samples above
        ``criteria.drive_tolerance`` are not involuntary.
    last_stimulus : float
        Time of the last stimulation pulse (ms); the search starts ``settle`` later.
    spike_unit, spike_time : ndarray, shape (k,), optional
        Motor-unit discharges for the rate and CV metrics.
    criteria : CrampCriteria, optional
        Thresholds (defaults of :class:`CrampCriteria`).
    """
    c = criteria or CrampCriteria()
    t = np.asarray(t, dtype=np.float64)
    force = np.asarray(force, dtype=np.float64)
    check_positive("max_force", max_force)
    if len(t) < 2:
        return CrampMetrics(detected=False)
    step = float(t[1] - t[0])
    smooth = _smooth(force, int(round(c.smoothing / step)))
    window_start = (last_stimulus + c.settle) if math.isfinite(last_stimulus) else t[0]
    ok = t >= window_start
    if drive is not None:
        ok &= np.asarray(drive) <= c.drive_tolerance
    above = ok & (smooth > c.force_fraction * max_force)
    # runs of consecutive samples above threshold
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # exclusive
    runs = [(a, b) for a, b in zip(starts, stops, strict=True) if (b - a) * step >= c.min_duration]
    if not runs:
        return CrampMetrics(detected=False, window_start=float(window_start))
    a, b = runs[0]
    onset, end = float(t[a]), float(t[b - 1])
    peak = float(smooth[a:b].max())
    metrics = dict(
        detected=True,
        onset=onset,
        duration=float((b - a) * step),
        ongoing=bool(b == len(t)),
        peak_force=peak,
        peak_force_fraction=peak / max_force,
        window_start=float(window_start),
        episodes=len(runs),
        total_duration=float(sum(b - a for a, b in runs) * step),
        intervals=tuple((float(t[a]), float(t[a] + (b - a) * step)) for a, b in runs),
    )
    if spike_unit is not None and spike_time is not None:
        _, rate, cv = unit_discharge(spike_unit, spike_time, onset, end, c.min_spikes)
        if len(rate):
            metrics.update(
                n_active_units=len(rate),
                rate_mean=float(rate.mean()),
                rate_sd=float(rate.std()),
                isi_cv_mean=float(cv.mean()),
            )
    return CrampMetrics(**metrics)
