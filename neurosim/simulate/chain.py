"""The whole chain: compressed root -> ectopic spikes -> spinal cord -> muscle -> cramp.

:func:`simulate_chain` runs the root stage (:mod:`neurosim.simulate.root`) over the whole
protocol (minutes to hours), then the spinal cord and muscle (:mod:`neurosim.simulate.
spinal`, Brian2) over chosen *segments* of it (e.g. the last minute of each posture),
fed with the ectopic spikes the root produced in that segment:

- ectopic events of motor axons that reach the cord reset/collide at the soma, those that
  reach the muscle fire the unit's fibres (both ends, issue text);
- ectopic events of sensory axons that reach the cord enter as Ia afferent spikes
  (monosynaptic excitation of the pool).

The root simulates a sample of axons, each standing for its share of the root: motor axon
``i`` of ``n`` for the motor units ``j`` with ``j mod n == i`` (spread over the
recruitment order), sensory axon ``i`` for the Ia afferents ``j`` with ``j mod n == i``.
Each represented fibre receives the sample axon's train delayed by its own random phase
(seeded), uniform over one fast window: the trains are periodic with the window's length
(below), so this is a uniformly random phase of the pattern. The fibres keep the sample's
rate, pattern and time course (a burst stays where the root fired it, e.g. the seconds of
firing after a relief of pressure) but do not fire in lockstep (axons of one root at one
lesion fire alike, not synchronised). With ``ia_share`` < 1 only that share of the Ia
afferents (the first ``round(ia_share * n_ia)``) passes the lesion and carries the
trains; the others are intact and carry no ectopic spikes.

The multi-rate root stage observes firing only inside its fast windows; a window's spikes
stand for its whole slow step. The spinal stage needs continuous trains, so each window's
spike pattern is repeated over its step (:func:`continuous_events`): the rate and the
interspike pattern are those seen in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.ectopic import Direction
from neurosim.validate import check_positive, check_range

__all__ = [
    "Segment",
    "ChainResult",
    "continuous_events",
    "first_cramp",
    "segment_input",
    "simulate_chain",
]


@dataclass(frozen=True)
class Segment:
    """A stretch of the protocol on which the spinal stage runs: ``start`` and
    ``duration`` in ms, a ``name`` (e.g. the posture)."""

    name: str
    start: float
    duration: float

    def __post_init__(self) -> None:
        if self.start < 0 or not np.isfinite(self.start):
            raise ValueError(f"segment {self.name!r}: start = {self.start} ms must be >= 0")
        check_positive(f"segment {self.name!r} duration", self.duration, "ms")


def continuous_events(group, t0: float, t1: float) -> dict:
    """Ectopic events of one root group on [t0, t1) as continuous trains: each fast
    window's events repeated every window length over the slow step it stands for.

    Returns arrays ``member``, ``time`` (ms), ``cord`` and ``muscle`` (bool: reaches that
    end).
    """
    ev = group.events
    w = group.ionic.windows  # (W, 3): start, length, step
    sel = ev.ectopic
    mem, t = ev.member[sel], ev.time[sel]
    cord, musc = ev.reaches_cord[sel], ev.reaches_muscle[sel]
    if not t.size:
        return _empty()
    k = np.searchsorted(w[:, 0], t, side="right") - 1
    out = {"member": [], "time": [], "cord": [], "muscle": []}
    for wi in np.unique(k):
        s, length, step = w[wi]
        if s + step <= t0 or s >= t1:
            continue
        m = k == wi
        reps = max(1, int(np.floor(step / length + 1e-9)))
        shifts = np.arange(reps) * length
        tt = (t[m][None, :] + shifts[:, None]).ravel()
        keep = (tt >= t0) & (tt < t1)
        out["time"].append(tt[keep])
        out["member"].append(np.tile(mem[m], reps)[keep])
        out["cord"].append(np.tile(cord[m], reps)[keep])
        out["muscle"].append(np.tile(musc[m], reps)[keep])
    if not out["time"]:
        return _empty()
    res = {key: np.concatenate(v) for key, v in out.items()}
    order = np.argsort(res["time"], kind="stable")
    return {key: v[order] for key, v in res.items()}


def _empty() -> dict:
    return {
        "member": np.zeros(0, dtype=int),
        "time": np.zeros(0),
        "cord": np.zeros(0, dtype=bool),
        "muscle": np.zeros(0, dtype=bool),
    }


def segment_input(
    root, segment: Segment, n_units: int, n_ia: int, seed: int = 0, ia_share: float = 1.0
):
    """The :class:`~neurosim.simulate.spinal.EctopicSpikes` of one segment (times from
    the segment start), each sample axon's train copied to the fibres it stands for
    (of the Ia afferents, the share ``ia_share`` that passes the lesion)."""
    from neurosim.simulate.spinal import EctopicSpikes

    check_range("ia_share", ia_share, 0.0, 1.0)
    n_ia = int(round(ia_share * n_ia))
    rng = np.random.default_rng(seed)
    t0, t1 = segment.start, segment.start + segment.duration
    T = segment.duration
    fibre, index, time, direction = [], [], [], []
    for g in root.groups:
        if g.kind not in ("motor", "sensory"):
            continue
        n_fibres = n_units if g.kind == "motor" else n_ia
        if n_fibres == 0:
            continue
        # phases span one window (the trains' period); spikes up to one window before
        # the segment are delayed into it
        period = float(np.max(g.ionic.windows[:, 1])) if len(g.ionic.windows) else 0.0
        ev = continuous_events(g, t0 - period, t1)
        n = len(g.grade)
        both = ev["cord"] & ev["muscle"]
        d_all = np.where(both, 3, np.where(ev["cord"], 1, np.where(ev["muscle"], 2, 0)))
        if g.kind == "sensory":
            d_all = np.where(ev["cord"], d_all, 0)  # sensory spikes count at the cord only
        for j in range(n_fibres):
            m = (ev["member"] == j % n) & (d_all > 0)
            if not m.any():
                rng.uniform()  # keep the stream aligned whatever fires
                continue
            tt = ev["time"][m] - t0 + rng.uniform(0.0, period)
            inside = (tt >= 0.0) & (tt < T)
            fibre += ["motor" if g.kind == "motor" else "ia"] * int(inside.sum())
            index += [j] * int(inside.sum())
            time += tt[inside].tolist()
            direction += [_DIRS[int(x)] for x in d_all[m][inside]]
    return EctopicSpikes(tuple(fibre), tuple(index), tuple(time), tuple(direction))


_DIRS = {1: Direction.PROXIMAL, 2: Direction.DISTAL, 3: Direction.BOTH}


@dataclass
class ChainResult:
    """The root stage and one spinal/muscle run per segment."""

    root: object
    segments: list
    spinal: list
    meta: dict = field(default_factory=dict)

    def verdicts(self) -> list[dict]:
        """Per segment: cramp or not, onset (s from the segment start), duration (s),
        peak force fraction, discharge rate (all of the first cramp), the number of
        cramps and the time spent in cramp, ectopic input counts."""
        out = []
        for seg, sp, n_in in zip(self.segments, self.spinal, self.meta["inputs"], strict=True):
            c = sp.cramp
            out.append(
                {
                    "segment": seg.name,
                    "start_min": seg.start / 60e3,
                    "duration_s": seg.duration / 1e3,
                    "ectopic_inputs": n_in,
                    "cramp": bool(c.detected),
                    "onset_s": (c.onset / 1e3) if c.detected else None,
                    "cramp_duration_s": (c.duration / 1e3) if c.detected else 0.0,
                    "cramps": int(c.episodes),
                    "time_in_cramp_s": float(c.total_duration) / 1e3,
                    "last_cramp_end_s": (c.intervals[-1][1] / 1e3) if c.detected else None,
                    "peak_force_fraction": float(np.max(sp.force_fraction))
                    if sp.force_fraction.size
                    else 0.0,
                    "rate_mean_hz": float(c.rate_mean) if c.detected else None,
                    "isi_cv": float(c.isi_cv_mean) if c.detected else None,
                }
            )
        return out


def first_cramp(verdicts: list[dict]) -> dict | None:
    """The earliest cramp onset over the segments' ``verdicts`` (those of
    :meth:`ChainResult.verdicts`), in protocol time: ``{"segment", "time_min"}``, or None
    when no segment cramps. With a segment that spans a whole posture (e.g. from standing
    up to the end) this is how soon the posture brings a cramp."""
    onsets = [(v["start_min"] + v["onset_s"] / 60.0, v["segment"]) for v in verdicts if v["cramp"]]
    if not onsets:
        return None
    t, name = min(onsets)
    return {"segment": name, "time_min": t}


def _fit_ectopic_table(spinal, ect):
    """``spinal`` with a table of ectopic events large enough for ``ect``: the busiest
    fibre and direction, rounded up to a power of two (few distinct sizes, few Brian2
    builds)."""
    if not len(ect.time):
        return spinal
    # per axon (both directions together: an upper bound on either column)
    _, counts = np.unique(
        np.array([f"{f}:{i}" for f, i in zip(ect.fibre, ect.index, strict=True)]),
        return_counts=True,
    )
    need = int(counts.max())
    have = int(spinal["simulation"]["max_ectopic"])
    if need <= have:
        return spinal
    size = 1 << (need - 1).bit_length()
    return spinal.with_overrides({"simulation": {"max_ectopic": size}}, "ectopic table")


def simulate_chain(
    compression,
    groups,
    duration: float,
    segments: list[Segment],
    *,
    spinal=None,
    muscle=None,
    root_kwargs: dict | None = None,
    seed: int = 0,
    criteria=None,
    fatigue=None,
    ia_share: float = 1.0,
) -> ChainResult:
    """Run the chain: the root stage over ``duration`` ms, then the spinal cord and
    muscle over each segment with the ectopic spikes of that segment.

    Parameters
    ----------
    compression, groups
        As :func:`neurosim.simulate.root.simulate_root`.
    duration : float
        Protocol length (ms).
    segments : list of Segment
        Where the spinal stage runs (each must lie inside the protocol).
    spinal, muscle : SpinalModel, MuscleModel, optional
        Default: :func:`neurosim.simulate.spinal.default_models`.
    root_kwargs : dict
        Keywords of :func:`simulate_root` (``ions``, ``dt``, ``window``, ...).
    seed : int
    criteria : CrampCriteria, optional
    fatigue : sequence of float, optional
        Muscle fatigue level of each segment (``[fatigue] level`` of the muscle model,
        e.g. from :class:`neurosim.muscle.perfusion.MusclePerfusion`); default: the
        muscle model's own.
    ia_share : float
        Share of the pool's Ia afferents whose axons pass the lesion and carry the
        sample sensory axons' ectopic trains (default 1: all of them).
    """
    from neurosim.simulate.root import simulate_root
    from neurosim.simulate.spinal import default_models, simulate_spinal

    if not segments:
        raise ValueError("`segments` must name at least one stretch for the spinal stage")
    for s in segments:
        if s.start + s.duration > duration * (1 + 1e-12):
            raise ValueError(
                f"segment {s.name!r} ends at {(s.start + s.duration) / 60e3:g} min, after the "
                f"protocol ({duration / 60e3:g} min)"
            )
    if fatigue is not None:
        fatigue = [float(f) for f in fatigue]
        if len(fatigue) != len(segments) or not all(0.0 <= f <= 1.0 for f in fatigue):
            raise ValueError(
                f"`fatigue` must give one level in [0, 1] per segment ({len(segments)}), "
                f"got {fatigue}"
            )
    check_range("ia_share", ia_share, 0.0, 1.0)
    if spinal is None or muscle is None:
        ds, dm = default_models()
        spinal = spinal or ds
        muscle = muscle or dm
    # before the root stage's minutes: a segment the compiled spinal network cannot hold
    max_d = float(spinal["simulation"]["max_duration"])
    for s in segments:
        if s.duration > max_d:
            raise ValueError(
                f"segment {s.name!r} lasts {s.duration / 1e3:g} s, longer than the spinal "
                f"model's `simulation.max_duration` ({max_d / 1e3:g} s); raise it in the "
                "spinal model (a scenario file: [spinal.set.simulation] max_duration)"
            )
    root = simulate_root(compression, groups, duration, seed=seed, **(root_kwargs or {}))
    n_units = int(spinal["pool"]["n_units"])
    n_ia = int(spinal["spindle"]["n_afferents"])
    runs, inputs = [], []
    for i, seg in enumerate(segments):
        ect = segment_input(root, seg, n_units, n_ia, seed=seed + 1000 + i, ia_share=ia_share)
        inputs.append(len(ect.time))
        seg_spinal = _fit_ectopic_table(spinal, ect)
        mus = muscle
        if fatigue is not None:
            mus = muscle.with_overrides({"fatigue": {"level": fatigue[i]}}, "segment fatigue")
        runs.append(
            simulate_spinal(
                seg_spinal, mus, seg.duration, ectopic=ect, seed=seed + i, criteria=criteria
            )
        )
    return ChainResult(root=root, segments=list(segments), spinal=runs, meta={"inputs": inputs})
