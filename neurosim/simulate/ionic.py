"""An axon batch with ion and O2 dynamics: the fast cable layer and the slow ion layer.

Multi-rate scheme (a heterogeneous-multiscale method)
-----------------------------------------------------
Time advances in slow steps. Each slow step:

1. the fast layer (membrane potential, gates) is integrated for a ``window`` at the
   fine ``dt``, from where it stood, with the present reversal potentials and pump
   current; spikes in the window are recorded at their real time, and every channel's
   charge and conductance-time integral are accumulated;
2. the step length ``h`` is chosen so that no pool's [Na]i or [K]o changes by more than
   ``tolerance`` mM (O2 by ``tolerance_o2``) at the present rates, between ``window``
   and ``slow_dt`` (``firing_step`` after a window with spikes), and so that it ends at
   the drivers' next change (a posture switch, the end of a cuff);
3. the drivers (compression: blood flow, mechanical damage) advance over ``h``, and
   the slow layer (concentrations, O2) advances over ``h`` with the window's mean
   currents, linearised in the reversal potentials.

When ``h == window`` nothing is skipped: the fully coupled operator splitting. When
``h > window`` the fast layer is sampled: the state at the end of one window is the
start of the next, and the firing seen in a window stands for its whole step. This is
what makes minutes to hours affordable; the step control keeps the sampling to
stretches where the slow variables change little over a step, and falls back to the
coupled scheme during firing, when activity changes [K]o and [Na]i within
milliseconds. The error against the fully coupled run is measured in the tests.

Firing and the sampling noise of spike counts
---------------------------------------------
A window of 10 ms holds only a few spikes of an axon firing at hundreds of Hz, and
whether it holds 4 or 5 depends on where it falls in the interspike interval. Its mean
currents carry that count noise (about one spike's charge per window), which the step
control reads as a fast change of the periaxonal [K]o and answers with short steps,
although the firing itself is steady. An axon firing at tens of Hz, or in short bursts,
is worse off: one window holds a spike and the next none, and the periaxonal [K]o seems
to rise fast, then fall fast. With ``firing_average`` > 0 the slow layer of a member that
is firing throughout the last ``firing_average`` ms of model time (it fired in a window
that started in the older half of that span and in one that started in the newer half)
takes the mean currents of the span's windows (weighted by window length; each window's
currents carried to the present reversal potentials by the same linearisation the step
uses), so the count noise falls as the span holds more windows and the steps lengthen.
Other members (quiet, or starting or stopping to fire: transients the average would
smear), and every member when the option is 0 (the default), use their last window
alone. The cost is a lag of about half the span in what the slow layer sees of the
firing; spans of a second or less are short against the minutes-long time course of
compression and ischaemia.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

import neurosim
from neurosim.ions import IonLayer, IonParams, PoolLayout
from neurosim.simulate.cable import CableSimulation
from neurosim.simulate.model import CableModel
from neurosim.simulate.protocol import Protocol
from neurosim.validate import check_positive, check_range

__all__ = ["IonicSimulation", "IonicResult", "axon_geometry", "ion_layout", "ion_pools"]


def axon_geometry(model: CableModel, volume_to_area: float | None = None):
    """Axoplasmic volume (um3), axolemma area (um2) and periaxonal film volume (um3, 0
    where there is none) of each compartment, each (n,); 0 at branch points.

    For MRG-type axons the paranodal and internodal sections carry the fibre diameter
    (see :mod:`neurosim.morphology.mrg`); the axon inside has the inner diameter of the
    section type, and the periaxonal film has the section type's periaxonal space.
    ``volume_to_area`` (um) sets the volume to ``area x volume_to_area`` (point-cell
    models quoted per membrane area).
    """
    morph = model.morphology
    vol, area, film = np.zeros(morph.n), np.zeros(morph.n), np.zeros(morph.n)
    fiber = model.metadata.get("fiber")
    for sec in morph.sections:
        start = morph.sec_start[sec.name]
        seglen = sec.seg_length()
        kind = sec.name.split("[")[0]
        for kseg in range(sec.nseg):
            c = start + kseg
            d = sec.diam[kseg]
            if fiber is not None:
                d = fiber.inner_diameter(kind)
                if kind != "node":
                    space = fiber.space_node if kind == "mysa" else fiber.space_internode
                    film[c] = np.pi * ((d / 2 + space) ** 2 - (d / 2) ** 2) * seglen
            area[c] = np.pi * d * seglen
            vol[c] = area[c] * volume_to_area if volume_to_area else np.pi * (d / 2) ** 2 * seglen
    return vol, area, film


def ion_pools(model: CableModel, kind: str = "auto") -> np.ndarray:
    """Intracellular pool (node unit) of each compartment, shape (n,).

    ``"node"``: one pool per section ``node[i]``, holding the compartments nearer (by
    path position) to that node than to any other; ``"compartment"``: one pool per
    compartment, branch points (no membrane) joining their parent's; ``"auto"``:
    ``"node"`` when the model has nodes.
    """
    morph = model.morphology
    nodes = [s.name for s in morph.sections if s.name.startswith("node[")]
    if kind == "auto":
        kind = "node" if nodes else "compartment"
    if kind == "node":
        if not nodes:
            raise ValueError("`ions.pools` = 'node' needs sections named node[i]")
        pos = morph.geometry.position
        node_pos = np.array([pos[morph.compartment(s)] for s in nodes])
        return np.argmin(np.abs(pos[:, None] - node_pos[None, :]), axis=1)
    pool = np.arange(morph.n)
    parent = morph.geometry.parent
    for c in range(1, morph.n):
        if morph.geometry.area[c] == 0:
            pool[c] = pool[parent[c]]
    return np.unique(pool, return_inverse=True)[1]


def ion_layout(models, params, B: int) -> PoolLayout:
    """Where ions live for a batch (see :mod:`neurosim.ions`).

    ``params.pools``: ``"node"`` gives one intracellular pool per section ``node[i]``
    (the compartments nearer to it than to any other node), with an endoneurial and,
    on MRG-type axons when ``params.periaxonal``, a periaxonal extracellular pool;
    ``"compartment"`` one pool of each kind per compartment (branch points join their
    parent's); ``"auto"`` is ``"node"`` when the model has nodes.
    """
    members = models if isinstance(models, list) else [models] * B
    first = members[0]
    morph = first.morphology
    geo = [axon_geometry(m, params.volume_to_area) for m in members]
    volume = np.stack([g[0] for g in geo])
    area = np.stack([g[1] for g in geo])
    film = np.stack([g[2] for g in geo]) * params.periaxonal_volume_scale
    kind = params.pools
    if kind == "auto":
        kind = "node" if any(s.name.startswith("node[") for s in morph.sections) else "compartment"
    pool_i = ion_pools(first, kind)
    periaxonal = kind == "node" and params.periaxonal and film[0].any()
    if periaxonal:
        raw = 2 * pool_i + (film[0] > 0)
        uniq, pool_o = np.unique(raw, return_inverse=True)
        o_unit = uniq // 2
        is_film = (uniq % 2) == 1
        endo = {int(u): q for q, u in enumerate(o_unit) if not is_film[q]}
        o_parent = np.array(
            [endo[int(u)] if f else -1 for u, f in zip(o_unit, is_film, strict=True)]
        )
        o_volume = np.full((B, len(uniq)), np.nan)
        film_vol = np.zeros((B, len(uniq)))
        np.add.at(film_vol, (slice(None), pool_o), film)
        o_volume[:, is_film] = film_vol[:, is_film]
    else:
        pool_o = pool_i.copy()
        P = int(pool_i.max()) + 1
        o_unit = np.arange(P)
        o_parent = np.full(P, -1)
        o_volume = np.full((B, P), np.nan)
    return PoolLayout(pool_i, pool_o, o_parent, o_unit, volume, area, o_volume)


@dataclass
class IonicResult:
    """Slow traces and spikes of an :class:`IonicSimulation`.

    Attributes
    ----------
    t : ndarray (T,)
        Times of the slow samples (ms; end of each slow step, 0 for the initial state).
    sites : list of str
        Compartments whose slow traces are kept (``trace_sites``).
    traces : dict of str to ndarray (B, R, T)
        ``"nai"``, ``"ki"``, ``"nao"``, ``"ko"`` (mM), ``"o2"`` (mM), ``"i_pump"`` (nA),
        ``"ena"``, ``"ek"`` (mV), ``"v"`` (window-mean membrane potential, mV), ``"flow"``.
    spike_sites : list of str
        Detection sites (D).
    spike_positions : ndarray (D,)
        Path distance of each detection site (um).
    spikes : ndarray (N, 3)
        Every detected spike: (member, detection-site index, time in ms).
    windows : ndarray (W, 3)
        Real start, length and slow step (ms) of every fast window: spikes exist only
        inside windows, and a window's firing stands for its whole step.
    meta : dict
    """

    t: np.ndarray
    sites: list[str]
    traces: dict
    spike_sites: list[str]
    spike_positions: np.ndarray
    spikes: np.ndarray
    windows: np.ndarray
    batch: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def spike_times(self, member: int, site: str) -> np.ndarray:
        """Spike times (ms) of one member at one detection site."""
        k = self.spike_sites.index(site)
        sel = (self.spikes[:, 0] == member) & (self.spikes[:, 1] == k)
        return self.spikes[sel, 2]

    def window_weights(self) -> np.ndarray:
        """For every spike, the real time it stands for divided by its window's length
        (1 where the windows are contiguous), shape (N,)."""
        if not len(self.spikes):
            return np.zeros(0)
        k = np.searchsorted(self.windows[:, 0], self.spikes[:, 2], side="right") - 1
        return self.windows[k, 2] / self.windows[k, 1]

    def rate(self, member: int, site: str, t0: float = 0.0, t1: float = np.inf) -> float:
        """Firing rate (Hz) at one detection site over [t0, t1), each window's spikes
        weighted by the step it stands for."""
        k = self.spike_sites.index(site)
        sel = (self.spikes[:, 0] == member) & (self.spikes[:, 1] == k)
        sel &= (self.spikes[:, 2] >= t0) & (self.spikes[:, 2] < t1)
        span = min(t1, self.t[-1]) - max(t0, self.t[0])
        return float(self.window_weights()[sel].sum() / span * 1e3) if span > 0 else 0.0

    def observed_time(self, t0: float = 0.0, t1: float = np.inf) -> float:
        """Total window time (ms) inside [t0, t1): the time over which spikes were seen."""
        s, d = self.windows[:, 0], self.windows[:, 1]
        return float(np.clip(np.minimum(s + d, t1) - np.maximum(s, t0), 0, None).sum())


class IonicSimulation:
    """A batch of axons with ion/O2 dynamics, integrated by the multi-rate scheme.

    Parameters
    ----------
    models : CableModel or list of CableModel
        Initialised at rest when their ``rest`` flag is set (required for
        ``mode = "balanced"``, which balances ions at the resting state).
    ions : IonParams
    dt : float
        Fine step of the electrical layer (ms).
    window, slow_dt : float
        Length of each fast window and the longest slow step (ms), ``window <= slow_dt``.
    tolerance, tolerance_o2 : float
        Largest change of [Na]i or [K]o, and of O2, per slow step (mM).
    firing_step : float
        Longest slow step (ms) after a window in which any member fired (default
        4 x ``window``): firing episodes are followed closely, since their onset and end
        are transients the sampled windows would otherwise miss.
    firing_average : float
        Span (ms of model time) over which the window currents of a member firing
        throughout it (in each half) are averaged for the slow layer (default 0: its last
        window only). See "Firing and the sampling noise of spike counts" in the module
        docstring.
    detect : sequence of str
        Spike-detection sites (default: every compartment of sections called ``node[*]``
        if present, else every recording of the model's compartments).
    trace_sites : sequence of str
        Compartments whose slow traces are recorded (default: the detection sites).
    threshold : float
        Spike threshold (mV).
    batch : dict, optional
        Per-member parameter values (see :func:`neurosim.simulate.model.compile_batch`).
    drivers : sequence
        Compression, damage, parameter schedules: objects with any of ``setup(isim)``
        (once, after the ionic balance), ``flow(t, dt, isim)`` (mean blood flow per pool
        over [t, t + dt], shape (B, P), without side effects), ``advance(t, dt, isim)``
        (their own state over a step, e.g. damage written into the kernel arrays) and
        ``next_event(t)`` (time of their next discontinuity, or None), and
        ``prepare(isim)`` (before the ionic balance: structural changes present at t = 0,
        which then belong to the resting state).
    stimuli : sequence of Stimulus
        Pulses applied in every window (times relative to the window start).
    threads : int, optional
    """

    def __init__(
        self,
        models,
        ions: IonParams,
        *,
        dt: float = 0.025,
        window: float = 50.0,
        slow_dt: float = 50.0,
        detect=None,
        trace_sites=None,
        threshold: float = 0.0,
        batch=None,
        drivers=(),
        stimuli=(),
        threads=None,
        max_spikes=None,
        tolerance: float = 0.05,
        tolerance_o2: float = 0.005,
        firing_step: float | None = None,
        firing_average: float = 0.0,
    ):
        check_positive("dt", dt, "ms")
        check_positive("window", window, "ms")
        check_positive("slow_dt", slow_dt, "ms")
        if window > slow_dt * (1 + 1e-12):
            raise ValueError(f"`window` = {window:g} ms must not exceed `slow_dt` = {slow_dt:g} ms")
        first = models if isinstance(models, CableModel) else list(models)[0]
        morph = first.morphology
        if detect is None:
            nodes = [s.name for s in morph.sections if s.name.startswith("node[")]
            detect = nodes or [morph.label(c) for c in range(morph.n)][:1]
        detect = tuple(detect)
        self.trace_names = tuple(trace_sites) if trace_sites is not None else detect
        protocol = Protocol(
            tstop=window,
            dt=dt,
            stimuli=tuple(stimuli),
            record=(),
            detect=detect,
            threshold=threshold,
            max_spikes=max_spikes,
        )
        self.sim = CableSimulation(models, protocol, batch, threads)
        self.sim.initialize()
        self.models = models
        self.params = ions
        self.ions = IonLayer(self.sim, ions, ion_layout(models, ions, self.sim.k.B))
        # structural state at t = 0 (a chronic lesion) is part of the resting state the
        # ionic balance preserves
        for d in drivers:
            if hasattr(d, "prepare"):
                d.prepare(self)
        if ions.mode == "balanced":
            if not self.sim.k.rest:
                raise ValueError(
                    "`ions.mode` = 'balanced' needs the model initialised at rest: set "
                    "[model] rest = true"
                )
            self.ions.balance()
        else:
            self.ions.apply()
        self.window = window
        self.slow_dt = slow_dt
        self.tolerance = float(check_positive("tolerance", tolerance, "mM"))
        self.tolerance_o2 = float(check_positive("tolerance_o2", tolerance_o2, "mM"))
        self.firing_step = min(4.0 * window, slow_dt) if firing_step is None else firing_step
        check_range("firing_step", self.firing_step, window, slow_dt, unit="ms")
        self.firing_average = float(check_range("firing_average", firing_average, 0.0, unit="ms"))
        #: recent windows for ``firing_average``: (start, length, fired (B,), currents)
        self._recent: deque = deque()
        self.t = 0.0
        self.drivers = list(drivers)
        for d in self.drivers:
            if hasattr(d, "setup"):
                d.setup(self)
        self.trace_comp = np.array([morph.compartment(s) for s in self.trace_names])
        #: blood flow relative to normal per ion pool (B, P), set by drivers
        self.flow = np.ones((self.sim.k.B, self.ions.P))

    def _sample(self, store: dict, vmean: np.ndarray) -> None:
        ions, c = self.ions, self.trace_comp
        q, qo = ions.pool[c], ions.pool_o[c]
        ena, ek = ions.reversals()
        for name, arr, idx in (
            ("nai", ions.nai, q),
            ("ki", ions.ki, q),
            ("o2", ions.o2, q),
            ("flow", self.flow, q),
            ("nao", ions.nao, qo),
            ("ko", ions.ko, qo),
            ("ena", ena, c),
            ("ek", ek, c),
            ("i_pump", self.sim.i_extra, c),
            ("v", vmean, c),
        ):
            store.setdefault(name, []).append(arr[:, idx].copy())

    def _driver_flow(self, t: float, dt: float) -> np.ndarray:
        """Blood flow per pool over [t, t + dt]: the product of the drivers' flows."""
        flow = np.ones((self.sim.k.B, self.ions.P))
        for drv in self.drivers:
            f = drv.flow(t, dt, self) if hasattr(drv, "flow") else None
            if f is not None:
                flow = flow * f
        return flow

    def _step_length(self, currents, remaining: float) -> float:
        """Slow step: the longest (<= slow_dt) keeping every change within tolerance."""
        rates = self.ions.rates(currents, self.flow)
        h = self.slow_dt
        for name, r in rates.items():
            tol = self.tolerance_o2 if name == "o2" else self.tolerance
            fastest = float(np.abs(r).max())
            if fastest > 0:
                h = min(h, tol / fastest)
        return min(max(h, self.window), remaining)

    def _average_firing(self, currents, fired: np.ndarray, win: float):
        """Currents for the slow step: for members firing throughout the last
        ``firing_average`` ms, the mean over its windows (see the module docstring);
        the last window's for the others. Also sets the matching axial currents."""
        ions = self.ions
        ena, ek = ions.reversals()
        i_na, i_k, g_na, g_k = currents
        # I + g E is what a window contributes independently of the reversal potentials
        # it saw: I(E) = (I_w + g_w E_w) - g_w E
        rec = (i_na + g_na * ena, i_k + g_k * ek, g_na, g_k, ions.axial.copy())
        recent = self._recent
        recent.append((self.t, win, fired, rec))
        while self.t - recent[0][0] >= self.firing_average:
            recent.popleft()
        # firing throughout the span: in its older half and in its newer half
        middle = self.t - 0.5 * self.firing_average
        older = [r[2] for r in recent if r[0] < middle]
        newer = [r[2] for r in recent if r[0] >= middle]
        if not older or not newer:
            return currents
        sel = (np.logical_or.reduce(older) & np.logical_or.reduce(newer))[:, None]
        weight = np.array([r[1] for r in recent])
        weight /= weight.sum()
        mean = [np.tensordot(weight, np.stack([r[3][j] for r in recent]), axes=1) for j in range(5)]
        avg = (mean[0] - mean[2] * ena, mean[1] - mean[3] * ek, mean[2], mean[3])
        ions.axial = np.where(sel, mean[4], ions.axial)
        return tuple(np.where(sel, a, c) for a, c in zip(avg, currents, strict=True))

    def run(self, duration: float, progress=None) -> IonicResult:
        """Integrate for ``duration`` ms."""
        check_positive("duration", duration, "ms")
        sim, ions = self.sim, self.ions
        dt = sim.protocol.dt
        store: dict = {}
        times = [self.t]
        self._sample(store, sim.v.copy())
        spikes, windows = [], []
        t_end = self.t + duration
        while t_end - self.t > 1e-9 * duration:
            remaining = t_end - self.t
            win = min(self.window, remaining)
            n_win = max(1, int(round(win / dt)))
            win = n_win * dt
            ions.apply()
            ions.start_window()
            sim.reset_clock()
            v_start = sim.v.copy()
            sim.advance(n_win)
            vmean = 0.5 * (v_start + sim.v)  # window's mean potential: mean of its ends
            window_start = self.t
            count = np.minimum(sim.spk_n, sim.spk_t.shape[2])
            b, d, k = np.nonzero(np.arange(sim.spk_t.shape[2]) < count[..., None])
            if len(b):
                spikes.append(np.column_stack([b, d, self.t + sim.spk_t[b, d, k]]))
            currents = ions.end_window(win)
            fired = (sim.spk_n > 0).any(axis=1)
            if self.firing_average > 0:
                currents = self._average_firing(currents, fired, win)
            # size the step with the flow at its start, then take the flow over the step
            self.flow = self._driver_flow(self.t, win)
            h = self._step_length(currents, remaining)
            if fired.any():
                h = min(h, self.firing_step)
            for drv in self.drivers:
                nxt = drv.next_event(self.t) if hasattr(drv, "next_event") else None
                if nxt is not None and nxt > self.t + win:
                    h = min(h, nxt - self.t)  # end the step at the driver's next change
            h = max(h, win)
            self.flow = self._driver_flow(self.t, h)
            for drv in self.drivers:
                if hasattr(drv, "advance"):
                    drv.advance(self.t, h, self)
            ions.step(h, currents, self.flow)
            windows.append((window_start, win, h))
            self.t += h
            times.append(self.t)
            self._sample(store, vmean)
            if progress is not None:
                progress(self.t)
        morph = sim.morphology
        return IonicResult(
            t=np.array(times),
            sites=[morph.label(int(c)) for c in self.trace_comp],
            traces={k: np.stack(v, axis=-1) for k, v in store.items()},
            spike_sites=[morph.label(int(c)) for c in sim.det_comp],
            spike_positions=sim.k.position[0, sim.det_comp].copy(),
            spikes=np.concatenate(spikes) if spikes else np.zeros((0, 3)),
            windows=np.array(windows, dtype=float).reshape(-1, 3),
            batch={k: v.copy() for k, v in sim.batch.items()},
            meta={
                "dt_ms": sim.protocol.dt,
                "window_ms": self.window,
                "slow_dt_ms": self.slow_dt,
                "firing_average_ms": self.firing_average,
                "threshold_mV": sim.protocol.threshold,
                "ions": {k: v for k, v in self.params.values.items()},
                "neurosim": neurosim.__version__,
            },
        )
