"""The labelled result of a batched cable run."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CableResult", "first_crossings"]


def first_crossings(times: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """First spike time per (member, site), NaN where none: shape (B, D)."""
    out = np.where(counts > 0, times[..., 0], np.nan)
    return out


@dataclass
class CableResult:
    """Traces, spikes and conduction velocity of a batch of B cables.

    Attributes
    ----------
    model : str
        Model name.
    t : ndarray, shape (T,)
        Sample times (ms).
    v : ndarray, shape (B, R, T)
        Membrane potential (mV) at the recording sites.
    sites : list of str
        Recording sites (``"section(x)"`` of the segment centre), length R.
    positions : ndarray, shape (R,)
        Path distance of each recording site from the root's 0 end (um).
    spike_sites : list of str
        Spike-detection sites, length D.
    spike_positions : ndarray, shape (D,)
        Path distance of each detection site (um) in member 0.
    member_positions : ndarray, shape (B, D)
        The same per member (members of a structural sweep differ).
    spike_times, spike_peaks : ndarray, shape (B, D, M)
        Threshold-crossing times (ms) and peak potential (mV) of each spike; NaN padded.
    spike_counts : ndarray of int, shape (B, D)
    cv_sites : (str, str) or None
        Sites between which :meth:`conduction_velocity` measures by default.
    cv_distance : ndarray, shape (B,)
        Path distance between the ``cv_sites`` (um), per member.
    cv_inner : ndarray of bool, shape (D,)
        Detection sites lying strictly between the ``cv_sites`` on the path joining them.
    batch : dict of str to ndarray (B,)
        Per-member parameter values that defined the batch.
    meta : dict
        dt, tstop, method, threshold, temperatures, code version.
    """

    model: str
    t: np.ndarray
    v: np.ndarray
    sites: list[str]
    positions: np.ndarray
    spike_sites: list[str]
    spike_positions: np.ndarray
    member_positions: np.ndarray
    spike_times: np.ndarray
    spike_peaks: np.ndarray
    spike_counts: np.ndarray
    cv_sites: tuple[str, str] | None = None
    cv_distance: np.ndarray = field(default_factory=lambda: np.full(1, np.nan))
    cv_inner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    batch: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def B(self) -> int:
        return self.v.shape[0] if self.v.size else self.spike_counts.shape[0]

    def _site_index(self, site: str, names: list[str], what: str) -> int:
        if site in names:
            return names.index(site)
        raise ValueError(f"{site!r} is not a {what} site; {what} sites: {', '.join(names)}")

    def trace(self, site: str, member: int = 0) -> np.ndarray:
        """Membrane potential (mV) at a recording site, shape (T,)."""
        return self.v[member, self._site_index(site, self.sites, "recording")]

    def spikes(self, site: str, member: int = 0) -> np.ndarray:
        """Spike times (ms) at a detection site for one member."""
        k = self._site_index(site, self.spike_sites, "detection")
        n = min(int(self.spike_counts[member, k]), self.spike_times.shape[2])
        return self.spike_times[member, k, :n].copy()

    def ap_peak(self, site: str, member: int = 0) -> float:
        """Peak potential (mV) of the first spike at a detection site (NaN if none)."""
        k = self._site_index(site, self.spike_sites, "detection")
        return float(self.spike_peaks[member, k, 0]) if self.spike_counts[member, k] else np.nan

    def conduction_velocity(self, site_a: str | None = None, site_b: str | None = None):
        """Conduction velocity (m/s) of the first spike between two detection sites, (B,).

        Uses the path distance between the sites and the difference of their first
        threshold crossings; NaN for members where either site did not fire. For the
        protocol's ``cv_sites`` (no arguments), also NaN where the first spike reaches a
        detection site between them before it reaches either: it started between the
        sites (a stimulus there), so nothing was conducted from one to the other. With
        no detection site between them this cannot be seen: detect there too.
        """
        inner = None
        if site_a is None or site_b is None:
            if self.cv_sites is None:
                raise ValueError("no cv sites: give site_a and site_b or set protocol.cv")
            site_a, site_b = self.cv_sites
            dist = self.cv_distance
            inner = self.cv_inner
        else:
            ka = self._site_index(site_a, self.spike_sites, "detection")
            kb = self._site_index(site_b, self.spike_sites, "detection")
            dist = np.abs(self.member_positions[:, kb] - self.member_positions[:, ka])
        first = first_crossings(self.spike_times, self.spike_counts)
        ta = first[:, self._site_index(site_a, self.spike_sites, "detection")]
        tb = first[:, self._site_index(site_b, self.spike_sites, "detection")]
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = dist / np.abs(tb - ta) * 1e-3  # um/ms -> m/s
        if inner is not None and inner.any():
            t_in = np.where(np.isnan(first[:, inner]), np.inf, first[:, inner]).min(axis=1)
            cv[t_in < np.minimum(ta, tb)] = np.nan
        return cv

    def summary(self, member: int = 0) -> dict:
        """JSON-ready summary of one member: per site spike times and AP peak, the CV.

        Keys: ``model``, ``member``, ``sites`` (list of ``{"site", "position_um",
        "spike_times_ms", "ap_peak_mV"}``), ``cv_m_per_s`` (or null), ``cv_sites``,
        ``batch`` (this member's parameter values), ``meta``.
        """
        sites = []
        for k, site in enumerate(self.spike_sites):
            peak = self.ap_peak(site, member)
            sites.append(
                {
                    "site": site,
                    "position_um": float(self.spike_positions[k]),
                    "spike_times_ms": [round(float(x), 6) for x in self.spikes(site, member)],
                    "ap_peak_mV": None if np.isnan(peak) else round(peak, 4),
                }
            )
        cv = None
        if self.cv_sites is not None:
            val = float(self.conduction_velocity()[member])
            cv = None if np.isnan(val) else round(val, 6)
        return {
            "model": self.model,
            "member": member,
            "sites": sites,
            "cv_m_per_s": cv,
            "cv_sites": list(self.cv_sites) if self.cv_sites else None,
            "batch": {k: float(np.asarray(v)[member]) for k, v in self.batch.items()},
            "meta": self.meta,
        }
