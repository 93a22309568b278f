"""Pressure on the root over time: constant, ramps, postures, walking.

A :class:`PressureSchedule` is a sequence of :class:`Phase` objects, each a baseline
pressure held for a duration, entered from the previous level by a linear transition
(``rise_time``; 0 is a step) and optionally carrying a gait oscillation (:class:`Gait`).
Times are in ms and pressures in mmHg (internal units); the model-file reader
(:mod:`neurosim.compression.load`) converts minutes, seconds and kPa at the boundary.

Postures (epidural pressure at the stenotic level, Takahashi et al. 1995, Spine 20:650;
the values chosen here are in :data:`POSTURES`):

===================  =========  ============================================================
posture              mmHg       source / choice
===================  =========  ============================================================
``lying``            15         "low lying and sitting", ~15-25 (SCIENCE.md, unverified)
``sitting``          20         as lying; sitting flexes the lumbar spine a little
``standing``         80         "high standing", about 80 (SCIENCE.md, unverified)
``extension``        116.7      standing in extension, 116.7 +/- 38.4 (Takahashi 1995)
``flexion``          35         standing bent forward: "decreased with flexion"; chosen
                                between lying and standing (assumption)
``walking``          80 + gait  standing baseline; waves of +40 mmHg at double support
``walking_flexed``   35 + gait  bent forward: lower baseline, waves of +15 mmHg
===================  =========  ============================================================

Walking (Takahashi et al. 1995, Spine 20:2746): the pressure rises and falls about 90
times a minute at 2 km/h, peaking in the double-support phase of each step; walking bent
forward lowers it. The wave amplitudes are not in the abstract; 40 and 15 mmHg are
assumptions that keep upright walking peaks near the standing-in-extension value. Each
wave is a raised-cosine pulse occupying ``width`` of the step period (double support
plus the loading and unloading around it), so the cycle mean is ``amplitude * width / 2``
above the baseline.

Fast onset: :meth:`PressureSchedule.onset_speed` gives the speed (mmHg/s) of the latest
rising transition, which the damage law uses (Olmarker et al. 1990, Spine 15:416: a rapid
onset, 0.05-0.1 s, injures more than a slow one, 20 s, at the same pressure). Gait waves
are not counted as onsets: they are small and repeated, and the published onset effect
concerns the application of a sustained compression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.validate import check_range

__all__ = [
    "Gait",
    "Phase",
    "PressureSchedule",
    "POSTURES",
    "WALKING",
    "GAIT_UPRIGHT",
    "GAIT_FLEXED",
    "constant",
    "ramp",
    "posture_schedule",
]

#: epidural pressure at the stenosis per posture (mmHg); see the module docstring
POSTURES: dict[str, float] = {
    "lying": 15.0,
    "sitting": 20.0,
    "standing": 80.0,
    "extension": 116.7,
    "flexion": 35.0,
}


@dataclass(frozen=True)
class Gait:
    """The pressure wave of walking, repeated once per step.

    Parameters
    ----------
    rate : float
        Waves per second (Hz); 1.5 = 90 per minute (Takahashi et al. 1995, 2 km/h).
    amplitude : float
        Rise above the baseline at the peak of each wave (mmHg).
    width : float
        Fraction of the wave period during which the pressure is raised, (0, 1].
    phase : float
        Fraction of a period after the start of the phase at which the first peak falls.
    """

    rate: float = 1.5
    amplitude: float = 40.0
    width: float = 0.5
    phase: float = 0.25

    def check(self, where: str) -> None:
        check_range(f"{where}.rate", self.rate, 0.0, 20.0, unit="Hz", lo_open=True)
        check_range(f"{where}.amplitude", self.amplitude, 0.0, unit="mmHg")
        check_range(f"{where}.width", self.width, 0.0, 1.0, lo_open=True)
        check_range(f"{where}.phase", self.phase, 0.0, 1.0, hi_open=True)

    def wave(self, t) -> np.ndarray:
        """Pressure above the baseline (mmHg) at ``t`` ms after the start of walking."""
        cyc = np.asarray(t, dtype=float) * 1e-3 * self.rate - self.phase
        x = cyc - np.round(cyc)  # offset from the nearest peak, in periods: [-0.5, 0.5]
        inside = np.abs(x) < 0.5 * self.width
        return np.where(
            inside, 0.5 * self.amplitude * (1.0 + np.cos(2 * np.pi * x / self.width)), 0.0
        )

    @property
    def mean(self) -> float:
        """Mean rise over a period (mmHg)."""
        return 0.5 * self.amplitude * self.width


#: upright walking and walking bent forward (module docstring)
GAIT_UPRIGHT = Gait(rate=1.5, amplitude=40.0, width=0.5)
GAIT_FLEXED = Gait(rate=1.5, amplitude=15.0, width=0.5)
#: walking postures: their baseline posture and gait
WALKING: dict[str, tuple[str, Gait]] = {
    "walking": ("standing", GAIT_UPRIGHT),
    "walking_flexed": ("flexion", GAIT_FLEXED),
}


@dataclass(frozen=True)
class Phase:
    """A stretch of constant baseline pressure (plus an optional gait oscillation).

    Parameters
    ----------
    name : str
        A label (a posture name, "compression", "release", ...).
    duration : float
        Length (ms); ``inf`` only for the last phase (held to the end of any run).
    pressure : float
        Baseline pressure (mmHg), >= 0.
    gait : Gait, optional
        Walking oscillation on top of the baseline.
    start : float, optional
        Start time (ms); default: the end of the previous phase. Later than that leaves
        a gap at the schedule's ``gap`` pressure.
    rise_time : float, optional
        Duration (ms) of the linear transition from the previous level into this
        phase's baseline (0: a step). Default: the schedule's ``transition``.
    """

    name: str
    duration: float
    pressure: float
    gait: Gait | None = None
    start: float | None = None
    rise_time: float | None = None


class PressureSchedule:
    """Pressure (mmHg) against time (ms): an ordered sequence of phases.

    Parameters
    ----------
    phases : sequence of Phase
    initial : float
        Pressure before the first phase (mmHg); the first phase's transition starts
        from it.
    transition : float
        Default transition time into each phase (ms).
    gap : float
        Pressure in gaps between phases with explicit start times (mmHg).

    After the last phase ends its baseline is held.

    Raises
    ------
    ValueError
        Naming the phase (index and name) and the offending value: a non-positive or
        non-finite duration (``inf`` is allowed for the last phase only), a negative or
        non-finite pressure, a start before the end of the previous phase (phases out of
        order or overlapping), a transition longer than its phase, a bad gait.
    """

    def __init__(self, phases, *, initial: float = 0.0, transition: float = 0.0, gap: float = 0.0):
        phases = list(phases)
        if not phases:
            raise ValueError("a pressure schedule needs at least one phase")
        self.initial = float(check_range("schedule.initial", initial, 0.0, unit="mmHg"))
        self.transition = float(check_range("schedule.transition", transition, 0.0, unit="ms"))
        self.gap = float(check_range("schedule.gap", gap, 0.0, unit="mmHg"))
        starts, ends, prev_levels, rises = [], [], [], []
        t_end, level = 0.0, self.initial
        for i, ph in enumerate(phases):
            if not isinstance(ph, Phase):
                raise TypeError(f"schedule phase {i} must be a Phase, got {type(ph).__name__}")
            where = f"schedule phase {i} ({ph.name!r})"
            last = i == len(phases) - 1
            dur = float(ph.duration)
            if math.isnan(dur) or dur <= 0 or (math.isinf(dur) and not last):
                allowed = "(0, inf]" if last else "(0, inf) (inf only for the last phase)"
                raise ValueError(
                    f"{where}: `duration` = {dur:g} ms is not allowed; allowed {allowed}"
                )
            p = float(ph.pressure)
            if not math.isfinite(p) or p < 0:
                raise ValueError(
                    f"{where}: `pressure` = {p:g} mmHg is not allowed; allowed [0, inf) mmHg, finite"
                )
            if ph.gait is not None:
                if not isinstance(ph.gait, Gait):
                    raise TypeError(f"{where}: `gait` must be a Gait")
                ph.gait.check(f"{where}.gait")
            start = t_end if ph.start is None else float(ph.start)
            if not math.isfinite(start) or start < t_end - 1e-9:
                raise ValueError(
                    f"{where}: `start` = {start:g} ms is before the end of the previous phase "
                    f"({t_end:g} ms); phases must be in order and must not overlap"
                )
            if start > t_end + 1e-9:
                level = self.gap  # a gap between phases
            rise = self.transition if ph.rise_time is None else float(ph.rise_time)
            if not math.isfinite(rise) or rise < 0:
                raise ValueError(f"{where}: `rise_time` = {rise:g} ms must be finite and >= 0")
            if rise > dur:
                raise ValueError(
                    f"{where}: the transition into the phase ({rise:g} ms) is longer than the "
                    f"phase (`duration` = {dur:g} ms)"
                )
            starts.append(start)
            ends.append(start + dur)
            prev_levels.append(level)
            rises.append(rise)
            t_end, level = start + dur, p
        self.phases = tuple(phases)
        self.starts = np.array(starts)
        self.ends = np.array(ends)
        self.prev = np.array(prev_levels)
        self.rise = np.array(rises)
        self.level = np.array([float(ph.pressure) for ph in phases])
        up = self.level > self.prev
        safe = np.where(self.rise > 0, self.rise, 1.0) * 1e-3
        speed = np.where(self.rise > 0, (self.level - self.prev) / safe, np.inf)
        #: speed (mmHg/s) of each phase's entry transition if it rises, else NaN
        self.entry_speed = np.where(up, speed, np.nan)

    # -- evaluation ---------------------------------------------------------------------
    @property
    def end(self) -> float:
        """End of the last phase (ms; may be inf)."""
        return float(self.ends[-1])

    @property
    def names(self) -> list[str]:
        return [ph.name for ph in self.phases]

    @property
    def max_rate(self) -> float:
        """Highest gait frequency of any phase (Hz); 0 without walking."""
        rates = [ph.gait.rate for ph in self.phases if ph.gait is not None]
        return max(rates) if rates else 0.0

    def phase_index(self, t) -> np.ndarray:
        """Index of the phase in force at ``t`` (ms): the last phase started at or before
        ``t``, -1 before the first; in a gap, the previous phase's index."""
        return np.searchsorted(self.starts, np.asarray(t, dtype=float), side="right") - 1

    def pressure(self, t) -> np.ndarray:
        """Pressure (mmHg) at times ``t`` (ms), any shape."""
        t = np.asarray(t, dtype=float)
        k = self.phase_index(t)
        kk = np.clip(k, 0, None)
        s, e = self.starts[kk], self.ends[kk]
        rise, p0, p1 = self.rise[kk], self.prev[kk], self.level[kk]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(rise > 0, np.clip((t - s) / np.where(rise > 0, rise, 1.0), 0, 1), 1.0)
        base = p0 + (p1 - p0) * frac
        out = base.copy()
        for i, ph in enumerate(self.phases):
            if ph.gait is not None:
                sel = (k == i) & (t < e)
                if sel.any():
                    out[sel] += ph.gait.wave(t[sel] - s[sel])
        # gaps between phases with explicit starts
        nxt = np.clip(k + 1, 0, len(self.phases) - 1)
        in_gap = (k >= 0) & (t >= e) & (k < len(self.phases) - 1) & (t < self.starts[nxt])
        out = np.where(in_gap, self.gap, out)
        return np.where(k < 0, self.initial, out)

    def onset_speed(self, t) -> np.ndarray:
        """Speed (mmHg/s) of the latest rising transition begun at or before ``t`` (ms);
        ``inf`` for a step, 0 if the pressure has not risen yet."""
        t = np.asarray(t, dtype=float)
        k = self.phase_index(t)
        latest = np.full(len(self.phases), np.nan)
        cur = np.nan
        for i, v in enumerate(self.entry_speed):
            if not np.isnan(v):
                cur = v
            latest[i] = cur
        out = np.where(k >= 0, latest[np.clip(k, 0, None)], np.nan)
        return np.nan_to_num(out, nan=0.0, posinf=np.inf)

    def samples(self, t0: float, dt: float, per_cycle: int = 8, minimum: int = 1) -> np.ndarray:
        """Midpoint sample times (ms) of ``[t0, t0 + dt)``: enough to resolve the gait
        (``per_cycle`` per wave) and transitions (at least ``minimum``)."""
        n = max(minimum, int(math.ceil(dt * 1e-3 * self.max_rate * per_cycle)))
        if np.any((self.starts > t0) & (self.starts < t0 + dt)) or np.any(
            (self.starts + self.rise > t0) & (self.starts < t0 + dt) & (self.rise > 0)
        ):
            n = max(n, 8)
        return t0 + (np.arange(n) + 0.5) * dt / n

    def describe(self) -> list[dict]:
        """JSON-ready list of the phases (ms, mmHg) for saving with results."""
        out = []
        for i, ph in enumerate(self.phases):
            d = {
                "name": ph.name,
                "start_ms": float(self.starts[i]),
                "duration_ms": float(ph.duration),
                "pressure_mmHg": float(ph.pressure),
                "rise_time_ms": float(self.rise[i]),
            }
            if ph.gait is not None:
                d["gait"] = {
                    "rate_Hz": ph.gait.rate,
                    "amplitude_mmHg": ph.gait.amplitude,
                    "width": ph.gait.width,
                }
            out.append(d)
        return out


# -- constructors ---------------------------------------------------------------------
def _check_speed(key: str, speed) -> float:
    """A pressure rate (mmHg/s): positive; ``inf`` means a step."""
    v = float(speed)
    if math.isnan(v) or v <= 0:
        raise ValueError(f"`{key}` = {v:g} mmHg/s is not allowed; allowed (0, inf] mmHg/s")
    return v


def constant(pressure: float, speed: float = math.inf) -> PressureSchedule:
    """``pressure`` (mmHg) from t = 0 on, applied at ``speed`` mmHg/s (inf: a step)."""
    check_range("schedule.pressure", pressure, 0.0, unit="mmHg")
    speed = _check_speed("schedule.speed", speed)
    rise = 0.0 if math.isinf(speed) else float(pressure) / speed * 1e3
    return PressureSchedule(
        [Phase("compression", math.inf, float(pressure), rise_time=rise)], initial=0.0
    )


def ramp(
    target: float,
    speed: float,
    *,
    start: float = 0.0,
    baseline: float = 0.0,
    hold: float = math.inf,
    release_speed: float = math.inf,
) -> PressureSchedule:
    """Rise from ``baseline`` to ``target`` (mmHg) at ``speed`` (mmHg/s) from ``start``
    (ms), hold for ``hold`` ms (including the rise), then return to ``baseline`` at
    ``release_speed`` (mmHg/s; inf: at once).

    Olmarker et al. 1990 compared onsets of 0.05-0.1 s and 20 s to the same pressure:
    ``speed`` = target/0.1 s and target/20 s.
    """
    check_range("schedule.target", target, 0.0, unit="mmHg")
    check_range("schedule.baseline", baseline, 0.0, unit="mmHg")
    speed = _check_speed("schedule.speed", speed)
    release_speed = _check_speed("schedule.release_speed", release_speed)
    check_range("schedule.start", start, 0.0, unit="ms")
    rise = 0.0 if math.isinf(speed) else abs(target - baseline) / speed * 1e3
    phases = []
    if start > 0:
        phases.append(Phase("baseline", start, baseline, rise_time=0.0))
    phases.append(Phase("compression", hold, target, rise_time=rise))
    if math.isfinite(hold):
        back = 0.0 if math.isinf(release_speed) else abs(target - baseline) / release_speed * 1e3
        phases.append(Phase("release", math.inf, baseline, rise_time=back))
    return PressureSchedule(phases, initial=baseline)


def posture_schedule(
    sequence,
    *,
    pressures: dict | None = None,
    gait: dict | None = None,
    transition: float = 2000.0,
    initial: float | None = None,
) -> PressureSchedule:
    """A day in postures: ``[("lying", 600e3), ("walking", 300e3), ("sitting", 600e3)]``.

    Parameters
    ----------
    sequence : sequence of (str, float) or Phase
        Posture name and duration (ms). Names: the keys of :data:`POSTURES` (static) and
        of :data:`WALKING` (a baseline posture plus a gait oscillation). A
        :class:`Phase` is taken as given (any other sequence of phases).
    pressures : dict, optional
        Posture -> baseline pressure (mmHg), replacing :data:`POSTURES` entries.
    gait : dict, optional
        Walking posture -> :class:`Gait`, replacing :data:`WALKING` gaits.
    transition : float
        Time to change posture (ms).
    initial : float, optional
        Pressure before the first phase (default: the first phase's baseline).
    """
    table = dict(POSTURES)
    for name, p in (pressures or {}).items():
        if name not in POSTURES:
            raise ValueError(
                f"unknown posture {name!r} in `pressures`; postures: {', '.join(POSTURES)}"
            )
        table[name] = float(check_range(f"postures.{name}", p, 0.0, unit="mmHg"))
    gaits = {k: g for k, (_, g) in WALKING.items()}
    for name, g in (gait or {}).items():
        if name not in WALKING:
            raise ValueError(f"unknown walking posture {name!r}; valid: {', '.join(WALKING)}")
        gaits[name] = g
    phases = []
    for i, item in enumerate(sequence):
        if isinstance(item, Phase):
            phases.append(item)
            continue
        try:
            name, duration = item
        except (TypeError, ValueError):
            raise TypeError(
                f"schedule phase {i}: expected (posture, duration_ms) or a Phase, got {item!r}"
            ) from None
        if name in table:
            phases.append(Phase(name, duration, table[name]))
        elif name in WALKING:
            base = WALKING[name][0]
            phases.append(Phase(name, duration, table[base], gait=gaits[name]))
        else:
            raise ValueError(
                f"schedule phase {i}: unknown posture {name!r}; postures: "
                f"{', '.join([*POSTURES, *WALKING])}"
            )
    if initial is None:
        initial = phases[0].pressure if phases else 0.0
    return PressureSchedule(phases, initial=initial, transition=transition)
