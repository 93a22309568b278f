"""Excitability of axons measured the way clinical neurophysiology measures it.

Threshold tracking (Bostock, Cikurel & Burke 1998, Muscle Nerve 21:137) follows the
current needed to excite axons while something changes: the duration of the test pulse
(strength-duration time constant), the time after a conditioning stimulus (refractory
period, recovery cycle), a polarising current (threshold electrotonus), or the state of
the axon itself (ischaemia, temperature). Every measure here is built on one thing, the
threshold of a test pulse for a *propagated* action potential: the smallest amplitude of
a current pulse at ``site`` that makes one more spike arrive at a distant ``detect`` site
than the same run without the test pulse (so conditioning spikes are not counted).

Thresholds are found by batched bisection: each round runs many candidate amplitudes
(or intervals) of every requested measurement as the members of ONE batched cable run,
then narrows every bracket at once, so a threshold to 1e-3 costs four or five runs, not
forty. Initial states (``v_init`` with steady-state gates, or the exact resting state
when the model sets ``rest``) are computed once per model and reused by every round.

Units: time in ms, current in nA, charge in pC (nA ms), conduction velocity in m/s.

==========================  =======================================================
function                    measure
==========================  =======================================================
:func:`threshold`           threshold current of a test pulse (rheobase-type measure)
:func:`strength_duration`   thresholds at several pulse durations; Weiss fit -> tau_SD
:func:`threshold_tracking`  threshold vs the time of the test pulse during conditioning
:func:`threshold_tracking_states`  threshold vs time over a sequence of model states
:func:`refractory_period`   absolute refractory period and the recovery of threshold
:func:`conduction_velocity` conduction velocity of a supramaximal volley
==========================  =======================================================
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from neurosim.simulate.cable import CableSimulation, path_distance
from neurosim.simulate.load import ModelFile
from neurosim.simulate.model import TEMPERATURE_RANGE, CableModel, Placement
from neurosim.simulate.protocol import MAX_DT, METHODS, Protocol, Stimulus
from neurosim.validate import check_choice, check_int, check_range

__all__ = [
    "Pulse",
    "ThresholdResult",
    "StrengthDuration",
    "ThresholdTrack",
    "RefractoryPeriod",
    "ConductionVelocity",
    "threshold",
    "strength_duration",
    "threshold_tracking",
    "threshold_tracking_states",
    "refractory_period",
    "conduction_velocity",
    "state_threshold",
    "with_overrides",
]

#: default time after the end of the test pulse within which the propagated AP must
#: reach the detection site (ms): covers utilisation time plus conduction over ~20 mm
#: at 15 m/s (a 5.7 um fibre at 20 degC)
DEFAULT_WINDOW = 3.0

#: members per batched run the bisection aims for: two threads of 16-member SIMD blocks
#: (see neurosim.kernels.cable.DEFAULT_WIDTH); fewer measurements get more candidates
#: each, many measurements fall back to plain bisection
BATCH_TARGET = 32


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pulse:
    """A rectangular current pulse (a conditioning stimulus).

    Parameters
    ----------
    site : str
        ``"section(x)"``, e.g. ``"node[20]"``.
    delay : float
        Onset (ms).
    dur : float
        Duration (ms).
    amp : float
        Amplitude (nA, positive = depolarising).
    """

    site: str
    delay: float
    dur: float
    amp: float

    def check(self, where: str = "pulse") -> None:
        if not isinstance(self.site, str):
            raise TypeError(f"`{where}.site` must be a site string, got {self.site!r}")
        check_range(f"{where}.delay", self.delay, 0.0, unit="ms")
        check_range(f"{where}.dur", self.dur, 0.0, unit="ms", lo_open=True)
        check_range(f"{where}.amp", self.amp, -1e6, 1e6, unit="nA")


@dataclass(frozen=True)
class ThresholdResult:
    """Thresholds of a test pulse for a propagated action potential.

    Attributes
    ----------
    threshold : ndarray, shape (B,)
        Threshold current (nA): the smallest tested amplitude that evoked a propagated
        AP; ``inf`` where none did up to ``amp_max``.
    lower : ndarray, shape (B,)
        The largest tested amplitude that did not (nA); ``threshold - lower`` is at most
        ``rtol * threshold``.
    site, detect : str
        Stimulation and detection sites.
    duration, delay : float
        Test pulse duration and onset (ms).
    rtol : float
        Relative resolution of the bisection.
    runs, members : int
        Batched runs made and members simulated in total.
    """

    threshold: np.ndarray
    lower: np.ndarray
    site: str
    detect: str
    duration: float
    delay: float
    rtol: float
    runs: int
    members: int

    @property
    def charge(self) -> np.ndarray:
        """Threshold charge (pC = nA ms), shape (B,)."""
        return self.threshold * self.duration


@dataclass(frozen=True)
class StrengthDuration:
    """Strength-duration relation and its Weiss (charge-duration) fit.

    Weiss's law: the threshold charge grows linearly with pulse duration,
    ``Q = rheobase * (t + tau_sd)`` (Weiss 1901; Bostock 1983, J Physiol 341:59;
    Mogyoros, Kiernan & Burke 1996, Brain 119:439).

    Attributes
    ----------
    durations : ndarray, shape (D,)
        Test pulse durations (ms).
    thresholds : ndarray, shape (B, D)
        Threshold currents (nA).
    rheobase : ndarray, shape (B,)
        Slope of the charge-duration line (nA).
    tau_sd : ndarray, shape (B,)
        Strength-duration time constant: intercept / slope (ms).
    r2 : ndarray, shape (B,)
        Coefficient of determination of the linear fit.
    """

    durations: np.ndarray
    thresholds: np.ndarray
    rheobase: np.ndarray
    tau_sd: np.ndarray
    r2: np.ndarray

    @property
    def charge(self) -> np.ndarray:
        """Threshold charge (pC), shape (B, D)."""
        return self.thresholds * self.durations[None, :]


@dataclass(frozen=True)
class ThresholdTrack:
    """Threshold of a test pulse over time.

    Attributes
    ----------
    time : ndarray, shape (N,)
        Time of each measurement (ms): the test pulse onset for
        :func:`threshold_tracking`, the state's time for :func:`threshold_tracking_states`.
    threshold : ndarray, shape (N,)
        Threshold current (nA); ``inf`` where no propagated AP up to ``amp_max``.
    control : float
        Reference threshold (nA): the unconditioned test pulse
        (:func:`threshold_tracking`) or the first state (:func:`threshold_tracking_states`).
    """

    time: np.ndarray
    threshold: np.ndarray
    control: float

    @property
    def change_percent(self) -> np.ndarray:
        """Threshold change relative to the control (%), shape (N,)."""
        return 100.0 * (self.threshold / self.control - 1.0)


@dataclass(frozen=True)
class RefractoryPeriod:
    """Refractoriness after a supramaximal conditioning stimulus.

    Attributes
    ----------
    absolute : ndarray, shape (B,)
        Absolute refractory period (ms): the shortest onset-to-onset interval at which a
        second pulse of ``factor`` x threshold still evokes a propagated AP (resolved to
        one time step); NaN if none up to ``interval_max``.
    control : ndarray, shape (B,)
        Threshold of a single test pulse (nA).
    factor : float
        Amplitude of the conditioning and the absolute-refractory test pulses, in
        multiples of ``control``.
    intervals : ndarray, shape (N,)
        Conditioning-test intervals of the recovery curve (ms).
    thresholds : ndarray, shape (B, N)
        Test thresholds at those intervals (nA), searched between 0.5 x control and
        2 x ``factor`` x control; ``inf`` where none propagates (inside the absolute
        refractory period).
    """

    absolute: np.ndarray
    control: np.ndarray
    factor: float
    intervals: np.ndarray
    thresholds: np.ndarray

    @property
    def increase_percent(self) -> np.ndarray:
        """Threshold increase over control (%), shape (B, N): the relative refractory
        curve (positive = refractory, negative = superexcitable)."""
        return 100.0 * (self.thresholds / self.control[:, None] - 1.0)

    @property
    def relative(self) -> np.ndarray:
        """End of the relative refractory period (ms), shape (B,): the first interval
        of the curve at which the threshold is back at or below control (linearly
        interpolated); NaN if not reached within the intervals."""
        out = np.full(self.control.shape, np.nan)
        inc = self.increase_percent
        for b in range(inc.shape[0]):
            y = inc[b]
            ok = np.flatnonzero(np.isfinite(y[:-1]) & (y[:-1] > 0) & (y[1:] <= 0))
            if ok.size:
                k = ok[0]
                x0, x1, y0, y1 = self.intervals[k], self.intervals[k + 1], y[k], y[k + 1]
                out[b] = x0 + (x1 - x0) * y0 / (y0 - y1)
        return out

    def increase_at(self, interval: float) -> np.ndarray:
        """Threshold increase (%) at ``interval`` ms, interpolated, shape (B,); e.g. 2 ms,
        the clinical "refractoriness" of the TROND protocol (Kiernan et al. 2000)."""
        x = check_range("interval", interval, self.intervals[0], self.intervals[-1], unit="ms")
        return np.array([np.interp(float(x), self.intervals, row) for row in self.increase_percent])


@dataclass(frozen=True)
class ConductionVelocity:
    """Conduction velocity of a propagated AP between two sites.

    Attributes
    ----------
    cv : ndarray, shape (B,)
        m/s; NaN where the AP did not reach both sites.
    distance : ndarray, shape (B,)
        Path distance between the sites in each member's geometry (um).
    latency : ndarray, shape (B, 2)
        First spike time at each site (ms).
    ap_peak : ndarray, shape (B, 2)
        Peak of the first spike at each site (mV).
    amplitude : ndarray, shape (B,)
        Stimulus amplitude used (nA).
    """

    cv: np.ndarray
    distance: np.ndarray
    latency: np.ndarray
    ap_peak: np.ndarray
    amplitude: np.ndarray


# ---------------------------------------------------------------------------------------
# model handling
# ---------------------------------------------------------------------------------------
def with_overrides(model: CableModel, overrides: dict) -> CableModel:
    """A copy of ``model`` with parameter values replaced (the model is not changed).

    Parameters
    ----------
    model : CableModel
    overrides : dict
        Batch keys (see :mod:`neurosim.simulate.model`) to values in internal units:
        ``"celsius"`` (degC), ``"v_init"`` (mV), ``"<mech>.<param>"`` (every placement of
        the mechanism) or ``"<label>:<mech>.<param>"`` (one placement); a value is a
        scalar or an array over that placement's compartments. As with batch values, a
        density replaces the placement's stored value (for MRG-type axons the builder
        has already scaled internodal axolemma densities by innerD/fibreD).

    Returns
    -------
    CableModel
    """
    if not isinstance(model, CableModel):
        raise TypeError(f"`model` must be a CableModel, got {type(model).__name__}")
    if not isinstance(overrides, dict):
        raise TypeError(f"`overrides` must be a dict, got {type(overrides).__name__}")
    valid = model.batch_keys()
    placements = [
        Placement(p.mechanism, p.comps, dict(p.values), p.label) for p in model.placements
    ]
    changes: dict = {}
    for key, value in overrides.items():
        if key not in valid:
            raise ValueError(
                f"unknown override {key!r} for model {model.name!r}; valid: {', '.join(valid)}"
            )
        if key == "celsius":
            changes["celsius"] = float(check_range(key, value, *TEMPERATURE_RANGE, unit="degC"))
            continue
        if key == "v_init":
            changes["v_init"] = float(check_range(key, value, -200.0, 100.0, unit="mV"))
            continue
        label, _, mkey = key.rpartition(":")
        mname, pname = mkey.split(".", 1)
        for pl in placements:
            if pl.mechanism.name != mname or (label and pl.label != label):
                continue
            p = pl.mechanism.param(pname)
            arr = check_range(key, value, p.lo, p.hi)
            if arr.ndim and arr.shape != pl.comps.shape:
                raise ValueError(
                    f"override {key!r} has shape {arr.shape}; expected a scalar or "
                    f"{pl.comps.shape} (one value per compartment of placement {pl.label!r})"
                )
            pl.values[pname] = float(arr) if arr.ndim == 0 else arr.copy()
    return dataclasses.replace(model, placements=placements, **changes)


def _as_models(model, what: str = "model") -> list[CableModel]:
    """A CableModel, a ModelFile or a sequence of them, as a non-empty list of models."""
    if isinstance(model, ModelFile):
        return [model.model]
    if isinstance(model, CableModel):
        return [model]
    if isinstance(model, (str, bytes)) or not isinstance(model, Iterable):
        raise TypeError(
            f"`{what}` must be a CableModel, a ModelFile or a list of them, got "
            f"{type(model).__name__}"
        )
    out = []
    for i, m in enumerate(model):
        if isinstance(m, ModelFile):
            m = m.model
        if not isinstance(m, CableModel):
            raise TypeError(f"`{what}[{i}]` must be a CableModel, got {type(m).__name__}")
        out.append(m)
    if not out:
        raise ValueError(f"`{what}` is an empty list: give at least one model")
    return out


def _members(model, batch: dict | None) -> list[CableModel]:
    """One model per batch member: ``model`` (one, or a list) with ``batch`` values."""
    models = _as_models(model)
    if not batch:
        return models
    if not isinstance(batch, dict):
        raise TypeError(f"`batch` must be a dict, got {type(batch).__name__}")
    values = {k: np.asarray(v, dtype=float) for k, v in batch.items()}
    lengths = {v.shape[0] if v.ndim else -1 for v in values.values()}
    if -1 in lengths or len(lengths) != 1:
        raise ValueError(
            f"`batch` values must all be arrays of one length B; got lengths {sorted(lengths)}"
        )
    B = lengths.pop()
    if len(models) == 1:
        models = models * B
    elif len(models) != B:
        raise ValueError(f"{len(models)} models but batch values of length {B}")
    return [with_overrides(m, {k: v[b] for k, v in values.items()}) for b, m in enumerate(models)]


# ---------------------------------------------------------------------------------------
# the batched runner
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Trial:
    """One threshold measurement: a model, a test pulse and fixed conditioning pulses.

    ``limit`` is the time (ms) up to which spikes at the detection site are counted.
    """

    model: CableModel
    site: str
    delay: float
    dur: float
    conditioning: tuple[Pulse, ...]
    limit: float


def _layout(model: CableModel) -> tuple:
    """What must agree for models to share a batch: topology and mechanism layout."""
    g = model.morphology.geometry
    return (
        model.morphology.n,
        g.parent.tobytes(),
        bool(g.double),
        tuple((pl.mechanism.name, pl.comps.tobytes()) for pl in model.placements),
    )


class _Runner:
    """Runs members (trial, test amplitude, test delay) as batches and counts spikes.

    Members whose models share a layout run as one batch; models of different layouts
    (e.g. MRG and human axons) run as one batch per layout in the same round. The
    initial state of every distinct model is computed once (``initialize``: v_init with
    steady gates, or the resting state) and copied into every run.
    """

    def __init__(self, trials, detect, dt, spike_threshold, method, threads, cache=None):
        self.trials = trials
        self.detect = detect
        self.dt = dt
        self.spike_threshold = spike_threshold
        self.method = method
        self.threads = threads
        self.runs = 0
        self.members = 0
        for tr in trials:
            for site in (tr.site, detect, *(p.site for p in tr.conditioning)):
                tr.model.site(site)  # ValueError naming the site if it does not exist
            for j, p in enumerate(tr.conditioning):
                p.check(f"conditioning[{j}]")
                if p.dur < dt:
                    raise ValueError(
                        f"`conditioning[{j}].dur` = {p.dur:g} ms is shorter than `dt` = "
                        f"{dt:g} ms; use dt <= {p.dur:g} ms"
                    )
        layouts: dict[tuple, int] = {}
        self._group = np.array(
            [layouts.setdefault(_layout(tr.model), len(layouts)) for tr in trials]
        )
        # id(model) -> (v, vx, gstate) at t = 0; shared between runners of one measure
        self._init: dict[int, tuple] = {} if cache is None else cache
        for grp in range(len(layouts)):
            unique: dict[int, CableModel] = {}
            for tr, g in zip(trials, self._group, strict=True):
                if g == grp and id(tr.model) not in self._init:
                    unique.setdefault(id(tr.model), tr.model)
            if not unique:
                continue
            proto = Protocol(tstop=dt, dt=dt, detect=(detect,), method=method)
            sim = CableSimulation(list(unique.values()), proto, threads=threads).initialize()
            for k, key in enumerate(unique):
                self._init[key] = (sim.v[k].copy(), sim.vx[k].copy(), sim.gstate[k].copy())

    def count(self, idx, amps, delays=None) -> np.ndarray:
        """Spikes at the detection site up to each trial's ``limit``, per member.

        Parameters
        ----------
        idx : int array, shape (M,)
            Trial of each member.
        amps : array, shape (M,)
            Test pulse amplitude of each member (nA).
        delays : array, shape (M,), optional
            Test pulse onset of each member (ms); default: the trial's own.
        """
        idx = np.asarray(idx, dtype=np.int64)
        amps = np.asarray(amps, dtype=float)
        if delays is None:
            delays = np.array([self.trials[i].delay for i in idx])
        delays = np.asarray(delays, dtype=float)
        out = np.zeros(idx.size, dtype=np.int64)
        groups = self._group[idx]
        for grp in np.unique(groups):
            sel = np.flatnonzero(groups == grp)
            out[sel] = self._run(idx[sel], amps[sel], delays[sel])
        return out

    def _run(self, idx, amps, delays) -> np.ndarray:
        M = idx.size
        trials = [self.trials[i] for i in idx]
        pulses: dict[tuple, np.ndarray] = {}
        for j, tr in enumerate(trials):
            key = (tr.site, round(float(delays[j]), 9), tr.dur)
            pulses.setdefault(key, np.zeros(M))[j] += amps[j]
            for p in tr.conditioning:
                key = (p.site, round(float(p.delay), 9), p.dur)
                pulses.setdefault(key, np.zeros(M))[j] += p.amp
        stimuli = tuple(
            Stimulus(site, delay, dur, amp)
            for (site, delay, dur), amp in pulses.items()
            if np.any(amp != 0.0)
        )
        limits = np.array([tr.limit for tr in trials])
        n_steps = int(math.ceil(limits.max() / self.dt - 1e-9))
        proto = Protocol(
            tstop=n_steps * self.dt,
            dt=self.dt,
            stimuli=stimuli,
            detect=(self.detect,),
            threshold=self.spike_threshold,
            method=self.method,
        )
        sim = CableSimulation([tr.model for tr in trials], proto, threads=self.threads)
        for j, tr in enumerate(trials):
            v, vx, gs = self._init[id(tr.model)]
            sim.v[j], sim.vx[j], sim.gstate[j] = v, vx, gs
        sim.advance(n_steps)
        res = sim.result()
        self.runs += 1
        self.members += M
        times = res.spike_times[:, 0, :]
        return np.sum(np.isfinite(times) & (times <= limits[:, None]), axis=1)


class _StateRunner:
    """Like :class:`_Runner`, but every member starts from the present state of a member
    of a running simulation (see :func:`state_threshold`)."""

    def __init__(
        self, source, members, site, detect, delay, duration, window, dt, spike_threshold, threads
    ):
        self.source = source
        self.trials = list(members)
        self.site, self.detect = site, detect
        self.delay, self.duration = delay, duration
        self.limit = delay + duration + window
        self.dt, self.spike_threshold, self.threads = dt, spike_threshold, threads
        self.runs = 0
        self.members = 0
        source.morphology.compartment(site)
        source.morphology.compartment(detect)

    def count(self, idx, amps, delays=None) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        n_steps = int(math.ceil(self.limit / self.dt - 1e-9))
        proto = Protocol(
            tstop=n_steps * self.dt,
            dt=self.dt,
            stimuli=(
                Stimulus(self.site, self.delay, self.duration, np.asarray(amps, dtype=float)),
            ),
            detect=(self.detect,),
            threshold=self.spike_threshold,
        )
        sim = self.source.replicate(proto, np.asarray(self.trials)[idx], threads=self.threads)
        sim.advance(n_steps)
        self.runs += 1
        self.members += idx.size
        return sim.spk_n[:, 0].copy()


def state_threshold(
    sim: CableSimulation,
    *,
    site: str,
    detect: str,
    members=None,
    duration: float = 0.1,
    delay: float = 0.5,
    rtol: float = 1e-2,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    dt: float | None = None,
    threads: int | None = None,
) -> ThresholdResult:
    """Threshold of a test pulse applied to the *present* state of a running simulation.

    Threshold tracking during a slow process (ischaemia, compression): the axon is not at
    any model's rest, its reversal potentials, pump currents and conductances have moved.
    Every candidate amplitude runs from a copy of that state
    (:meth:`~neurosim.simulate.cable.CableSimulation.replicate`), batched; the search is
    the batched bisection of :func:`threshold`.

    Parameters
    ----------
    sim : CableSimulation
        The running fast layer (e.g. ``IonicSimulation.sim``); it is not modified.
    site, detect : str
        Stimulation site and the distant site the AP must reach.
    members : sequence of int, optional
        Which batch members to measure (default: all).
    duration, delay, rtol, n_candidates, amp_min, amp_max, window, spike_threshold,
    threads
        As :func:`threshold`; ``amp_min`` and ``amp_max`` may also give one bracket per
        member.
    dt : float, optional
        Time step of the test runs (ms); default the simulation's own. A slow run may
        use a coarser step than a threshold measurement needs.

    Returns
    -------
    ThresholdResult
        ``threshold`` of shape (len(members),).
    """
    dt = (
        sim.protocol.dt
        if dt is None
        else float(check_range("dt", dt, 0.0, MAX_DT, unit="ms", lo_open=True))
    )
    window = float(check_range("window", window, 0.0, 1e6, unit="ms", lo_open=True))
    duration, delay = _check_pulse(duration, delay, dt)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    members = np.arange(sim.k.B) if members is None else np.asarray(members, dtype=np.int64)
    if np.ndim(amp_min) or np.ndim(amp_max):
        # one search bracket per member (e.g. around a previous threshold)
        lo_a = np.broadcast_to(np.asarray(amp_min, dtype=float), members.shape)
        hi_a = np.broadcast_to(np.asarray(amp_max, dtype=float), members.shape)
        rtol, n_candidates, _, _ = _check_search(rtol, n_candidates, 0.01, 50.0)
        check_range("amp_min", lo_a, 0.0, unit="nA", lo_open=True)
        check_range("amp_max", hi_a, 0.0, 1e6, unit="nA", lo_open=True)
        if np.any(hi_a <= lo_a):
            raise ValueError("`amp_max` must exceed `amp_min` for every member")
        amp_min, amp_max = lo_a.copy(), hi_a.copy()
    else:
        rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    runner = _StateRunner(
        sim, members, site, detect, delay, duration, window, dt, spike_threshold, threads
    )
    lo, hi = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    return ThresholdResult(hi, lo, site, detect, duration, delay, rtol, runner.runs, runner.members)


def _check_search(rtol, n_candidates, amp_min, amp_max):
    rtol = float(check_range("rtol", rtol, 0.0, 0.5, lo_open=True))
    n_candidates = check_int("n_candidates", n_candidates, 2, 256)
    amp_min = float(check_range("amp_min", amp_min, 0.0, unit="nA", lo_open=True))
    amp_max = float(check_range("amp_max", amp_max, amp_min, 1e6, unit="nA", lo_open=True))
    return rtol, n_candidates, amp_min, amp_max


def _per_trial(n_active: int, n_candidates: int) -> int:
    """Candidates per measurement in a round: enough members to fill a batch of
    :data:`BATCH_TARGET`, at most ``n_candidates``, at least 1 (plain bisection)."""
    return int(min(n_candidates, max(1, math.ceil(BATCH_TARGET / n_active))))


def _amplitude_search(runner: _Runner, rtol, n_candidates, amp_min, amp_max, grid_points=None):
    """Batched bisection of the test amplitude for every trial.

    Round 0 runs amplitude 0 (the baseline spike count) and a geometric grid from
    ``amp_min`` to ``amp_max`` (scalars, or one value per trial); every later round runs
    k amplitudes evenly inside each open bracket, shrinking it by k + 1 (k from
    :func:`_per_trial`). A member "fires" when it counts more spikes at the detection
    site than the baseline; the threshold is the lowest firing amplitude found, refined
    below the first firing grid point. (A stimulated node can respond non-monotonically
    during relative refractoriness: a strong pulse makes it fire while its neighbours
    are still refractory and the spike does not propagate; a window of propagating
    amplitudes narrower than the grid spacing can then be missed and reported as inf.)

    Returns
    -------
    lo, hi : ndarray, shape (T,)
        Largest failing and smallest firing amplitude (nA); ``hi = inf`` if none fired.
    """
    T = len(runner.trials)
    G = grid_points or max(8, _per_trial(T, n_candidates))
    a0 = np.broadcast_to(np.asarray(amp_min, dtype=float), (T,))
    a1 = np.broadcast_to(np.asarray(amp_max, dtype=float), (T,))
    grid = np.zeros((T, G + 1))
    grid[:, 1:] = a0[:, None] * (a1 / a0)[:, None] ** (np.arange(G) / (G - 1))[None, :]
    counts = runner.count(np.repeat(np.arange(T), G + 1), grid.ravel()).reshape(T, G + 1)
    base = counts[:, 0]
    fired = counts[:, 1:] > base[:, None]
    lo = a1.copy()
    hi = np.full(T, np.inf)
    for t in range(T):
        f = np.flatnonzero(fired[t])
        if f.size:
            hi[t] = grid[t, 1 + f[0]]
            lo[t] = grid[t, f[0]]
    while True:
        active = np.flatnonzero(np.isfinite(hi) & (hi - lo > rtol * hi))
        if not active.size:
            break
        K = _per_trial(active.size, n_candidates)
        frac = np.arange(1, K + 1) / (K + 1)
        cand = lo[active, None] + (hi - lo)[active, None] * frac[None, :]
        c = runner.count(np.repeat(active, K), cand.ravel()).reshape(active.size, K)
        fired = c > base[active, None]
        for a, t in enumerate(active):
            f = np.flatnonzero(fired[a])
            if f.size:
                hi[t] = cand[a, f[0]]
                if f[0] > 0:
                    lo[t] = cand[a, f[0] - 1]
            else:
                lo[t] = cand[a, -1]
    return lo, hi


def _check_common(dt, window, spike_threshold, method, threads):
    dt = float(check_range("dt", dt, 0.0, MAX_DT, unit="ms", lo_open=True))
    window = float(check_range("window", window, 0.0, 1e6, unit="ms", lo_open=True))
    spike_threshold = float(
        check_range("spike_threshold", spike_threshold, -100.0, 100.0, unit="mV")
    )
    method = check_choice("method", method, METHODS)
    if threads is not None:
        threads = check_int("threads", threads, 1, 4096)
    return dt, window, spike_threshold, method, threads


def _check_pulse(duration, delay, dt):
    duration = float(check_range("duration", duration, 0.0, 1e6, unit="ms", lo_open=True))
    if duration < dt:
        raise ValueError(
            f"`duration` = {duration:g} ms is shorter than `dt` = {dt:g} ms; "
            f"use dt <= {duration:g} ms"
        )
    delay = float(check_range("delay", delay, 0.0, 1e6, unit="ms"))
    return duration, delay


def _check_conditioning(conditioning) -> tuple[Pulse, ...]:
    if isinstance(conditioning, Pulse):
        conditioning = (conditioning,)
    out = []
    for j, p in enumerate(conditioning):
        if not isinstance(p, Pulse):
            raise TypeError(f"`conditioning[{j}]` must be a Pulse, got {type(p).__name__}")
        p.check(f"conditioning[{j}]")
        out.append(p)
    return tuple(out)


def _site_str(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a site string like 'node[20]', got {value!r}")
    return value


# ---------------------------------------------------------------------------------------
# public measures
# ---------------------------------------------------------------------------------------
def threshold(
    model,
    *,
    site: str,
    detect: str,
    duration: float = 0.1,
    delay: float = 1.0,
    conditioning: Sequence[Pulse] = (),
    batch: dict | None = None,
    rtol: float = 1e-3,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    dt: float = 0.005,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> ThresholdResult:
    """Threshold current of a test pulse for a propagated action potential.

    Parameters
    ----------
    model : CableModel, ModelFile or list of CableModel
        One model or one per batch member (same structure).
    site : str
        Stimulation site (``"node[20]"``): intracellular current injection.
    detect : str
        A distant site the AP must reach (``"node[35]"``).
    duration : float
        Test pulse duration (ms).
    delay : float
        Test pulse onset (ms).
    conditioning : sequence of Pulse
        Pulses applied in every run (fixed amplitudes), e.g. a polarising current.
    batch : dict, optional
        Per-member values of batch keys (``{"mrg_node.gnapbar": [...]}``), shape (B,).
    rtol : float
        Relative resolution of the threshold.
    n_candidates : int
        Amplitudes per measurement per batched round.
    amp_min, amp_max : float
        Search range (nA); thresholds above ``amp_max`` are reported as ``inf``.
    dt : float
        Time step (ms).
    window : float
        Time after the end of the test pulse within which the AP must reach ``detect``
        (ms).
    spike_threshold : float
        Upward crossing that counts as a spike at ``detect`` (mV).
    method : {"backward_euler", "crank_nicolson"}
    threads : int, optional
        Kernel threads.

    Returns
    -------
    ThresholdResult
        ``threshold`` of shape (B,).
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    duration, delay = _check_pulse(duration, delay, dt)
    rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    cond = _check_conditioning(conditioning)
    models = _members(model, batch)
    limit = delay + duration + window
    trials = [_Trial(m, site, delay, duration, cond, limit) for m in models]
    runner = _Runner(trials, detect, dt, spike_threshold, method, threads)
    lo, hi = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    return ThresholdResult(hi, lo, site, detect, duration, delay, rtol, runner.runs, runner.members)


def strength_duration(
    model,
    durations: Sequence[float] = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
    *,
    site: str,
    detect: str,
    delay: float = 1.0,
    batch: dict | None = None,
    rtol: float = 1e-3,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    dt: float = 0.005,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> StrengthDuration:
    """Thresholds at several pulse durations and the strength-duration time constant.

    Every (member, duration) threshold is found in the same batched runs. The threshold
    charge ``Q = I t`` is fitted by least squares to Weiss's line
    ``Q = rheobase (t + tau_sd)``, as Mogyoros, Kiernan & Burke (1996, Brain 119:439)
    did for human median nerve (tau_SD 0.459 +/- 0.126 ms motor, 0.665 +/- 0.182 ms
    sensory; durations 0.02-1 ms).

    Parameters
    ----------
    model : CableModel, ModelFile or list of CableModel
    durations : sequence of float
        Test pulse durations (ms), at least two distinct values.
    site, detect, delay, batch, rtol, n_candidates, amp_min, amp_max, dt, window,
    spike_threshold, method, threads
        As :func:`threshold`.

    Returns
    -------
    StrengthDuration
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    durs = check_range("durations", durations, 0.0, 1e6, unit="ms", lo_open=True)
    if durs.ndim != 1 or np.unique(durs).size < 2:
        raise ValueError(
            f"`durations` must be a 1-D list of at least two distinct values (ms), got {durations!r}"
        )
    for d in durs:
        _check_pulse(d, delay, dt)
    delay = float(check_range("delay", delay, 0.0, 1e6, unit="ms"))
    rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    models = _members(model, batch)
    trials = [
        _Trial(m, site, delay, float(d), (), delay + float(d) + window)
        for m in models
        for d in durs
    ]
    runner = _Runner(trials, detect, dt, spike_threshold, method, threads)
    _, hi = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    thr = hi.reshape(len(models), durs.size)
    rheobase = np.full(len(models), np.nan)
    tau = np.full(len(models), np.nan)
    r2 = np.full(len(models), np.nan)
    for b in range(len(models)):
        ok = np.isfinite(thr[b])
        if ok.sum() < 2:
            continue
        q = thr[b, ok] * durs[ok]
        slope, intercept = np.polyfit(durs[ok], q, 1)
        pred = slope * durs[ok] + intercept
        ss = np.sum((q - q.mean()) ** 2)
        rheobase[b], tau[b] = slope, intercept / slope
        r2[b] = 1.0 - np.sum((q - pred) ** 2) / ss if ss > 0 else np.nan
    return StrengthDuration(durs.copy(), thr, rheobase, tau, r2)


def threshold_tracking(
    model,
    times: Sequence[float],
    *,
    site: str,
    detect: str,
    conditioning: Sequence[Pulse] = (),
    duration: float = 0.1,
    control_delay: float = 1.0,
    rtol: float = 1e-3,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    dt: float = 0.005,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> ThresholdTrack:
    """Threshold of a test pulse given at each of ``times`` during conditioning stimuli.

    With a long subthreshold polarising current as ``conditioning`` this is threshold
    electrotonus; with a supramaximal pulse it is the recovery cycle (see also
    :func:`refractory_period`). Every time point and the unconditioned control are
    measured in the same batched runs.

    Parameters
    ----------
    model : CableModel or ModelFile
        One axon.
    times : sequence of float
        Test pulse onsets (ms), each >= 0.
    site, detect : str
        As :func:`threshold`.
    conditioning : sequence of Pulse
        Conditioning currents, present in every measurement except the control.
    duration : float
        Test pulse duration (ms).
    control_delay : float
        Onset of the unconditioned control test pulse (ms).
    rtol, n_candidates, amp_min, amp_max, dt, window, spike_threshold, method, threads
        As :func:`threshold`.

    Returns
    -------
    ThresholdTrack
        ``time`` = ``times``; ``control`` = unconditioned threshold.
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    models = _as_models(model)
    if len(models) != 1:
        raise ValueError("`threshold_tracking` follows one axon: give a single model")
    times = check_range("times", times, 0.0, 1e6, unit="ms")
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"`times` must be a non-empty 1-D list of test onsets (ms), got {times!r}")
    duration, control_delay = _check_pulse(duration, control_delay, dt)
    rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    cond = _check_conditioning(conditioning)
    m = models[0]
    end = max([p.delay + p.dur for p in cond], default=0.0)
    trials = [_Trial(m, site, control_delay, duration, (), control_delay + duration + window)]
    for t in times:
        # count spikes until after the test window AND the end of the conditioning, so a
        # conditioning spike (e.g. anode-break) is in the baseline count as well
        limit = max(float(t) + duration + window, end + window)
        trials.append(_Trial(m, site, float(t), duration, cond, limit))
    runner = _Runner(trials, detect, dt, spike_threshold, method, threads)
    _, hi = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    return ThresholdTrack(times.copy(), hi[1:], float(hi[0]))


def threshold_tracking_states(
    states: Sequence[tuple[float, CableModel | dict]],
    *,
    site: str,
    detect: str,
    model: CableModel | ModelFile | None = None,
    duration: float = 0.1,
    delay: float = 1.0,
    rtol: float = 1e-3,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    dt: float = 0.005,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> ThresholdTrack:
    """Threshold over a sequence of axon states: the threshold-tracking record of a slow
    process (ischaemia, cooling, a drug) given as the axon's state at each time.

    Each state is treated as steady over the short test (quasi-static): its threshold
    is that of the state's own initial condition (``v_init``, or the resting state when
    the model sets ``rest``). All states are measured in the same batched runs.

    Parameters
    ----------
    states : sequence of (float, CableModel or dict)
        ``(time in ms, state)``; a state is a model (same structure as the others) or a
        dict of overrides of ``model`` (batch keys, see :func:`with_overrides`), e.g.
        ``(480.0, {"celsius": 35.0, "node:mrg_node.gnapbar": 0.012})``.
    site, detect : str
        As :func:`threshold`.
    model : CableModel or ModelFile, optional
        The axon that dict states modify.
    duration, delay, rtol, n_candidates, amp_min, amp_max, dt, window, spike_threshold,
    method, threads
        As :func:`threshold`.

    Returns
    -------
    ThresholdTrack
        ``control`` is the first state's threshold.
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    duration, delay = _check_pulse(duration, delay, dt)
    rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    base = None if model is None else _as_models(model)
    if base is not None and len(base) != 1:
        raise ValueError("`model` must be one model (the axon that dict states modify)")
    if isinstance(states, (str, bytes, dict)) or not isinstance(states, Iterable):
        raise TypeError("`states` must be a sequence of (time, model or overrides) pairs")
    times, models = [], []
    for i, item in enumerate(states):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(
                f"`states[{i}]` must be a (time, model or overrides) pair, got {item!r}"
            )
        t, state = item
        times.append(float(check_range(f"states[{i}].time", t, -1e12, 1e12, unit="ms")))
        if isinstance(state, ModelFile):
            state = state.model
        if isinstance(state, CableModel):
            models.append(state)
        elif isinstance(state, dict):
            if base is None:
                raise ValueError(f"`states[{i}]` is a dict of overrides but no `model` was given")
            models.append(with_overrides(base[0], state))
        else:
            raise TypeError(
                f"`states[{i}]` state must be a CableModel or a dict of overrides, got "
                f"{type(state).__name__}"
            )
    if not models:
        raise ValueError("`states` is empty: give at least one (time, state) pair")
    limit = delay + duration + window
    trials = [_Trial(m, site, delay, duration, (), limit) for m in models]
    runner = _Runner(trials, detect, dt, spike_threshold, method, threads)
    _, hi = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    return ThresholdTrack(np.array(times), hi, float(hi[0]))


def refractory_period(
    model,
    *,
    site: str,
    detect: str,
    duration: float = 0.1,
    factor: float = 2.0,
    intervals: Sequence[float] | None = None,
    interval_max: float = 10.0,
    delay: float = 1.0,
    batch: dict | None = None,
    rtol: float = 1e-3,
    n_candidates: int = 16,
    amp_min: float = 0.01,
    amp_max: float = 50.0,
    dt: float = 0.005,
    window: float = DEFAULT_WINDOW,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> RefractoryPeriod:
    """Absolute refractory period and the recovery of threshold after an impulse.

    A conditioning pulse of ``factor`` x threshold at ``delay`` evokes an AP. The
    absolute refractory period is the shortest onset-to-onset interval at which a test
    pulse of the same supramaximal amplitude evokes a second propagated AP (batched
    bisection over the interval, to one time step). The relative refractory curve is the
    test threshold at each of ``intervals`` after the same conditioning pulse.

    Parameters
    ----------
    model : CableModel, ModelFile or list of CableModel
    site, detect : str
        As :func:`threshold`.
    duration : float
        Conditioning and test pulse duration (ms).
    factor : float
        Supramaximal amplitude in multiples of the single-pulse threshold (> 1).
    intervals : sequence of float, optional
        Conditioning-test intervals of the recovery curve (ms, increasing, each >
        ``duration``); default: 12 intervals from 1.05 x the largest absolute
        refractory period to ``interval_max``, geometrically spaced.
    interval_max : float
        Longest interval searched (ms).
    delay : float
        Onset of the conditioning pulse (ms).
    batch, rtol, n_candidates, amp_min, amp_max, dt, window, spike_threshold, method,
    threads
        As :func:`threshold`.

    Returns
    -------
    RefractoryPeriod
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    duration, delay = _check_pulse(duration, delay, dt)
    factor = float(check_range("factor", factor, 1.0, 1e3, lo_open=True))
    interval_max = float(
        check_range("interval_max", interval_max, duration, 1e6, unit="ms", lo_open=True)
    )
    rtol, n_candidates, amp_min, amp_max = _check_search(rtol, n_candidates, amp_min, amp_max)
    site, detect = _site_str("site", site), _site_str("detect", detect)
    if intervals is not None:
        iv = check_range("intervals", intervals, duration, 1e6, unit="ms", lo_open=True)
        if iv.ndim != 1 or iv.size < 2 or np.any(np.diff(iv) <= 0):
            raise ValueError(
                f"`intervals` must be an increasing 1-D list of at least two intervals (ms), "
                f"got {intervals!r}"
            )
    models = _members(model, batch)
    B = len(models)

    # 1. control threshold of a single pulse
    cache: dict = {}
    single = [_Trial(m, site, delay, duration, (), delay + duration + window) for m in models]
    runner = _Runner(single, detect, dt, spike_threshold, method, threads, cache)
    _, control = _amplitude_search(runner, rtol, n_candidates, amp_min, amp_max)
    if not np.all(np.isfinite(control)):
        b = int(np.flatnonzero(~np.isfinite(control))[0])
        raise ValueError(
            f"batch member {b}: no propagated AP up to `amp_max` = {amp_max:g} nA; "
            "raise amp_max or check the model"
        )
    supra = factor * control

    # 2. absolute refractory period: bisection over the test onset, in whole steps
    k_max = int(math.floor(interval_max / dt + 1e-9))
    limit = delay + k_max * dt + duration + window
    arp_trials = [
        _Trial(m, site, delay, duration, (Pulse(site, delay, duration, float(a)),), limit)
        for m, a in zip(models, supra, strict=True)
    ]
    arp = _Runner(arp_trials, detect, dt, spike_threshold, method, threads, cache)
    base = arp.count(np.arange(B), np.zeros(B))
    lo = np.zeros(B, dtype=np.int64)  # interval 0: one (summed) pulse, no second AP
    hi = np.full(B, k_max, dtype=np.int64)
    top = arp.count(np.arange(B), supra, delay + hi * dt)
    found = top > base
    while True:
        active = np.flatnonzero(found & (hi - lo > 1))
        if not active.size:
            break
        span = hi[active] - lo[active]
        n = int(min(_per_trial(active.size, n_candidates), span.max() - 1))
        cand = lo[active, None] + np.maximum(
            1, np.floor(span[:, None] * np.arange(1, n + 1)[None, :] / (n + 1)).astype(np.int64)
        )
        cand = np.minimum(cand, hi[active, None] - 1)
        idx = np.repeat(active, n)
        c = arp.count(idx, np.repeat(supra[active], n), delay + cand.ravel() * dt).reshape(
            active.size, n
        )
        fired = c > base[active, None]
        for a, b in enumerate(active):
            f = np.flatnonzero(fired[a])
            if f.size:
                hi[b] = cand[a, f[0]]
                if f[0] > 0:
                    lo[b] = max(lo[b], cand[a, f[0] - 1])
            else:
                lo[b] = cand[a, -1]
    absolute = np.where(found, hi * dt, np.nan)

    # 3. recovery curve: test thresholds at each interval after the conditioning pulse
    if intervals is None:
        start = 1.05 * np.nanmax(absolute) if np.any(found) else 2.0 * duration
        iv = np.geomspace(max(start, duration + dt), interval_max, 12)
    trials = []
    for m, a in zip(models, supra, strict=True):
        cond = (Pulse(site, delay, duration, float(a)),)
        for x in iv:
            t_test = delay + float(x)
            trials.append(_Trial(m, site, t_test, duration, cond, t_test + duration + window))
    curve = _Runner(trials, detect, dt, spike_threshold, method, threads, cache)
    # search each interval between 0.5 and 2 x factor x control on a fine grid (steps
    # of ~10 %): near the absolute refractory period only a narrow band of amplitudes
    # propagates (see _amplitude_search)
    lo_amp = np.repeat(0.5 * control, iv.size)
    hi_amp = np.repeat(np.minimum(2.0 * supra, amp_max), iv.size)
    _, thr = _amplitude_search(
        curve, rtol, n_candidates, lo_amp, np.maximum(hi_amp, 1.01 * lo_amp), grid_points=24
    )
    return RefractoryPeriod(
        absolute, control, factor, np.asarray(iv, float), thr.reshape(B, iv.size)
    )


def conduction_velocity(
    model,
    *,
    site: str,
    between: tuple[str, str],
    amplitude: float | None = None,
    factor: float = 2.0,
    duration: float = 0.1,
    delay: float = 0.5,
    batch: dict | None = None,
    dt: float = 0.005,
    window: float = 5.0,
    spike_threshold: float = 0.0,
    method: str = "backward_euler",
    threads: int | None = None,
) -> ConductionVelocity:
    """Conduction velocity of an AP evoked at ``site``, between two sites.

    Parameters
    ----------
    model : CableModel, ModelFile or list of CableModel
    site : str
        Stimulation site.
    between : (str, str)
        The two sites (distance / difference of first spike times).
    amplitude : float, optional
        Stimulus (nA); default ``factor`` x each member's threshold for an AP at the
        farther site.
    factor : float
        Multiple of threshold when ``amplitude`` is not given (>= 1).
    duration, delay : float
        Stimulus duration and onset (ms).
    batch, dt, spike_threshold, method, threads
        As :func:`threshold`.
    window : float
        Time after the stimulus allowed for the AP to reach both sites (ms).

    Returns
    -------
    ConductionVelocity
    """
    dt, window, spike_threshold, method, threads = _check_common(
        dt, window, spike_threshold, method, threads
    )
    duration, delay = _check_pulse(duration, delay, dt)
    site = _site_str("site", site)
    if not (isinstance(between, (tuple, list)) and len(between) == 2):
        raise ValueError(f"`between` must name two sites, got {between!r}")
    a, b = (_site_str("between", s) for s in between)
    if a == b:
        raise ValueError(f"`between` names the same site twice: {a!r}")
    models = _members(model, batch)
    B = len(models)
    if amplitude is None:
        factor = float(check_range("factor", factor, 1.0, 1e3))
        far = b
        thr = threshold(
            models, site=site, detect=far, duration=duration, delay=delay, dt=dt,
            window=window, spike_threshold=spike_threshold, method=method, threads=threads,
        ).threshold  # fmt: skip
        if not np.all(np.isfinite(thr)):
            raise ValueError("no propagated AP up to the default `amp_max`; give `amplitude`")
        amps = factor * thr
    else:
        amps = np.full(B, float(check_range("amplitude", amplitude, -1e6, 1e6, unit="nA")))
    n_steps = int(math.ceil((delay + duration + window) / dt - 1e-9))
    proto = Protocol(
        tstop=n_steps * dt,
        dt=dt,
        stimuli=(Stimulus(site, delay, duration, amps),),
        detect=(a, b),
        threshold=spike_threshold,
        method=method,
    )
    res = CableSimulation(models, proto, threads=threads).run()
    # each member's own path distance: in a diameter sweep the node spacing differs
    dist = np.array(
        [
            path_distance(
                m.morphology.geometry.parent, m.morphology.geometry.position, m.site(a), m.site(b)
            )
            for m in models
        ]
    )
    first = np.where(res.spike_counts > 0, res.spike_times[..., 0], np.nan)
    peak = np.where(res.spike_counts > 0, res.spike_peaks[..., 0], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = dist / np.abs(first[:, 1] - first[:, 0]) * 1e-3  # um/ms -> m/s
    return ConductionVelocity(cv, dist, first, peak, amps)
