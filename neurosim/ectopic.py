"""Ectopic discharge: from spikes at the nodes to propagating events.

A spike train at each node of Ranvier is what the cable layer records; what the rest of
the chain needs is *events*: one action potential that starts somewhere and spreads
along the axon. This module groups spikes into events, finds where each started and
which way it went, tells spontaneous (ectopic) events from stimulus-evoked ones, and
measures rates, bursts and afterdischarge per batch member.

Grouping
--------
Detection sites are ordered by position; neighbours are adjacent sites. A spike's
*parent* is the latest spike at a neighbouring site of the same member that came
earlier by at most ``max_delay`` (ms): the spike that brought the AP to it. Spikes
without a parent start an event; every other spike belongs to the event of its
parent's chain. A propagating AP therefore forms one event whose earliest spike is its
origin, even if it travels both ways, and two APs that collide stay two events (each
spike's parent is the nearer-in-time earlier neighbour, which lies on its own side of the
collision). ``max_delay`` must exceed the slowest internode conduction time (0.02-0.05
ms in an intact 10 um MRG axon, up to ~0.4 ms across damaged paranodes) and be shorter
than the interval between successive APs (1 ms by default). Where both neighbours fired
first (the meeting point of two colliding APs) the parent is the neighbour whose delay
best continues the delay of its own chain. Equal times are broken by site order.

Direction is relative to the spinal cord: ``cord_end = "start"`` means the site with
the smallest position is nearest the cord (proximal). An event that spreads from its
origin only towards the cord is :attr:`Direction.PROXIMAL` (antidromic in a motor
axon), only away from it :attr:`Direction.DISTAL` (towards the muscle), both ways
:attr:`Direction.BOTH`, and one seen at a single site :attr:`Direction.LOCAL`.

Evoked or ectopic
-----------------
A stimulus-evoked AP starts at the stimulated node. An event is *evoked* if its origin
lies within ``stimulus_radius`` sites of a stimulus site and its origin time within
``evoked_latency`` ms after that stimulus's onset; every other event is ectopic.

Rates use the time actually observed: an :class:`~neurosim.simulate.ionic.IonicSimulation`
sees spikes only inside its fast windows (``IonicResult.windows``, ``observed_time``).

Everything that scales with the number of spikes or members is vectorised (sorting and
``bincount``); Python loops run over stimulus sites or triggers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from neurosim.validate import check_choice, check_int, check_positive, check_range

__all__ = [
    "Direction",
    "Events",
    "Bursts",
    "EctopicSummary",
    "find_events",
    "event_rates",
    "find_bursts",
    "afterdischarge",
    "summarize",
    "spikes_from_cable",
    "observed_time",
    "analyse",
]


class Direction(IntEnum):
    """Which way an event travelled from its origin (relative to the spinal cord)."""

    LOCAL = 0
    PROXIMAL = 1  # towards the cord only
    DISTAL = 2  # towards the muscle only
    BOTH = 3


def _latest_before(gd, td, gq, tq) -> np.ndarray:
    """For each query (group ``gq``, time ``tq``) the index of the latest data item of the
    same group with time strictly below ``tq``, or -1. All arrays 1-D."""
    nd = gd.shape[0]
    g = np.concatenate([gd, gq])
    t = np.concatenate([td, tq])
    kind = np.concatenate([np.ones(nd, np.int8), np.zeros(gq.shape[0], np.int8)])
    order = np.lexsort((kind, t, g))  # equal times: queries before data -> strictly earlier
    is_data = kind[order] == 1
    pos = np.where(is_data, np.arange(order.size), -1)
    last = np.maximum.accumulate(pos) if pos.size else pos
    out = np.full(gq.shape[0], -1, dtype=np.int64)
    qpos = np.flatnonzero(~is_data)
    lp = last[qpos]
    ok = lp >= 0
    cand = np.where(ok, order[np.where(ok, lp, 0)], -1)
    same = ok & (g[np.where(ok, cand, 0)] == g[order[qpos]])
    out[order[qpos] - nd] = np.where(same, cand, -1)
    return out


@dataclass
class Events:
    """Propagating events of a batch, one entry per event (E events, N spikes, D sites).

    Attributes
    ----------
    member : ndarray of int (E,)
    origin : ndarray of int (E,)
        Detection-site index (as given) of the earliest spike.
    origin_position : ndarray (E,)
        Its position along the axon (um).
    time : ndarray (E,)
        Time of the earliest spike (ms).
    n_spikes : ndarray of int (E,)
    lo_position, hi_position : ndarray (E,)
        Smallest and largest position the event reached (um).
    direction : ndarray of int (E,)
        :class:`Direction` values.
    evoked : ndarray of bool (E,)
    reaches_cord, reaches_muscle : ndarray of bool (E,)
        Whether it reached the detection site nearest the cord / farthest from it.
    spike_event : ndarray of int (N,)
        Event of each input spike (input order).
    positions : ndarray (D,)
        Detection-site positions (um).
    cord_end : str
    n_members : int
    """

    member: np.ndarray
    origin: np.ndarray
    origin_position: np.ndarray
    time: np.ndarray
    n_spikes: np.ndarray
    lo_position: np.ndarray
    hi_position: np.ndarray
    direction: np.ndarray
    evoked: np.ndarray
    reaches_cord: np.ndarray
    reaches_muscle: np.ndarray
    spike_event: np.ndarray
    positions: np.ndarray
    cord_end: str
    n_members: int

    def __len__(self) -> int:
        return self.member.shape[0]

    @property
    def ectopic(self) -> np.ndarray:
        """Mask of spontaneous (not stimulus-evoked) events."""
        return ~self.evoked

    def cord_distance(self, position) -> np.ndarray:
        """Distance (um) from the cord-end detection site of positions along the axon."""
        x = np.asarray(position, dtype=float)
        if self.cord_end == "start":
            return x - self.positions.min()
        return self.positions.max() - x

    def select(self, mask) -> Events:
        """The events where ``mask`` is true (``spike_event`` is renumbered; spikes of
        dropped events get -1)."""
        mask = np.asarray(mask, dtype=bool)
        new_id = np.cumsum(mask) - 1
        se = np.where(
            self.spike_event >= 0,
            np.where(
                mask[np.clip(self.spike_event, 0, None)],
                new_id[np.clip(self.spike_event, 0, None)],
                -1,
            ),
            -1,
        )
        return Events(
            self.member[mask],
            self.origin[mask],
            self.origin_position[mask],
            self.time[mask],
            self.n_spikes[mask],
            self.lo_position[mask],
            self.hi_position[mask],
            self.direction[mask],
            self.evoked[mask],
            self.reaches_cord[mask],
            self.reaches_muscle[mask],
            se,
            self.positions,
            self.cord_end,
            self.n_members,
        )

    def as_table(self) -> dict[str, np.ndarray]:
        """Column arrays for saving (one row per event)."""
        return {
            "member": self.member,
            "origin_site": self.origin,
            "origin_position_um": self.origin_position,
            "time_ms": self.time,
            "n_spikes": self.n_spikes,
            "direction": self.direction,
            "evoked": self.evoked,
            "reaches_cord": self.reaches_cord,
            "reaches_muscle": self.reaches_muscle,
        }


def _check_spikes(spikes, n_sites: int) -> np.ndarray:
    s = np.asarray(spikes, dtype=float)
    if s.size == 0:
        s = np.zeros((0, 3))
    if s.ndim != 2 or s.shape[1] != 3:
        raise ValueError(f"`spikes` must have shape (N, 3): member, site, time; got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("`spikes` contains NaN or inf")
    if s.size and (np.any(s[:, :2] < 0) or np.any(s[:, :2] != np.round(s[:, :2]))):
        raise ValueError("`spikes` members and site indices must be non-negative integers")
    if s.size and s[:, 1].max() >= n_sites:
        raise ValueError(
            f"`spikes` refers to site {int(s[:, 1].max())}, but only {n_sites} positions are given"
        )
    return s


def find_events(
    spikes,
    positions,
    *,
    cord_end: str = "start",
    max_delay: float = 1.0,
    stimuli=None,
    evoked_latency: float = 2.0,
    stimulus_radius: int = 1,
    n_members: int | None = None,
) -> Events:
    """Group spikes into propagating events.

    Parameters
    ----------
    spikes : ndarray (N, 3)
        (member, detection-site index, time in ms), e.g. ``IonicResult.spikes``.
    positions : ndarray (D,)
        Position of every detection site along the axon (um).
    cord_end : {"start", "end"}
        Whether the smallest position (``"start"``) or the largest is nearest the cord.
    max_delay : float
        Largest conduction delay between neighbouring sites (ms) that still links them.
    stimuli : ndarray (K, 2) or (K, 3), optional
        Stimulus onsets: (time ms, site index), or (member, time ms, site index).
    evoked_latency : float
        Largest delay (ms) from a stimulus onset to the origin of the AP it evokes.
    stimulus_radius : int
        Origins up to this many sites from the stimulated site count as evoked.
    n_members : int, optional
        Batch size (default: 1 + the largest member index).

    Returns
    -------
    Events
    """
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 1 or pos.size < 1 or not np.all(np.isfinite(pos)):
        raise ValueError("`positions` must be a finite 1-D array with one entry per site")
    check_choice("cord_end", cord_end, ("start", "end"))
    check_positive("max_delay", max_delay, "ms")
    check_range("evoked_latency", evoked_latency, 0.0, unit="ms")
    stimulus_radius = check_int("stimulus_radius", stimulus_radius, 0)
    s = _check_spikes(spikes, pos.size)
    member = s[:, 0].astype(np.int64)
    site = s[:, 1].astype(np.int64)
    t = s[:, 2]
    B = int(member.max()) + 1 if member.size else 0
    if n_members is not None:
        n_members = check_int("n_members", n_members, 1)
        if B > n_members:
            raise ValueError(f"`spikes` has member {B - 1} but `n_members` = {n_members}")
        B = n_members
    D = pos.size
    rank_of_site = np.empty(D, dtype=np.int64)
    rank_of_site[np.argsort(pos, kind="stable")] = np.arange(D)
    site_of_rank = np.argsort(pos, kind="stable")
    rank = rank_of_site[site]
    N = t.size
    # ties broken by site order: a tiny offset that cannot reorder distinct spike times
    scale = max(1.0, float(np.abs(t).max()) if N else 1.0)
    tt = t + rank * (scale * 1e-13)

    g = member * D + rank
    cand = {}
    for step in (-1, +1):
        nb = rank + step
        q = np.flatnonzero((nb >= 0) & (nb < D))
        idx = _latest_before(g, tt, g[q] + step, tt[q])
        ok = idx >= 0
        ok[ok] &= tt[q[ok]] - tt[idx[ok]] <= max_delay
        c = np.full(N, -1, dtype=np.int64)
        c[q[ok]] = idx[ok]
        cand[step] = c
    lo_c, hi_c = cand[-1], cand[+1]
    # parent: the later of the two candidates ...
    best = np.where(
        (lo_c >= 0) & ((hi_c < 0) | (tt[np.clip(lo_c, 0, None)] >= tt[np.clip(hi_c, 0, None)])),
        lo_c,
        hi_c,
    )
    # ... except where both neighbours fired first (a collision, or an origin between
    # two spikes): take the one whose delay continues its own chain's delay best
    both = np.flatnonzero((lo_c >= 0) & (hi_c >= 0))
    for _ in range(3):
        if both.size == 0:
            break
        score = {}
        for step in (-1, +1):
            nb = cand[step][both]
            delay = tt[both] - tt[nb]
            pnb = best[nb]
            inline = (pnb >= 0) & (rank[np.clip(pnb, 0, None)] == rank[nb] + step)
            prev = tt[nb] - tt[np.clip(pnb, 0, None)]
            score[step] = np.where(inline, np.abs(delay - prev), delay)
        best[both] = np.where(score[-1] <= score[+1], lo_c[both], hi_c[both])

    # pointer jumping to the root of each chain (parents are strictly earlier: no cycles)
    root = np.where(best >= 0, best, np.arange(N))
    for _ in range(64):
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    roots = np.flatnonzero(root == np.arange(N))
    order = np.lexsort((t[roots], member[roots]))
    roots = roots[order]
    event_of_root = np.full(N, -1, dtype=np.int64)
    event_of_root[roots] = np.arange(roots.size)
    spike_event = event_of_root[root]
    E = roots.size

    lo_rank = np.full(E, D, dtype=np.int64)
    hi_rank = np.full(E, -1, dtype=np.int64)
    np.minimum.at(lo_rank, spike_event, rank)
    np.maximum.at(hi_rank, spike_event, rank)
    n_spikes = np.bincount(spike_event, minlength=E)
    o_rank = rank[roots]
    lower = lo_rank < o_rank
    higher = hi_rank > o_rank
    to_cord, to_muscle = (lower, higher) if cord_end == "start" else (higher, lower)
    direction = np.where(
        to_cord & to_muscle,
        Direction.BOTH,
        np.where(
            to_cord, Direction.PROXIMAL, np.where(to_muscle, Direction.DISTAL, Direction.LOCAL)
        ),
    ).astype(np.int8)
    cord_rank, muscle_rank = (0, D - 1) if cord_end == "start" else (D - 1, 0)
    reaches_cord = (lo_rank <= cord_rank) & (hi_rank >= cord_rank)
    reaches_muscle = (lo_rank <= muscle_rank) & (hi_rank >= muscle_rank)

    evoked = np.zeros(E, dtype=bool)
    if stimuli is not None and np.size(stimuli) and E:
        st = np.asarray(stimuli, dtype=float)
        st = st.reshape(-1, st.shape[-1]) if st.ndim else st
        if st.ndim != 2 or st.shape[1] not in (2, 3):
            raise ValueError(
                f"`stimuli` must be (K, 2) (time, site) or (K, 3) (member, time, site); got {st.shape}"
            )
        if not np.all(np.isfinite(st)):
            raise ValueError("`stimuli` contains NaN or inf")
        if st.shape[1] == 2:
            st = np.column_stack([np.full(st.shape[0], -1.0), st])
        ssite = st[:, 2].astype(np.int64)
        if np.any((ssite < 0) | (ssite >= D)):
            raise ValueError(f"`stimuli` site indices must be in [0, {D - 1}]")
        e_mem = member[roots]
        e_t = tt[roots]
        for s_site in np.unique(ssite):
            sel = ssite == s_site
            smem = st[sel, 0].astype(np.int64)
            stime = st[sel, 1]
            near = np.abs(o_rank - rank_of_site[s_site]) <= stimulus_radius
            for shared in (True, False):
                pick = (smem < 0) if shared else (smem >= 0)
                if not pick.any():
                    continue
                gd = np.zeros(pick.sum(), np.int64) if shared else smem[pick]
                gq = np.zeros(E, np.int64) if shared else e_mem
                # latest stimulus at or before the origin (strictly before e_t + tiny)
                idx = _latest_before(gd, stime[pick], gq, e_t + 1e-12 * scale)
                ok = idx >= 0
                lag = e_t - np.where(ok, stime[pick][np.where(ok, idx, 0)], np.inf)
                evoked |= near & ok & (lag <= evoked_latency)

    return Events(
        member=member[roots],
        origin=site[roots],
        origin_position=pos[site[roots]],
        time=t[roots],
        n_spikes=n_spikes,
        lo_position=pos[site_of_rank[np.clip(lo_rank, 0, D - 1)]],
        hi_position=pos[site_of_rank[np.clip(hi_rank, 0, D - 1)]],
        direction=direction,
        evoked=evoked,
        reaches_cord=reaches_cord,
        reaches_muscle=reaches_muscle,
        spike_event=spike_event,
        positions=pos,
        cord_end=cord_end,
        n_members=B,
    )


def observed_time(observed, t0: float = 0.0, t1: float = np.inf) -> float:
    """Observed time (ms) inside ``[t0, t1)``: ``observed`` is a duration (ms, from 0) or
    the windows (W, 2) of (start, length) of an ionic run."""
    if np.ndim(observed) == 0:
        d = float(check_range("observed", observed, 0.0, unit="ms"))
        return max(0.0, min(d, t1) - max(0.0, t0))
    w = np.asarray(observed, dtype=float)
    if w.ndim != 2 or w.shape[1] < 2:
        raise ValueError(
            f"`observed` windows must be (W, 2) or (W, 3) (start, length[, step]); got {w.shape}"
        )
    s, d = w[:, 0], w[:, 1]
    return float(np.clip(np.minimum(s + d, t1) - np.maximum(s, t0), 0, None).sum())


def event_rates(
    events: Events, observed, t0: float = 0.0, t1: float = np.inf, *, ectopic_only: bool = True
) -> np.ndarray:
    """Events per second per member, shape (B,), over the observed time in ``[t0, t1)``."""
    T = observed_time(observed, t0, t1)
    sel = (events.time >= t0) & (events.time < t1)
    if ectopic_only:
        sel &= events.ectopic
    counts = np.bincount(events.member[sel], minlength=events.n_members)
    if T <= 0:
        return np.full(events.n_members, np.nan)
    return counts / (T * 1e-3)


@dataclass
class Bursts:
    """Bursts of ectopic events: runs of events with inter-event intervals <= ``max_isi``.

    ``member``, ``start``, ``end`` (ms), ``n_events`` per burst; ``per_member`` counts."""

    member: np.ndarray
    start: np.ndarray
    end: np.ndarray
    n_events: np.ndarray
    per_member: np.ndarray
    max_isi: float


def _window_index(times: np.ndarray, windows) -> np.ndarray:
    if windows is None:
        return np.zeros(times.shape, dtype=np.int64)
    w = np.asarray(windows, dtype=float)
    return np.searchsorted(w[:, 0], times, side="right") - 1


def find_bursts(events: Events, max_isi: float = 20.0, min_events: int = 2, windows=None) -> Bursts:
    """Bursts of ectopic events per member.

    Parameters
    ----------
    max_isi : float
        Largest interval (ms) between consecutive events of a burst.
    min_events : int
        Fewest events in a burst.
    windows : ndarray (W, 2), optional
        Fast windows of an ionic run: intervals spanning a gap between windows are not
        counted (nothing was observed in between).
    """
    check_positive("max_isi", max_isi, "ms")
    min_events = check_int("min_events", min_events, 2)
    sel = np.flatnonzero(events.ectopic)
    m, t = events.member[sel], events.time[sel]
    order = np.lexsort((t, m))
    m, t = m[order], t[order]
    win = _window_index(t, windows)
    if t.size == 0:
        z = np.zeros(0)
        return Bursts(z.astype(int), z, z, z.astype(int), np.zeros(events.n_members, int), max_isi)
    linked = np.zeros(t.size, dtype=bool)
    linked[1:] = (m[1:] == m[:-1]) & (np.diff(t) <= max_isi) & (win[1:] == win[:-1])
    run = np.cumsum(~linked) - 1
    size = np.bincount(run)
    keep = size >= min_events
    first = np.flatnonzero(~linked)
    last = np.append(first[1:] - 1, t.size - 1)
    bm = m[first][keep]
    return Bursts(
        member=bm,
        start=t[first][keep],
        end=t[last][keep],
        n_events=size[keep],
        per_member=np.bincount(bm, minlength=events.n_members),
        max_isi=max_isi,
    )


def afterdischarge(events: Events, triggers, window: float) -> tuple[np.ndarray, np.ndarray]:
    """Ectopic events in ``(trigger, trigger + window]`` after each trigger.

    Parameters
    ----------
    triggers : ndarray (T,)
        Times (ms) of stimuli or of a release of compression.
    window : float
        How long after each trigger to count (ms).

    Returns
    -------
    counts : ndarray of int (B, T)
    latency : ndarray (B, T)
        Delay (ms) of the first such event, NaN if none.
    """
    check_positive("window", window, "ms")
    trig = check_range("triggers", np.atleast_1d(np.asarray(triggers, dtype=float)), unit="ms")
    sel = np.flatnonzero(events.ectopic)
    order = sel[np.argsort(events.time[sel], kind="stable")]
    t = events.time[order]
    m = events.member[order]
    B = events.n_members
    counts = np.zeros((B, trig.size), dtype=np.int64)
    latency = np.full((B, trig.size), np.inf)
    for j, tr in enumerate(trig):
        a = np.searchsorted(t, tr, side="right")
        b = np.searchsorted(t, tr + window, side="right")
        counts[:, j] = np.bincount(m[a:b], minlength=B)
        np.minimum.at(latency[:, j], m[a:b], t[a:b] - tr)
    latency[np.isinf(latency)] = np.nan
    return counts, latency


@dataclass
class EctopicSummary:
    """Ectopic discharge of one batch member.

    ``origin_site`` is the most frequent origin of ectopic events (-1 if none);
    ``origin_position_um`` the median origin position and ``origin_cord_distance_um`` its
    distance from the cord-end site; ``fraction_*`` split the ectopic events by
    :class:`Direction`; ``reached_cord``/``reached_muscle`` count ectopic events that
    reached the end sites and ``rate_to_cord_hz``/``rate_to_muscle_hz`` are their rates:
    what the spinal cord and the muscle receive. A lesion that fires both ways may do so
    as two events per discharge, one from each edge (each travelling away from the
    lesion), so ``rate_hz`` can be twice the rate seen at either end."""

    member: int
    n_events: int
    n_ectopic: int
    n_evoked: int
    observed_ms: float
    rate_hz: float
    origin_site: int
    origin_position_um: float
    origin_cord_distance_um: float
    fraction_proximal: float
    fraction_distal: float
    fraction_both: float
    fraction_local: float
    reached_cord: int
    reached_muscle: int
    rate_to_cord_hz: float
    rate_to_muscle_hz: float
    n_bursts: int
    mean_burst_events: float
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d.update(d.pop("extra"))
        return d


def summarize(
    events: Events,
    observed,
    *,
    t0: float = 0.0,
    t1: float = np.inf,
    max_isi: float = 20.0,
    windows=None,
) -> list[EctopicSummary]:
    """One :class:`EctopicSummary` per member (computed for all members at once)."""
    B = events.n_members
    D = events.positions.size
    T = observed_time(observed, t0, t1)
    in_t = (events.time >= t0) & (events.time < t1)
    ev = events.select(in_t)
    ect = ev.ectopic
    mem = ev.member
    n_all = np.bincount(mem, minlength=B)
    n_ect = np.bincount(mem[ect], minlength=B)
    rates = n_ect / (T * 1e-3) if T > 0 else np.full(B, np.nan)
    # most frequent origin site
    hist = np.bincount(mem[ect] * D + ev.origin[ect], minlength=B * D).reshape(B, D)
    mode = np.where(n_ect > 0, hist.argmax(axis=1), -1)
    # median origin position (mean of the two middle values for an even count)
    om, op = mem[ect], ev.origin_position[ect]
    order = np.lexsort((op, om))
    op_sorted = op[order]
    start = np.concatenate([[0], np.cumsum(n_ect)[:-1]])
    med = np.full(B, np.nan)
    has = n_ect > 0
    if has.any():
        lo_i = start[has] + (n_ect[has] - 1) // 2
        hi_i = start[has] + n_ect[has] // 2
        med[has] = 0.5 * (op_sorted[lo_i] + op_sorted[hi_i])
    frac = {}
    for d in Direction:
        c = np.bincount(mem[ect & (ev.direction == d)], minlength=B)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac[d] = np.where(n_ect > 0, c / np.maximum(n_ect, 1), np.nan)
    cord = np.bincount(mem[ect & ev.reaches_cord], minlength=B)
    muscle = np.bincount(mem[ect & ev.reaches_muscle], minlength=B)
    bursts = find_bursts(ev, max_isi=max_isi, windows=windows)
    b_events = np.bincount(bursts.member, weights=bursts.n_events, minlength=B)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_b = np.where(bursts.per_member > 0, b_events / np.maximum(bursts.per_member, 1), 0.0)
    out = []
    for b in range(B):
        out.append(
            EctopicSummary(
                member=b,
                n_events=int(n_all[b]),
                n_ectopic=int(n_ect[b]),
                n_evoked=int(n_all[b] - n_ect[b]),
                observed_ms=T,
                rate_hz=float(rates[b]),
                origin_site=int(mode[b]),
                origin_position_um=float(med[b]),
                origin_cord_distance_um=float(events.cord_distance(med[b])) if n_ect[b] else np.nan,
                fraction_proximal=float(frac[Direction.PROXIMAL][b]),
                fraction_distal=float(frac[Direction.DISTAL][b]),
                fraction_both=float(frac[Direction.BOTH][b]),
                fraction_local=float(frac[Direction.LOCAL][b]),
                reached_cord=int(cord[b]),
                reached_muscle=int(muscle[b]),
                rate_to_cord_hz=float(cord[b] / (T * 1e-3)) if T > 0 else np.nan,
                rate_to_muscle_hz=float(muscle[b] / (T * 1e-3)) if T > 0 else np.nan,
                n_bursts=int(bursts.per_member[b]),
                mean_burst_events=float(mean_b[b]),
            )
        )
    return out


def spikes_from_cable(result) -> np.ndarray:
    """A :class:`~neurosim.simulate.result.CableResult`'s spikes as (N, 3) rows of
    (member, detection-site index, time ms), sorted by member, site and time."""
    counts = np.minimum(result.spike_counts, result.spike_times.shape[2])
    B, D, M = result.spike_times.shape
    slot = np.arange(M)[None, None, :]
    mask = slot < counts[:, :, None]
    b, d, k = np.nonzero(mask)
    return np.column_stack([b, d, result.spike_times[b, d, k]]).astype(float)


def analyse(result, *, cord_end: str = "start", stimuli=None, **kwargs):
    """Events and per-member summaries of a cable or ionic result.

    ``result`` is an :class:`IonicResult` (spikes, positions and windows are read from it)
    or a :class:`CableResult` (observed time = its ``tstop``). Keyword arguments go to
    :func:`find_events` (``max_delay``, ``evoked_latency``, ...) and :func:`summarize`
    (``t0``, ``t1``, ``max_isi``).
    """
    sum_keys = {"t0", "t1", "max_isi"}
    sum_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in sum_keys}
    if hasattr(result, "windows"):
        spikes = result.spikes
        observed = result.windows
        windows = result.windows
        traces = getattr(result, "traces", {})
        n_members = int(next(iter(traces.values())).shape[0]) if traces else None
    else:
        spikes = spikes_from_cable(result)
        observed = float(result.meta.get("tstop_ms", result.t[-1] if result.t.size else 0.0))
        windows = None
        n_members = int(result.spike_counts.shape[0])
    events = find_events(
        spikes,
        result.spike_positions,
        cord_end=cord_end,
        stimuli=stimuli,
        n_members=n_members,
        **kwargs,
    )
    return events, summarize(events, observed, windows=windows, **sum_kw)
