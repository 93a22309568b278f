"""An axon batch with ion and O2 dynamics: the fast cable layer and the slow ion layer.

Multi-rate scheme (a heterogeneous-multiscale method)
-----------------------------------------------------
Time advances in slow steps of ``slow_dt``. Each slow step:

1. the fast layer (membrane potential, gates) is integrated for a ``window`` at the
   fine ``dt``, from where it stood, with the present reversal potentials and pump
   current; spikes in the window are recorded at their real time, and every channel's
   charge and conductance-time integral are accumulated;
2. the slow layer (concentrations, O2, and whatever drivers are attached: blood flow
   from compression, mechanical damage) advances over the whole ``slow_dt`` with the
   window's mean currents, linearised in the reversal potentials.

With ``window == slow_dt`` nothing is skipped and the scheme is the fully coupled
operator splitting (slow variables updated every ``slow_dt``); with ``window <
slow_dt`` the fast layer is sampled, which is what makes minutes to hours affordable:
the state at the end of one window is the start of the next, and the firing seen in a
window stands for its whole slow step. The error of the sampling is measured against
the fully coupled run in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import neurosim
from neurosim.ions import IonLayer, IonParams
from neurosim.simulate.cable import CableSimulation
from neurosim.simulate.model import CableModel
from neurosim.simulate.protocol import Protocol
from neurosim.validate import check_positive

__all__ = ["IonicSimulation", "IonicResult", "axon_geometry", "ion_pools"]


def axon_geometry(model: CableModel, volume_to_area: float | None = None):
    """Axoplasmic volume (um3) and axolemma area (um2) of each compartment, each (n,);
    0 at branch points.

    For MRG-type axons the paranodal and internodal sections carry the fibre diameter
    (see :mod:`neurosim.morphology.mrg`); the axon inside has the inner diameter of the
    section type. ``volume_to_area`` (um) sets the volume to ``area x volume_to_area``
    (point-cell models quoted per membrane area).
    """
    morph = model.morphology
    vol = np.zeros(morph.n)
    area = np.zeros(morph.n)
    fiber = model.metadata.get("fiber")
    for sec in morph.sections:
        start = morph.sec_start[sec.name]
        seglen = sec.seg_length()
        for kseg in range(sec.nseg):
            d = sec.diam[kseg]
            if fiber is not None:
                d = fiber.inner_diameter(sec.name.split("[")[0])
            area[start + kseg] = np.pi * d * seglen
            vol[start + kseg] = (
                area[start + kseg] * volume_to_area
                if volume_to_area
                else np.pi * (d / 2) ** 2 * seglen
            )
    return vol, area


def ion_pools(model: CableModel, kind: str = "auto") -> np.ndarray:
    """Pool index of each compartment, shape (n,).

    ``"node"``: one pool per section ``node[i]``, holding the compartments nearer (by
    path position) to that node than to any other; ``"compartment"``: one pool per
    compartment; ``"auto"``: ``"node"`` when the model has nodes.
    """
    morph = model.morphology
    nodes = [s.name for s in morph.sections if s.name.startswith("node[")]
    if kind == "auto":
        kind = "node" if nodes else "compartment"
    if kind == "compartment":
        return np.arange(morph.n)
    if not nodes:
        raise ValueError("`ions.pools` = 'node' needs sections named node[i]")
    pos = morph.geometry.position
    node_pos = np.array([pos[morph.compartment(s)] for s in nodes])
    return np.argmin(np.abs(pos[:, None] - node_pos[None, :]), axis=1)


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
    windows : ndarray (W, 2)
        Real start and length (ms) of every fast window (spikes exist only inside them).
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
        Length of each fast window and of each slow step (ms), ``window <= slow_dt``.
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
        Objects with ``setup(sim)`` and ``update(t, dt, sim) -> flow`` (or None) called
        before each slow step: compression, damage, parameter schedules.
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
        members = models if isinstance(models, list) else [models] * self.sim.k.B
        geom = [axon_geometry(m, ions.volume_to_area) for m in members]
        self.ions = IonLayer(
            self.sim,
            ions,
            np.stack([g[0] for g in geom]),
            np.stack([g[1] for g in geom]),
            ion_pools(first, ions.pools),
        )
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
        self.t = 0.0
        self.drivers = list(drivers)
        for d in self.drivers:
            d.setup(self)
        self.trace_comp = np.array([morph.compartment(s) for s in self.trace_names])
        #: blood flow relative to normal per ion pool (B, P), set by drivers
        self.flow = np.ones((self.sim.k.B, self.ions.P))

    def _sample(self, store: dict, vmean: np.ndarray) -> None:
        ions, c = self.ions, self.trace_comp
        q = ions.pool[c]
        ena, ek = ions.reversals()
        per_pool = (
            ("nai", ions.nai),
            ("ki", ions.ki),
            ("nao", ions.nao),
            ("ko", ions.ko),
            ("o2", ions.o2),
            ("ena", ena),
            ("ek", ek),
            ("flow", self.flow),
        )
        for name, arr in per_pool:
            store.setdefault(name, []).append(arr[:, q].copy())
        store.setdefault("i_pump", []).append(self.sim.i_extra[:, c].copy())
        store.setdefault("v", []).append(vmean[:, c].copy())

    def run(self, duration: float, progress=None) -> IonicResult:
        """Integrate for ``duration`` ms (a whole number of slow steps)."""
        check_positive("duration", duration, "ms")
        n_slow = int(round(duration / self.slow_dt))
        if abs(n_slow * self.slow_dt - duration) > 1e-9 * duration:
            raise ValueError(
                f"`duration` = {duration:g} ms is not a whole number of `slow_dt` = "
                f"{self.slow_dt:g} ms"
            )
        sim, ions = self.sim, self.ions
        n_win = sim.protocol.n_steps
        store: dict = {}
        times = [self.t]
        self._sample(store, sim.v.copy())
        spikes, windows = [], []
        for _ in range(n_slow):
            for d in self.drivers:
                flow = d.update(self.t, self.slow_dt, self)
                if flow is not None:
                    self.flow = flow
            ions.apply()
            ions.start_window()
            sim.reset_clock()
            v_start = sim.v.copy()
            sim.advance(n_win)
            vsum = v_start + sim.v  # window's mean potential: mean of its end states
            windows.append((self.t, self.window))
            b, d = np.nonzero(sim.spk_n)
            for bi, di in zip(b, d, strict=True):
                m = min(sim.spk_n[bi, di], sim.spk_t.shape[2])
                for ts in sim.spk_t[bi, di, :m]:
                    spikes.append((bi, di, self.t + ts))
            currents = ions.end_window(self.window)
            ions.step(self.slow_dt, currents, self.flow)
            self.t += self.slow_dt
            times.append(self.t)
            self._sample(store, 0.5 * vsum)
            if progress is not None:
                progress(self.t)
        morph = sim.morphology
        return IonicResult(
            t=np.array(times),
            sites=[morph.label(int(c)) for c in self.trace_comp],
            traces={k: np.stack(v, axis=-1) for k, v in store.items()},
            spike_sites=[morph.label(int(c)) for c in sim.det_comp],
            spike_positions=sim.k.position[sim.det_comp].copy(),
            spikes=np.array(spikes, dtype=float).reshape(-1, 3),
            windows=np.array(windows, dtype=float).reshape(-1, 2),
            batch={k: v.copy() for k, v in sim.batch.items()},
            meta={
                "dt_ms": sim.protocol.dt,
                "window_ms": self.window,
                "slow_dt_ms": self.slow_dt,
                "threshold_mV": sim.protocol.threshold,
                "ions": {k: v for k, v in self.params.values.items()},
                "neurosim": neurosim.__version__,
            },
        )
