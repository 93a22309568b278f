"""The entry point for a batch of cables: :func:`simulate` and :class:`CableSimulation`.

>>> from neurosim import load_model, simulate_cable
>>> mf = load_model("models/cable/hh_cable.toml")
>>> res = simulate_cable(mf.model, mf.protocol, batch={"hh.gnabar": [0.10, 0.12, 0.14]})
>>> res.conduction_velocity()          # m/s, one per member

:class:`CableSimulation` exposes the same run step by step (``advance``) for layers
that change slow parameters between stretches of the fast electrical integration
(ion concentrations, compression); :func:`simulate_cable` is initialise + advance + result.
"""

from __future__ import annotations

import contextlib
import threading

import numba
import numpy as np

import neurosim
from neurosim.kernels.cable import DEFAULT_WIDTH, integrate, integrate_serial, steady_gates
from neurosim.simulate.model import CableModel, KernelArrays, compile_batch
from neurosim.simulate.protocol import METHODS, Protocol
from neurosim.simulate.result import CableResult
from neurosim.validate import check_int

__all__ = ["simulate_cable", "CableSimulation", "path_distance", "set_threads"]

#: held while the parallel time loop runs (numba's workqueue layer is not re-entrant)
_PARALLEL_LOCK = threading.Lock()

# Resting state search: steps of _REST_DT (exact fixed point for any dt: backward Euler
# and exponential Euler leave a true steady state unchanged), in chunks, until the
# largest change over a chunk is below _REST_TOL.
_REST_DT = 0.5  # ms
_REST_CHUNK = 100  # steps (50 ms)
_REST_TOL = 1e-9  # mV per chunk
_REST_MAX_CHUNKS = 400  # 20 s of relaxation


def set_threads(threads: int | None) -> int:
    """Use ``threads`` worker threads for the batch kernels (None: all); returns it."""
    if threads is None:
        threads = numba.config.NUMBA_NUM_THREADS
    threads = check_int("threads", threads, 1, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    return threads


def path_distance(parent: np.ndarray, position: np.ndarray, i: int, j: int) -> float:
    """Distance (um) along the tree between compartments ``i`` and ``j``."""
    anc = set()
    k = i
    while k >= 0:
        anc.add(k)
        k = parent[k]
    k = j
    while k not in anc:
        k = parent[k]
    return float(position[i] + position[j] - 2.0 * position[k])


class CableSimulation:
    """A batch of cables with its state, advanced step by step.

    Parameters
    ----------
    models : CableModel or list of CableModel
        One model, or one per batch member (same topology and mechanism layout).
    protocol : Protocol
    batch : dict, optional
        Per-member parameter values (see :mod:`neurosim.simulate.model`).
    threads : int, optional
        Worker threads for the kernel (default: all).
    """

    def __init__(self, models, protocol: Protocol, batch: dict | None = None, threads=None):
        if not isinstance(protocol, Protocol):
            raise TypeError(f"`protocol` must be a Protocol, got {type(protocol).__name__}")
        protocol.check()
        if isinstance(models, CableModel) and not batch:
            # per-member stimulus amplitudes alone set the batch size
            sizes = {np.size(s.amp) for s in protocol.stimuli if np.ndim(s.amp)}
            if len(sizes) > 1:
                raise ValueError(f"stimulus amplitude arrays differ in length: {sorted(sizes)}")
            if sizes and sizes != {1}:
                models = [models] * sizes.pop()
        first = models if isinstance(models, CableModel) else list(models)[0]
        self.models = models
        self.protocol = protocol
        self.batch = {k: np.asarray(v, dtype=float) for k, v in (batch or {}).items()}
        self.k: KernelArrays = compile_batch(models, batch)
        self.morphology = first.morphology
        self.name = first.name
        self.threads = set_threads(threads)
        B, n = self.k.B, self.k.n
        p = protocol
        morph = self.morphology

        # stimuli: expand trains, sort by onset (the kernel walks them in order)
        comps, ons, offs, amps = [], [], [], []
        for i, s in enumerate(p.stimuli):
            c = morph.compartment(s.site)
            amp = np.asarray(s.amp, dtype=float)
            if amp.ndim and amp.shape != (B,):
                raise ValueError(
                    f"`protocol.stimulus[{i}].amp` has shape {amp.shape}; expected a scalar or ({B},)"
                )
            for t_on in s.onsets():
                comps.append(c)
                ons.append(t_on)
                offs.append(t_on + s.dur)
                amps.append(np.broadcast_to(amp, (B,)))
        order = np.argsort(ons, kind="stable")
        self.stim_comp = np.array(comps, dtype=np.int64)[order]
        self.stim_on = np.array(ons, dtype=float)[order]
        self.stim_off = np.array(offs, dtype=float)[order]
        self.stim_amp = (
            np.ascontiguousarray(np.stack(amps, axis=1)[:, order]) if amps else np.zeros((B, 0))
        )

        self.rec_comp = np.array([morph.compartment(s) for s in p.record], dtype=np.int64)
        detect = list(p.detect_sites)
        if p.cv is not None:
            for s in p.cv:
                if s not in detect:
                    detect.append(s)
        self.det_names = detect
        self.det_comp = np.array([morph.compartment(s) for s in detect], dtype=np.int64)
        self.n_samples = p.n_steps // p.record_every + 1
        self.rec_out = np.full((B, len(self.rec_comp), self.n_samples), np.nan)
        M = p.spike_slots()
        D = len(self.det_comp)
        self.spk_t = np.full((B, D, M), np.nan)
        self.spk_peak = np.full((B, D, M), np.nan)
        self.spk_n = np.zeros((B, D), dtype=np.int64)

        self.v = np.zeros((B, n))
        self.vx = np.zeros((B, n if self.k.double else 0))
        self.gstate = np.zeros((B, self.k.n_gate_states))
        #: steady outward current per compartment (nA): pump currents etc. set by other layers
        self.i_extra = np.zeros((B, n))
        #: charge through each channel site (pC, outward +) and conductance-time integral
        #: (uS ms), accumulated while ``accumulate`` is set (ion bookkeeping reads them)
        self.q_acc = np.zeros_like(self.k.gbar)
        self.g_acc = np.zeros_like(self.k.gbar)
        self.accumulate = False
        self.step = 0
        self.t0 = 0.0
        self.theta = METHODS[p.method]
        #: members per vectorised block (see :mod:`neurosim.kernels.cable`)
        self.width = DEFAULT_WIDTH

    # -- state ------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Present time (ms)."""
        return self.t0 + self.step * self.protocol.dt

    def initialize(self) -> CableSimulation:
        """Set v to ``v_init`` (or the resting state) and every gate to steady state."""
        k = self.k
        self.v[:] = k.v_init[:, None]
        self.vx[:] = 0.0
        self._steady_gates()
        if k.rest:
            self._relax()
        self.q_acc[:] = 0.0
        self.g_acc[:] = 0.0
        return self.reset_clock()

    def replicate(self, protocol: Protocol, members, threads=None) -> CableSimulation:
        """A new simulation whose member j starts from the present state of member
        ``members[j]`` of this one (potentials, gates, and every per-member array the
        slow layers change: reversals, conductances, capacitances, pump currents).

        For measurements on a state that is not a model's rest (threshold tracking
        during ischaemia); ``initialize`` must not be called on the copy.
        """
        members = np.asarray(members, dtype=np.int64)
        if members.ndim != 1 or members.size == 0:
            raise ValueError("`members` must be a non-empty 1-D list of member indices")
        if members.min() < 0 or members.max() >= self.k.B:
            raise ValueError(f"`members` must lie in [0, {self.k.B - 1}]")
        src = self.models if isinstance(self.models, list) else [self.models] * self.k.B
        copy = CableSimulation([src[m] for m in members], protocol, threads=threads)
        for name in ("cap", "gax", "capx", "gxg", "gxa", "gbar", "erev", "phi"):
            getattr(copy.k, name)[:] = getattr(self.k, name)[members]
        for name in ("v", "vx", "gstate", "i_extra"):
            getattr(copy, name)[:] = getattr(self, name)[members]
        return copy.reset_clock()

    def reset_clock(self) -> CableSimulation:
        """Keep the state, restart the clock: step 0, no spikes, recording from now.

        Used by layers that integrate the fast layer in windows (the stimuli of the
        protocol then apply in every window, timed from its start).
        """
        self.step = 0
        self.spk_n[:] = 0
        self.spk_t[:] = np.nan
        self.spk_peak[:] = np.nan
        self.rec_out[:] = np.nan
        self.rec_out[:, :, 0] = self.v[:, self.rec_comp]
        return self

    def _steady_gates(self) -> None:
        k = self.k
        steady_gates(
            self.v,
            k.cur_ptr,
            k.site_comp,
            k.gate_cur,
            k.gate_base,
            k.gate_mode,
            k.gate_form,
            k.gate_par,
            self.gstate,
        )

    def _relax(self) -> None:
        """Integrate without stimuli until the state stops changing (the exact rest)."""
        B = self.k.B
        none_i = np.zeros(0, dtype=np.int64)
        none_f = np.zeros(0)
        rec = np.zeros((B, 0, 1))
        spk = np.zeros((B, 0, 1))
        cnt = np.zeros((B, 0), dtype=np.int64)
        drift = np.inf
        for _ in range(_REST_MAX_CHUNKS):
            before = self.v.copy()
            self._integrate(
                0.0,
                _REST_DT,
                0,
                _REST_CHUNK,
                1.0,
                none_i,
                none_f,
                none_f,
                np.zeros((B, 0)),
                none_i,
                1 << 62,
                rec,
                none_i,
                spk,
                spk,
                cnt,
                False,
            )
            drift = float(np.max(np.abs(self.v - before)))
            if drift < _REST_TOL:
                return
        raise ValueError(
            f"model {self.name!r} has no stable resting state near v_init: after "
            f"{_REST_MAX_CHUNKS * _REST_CHUNK * _REST_DT / 1000:g} s the membrane potential "
            f"still changes by {drift:.3g} mV per {_REST_CHUNK * _REST_DT:g} ms (it may be "
            f"spontaneously active); set `rest = false` and give `v_init`"
        )

    def _integrate(
        self,
        t0,
        dt,
        step0,
        n_steps,
        theta,
        stim_comp,
        stim_on,
        stim_off,
        stim_amp,
        rec_comp,
        rec_every,
        rec_out,
        det_comp,
        spk_t,
        spk_peak,
        spk_n,
        accumulate,
    ):
        k = self.k
        parallel = k.B > self.width and self.threads > 1
        loop = integrate if parallel else integrate_serial
        # numba's workqueue thread pool must not be entered from two threads at once
        with _PARALLEL_LOCK if parallel else contextlib.nullcontext():
            loop(
                t0,
                dt,
                step0,
                n_steps,
                theta,
                self.width,
                k.parent,
                k.cap,
                k.gax,
                k.capx,
                k.gxg,
                k.gxa,
                k.cur_ptr,
                k.site_comp,
                k.gbar,
                k.erev,
                k.cur_gate_ptr,
                k.cur_gate,
                k.cur_gate_pow,
                k.gate_cur,
                k.gate_base,
                k.gate_mode,
                k.gate_form,
                k.gate_par,
                k.phi,
                self.gstate,
                self.v,
                self.vx,
                self.i_extra,
                stim_comp,
                stim_on,
                stim_off,
                stim_amp,
                rec_comp,
                rec_every,
                rec_out,
                det_comp,
                self.protocol.threshold,
                spk_t,
                spk_peak,
                spk_n,
                accumulate,
                self.q_acc,
                self.g_acc,
            )
        bad = ~np.isfinite(self.v)
        if bad.any():
            b, c = np.argwhere(bad)[0]
            raise FloatingPointError(
                f"membrane potential became non-finite in batch member {b}, compartment "
                f"{self.morphology.label(int(c))}, before t = {t0 + (step0 + n_steps) * dt:g} ms"
            )

    def advance(self, n_steps: int) -> CableSimulation:
        """Integrate ``n_steps`` steps of the protocol's ``dt``."""
        p = self.protocol
        n_steps = check_int("n_steps", n_steps, 0, p.n_steps - self.step)
        if n_steps == 0:
            return self
        self._integrate(
            self.t0,
            p.dt,
            self.step,
            n_steps,
            self.theta,
            self.stim_comp,
            self.stim_on,
            self.stim_off,
            self.stim_amp,
            self.rec_comp,
            p.record_every,
            self.rec_out,
            self.det_comp,
            self.spk_t,
            self.spk_peak,
            self.spk_n,
            self.accumulate,
        )
        self.step += n_steps
        over = self.spk_n > self.spk_t.shape[2]
        if over.any():
            b, d = np.argwhere(over)[0]
            raise ValueError(
                f"batch member {b} fired {self.spk_n[b, d]} spikes at {self.det_names[d]}, more "
                f"than the {self.spk_t.shape[2]} slots of `protocol.max_spikes`; raise it"
            )
        return self

    def run(self) -> CableResult:
        """Initialise, integrate to ``tstop`` and return the result."""
        self.initialize()
        self.advance(self.protocol.n_steps)
        return self.result()

    def result(self) -> CableResult:
        p = self.protocol
        morph = self.morphology
        geo = self.k
        last = self.step // p.record_every + 1
        cv_sites, cv_dist = None, np.full(geo.B, np.nan)
        cv_inner = np.zeros(len(self.det_comp), dtype=bool)
        if p.cv is not None:
            a, b = (morph.compartment(s) for s in p.cv)
            cv_sites = (morph.label(a), morph.label(b))
            cv_dist = np.array([path_distance(geo.parent, pos, a, b) for pos in geo.position])
            # on the path from a to b: d(a, c) + d(c, b) = d(a, b) (members share topology)
            pos = geo.position[0]
            for k, c in enumerate(self.det_comp):
                if c not in (a, b):
                    via = path_distance(geo.parent, pos, a, c) + path_distance(
                        geo.parent, pos, c, b
                    )
                    cv_inner[k] = via <= cv_dist[0] * (1 + 1e-9)
        return CableResult(
            model=self.name,
            t=self.t0 + np.arange(last) * p.dt * p.record_every,
            v=self.rec_out[:, :, :last].copy(),
            sites=[morph.label(int(c)) for c in self.rec_comp],
            positions=geo.position[0, self.rec_comp].copy(),
            spike_sites=[morph.label(int(c)) for c in self.det_comp],
            spike_positions=geo.position[0, self.det_comp].copy(),
            member_positions=geo.position[:, self.det_comp].copy(),
            spike_times=self.spk_t.copy(),
            spike_peaks=self.spk_peak.copy(),
            spike_counts=self.spk_n.copy(),
            cv_sites=cv_sites,
            cv_distance=cv_dist,
            cv_inner=cv_inner,
            batch={k: v.copy() for k, v in self.batch.items()},
            meta={
                "dt_ms": p.dt,
                "tstop_ms": self.step * p.dt,
                "method": p.method,
                "threshold_mV": p.threshold,
                "record_every": p.record_every,
                "celsius": geo.celsius.tolist() if geo.B <= 16 else "per member (see batch)",
                "threads": self.threads,
                "neurosim": neurosim.__version__,
            },
        )


def simulate_cable(
    models, protocol: Protocol, batch: dict | None = None, threads=None
) -> CableResult:
    """Run a batch of cables from ``t = 0`` to ``protocol.tstop``.

    Parameters
    ----------
    models : CableModel or list of CableModel
        One model (its parameters varied by ``batch``) or one per member.
    protocol : Protocol
    batch : dict, optional
        Namespaced key -> per-member values, e.g. ``{"hh.gnabar": [0.1, 0.12]}``.
    threads : int, optional
        Kernel threads (default: all cores).

    Returns
    -------
    CableResult
    """
    return CableSimulation(models, protocol, batch, threads).run()
