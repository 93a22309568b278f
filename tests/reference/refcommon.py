"""Shared helpers of the NEURON reference scripts: spike detection, AP peaks, saving.

Deliberately free of any neurosim import: the reference data must be produced by a
code path that owes nothing to the engine it is used to validate.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SPIKE_THRESHOLD_MV = 0.0


def upward_crossings(t, v, threshold=SPIKE_THRESHOLD_MV):
    """Times at which ``v`` crosses ``threshold`` upwards, linearly interpolated.

    A crossing is a pair of consecutive samples with ``v[k-1] < threshold <= v[k]``;
    its time is found on the straight line between those two samples.

    Parameters
    ----------
    t : ndarray, shape (n_t,)
        Sample times (ms).
    v : ndarray, shape (n_t,)
        Membrane potential (mV).
    threshold : float
        Crossing level (mV).

    Returns
    -------
    ndarray, shape (n_spikes,)
        Crossing times (ms), ascending.
    """
    below = v[:-1] < threshold
    above = v[1:] >= threshold
    k = np.flatnonzero(below & above)
    frac = (threshold - v[k]) / (v[k + 1] - v[k])
    return t[k] + frac * (t[k + 1] - t[k])


def first_spike_peak(v, threshold=SPIKE_THRESHOLD_MV):
    """Maximum of ``v`` during its first excursion above ``threshold``.

    Parameters
    ----------
    v : ndarray, shape (n_t,)
        Membrane potential (mV).
    threshold : float
        Level that defines a spike (mV).

    Returns
    -------
    float
        Peak (mV) of the first spike, or NaN if ``v`` never crosses ``threshold``
        upwards.
    """
    up = np.flatnonzero((v[:-1] < threshold) & (v[1:] >= threshold))
    if up.size == 0:
        return float("nan")
    start = up[0] + 1
    down = np.flatnonzero(v[start:] < threshold)
    stop = start + down[0] if down.size else v.size
    return float(v[start:stop].max())


def pad_spike_times(trains):
    """Pack a list of spike trains into a NaN-padded 2-D array.

    Parameters
    ----------
    trains : list of ndarray
        One array of spike times (ms) per site.

    Returns
    -------
    times : ndarray, shape (n_sites, max(1, longest train))
        Spike times (ms), NaN after each site's last spike.
    counts : ndarray of int, shape (n_sites,)
        Number of spikes per site.
    """
    counts = np.array([len(tr) for tr in trains], dtype=np.int64)
    times = np.full((len(trains), max(1, int(counts.max(initial=0)))), np.nan)
    for i, tr in enumerate(trains):
        times[i, : len(tr)] = tr
    return times, counts


def regenerate_command():
    """The shell command that reproduced this run, for the ``meta`` record."""
    return " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])


def save_case(name, meta, **arrays):
    """Write one case as ``tests/data/<name>.npz`` (compressed, no pickled objects).

    Parameters
    ----------
    name : str
        Case name, also the file stem.
    meta : dict
        JSON-serialisable parameters of the run; stored as the string array ``meta``.
    **arrays
        Plain numeric or str arrays to store.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}.npz"
    packed = {k: np.asarray(a) for k, a in arrays.items()}
    for key, arr in packed.items():
        if arr.dtype.kind not in "biufU":
            raise TypeError(f"array `{key}` has dtype {arr.dtype}; only numbers and str")
    np.savez_compressed(path, meta=np.array(json.dumps(meta, indent=1)), **packed)
    return path
