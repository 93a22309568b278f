"""Entry point for the spinal cord + muscle level: :func:`simulate_spinal`.

One call runs the Brian2 network of :mod:`neurosim.spinal.network` (motor-neuron pool,
afferents, interneurons, peripheral axons with collision, Fuglevand muscle) for one
parameter set and returns a :class:`SpinalResult`: spike times per unit, rates, force,
surface EMG and cramp metrics. The network is compiled once per structure (pool size,
time grid, wiring) and reused by every later call, in this process or another one;
``SpinalResult.compile_time`` and ``run_time`` report the two separately.

Inputs use physical units at the boundary: times in ms (floats) or quantity strings
("60 s"), rates in Hz, stretch in mm, descending drive in Fuglevand excitation units
(unit 1 is recruited near 1, the last unit near the recruitment range, 30).

Ectopic spikes from the axon stage enter as :class:`EctopicSpikes`: per event the
fibre class (``"motor"`` or ``"ia"``; the axon stage's ``"sensory"`` is accepted for
``"ia"``), the axon index, the time (ms) at which the spike leaves the ectopic site, and
its direction (``"to_cord"``, ``"to_periphery"`` or ``"both"``; the names of
:class:`neurosim.ectopic.Direction`, ``PROXIMAL``/``DISTAL``/``BOTH``, are accepted
too). In a motor axon a spike to the periphery fires that unit's muscle fibres; a spike
to the cord reaches the soma (resetting it) unless it collides with an orthodromic
spike. In an Ia axon a spike to the cord excites the motor neurons monosynaptically.
An empty :class:`EctopicSpikes` (``EctopicSpikes.empty()``) is the same as none.

Limits fixed by the compiled structure (``[simulation]`` of the spinal model; raising
them recompiles once): a run lasts at most ``max_duration`` (120 s in the shipped
models) and carries at most ``max_ectopic`` ectopic events per axon and direction.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

import neurosim
from neurosim.muscle.cramp import CrampCriteria, CrampMetrics, detect_cramp
from neurosim.muscle.emg import muap_parameters, synthesize_emg
from neurosim.muscle.fuglevand import GAIN_KNEE, GAIN_NORM, FuglevandPool, fuglevand_pool
from neurosim.muscle.params import MuscleModel, fatigue, load_muscle_model
from neurosim.spinal.axons import axon_geometry
from neurosim.spinal.motoneuron import kca_scale, rate_table, resting_state
from neurosim.spinal.network import (
    RUNTIME_VARS,
    TIME_SERIES,
    CompiledNetwork,
    NetworkStructure,
    compile_network,
)
from neurosim.spinal.params import SpinalModel, load_spinal_model
from neurosim.units import parse_quantity
from neurosim.validate import check_finite, check_int, check_nonnegative, check_range

__all__ = [
    "Drive",
    "NerveStimulation",
    "TendonStimulation",
    "Stretch",
    "EctopicSpikes",
    "SpinalResult",
    "simulate_spinal",
    "default_models",
    "pool_for",
    "network_structure",
]

_REPO = Path(__file__).resolve().parents[2]
DEFAULT_SPINAL = _REPO / "models" / "spinal" / "motoneuron_pool.toml"
DEFAULT_MUSCLE = _REPO / "models" / "muscle" / "fuglevand_1993.toml"


def default_models() -> tuple[SpinalModel, MuscleModel]:
    """The shipped normal spinal model and the Fuglevand muscle."""
    return load_spinal_model(DEFAULT_SPINAL), load_muscle_model(DEFAULT_MUSCLE)


def _time(value, key: str) -> float:
    """A time in ms from a float (ms) or a quantity string."""
    if isinstance(value, str):
        return parse_quantity(value, "time", key)
    return float(check_finite(key, value, "ms"))


def _trains(trains, key: str) -> tuple:
    out = []
    for k, tr in enumerate(trains):
        if len(tr) != 3:
            raise ValueError(f"`{key}[{k}]` = {tr!r}: expected (start_ms, stop_ms, rate_hz)")
        start, stop, rate = (float(x) for x in tr)
        check_nonnegative(f"{key}[{k}].start", start, "ms")
        check_range(f"{key}[{k}].stop", stop, start, math.inf, unit="ms", lo_open=True)
        check_nonnegative(f"{key}[{k}].rate", rate, "Hz")
        out.append((start, stop, rate))
    return tuple(out)


@dataclass(frozen=True)
class Drive:
    """Descending (voluntary) excitation, piecewise linear in time.

    Attributes
    ----------
    t : tuple of float
        Breakpoints (ms), increasing.
    excitation : tuple of float
        Excitation at the breakpoints (Fuglevand units, >= 0); held constant outside.
    """

    t: tuple
    excitation: tuple

    def __post_init__(self) -> None:
        t = check_finite("drive.t", self.t, "ms")
        e = check_nonnegative("drive.excitation", self.excitation)
        if t.ndim != 1 or t.shape != e.shape or len(t) == 0:
            raise ValueError("`drive.t` and `drive.excitation` must be 1-d, equal length")
        if np.any(np.diff(t) <= 0):
            raise ValueError("`drive.t` must be strictly increasing")

    @classmethod
    def constant(cls, excitation: float) -> Drive:
        return cls((0.0,), (float(excitation),))

    @classmethod
    def pulse(cls, start: float, stop: float, excitation: float, ramp: float = 1.0) -> Drive:
        """``excitation`` between ``start`` and ``stop`` (ms), zero elsewhere."""
        return cls(
            (start, start + ramp, stop, stop + ramp),
            (0.0, float(excitation), float(excitation), 0.0),
        )

    def sample(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, np.asarray(self.t), np.asarray(self.excitation))


@dataclass(frozen=True)
class NerveStimulation:
    """Electrical stimulation of the nerve (e.g. tibial nerve in the popliteal fossa).

    Attributes
    ----------
    trains : tuple of (start, stop, rate)
        Pulse trains: start and stop (ms), rate (Hz). Pulses at start, start + 1/rate...
    motor_fraction, ia_fraction, ib_fraction : float
        Fraction of motor, Ia and Ib axons the stimulus recruits. Large motor axons
        have the lowest electrical threshold, so the largest units are recruited first;
        afferents are recruited in a fixed random order.
    blocked : bool
        Nerve blocked between the stimulation site and the cord (e.g. proximal nerve
        block): nothing evoked at the stimulation site reaches the cord, and nothing
        from the cord (or the ectopic root site) reaches the periphery.
    """

    trains: tuple
    motor_fraction: float = 0.3
    ia_fraction: float = 1.0
    ib_fraction: float = 0.5
    blocked: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "trains", _trains(self.trains, "stimulation.trains"))
        for k in ("motor_fraction", "ia_fraction", "ib_fraction"):
            check_range(f"stimulation.{k}", getattr(self, k), 0.0, 1.0)

    @property
    def last_pulse(self) -> float:
        """Time of the last pulse (ms), -inf if none."""
        last = -math.inf
        for start, stop, rate in self.trains:
            if rate > 0:
                n = math.ceil((stop - start) * rate / 1e3 - 1e-9)
                last = max(last, start + (n - 1) * 1e3 / rate)
        return last


@dataclass(frozen=True)
class TendonStimulation:
    """Stimulation of the tendon (Golgi tendon organs: every Ib afferent fires).

    Khan & Burne (2007, J Neurophysiol 98:1102) stopped electrically induced cramps with
    it. ``trains`` as in :class:`NerveStimulation`.
    """

    trains: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "trains", _trains(self.trains, "tendon.trains"))


@dataclass(frozen=True)
class Stretch:
    """Imposed muscle stretch and fusimotor drive, piecewise linear in time.

    Attributes
    ----------
    t : tuple of float
        Breakpoints (ms).
    length : tuple of float
        Stretch from rest length (mm).
    fusimotor : tuple of float or None
        Fusimotor drive (0..1) at the breakpoints; None = zero.
    """

    t: tuple
    length: tuple
    fusimotor: tuple | None = None

    def __post_init__(self) -> None:
        t = check_finite("stretch.t", self.t, "ms")
        length = check_finite("stretch.length", self.length, "mm")
        if t.shape != length.shape or t.ndim != 1 or np.any(np.diff(t) <= 0):
            raise ValueError("`stretch.t` must increase and match `stretch.length`")
        if self.fusimotor is not None:
            fus = check_range("stretch.fusimotor", self.fusimotor, 0.0, 1.0)
            if fus.shape != t.shape:
                raise ValueError("`stretch.fusimotor` must match `stretch.t`")


_FIBRE_ALIASES = {"sensory": "ia", "motor": "motor", "ia": "ia"}
_DIRECTION_ALIASES = {
    "proximal": "to_cord",
    "distal": "to_periphery",
    "to_cord": "to_cord",
    "to_periphery": "to_periphery",
    "both": "both",
}


@dataclass(frozen=True)
class EctopicSpikes:
    """Spikes arising in the compressed root (from the axon stage).

    Attributes
    ----------
    fibre : tuple of str
        ``"motor"`` or ``"ia"`` per event (``"sensory"`` is stored as ``"ia"``).
    index : tuple of int
        Axon index (motor: unit 0..n-1; Ia: afferent 0..n_ia-1).
    time : tuple of float
        Time the spike leaves the ectopic site (ms, >= 0).
    direction : tuple of str
        ``"to_cord"``, ``"to_periphery"`` or ``"both"`` (a spike born in mid-axon
        travels both ways). ``"proximal"``/``"distal"`` or a
        :class:`neurosim.ectopic.Direction` member are stored under these names;
        ``LOCAL`` events (which did not propagate) are rejected.
    """

    fibre: tuple
    index: tuple
    time: tuple
    direction: tuple

    def __post_init__(self) -> None:
        n = len(self.time)
        if not (len(self.fibre) == len(self.index) == len(self.direction) == n):
            raise ValueError("ectopic: fibre, index, time and direction must have equal length")
        check_nonnegative("ectopic.time", np.asarray(self.time, dtype=float), "ms")
        fibres, directions = [], []
        for k, (f, d) in enumerate(zip(self.fibre, self.direction, strict=True)):
            f = _FIBRE_ALIASES.get(str(f).lower(), str(f))
            if f not in ("motor", "ia"):
                raise ValueError(
                    f"`ectopic.fibre[{k}]` = {f!r} is not one of: motor, ia (or sensory)"
                )
            name = d.name if hasattr(d, "name") else str(d)
            d = _DIRECTION_ALIASES.get(name.lower(), name)
            if d not in ("to_cord", "to_periphery", "both"):
                raise ValueError(
                    f"`ectopic.direction[{k}]` = {name!r} is not one of: to_cord, "
                    "to_periphery, both (or proximal, distal)"
                )
            fibres.append(f)
            directions.append(d)
        for k, i in enumerate(self.index):
            check_int(f"ectopic.index[{k}]", i, 0)
        object.__setattr__(self, "fibre", tuple(fibres))
        object.__setattr__(self, "direction", tuple(directions))
        object.__setattr__(self, "index", tuple(int(i) for i in self.index))
        object.__setattr__(self, "time", tuple(float(t) for t in self.time))

    @classmethod
    def empty(cls) -> EctopicSpikes:
        """No ectopic events (the same as passing ``ectopic=None``)."""
        return cls((), (), (), ())

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def from_arrays(cls, fibre, index, time, direction) -> EctopicSpikes:
        """Accept arrays (or scalars broadcast over the events)."""
        if np.size(time) == 0:
            return cls.empty()
        fibre, index, time, direction = np.broadcast_arrays(
            np.atleast_1d(np.asarray(fibre, dtype=object)),
            np.atleast_1d(np.asarray(index)),
            np.atleast_1d(np.asarray(time, dtype=float)),
            np.atleast_1d(np.asarray(direction, dtype=object)),
        )
        return cls(
            tuple(fibre),
            tuple(int(x) for x in index),
            tuple(float(x) for x in time),
            tuple(direction),
        )


@dataclass
class SpinalResult:
    """A labelled run of the spinal cord + muscle (times in ms, rates in Hz).

    Attributes
    ----------
    duration, dt : float
        Run length and integration step (ms).
    seed : int
        Random seed of the run.
    n_units : int
        Motor units.
    mn_unit, mn_time : ndarray of int / float, shape (k,)
        Motor-neuron (soma) spikes: unit index and time (ms).
    mu_unit, mu_time : ndarray, shape (k2,)
        Muscle-unit activations (motor-axon spikes arriving at the muscle).
    ia_index, ia_time : ndarray
        Ia spikes arriving at the cord.
    ib_index, ib_time, rc_index, rc_time, ibin_index, ibin_time : ndarray
        Ib arrivals at the cord, Renshaw-cell and Ib-interneuron spikes.
    stim_time : ndarray
        Nerve-stimulation pulse times.
    t : ndarray, shape (m,)
        Record times for force and drive.
    force : ndarray, shape (m,)
        Muscle force (units of the first unit's twitch).
    force_fraction : ndarray, shape (m,)
        Force / maximal force.
    drive : ndarray, shape (m,)
        Descending excitation.
    emg_t, emg : ndarray, shape (q,)
        Surface EMG sample times (ms) and values (mV).
    max_force : float
        Maximal force of the muscle in its present state (all units at peak rate, with
        the fatigue level's twitches; first-twitch units).
    cramp : CrampMetrics
        Cramp detection for this run.
    mean_rate : ndarray, shape (n_units,)
        Mean soma discharge rate over the run (Hz).
    vs, vd : ndarray, shape (m, r)
        Soma and dendrite voltage (mV) of ``recorded_units``.
    recorded_units : tuple of int
    compile_time, run_time, cpu_time : float
        Network build (s: code generation and, if ``provenance["network_built"]``, the
        C++ compilation; 0 when this process had already loaded the network), wall and
        CPU time of the run (s).
    provenance : dict
        Models, seed, code version, inputs.
    """

    duration: float
    dt: float
    seed: int
    n_units: int
    mn_unit: np.ndarray
    mn_time: np.ndarray
    mu_unit: np.ndarray
    mu_time: np.ndarray
    ia_index: np.ndarray
    ia_time: np.ndarray
    ib_index: np.ndarray
    ib_time: np.ndarray
    rc_index: np.ndarray
    rc_time: np.ndarray
    ibin_index: np.ndarray
    ibin_time: np.ndarray
    stim_time: np.ndarray
    t: np.ndarray
    force: np.ndarray
    force_fraction: np.ndarray
    drive: np.ndarray
    emg_t: np.ndarray
    emg: np.ndarray
    max_force: float
    cramp: CrampMetrics
    mean_rate: np.ndarray
    vs: np.ndarray
    vd: np.ndarray
    recorded_units: tuple
    compile_time: float
    run_time: float
    cpu_time: float
    provenance: dict = field(default_factory=dict)

    def spike_trains(self, which: str = "mn") -> list[np.ndarray]:
        """Spike times (ms) per motor unit: ``"mn"`` (soma) or ``"mu"`` (muscle)."""
        unit, time = (self.mn_unit, self.mn_time) if which == "mn" else (self.mu_unit, self.mu_time)
        order = np.argsort(time, kind="stable")
        unit, time = unit[order], time[order]
        return [time[unit == u] for u in range(self.n_units)]

    def rates(self, t0: float, t1: float, which: str = "mn") -> np.ndarray:
        """Spike counts per unit in [t0, t1) divided by the window (Hz), shape (n_units,)."""
        unit, time = (self.mn_unit, self.mn_time) if which == "mn" else (self.mu_unit, self.mu_time)
        sel = (time >= t0) & (time < t1)
        return np.bincount(unit[sel], minlength=self.n_units) / ((t1 - t0) * 1e-3)

    _ARRAYS = (
        "mn_unit mn_time mu_unit mu_time ia_index ia_time ib_index ib_time rc_index rc_time "
        "ibin_index ibin_time stim_time t force force_fraction drive emg_t emg mean_rate vs vd"
    ).split()

    def to_dict(self) -> dict:
        """Plain dict: arrays as numpy arrays, cramp metrics as a dict."""
        out = {k: getattr(self, k) for k in self._ARRAYS}
        out.update(
            duration=self.duration,
            dt=self.dt,
            seed=self.seed,
            n_units=self.n_units,
            max_force=self.max_force,
            cramp=self.cramp.to_dict(),
            recorded_units=list(self.recorded_units),
            compile_time=self.compile_time,
            run_time=self.run_time,
            cpu_time=self.cpu_time,
            provenance=self.provenance,
        )
        return out

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.npz`` (arrays) and ``<path>.json`` (scalars, cramp, provenance)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), **{k: getattr(self, k) for k in self._ARRAYS})
        meta = {k: v for k, v in self.to_dict().items() if k not in self._ARRAYS}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=_json_default))
        return path.with_suffix(".npz")

    @classmethod
    def load(cls, path: str | Path) -> SpinalResult:
        """Read what :meth:`save` wrote."""
        path = Path(path)
        arrays = dict(np.load(path.with_suffix(".npz")))
        meta = json.loads(path.with_suffix(".json").read_text())
        c = meta.pop("cramp")
        c["intervals"] = tuple(tuple(i) for i in c.get("intervals", ()))
        cramp = CrampMetrics(**c)
        meta["recorded_units"] = tuple(meta["recorded_units"])
        return cls(**arrays, **meta, cramp=cramp)


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        return None if not math.isfinite(x) else float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x)}")


def pool_for(spinal: SpinalModel, muscle: MuscleModel) -> FuglevandPool:
    """The Fuglevand pool (fresh muscle) matching the spinal model's pool."""
    m = muscle["muscle"]
    pool = spinal["pool"]
    return fuglevand_pool(
        pool["n_units"],
        recruitment_range=pool["recruitment_range"],
        twitch_range=m["twitch_range"],
        contraction_time_max=m["contraction_time_max"],
        contraction_time_range=m["contraction_time_range"],
        peak_rate_first=m["peak_rate_first"],
        peak_rate_last=m["peak_rate_last"],
        min_rate=m["min_rate"],
        excitation_gain=m["excitation_gain"],
    )


def fatigued_pool(pool: FuglevandPool, muscle: MuscleModel) -> FuglevandPool:
    """The pool's twitches as the muscle's ``[fatigue]`` leaves them (twitch force down,
    contraction time up); the network's muscle units use exactly these."""
    fat = fatigue(muscle["fatigue"])
    return replace(pool, p=pool.p * fat.twitch_force, t=pool.t * fat.contraction_time)


def _pairs(mask: np.ndarray) -> tuple:
    i, j = np.nonzero(mask)
    return (tuple(int(x) for x in i), tuple(int(x) for x in j))


def network_structure(spinal: SpinalModel, record_voltage=()) -> NetworkStructure:
    """The compiled structure of a spinal model (sizes, wiring, delays, time grid)."""
    pool, sim, ax, d = spinal["pool"], spinal["simulation"], spinal["axons"], spinal["delays"]
    n = pool["n_units"]
    n_ia = spinal["spindle"]["n_afferents"]
    n_ib = spinal["tendon_organ"]["n_afferents"]
    n_ibin = spinal["ib_interneurons"]["n"]
    n_rc = spinal["renshaw"]["n"]
    rng = np.random.default_rng(sim["connectivity_seed"])
    p_ia = spinal["synapses"]["ia_connectivity"]
    ibn, rcn = spinal["ib_interneurons"], spinal["renshaw"]
    geo = {}
    for cls, vel in (("motor", "motor_velocity"), ("ia", "ia_velocity"), ("ib", "ib_velocity")):
        geo[cls] = axon_geometry(
            velocity=ax[vel],
            cord_to_stim=ax["cord_to_stimulation"],
            stim_to_periphery=ax["stimulation_to_periphery"],
            ectopic_site=ax["ectopic_site"],
            block_site=ax["block_site"],
            segment_time=ax["segment_time"],
            refractory=ax["refractory"],
            where=f"axons ({cls})",
        )
    return NetworkStructure(
        n_mn=n,
        n_ia=n_ia,
        n_ib=n_ib,
        n_ibin=n_ibin,
        n_rc=n_rc,
        dt=sim["dt"],
        duration=sim["max_duration"],
        input_dt=sim["input_dt"],
        record_dt=sim["record_dt"],
        motor=geo["motor"],
        ia=geo["ia"],
        ib=geo["ib"],
        ia_mn=_pairs(rng.random((n_ia, n)) < p_ia),
        ib_ibin=_pairs(rng.random((n_ib, n_ibin)) < ibn["p_in"]),
        ibin_mn=_pairs(rng.random((n_ibin, n)) < ibn["p_out"]),
        mn_rc=_pairs(rng.random((n, n_rc)) < rcn["p_in"]),
        rc_mn=_pairs(rng.random((n_rc, n)) < rcn["p_out"]),
        delay_central_ia=d["ia_central"],
        delay_ib_ibin=d["ib_interneuron"],
        delay_ibin_mn=d["interneuron_motoneuron"],
        delay_mn_rc=d["renshaw_in"],
        delay_rc_mn=d["renshaw_out"],
        delay_initial_segment=d["initial_segment"],
        delay_nmj=d["neuromuscular"],
        muscle_dt=sim["muscle_dt"],
        noise_dt=sim["noise_dt"],
        max_ectopic=sim["max_ectopic"],
        record_voltage=tuple(int(u) for u in record_voltage),
    )


_MN_NAMES = {
    "c_m": "c_m",
    "p_soma": "p_soma",
    "gc": "g_coupling",
    "gl": "g_leak",
    "el": "e_leak",
    "gnabar": "gnabar",
    "gkdr": "gkdr",
    "gcan_s": "gcan_soma",
    "gcan_d": "gcan_dend",
    "gkca_d": "gkca_dend",
    "gcal": "gcal",
    "ena": "ena",
    "ek": "ek",
    "eca": "eca",
    "th_m": "th_m",
    "sl_m": "sl_m",
    "th_h": "th_h",
    "sl_h": "sl_h",
    "tau_h": "tau_h",
    "th_n": "th_n",
    "sl_n": "sl_n",
    "tau_n": "tau_n",
    "th_mn": "th_mn",
    "sl_mn": "sl_mn",
    "tau_mn": "tau_mn",
    "th_hn": "th_hn",
    "sl_hn": "sl_hn",
    "tau_hn": "tau_hn",
    "th_ml": "th_ml",
    "sl_ml": "sl_ml",
    "tau_ml": "tau_ml",
    "ca_f": "ca_f",
    "ca_alpha": "ca_alpha",
    "kca_s": "kca_soma",
    "kca_d": "kca_dend",
    "v_thr": "spike_threshold",
    "v_inv": "antidromic_voltage",
    "inv_guard": "antidromic_guard",
}


def _recruit_order(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n)


def _network_values(
    spinal: SpinalModel,
    muscle: MuscleModel,
    s: NetworkStructure,
    pool: FuglevandPool,
    duration: float,
    stimulation: NerveStimulation | None,
) -> tuple[dict, np.ndarray]:
    mn = spinal["motoneuron"]
    syn = spinal["synapses"]
    p = spinal["pool"]
    fat = fatigue(muscle["fatigue"])
    kscale = kca_scale(
        spinal["neuromodulation"]["level"], spinal["neuromodulation"]["gkca_scale_serotonergic"]
    )
    v: dict = {f"mn.{k}": mn[src] for k, src in _MN_NAMES.items()}
    v["mn.kd"] = mn["kd"] * 1e3  # mM -> uM, the unit of [Ca] in the network
    v["mn.kca_scale"] = kscale
    v.update(
        {
            "mn.e_exc": syn["e_exc"],
            "mn.e_inh": syn["e_inh"],
            "mn.tau_ia": syn["tau_ia"],
            "mn.tau_ib": syn["tau_ib"],
            "mn.tau_rc": syn["tau_rc"],
            "mn.drive_j": spinal["drive"]["current_per_excitation"],
            "mn.drive_dend": spinal["drive"]["dendritic_fraction"],
            "mn.noise_tau": spinal["noise"]["tau"],
            "mn.noise_sigma": spinal["noise"]["sigma"],
            "mn.noise_dt": s.noise_dt,
            "mn.noise_dend": spinal["noise"]["dendritic_fraction"],
            "mn.pump_j": spinal["pump"]["current_per_spike"],
            "mn.tau_pump": spinal["pump"]["tau"],
        }
    )
    n = s.n_mn
    rte = pool.rte
    rel = rte / rte[0]
    frac = (rte - rte[0]) / (rte[-1] - rte[0]) if n > 1 else np.zeros(1)
    sat = (
        p["drive_saturation_first"]
        + (p["drive_saturation_last"] - p["drive_saturation_first"]) * frac
    )
    # cell-to-cell variability of the AHP (lognormal, mean 1), fixed by the wiring seed
    cv = p["ahp_variability"]
    rng = np.random.default_rng(spinal["simulation"]["connectivity_seed"] + 101)
    sig = np.sqrt(np.log1p(cv**2))
    spread = np.exp(sig * rng.standard_normal(n) - 0.5 * sig**2)
    v["mn.gkca_s"] = mn["gkca_soma"] * rel ** (-p["ahp_size_exponent"]) * spread
    # drive density ~ RTE^-x, so a unit's threshold excitation scales as RTE^x; the
    # drive saturates at a multiple of that threshold (the same saturating current
    # density in every unit, whatever x)
    size = rte ** p["drive_size_exponent"]
    v["mn.drive_gain"] = 1.0 / size
    v["mn.e_sat"] = size * sat
    v["mn.w_ia"] = syn["w_ia"] * rel ** (-p["ia_size_exponent"])
    v["mn.w_ib"] = np.full(n, syn["w_ib"] * fat.tendon_organ_gain)
    v["mn.w_rc"] = np.full(n, syn["w_rc"])
    rest = resting_state(spinal["motoneuron"], kscale)
    for key in ("Vs", "Vd", "h", "n", "mn_s", "hn_s", "mn_d", "hn_d", "ml", "ca_s", "ca_d"):
        v[f"mn.{key}"] = np.full(n, rest[key])
    for key in ("g_ia", "g_ib", "g_rc", "I_noise", "i_pump"):
        v[f"mn.{key}"] = np.zeros(n)
    # axons: refractoriness, the block, which axons the stimulus recruits
    from neurosim.spinal.network import _axon_index  # the layout is the network's

    ai = _axon_index(s)
    total = ai["total"]
    v["ax.t_ref"] = np.full(total, spinal["axons"]["refractory"])
    conducts = np.ones(total)
    recruited = np.zeros(total)
    blocked = stimulation is not None and stimulation.blocked
    seed = spinal["simulation"]["connectivity_seed"]
    for cls, frac_key in (
        ("motor", "motor_fraction"),
        ("ia", "ia_fraction"),
        ("ib", "ib_fraction"),
    ):
        off, n_ax, geo = ai[cls]
        if blocked:
            conducts[off + geo.block_seg * n_ax : off + (geo.block_seg + 1) * n_ax] = 0.0
        if stimulation is not None:
            k = int(round(getattr(stimulation, frac_key) * n_ax))
            order = np.arange(n_ax)[::-1] if cls == "motor" else _recruit_order(n_ax, seed + 7)
            recruited[off + geo.stim_seg * n_ax + order[:k]] = 1.0
    v["ax.conducts"] = conducts
    v["ax.stim_recruited"] = recruited
    for grp, table in (("ibin", "ib_interneurons"), ("rc", "renshaw")):
        t = spinal[table]
        v[f"{grp}.tau_m"] = t["tau_m"]
        v[f"{grp}.tau_s"] = t["tau_syn"]
        v[f"{grp}.t_ref"] = t["refractory"]
        v[f"{grp}.w_in"] = t["weight"]
    sp = spinal["spindle"]
    v.update(
        {
            "spindle.sp_gain": fat.spindle_gain,
            "spindle.sp_r0": sp["baseline_rate"],
            "spindle.sp_kv": sp["velocity_gain"],
            "spindle.sp_kd": sp["length_gain"],
            "spindle.sp_kg": sp["fusimotor_gain"],
            "spindle.sp_kE": sp["alpha_gamma_linkage"],
            "spindle.sp_rmax": sp["max_rate"],
        }
    )
    gto = spinal["tendon_organ"]
    max_force = pool.max_force()
    v.update(
        {
            "gto.gto_gain": fat.tendon_organ_gain,
            "gto.gto_r0": gto["baseline_rate"],
            "gto.gto_a": gto["gain"],
            "gto.gto_f0": gto["force_scale"] * max_force,
        }
    )
    tired = fatigued_pool(pool, muscle)
    tc = tired.t
    v["mu.tc"] = tc
    v["mu.p_tw"] = tired.p
    v["mu.mu_dec"] = np.exp(-s.muscle_dt / tc)
    v["mu.mu_b"] = s.muscle_dt / tc
    v["mu.g_norm"] = GAIN_NORM
    v["mu.g_knee"] = GAIN_KNEE
    v["ctrl.t_stop"] = duration
    assert set(v) == set(RUNTIME_VARS), set(RUNTIME_VARS) ^ set(v)
    return v, rate_table(spinal["motoneuron"], s.dt)


def _series(
    s: NetworkStructure,
    duration: float,
    drive: Drive | None,
    stimulation: NerveStimulation | None,
    tendon: TendonStimulation | None,
    stretch: Stretch | None,
) -> dict:
    tk = np.arange(s.n_input) * s.input_dt
    out = {k: np.zeros(s.n_input) for k in TIME_SERIES}
    if drive is not None:
        out["drive_E"] = drive.sample(tk)
    if stretch is not None:
        tt, length = np.asarray(stretch.t), np.asarray(stretch.length)
        out["stretch_len"] = np.interp(tk, tt, length)
        # velocity of the piecewise-linear length (mm/s), constant on each piece
        slope = np.diff(length) / np.diff(tt) * 1e3
        piece = np.clip(np.searchsorted(tt, tk, side="right") - 1, 0, len(tt) - 1)
        vel = np.where(
            (piece < len(slope)) & (tk >= tt[0]), slope[np.minimum(piece, len(slope) - 1)], 0.0
        )
        out["stretch_vel"] = vel if len(tt) > 1 else np.zeros_like(tk)
        if stretch.fusimotor is not None:
            out["gamma_drive"] = np.interp(tk, tt, np.asarray(stretch.fusimotor))
    for key, stim in (("nerve_hz", stimulation), ("tendon_hz", tendon)):
        if stim is None:
            continue
        for start, stop, rate in stim.trains:
            sel = (tk >= start) & (tk < stop)
            out[key][sel] = rate
    for key, arr in out.items():
        check_finite(f"input series {key}", arr)
    return out


def _ectopic_table(s: NetworkStructure, ectopic: EctopicSpikes | None) -> np.ndarray:
    n_gen = 2 * (s.n_mn + s.n_ia)
    table = np.full((s.max_ectopic, n_gen), np.inf)
    if ectopic is None or len(ectopic.time) == 0:
        return table
    cols: dict[int, list] = {}
    for f, i, t, d in zip(
        ectopic.fibre, ectopic.index, ectopic.time, ectopic.direction, strict=True
    ):
        n_ax = s.n_mn if f == "motor" else s.n_ia
        if i >= n_ax:
            raise ValueError(
                f"`ectopic.index` = {i} is out of range for {f} axons; allowed [0, {n_ax - 1}]"
            )
        base = (0 if f == "motor" else 2 * s.n_mn) + 2 * i
        if d in ("to_cord", "both"):
            cols.setdefault(base, []).append(t)
        if d in ("to_periphery", "both"):
            cols.setdefault(base + 1, []).append(t)
    for col, times in cols.items():
        # one event per time step and generator (the axon cannot carry two)
        ts = np.unique(np.round(np.asarray(times) / s.dt) * s.dt)
        if len(ts) > s.max_ectopic:
            raise ValueError(
                f"{len(ts)} ectopic events in one axon and direction exceed "
                f"`simulation.max_ectopic` = {s.max_ectopic}; raise it in the spinal model"
            )
        table[: len(ts), col] = ts
    return table


def simulate_spinal(
    spinal: SpinalModel | None = None,
    muscle: MuscleModel | None = None,
    duration: float | str = 1000.0,
    *,
    drive: Drive | None = None,
    stimulation: NerveStimulation | None = None,
    tendon: TendonStimulation | None = None,
    stretch: Stretch | None = None,
    ectopic: EctopicSpikes | None = None,
    seed: int = 0,
    record_voltage=(),
    criteria: CrampCriteria | None = None,
) -> SpinalResult:
    """Simulate the spinal circuit and muscle of one muscle.

    Parameters
    ----------
    spinal, muscle : SpinalModel, MuscleModel, optional
        Models (default: ``models/spinal/motoneuron_pool.toml`` and
        ``models/muscle/fuglevand_1993.toml``).
    duration : float or str
        Run length: ms, or a quantity (``"60 s"``); at most ``simulation.max_duration``.
    drive : Drive, optional
        Descending voluntary excitation (none: zero).
    stimulation : NerveStimulation, optional
        Nerve stimulation trains, recruited fractions, proximal block.
    tendon : TendonStimulation, optional
        Tendon (Golgi tendon organ) stimulation trains.
    stretch : Stretch, optional
        Muscle stretch and fusimotor drive.
    ectopic : EctopicSpikes, optional
        Ectopic spikes from the compressed root.
    seed : int
        Seed of every stochastic part (spindle and tendon-organ discharge, synaptic
        noise); the same inputs and seed give bit-identical spikes on the same machine.
    record_voltage : sequence of int
        Motor units whose soma and dendrite voltage are recorded (changes the compiled
        structure).
    criteria : CrampCriteria, optional
        Cramp detection thresholds.

    Returns
    -------
    SpinalResult
    """
    if spinal is None or muscle is None:
        ds, dm = default_models()
        spinal, muscle = spinal or ds, muscle or dm
    duration = _time(duration, "duration")
    max_d = spinal["simulation"]["max_duration"]
    check_range("duration", duration, 0.0, max_d, unit="ms", lo_open=True)
    seed = check_int("seed", seed, 0, 2**31 - 1)
    for u in record_voltage:
        check_int("record_voltage", u, 0, spinal["pool"]["n_units"] - 1)
    pool = pool_for(spinal, muscle)
    structure = network_structure(spinal, record_voltage)
    values, table = _network_values(spinal, muscle, structure, pool, duration, stimulation)
    series = _series(structure, duration, drive, stimulation, tendon, stretch)
    ect = _ectopic_table(structure, ectopic)
    # every input is checked: now build (or find) the network and run it
    net: CompiledNetwork = compile_network(structure)
    compile_time, built = net.compile_time, net.built
    net.compile_time, net.built = 0.0, False  # later calls reuse the build
    raw = net.run(values, series, ect, table, seed)
    return _result(
        spinal,
        muscle,
        structure,
        pool,
        raw,
        duration,
        series,
        seed,
        stimulation,
        tendon,
        drive,
        ectopic,
        criteria,
        compile_time,
        built,
    )


def _git_version() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or neurosim.__version__
    except (OSError, subprocess.SubprocessError):
        return neurosim.__version__


def _result(
    spinal,
    muscle,
    s,
    pool,
    raw,
    duration,
    series,
    seed,
    stimulation,
    tendon,
    drive,
    ectopic,
    criteria,
    compile_time,
    built=False,
) -> SpinalResult:
    t = raw.force_t
    keep = t <= duration + 1e-9
    t, force = t[keep], raw.force[keep]
    # the maximum of the muscle as it is: a fatigued muscle's maximal force is lower
    # (Fuglevand et al. 1999), and the cramp criterion is a fraction of it
    max_force = fatigued_pool(pool, muscle).max_force()
    drive_rec = np.interp(t, np.arange(s.n_input) * s.input_dt, series["drive_E"])
    amp, width = muap_parameters(
        pool.p,
        amplitude_first=muscle["emg"]["amplitude_first"],
        amplitude_exponent=muscle["emg"]["amplitude_exponent"],
        width_first=muscle["emg"]["width_first"],
        width_last=muscle["emg"]["width_last"],
    )
    emg_t, emg = synthesize_emg(
        raw.mu_i, raw.mu_t, amp, width, duration, muscle["emg"]["sampling_rate"]
    )
    last = stimulation.last_pulse if stimulation is not None else -math.inf
    cramp = detect_cramp(
        t,
        force,
        max_force,
        drive=drive_rec,
        last_stimulus=last,
        spike_unit=raw.mn_i,
        spike_time=raw.mn_t,
        criteria=criteria,
    )
    n = s.n_mn
    mean_rate = np.bincount(raw.mn_i, minlength=n) / (duration * 1e-3)
    prov = {
        "neurosim": neurosim.__version__,
        "git": _git_version(),
        "spinal_model": spinal.name,
        "spinal_source": spinal.source,
        "muscle_model": muscle.name,
        "muscle_source": muscle.source,
        "neuromodulation_level": spinal["neuromodulation"]["level"],
        "fatigue_level": muscle["fatigue"]["level"],
        "network_key": s.key(),
        "network_built": bool(built),
        "stimulation": asdict(stimulation) if stimulation is not None else None,
        "tendon": asdict(tendon) if tendon is not None else None,
        "drive": asdict(drive) if drive is not None else None,
        "n_ectopic": 0 if ectopic is None else len(ectopic.time),
    }
    return SpinalResult(
        duration=duration,
        dt=s.dt,
        seed=seed,
        n_units=n,
        mn_unit=raw.mn_i,
        mn_time=raw.mn_t,
        mu_unit=raw.mu_i,
        mu_time=raw.mu_t,
        ia_index=raw.ia_i,
        ia_time=raw.ia_t,
        ib_index=raw.ib_i,
        ib_time=raw.ib_t,
        rc_index=raw.rc_i,
        rc_time=raw.rc_t,
        ibin_index=raw.ibin_i,
        ibin_time=raw.ibin_t,
        stim_time=raw.stim_t,
        t=t,
        force=force,
        force_fraction=force / max_force,
        drive=drive_rec,
        emg_t=emg_t,
        emg=emg,
        max_force=max_force,
        cramp=cramp,
        mean_rate=mean_rate,
        vs=raw.vs[keep] if raw.vs.size else raw.vs,
        vd=raw.vd[keep] if raw.vd.size else raw.vd,
        recorded_units=s.record_voltage,
        compile_time=compile_time,
        run_time=raw.run_time,
        cpu_time=raw.cpu_time,
        provenance=prov,
    )
