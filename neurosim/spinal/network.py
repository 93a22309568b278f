"""The Brian2 network of one muscle's spinal circuit, compiled once, run many times.

Groups (Brian2 names in brackets)
---------------------------------
* motor neurons [``mn``]: two-compartment Booth, Rinzel & Kiehn (1997) cells, soma
  (Na, Kdr, N-type Ca, K(Ca)) and dendrite (N-type Ca, K(Ca), L-type Ca = the persistent
  inward current); descending drive, Ia excitation (dendrite), Ib-interneuron
  inhibition (dendrite), Renshaw inhibition (soma), synaptic background noise
  [``mnnoise``, Ornstein-Uhlenbeck];
* peripheral axons [``motax``, ``iaax``, ``ibax``]: event-based segment chains with
  explicit collision (:mod:`neurosim.spinal.axons`); segment 0 is at the cord;
* muscle spindles [``spindle``] and Golgi tendon organs [``gto``]: rate encoders that
  fire the distal end of the Ia and Ib axons;
* Ib inhibitory interneurons [``ibin``] and Renshaw cells [``rc``]: normalised
  integrate-and-fire cells;
* muscle units [``mu``]: Fuglevand, Winter & Patla (1993) twitches (a critically damped
  second-order filter whose impulse response is P (t/T) exp(1 - t/T)) with the
  force-frequency gain applied per activation; total force [``muscle``] feeds the GTOs;
* stimulators [``nervestim``, ``tendonstim``]: pulse trains whose rate is a time series;
* ectopic generators [``ectopic``]: one per (axon, direction), reading a table of event
  times, so that spike trains from the axon stage enter without recompiling. They do
  the job of a ``SpikeGeneratorGroup`` (DESIGN.md), which cannot be used here: in the
  standalone device its spike times and time bins are generated in Python and frozen
  into the build, so every new ectopic train would mean a new compilation (minutes),
  whereas the table is a ``TimedArray`` set on the command line of each run.

Every parameter, initial value and input time series is a Brian2 variable or
``TimedArray`` set on the command line of the compiled binary (Brian2's standalone
``run_args`` mechanism), so one build serves a whole sweep. Only the *structure* (group
sizes, connectivity, delays, time grid, recording) is compiled in; it is hashed to name
the build directory, and a second process finds the build up to date.

Values cross this module's boundary as plain floats in the internal units of
:mod:`neurosim.units`; Brian2 units are used only inside.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.spinal.axons import AxonGeometry

__all__ = ["NetworkStructure", "CompiledNetwork", "compile_network", "RawRun", "cache_root"]


class _OneToOneInvasion(logging.Filter):
    """Drop Brian2's order-dependence warning for the antidromic invasion only.

    The invasion update reads and writes ``Vs_post``; Brian2 cannot tell that no two
    synapses share a target and warns that the outcome may depend on their order. Every
    motoneuron has exactly one invading axon segment (the ``invade`` pathway is connected
    one to one), so the order cannot matter. Every other warning passes. Installed on
    Brian2's code-generation logger while :func:`_build` declares and compiles the network.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "inv_guard_post" not in record.getMessage()


#: factor from the internal unit to SI (what Brian2 stores), per kind of quantity
_SI = {
    "mV": 1e-3,
    "ms": 1e-3,
    "S/cm2": 1e4,
    "mA/cm2": 10.0,
    "uF/cm2": 1e-2,
    "Hz": 1.0,
    "1/ms": 1e3,
    "1": 1.0,
    "ca_alpha": 1e5,  # (uM/ms) per (uA/cm2) -> 1/s per (A/m2): see _MN_STEP
    "int": 1,
}

# Booth, Rinzel & Kiehn (1997), J Neurophysiol 78:3371, with every constant a variable.
# One step is written out as NEURON integrates (DESIGN.md "numerics like the
# references"): gates by exponential Euler with rates at the old voltage, then both
# compartment voltages by backward Euler, the 2x2 coupled system solved exactly. As
# with NEURON's TABLE statement, the voltage-dependent rate functions are tabulated
# (:data:`RATE_TABLE_COLUMNS`, built in Python from the model parameters and dt) and
# interpolated linearly.
# Calcium is in uM (a plain number): d[Ca]/dt = f (-alpha I_Ca - kca [Ca]) with I_Ca in
# uA/cm2 and alpha = 0.009 uM/ms per uA/cm2 as in the paper; it is advanced exactly
# with the calcium current of the old step.
# A slow activity-dependent outward current, not in Booth et al. (the [pump] table of
# the model file: late adaptation and the Na/K pump's ultraslow AHP): each spike adds
# pump_j to i_pump (the reset), which decays with tau_pump. It has the same density in
# soma and dendrite (a minus sign in j_s and j_d): in the dendrite it is what ends a
# plateau (a cramp); in the soma alone it only lowers the rate.
_MN_STEP = """
xs = clip((Vs - tab_vmin)/tab_dv, 0, tab_last)
ks = floor(xs)
fs = xs - ks
xd = clip((Vd - tab_vmin)/tab_dv, 0, tab_last)
kv_d = floor(xd)
fd = xd - kv_d
m_inf = rate_tab(ks*second, 0) + fs*(rate_tab(ks*second + second, 0) - rate_tab(ks*second, 0))
h_inf = rate_tab(ks*second, 1) + fs*(rate_tab(ks*second + second, 1) - rate_tab(ks*second, 1))
h_dec = rate_tab(ks*second, 2) + fs*(rate_tab(ks*second + second, 2) - rate_tab(ks*second, 2))
n_inf = rate_tab(ks*second, 3) + fs*(rate_tab(ks*second + second, 3) - rate_tab(ks*second, 3))
n_dec = rate_tab(ks*second, 4) + fs*(rate_tab(ks*second + second, 4) - rate_tab(ks*second, 4))
mns_inf = rate_tab(ks*second, 5) + fs*(rate_tab(ks*second + second, 5) - rate_tab(ks*second, 5))
hns_inf = rate_tab(ks*second, 6) + fs*(rate_tab(ks*second + second, 6) - rate_tab(ks*second, 6))
mnd_inf = rate_tab(kv_d*second, 5) + fd*(rate_tab(kv_d*second + second, 5) - rate_tab(kv_d*second, 5))
hnd_inf = rate_tab(kv_d*second, 6) + fd*(rate_tab(kv_d*second + second, 6) - rate_tab(kv_d*second, 6))
ml_inf = rate_tab(kv_d*second, 7) + fd*(rate_tab(kv_d*second + second, 7) - rate_tab(kv_d*second, 7))
ica_s = gcan_s*mn_s*mn_s*hn_s*(Vs - eca)
ica_d = (gcan_d*mn_d*mn_d*hn_d + gcal*ml)*(Vd - eca)
h = h_inf + (h - h_inf)*h_dec
n = n_inf + (n - n_inf)*n_dec
mn_s = mns_inf + (mn_s - mns_inf)*exp(-dt/tau_mn)
hn_s = hns_inf + (hn_s - hns_inf)*exp(-dt/tau_hn)
mn_d = mnd_inf + (mn_d - mnd_inf)*exp(-dt/tau_mn)
hn_d = hnd_inf + (hn_d - hnd_inf)*exp(-dt/tau_hn)
ml = ml_inf + (ml - ml_inf)*exp(-dt/tau_ml)
ca_s = -ca_alpha*ica_s/kca_s + (ca_s + ca_alpha*ica_s/kca_s)*exp(-dt*ca_f*kca_s)
ca_d = -ca_alpha*ica_d/kca_d + (ca_d + ca_alpha*ica_d/kca_d)*exp(-dt*ca_f*kca_d)
i_pump = i_pump*exp(-dt/tau_pump)
g_na = gnabar*m_inf*m_inf*m_inf*h
g_k = gkdr*n*n*n*n + gkca_s*kca_scale*ca_s/(ca_s + kd)
g_cas = gcan_s*mn_s*mn_s*hn_s
g_kd = gkca_d*kca_scale*ca_d/(ca_d + kd)
g_cad = gcan_d*mn_d*mn_d*hn_d + gcal*ml
e_drive = clip(drive_E(t), 0, e_sat)
j_s = (1 - drive_dend)*drive_j*drive_gain*e_drive + (1 - noise_dend)*I_noise - i_pump + g_na*ena + g_k*ek + g_cas*eca + gl*el + g_rc*e_inh
j_d = drive_dend*drive_j*drive_gain*e_drive + noise_dend*I_noise - i_pump + g_kd*ek + g_cad*eca + gl*el + g_ia*e_exc + g_ib*e_inh
a11 = c_m/dt + g_na + g_k + g_cas + gl + g_rc + gc/p_soma
a22 = c_m/dt + g_kd + g_cad + gl + g_ia + g_ib + gc/(1 - p_soma)
b1 = c_m/dt*Vs + j_s
b2 = c_m/dt*Vd + j_d
det = a11*a22 - gc/p_soma*gc/(1 - p_soma)
Vs = (b1*a22 + gc/p_soma*b2)/det
Vd = (a11*b2 + gc/(1 - p_soma)*b1)/det
g_ia = g_ia*exp(-dt/tau_ia)
g_ib = g_ib*exp(-dt/tau_ib)
g_rc = g_rc*exp(-dt/tau_rc)
"""
#: rate table: voltage grid (mV) and columns
TAB_VMIN, TAB_DV, TAB_N = -150.0, 0.05, 5001
RATE_TABLE_COLUMNS = ("m_inf", "h_inf", "h_decay", "n_inf", "n_decay", "mn_inf", "hn_inf", "ml_inf")

_MN_NOISE = "I_noise = I_noise*exp(-noise_dt/noise_tau) + noise_sigma*sqrt(1 - exp(-2*noise_dt/noise_tau))*randn()"

_MN_EQS = """
Vs : volt
Vd : volt
h : 1
n : 1
mn_s : 1
hn_s : 1
mn_d : 1
hn_d : 1
ml : 1
ca_s : 1
ca_d : 1
g_ia : siemens/meter**2
g_ib : siemens/meter**2
g_rc : siemens/meter**2
I_noise : amp/meter**2
i_pump : amp/meter**2
pump_j : amp/meter**2 (shared)
tau_pump : second (shared)
noise_tau : second (shared)
noise_sigma : amp/meter**2 (shared)
noise_dt : second (shared)
noise_dend : 1 (shared)
drive_gain : 1
e_sat : 1
w_ia : siemens/meter**2
w_ib : siemens/meter**2
w_rc : siemens/meter**2
c_m : farad/meter**2 (shared)
p_soma : 1 (shared)
gc : siemens/meter**2 (shared)
gl : siemens/meter**2 (shared)
el : volt (shared)
gnabar : siemens/meter**2 (shared)
gkdr : siemens/meter**2 (shared)
gcan_s : siemens/meter**2 (shared)
gkca_s : siemens/meter**2
gcan_d : siemens/meter**2 (shared)
gkca_d : siemens/meter**2 (shared)
gcal : siemens/meter**2 (shared)
kca_scale : 1 (shared)
ena : volt (shared)
ek : volt (shared)
eca : volt (shared)
e_exc : volt (shared)
e_inh : volt (shared)
th_m : volt (shared)
sl_m : volt (shared)
th_h : volt (shared)
sl_h : volt (shared)
tau_h : second (shared)
th_n : volt (shared)
sl_n : volt (shared)
tau_n : second (shared)
th_mn : volt (shared)
sl_mn : volt (shared)
tau_mn : second (shared)
th_hn : volt (shared)
sl_hn : volt (shared)
tau_hn : second (shared)
th_ml : volt (shared)
sl_ml : volt (shared)
tau_ml : second (shared)
kd : 1 (shared)
ca_f : 1 (shared)
ca_alpha : meter**2/amp/second (shared)
kca_s : 1/second (shared)
kca_d : 1/second (shared)
tau_ia : second (shared)
tau_ib : second (shared)
tau_rc : second (shared)
drive_j : amp/meter**2 (shared)
drive_dend : 1 (shared)
v_thr : volt (shared)
v_inv : volt (shared)
inv_guard : second (shared)
"""

# A spike passing through an axon segment: events set v, the threshold fires it, the
# reset records when (refractoriness is checked by the incoming events).
_AXON_EQS = """
v : 1
t_last : second
conducts : 1
stim_recruited : 1
t_ref : second
"""
_AXON_FIRE = "v_post = conducts_post*int(t - t_last_post > t_ref_post)"

# Normalised integrate-and-fire interneuron: rest 0, threshold 1.
_IN_EQS = """
dv/dt = (I_syn - v)/tau_m : 1 (unless refractory)
dI_syn/dt = -I_syn/tau_s : 1
tau_m : second (shared)
tau_s : second (shared)
t_ref : second (shared)
w_in : 1 (shared)
"""

# Fuglevand et al. (1993) twitch: y2(t) = (t/T) exp(-t/T) after a unit impulse into y1
# (dy1/dt = -y1/T, dy2/dt = (y1 - y2)/T), advanced exactly on the muscle clock with
# per-unit factors mu_dec = exp(-h/T) and mu_b = h/T; the activation gain g(T/ISI)
# multiplies the impulse.
_MU_EQS = """
y1 : 1
y2 : 1
force = p_tw*exp(1)*y2 : 1
tc : second
p_tw : 1
mu_dec : 1
mu_b : 1
act : 1
tlast : second
g_norm : 1 (shared)
g_knee : 1 (shared)
"""
_MU_STEP = """
y2 = mu_dec*(y2 + mu_b*y1)
y1 = mu_dec*y1
"""
_MU_RESET = """
ratio = tc/(t - tlast)
y1 += 1 + int(ratio > g_knee)*((1 - exp(-2*ratio**3))/ratio/g_norm - 1)
tlast = t
act = 0
"""

# Spindle primary ending, Prochazka & Gorassini (1998) form:
# rate = r0 + k_v sign(v)|v|^0.6 + k_d d + k_g gamma, times the fatigue gain.
_SPINDLE_EQS = """
vel = stretch_vel(t) : 1
fus = clip(gamma_drive(t) + sp_kE*clip(drive_E(t), 0, 1e9), 0, 1) : 1
rate = sp_gain*clip(sp_r0 + sp_kv*sign(vel)*abs(vel)**0.6 + sp_kd*stretch_len(t)
                    + sp_kg*fus, 0*Hz, sp_rmax) : Hz
sp_gain : 1 (shared)
sp_r0 : Hz (shared)
sp_kv : Hz (shared)
sp_kd : Hz (shared)
sp_kg : Hz (shared)
sp_kE : 1 (shared)
sp_rmax : Hz (shared)
"""

# Golgi tendon organ: rate = r0 + a ln(1 + F/F0) (Prochazka 1999 form), times gain.
_GTO_EQS = """
F : 1 (linked)
rate = gto_gain*(gto_r0 + gto_a*log(1 + clip(F, 0, 1e12)/gto_f0)) : Hz
gto_gain : 1 (shared)
gto_r0 : Hz (shared)
gto_a : Hz (shared)
gto_f0 : 1 (shared)
"""

_STIM_EQS = """
dphase/dt = ({rate}(t) + int({rate}(t) <= 0)*1000)*Hz : 1
"""


@dataclass(frozen=True)
class NetworkStructure:
    """Everything that changes the generated code or the array sizes.

    Attributes
    ----------
    n_mn, n_ia, n_ib, n_ibin, n_rc : int
        Motor neurons (= motor axons = muscle units), Ia and Ib afferents, Ib
        interneurons, Renshaw cells.
    dt, duration, input_dt, record_dt : float
        Integration step, run length, resolution of input time series, resolution of the
        force and voltage records (ms).
    motor, ia, ib : AxonGeometry
        Segmentation of the three classes of peripheral axons.
    ia_mn, ib_ibin, ibin_mn, mn_rc, rc_mn : tuple of (tuple of int, tuple of int)
        Connectivity as (presynaptic indices, postsynaptic indices).
    delay_central_ia, delay_ib_ibin, delay_ibin_mn, delay_mn_rc, delay_rc_mn : float
        Synaptic plus central conduction delays (ms).
    delay_initial_segment, delay_nmj : float
        Soma <-> axon segment 0, and last segment -> muscle fibres (ms).
    muscle_dt, noise_dt : float
        Steps of the twitch filters and of the synaptic-noise process (ms); both are
        slow compared with ``dt`` and are advanced exactly on their own clocks.
    max_ectopic : int
        Capacity of the ectopic event table per (axon, direction).
    record_voltage : tuple of int
        Motor neurons whose soma and dendrite voltages are recorded.
    """

    n_mn: int
    n_ia: int
    n_ib: int
    n_ibin: int
    n_rc: int
    dt: float
    duration: float
    input_dt: float
    record_dt: float
    motor: AxonGeometry
    ia: AxonGeometry
    ib: AxonGeometry
    ia_mn: tuple
    ib_ibin: tuple
    ibin_mn: tuple
    mn_rc: tuple
    rc_mn: tuple
    delay_central_ia: float
    delay_ib_ibin: float
    delay_ibin_mn: float
    delay_mn_rc: float
    delay_rc_mn: float
    delay_initial_segment: float
    delay_nmj: float
    muscle_dt: float = 0.5
    noise_dt: float = 0.25
    max_ectopic: int = 64
    record_voltage: tuple = ()

    @property
    def n_steps(self) -> int:
        return int(round(self.duration / self.dt))

    @property
    def n_input(self) -> int:
        """Samples of every input time series (covering [0, duration])."""
        return int(np.ceil(self.duration / self.input_dt)) + 1

    def key(self) -> str:
        """Hash naming the build directory (structure + code + Brian2 version)."""
        import brian2

        payload = json.dumps(
            {
                "structure": repr(self),
                "code": [
                    TAB_VMIN,
                    TAB_DV,
                    TAB_N,
                    RATE_TABLE_COLUMNS,
                    _MN_EQS,
                    _MN_STEP,
                    _MN_NOISE,
                    _AXON_EQS,
                    _AXON_FIRE,
                    _IN_EQS,
                    _MU_EQS,
                ],
                "more": [_MU_STEP, _MU_RESET, _SPINDLE_EQS, _GTO_EQS, _STIM_EQS, _BUILD_VERSION],
                "brian2": brian2.__version__,
                "host": platform.node() + platform.machine(),
                "profile": bool(os.environ.get("NEUROSIM_BRIAN_PROFILE")),
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


#: bump when the way the network is assembled changes
_BUILD_VERSION = "spinal-net-8"

#: Brian2 variables set on the command line: name -> (group, variable, unit kind)
_SHARED_MN = (
    "c_m:uF/cm2 p_soma:1 gc:S/cm2 gl:S/cm2 el:mV gnabar:S/cm2 gkdr:S/cm2 gcan_s:S/cm2 "
    "gcan_d:S/cm2 gkca_d:S/cm2 gcal:S/cm2 kca_scale:1 ena:mV ek:mV eca:mV "
    "e_exc:mV e_inh:mV th_m:mV sl_m:mV th_h:mV sl_h:mV tau_h:ms th_n:mV sl_n:mV tau_n:ms "
    "th_mn:mV sl_mn:mV tau_mn:ms th_hn:mV sl_hn:mV tau_hn:ms th_ml:mV sl_ml:mV tau_ml:ms "
    "kd:1 ca_f:1 ca_alpha:ca_alpha kca_s:1/ms kca_d:1/ms tau_ia:ms tau_ib:ms tau_rc:ms "
    "drive_j:mA/cm2 drive_dend:1 v_thr:mV v_inv:mV inv_guard:ms pump_j:mA/cm2 tau_pump:ms"
)
_PER_MN = "gkca_s:S/cm2 drive_gain:1 e_sat:1 w_ia:S/cm2 w_ib:S/cm2 w_rc:S/cm2"
_MN_STATE = (
    "Vs:mV Vd:mV h:1 n:1 mn_s:1 hn_s:1 mn_d:1 hn_d:1 ml:1 ca_s:1 ca_d:1 g_ia:S/cm2 "
    "g_ib:S/cm2 g_rc:S/cm2 I_noise:mA/cm2 i_pump:mA/cm2"
)


def _parse_spec(spec: str) -> list[tuple[str, str]]:
    return [tuple(item.split(":", 1)) for item in spec.split()]


#: run-time variables: name used by callers -> (brian group, variable, unit kind, shape)
#: shape: "shared" (one value), "mn" (per motor unit) or "ax" (per axon segment)
RUNTIME_VARS: dict[str, tuple[str, str, str, str]] = {}
for _n, _u in _parse_spec(_SHARED_MN):
    RUNTIME_VARS[f"mn.{_n}"] = ("mn", _n, _u, "shared")
for _n, _u in _parse_spec(_PER_MN):
    RUNTIME_VARS[f"mn.{_n}"] = ("mn", _n, _u, "mn")
for _n, _u in _parse_spec(_MN_STATE):
    RUNTIME_VARS[f"mn.{_n}"] = ("mn", _n, _u, "mn")
for _n, _u in _parse_spec("noise_tau:ms noise_sigma:mA/cm2 noise_dt:ms noise_dend:1"):
    RUNTIME_VARS[f"mn.{_n}"] = ("mn", _n, _u, "shared")
for _n, _u in _parse_spec("t_ref:ms conducts:1 stim_recruited:1"):
    RUNTIME_VARS[f"ax.{_n}"] = ("ax", _n, _u, "ax")
RUNTIME_VARS["ctrl.t_stop"] = ("ctrl", "t_stop", "ms", "shared")
for _g in ("ibin", "rc"):
    for _n, _u in _parse_spec("tau_m:ms tau_s:ms t_ref:ms w_in:1"):
        RUNTIME_VARS[f"{_g}.{_n}"] = (_g, _n, _u, "shared")
for _n, _u in _parse_spec("sp_gain:1 sp_r0:Hz sp_kv:Hz sp_kd:Hz sp_kg:Hz sp_kE:1 sp_rmax:Hz"):
    RUNTIME_VARS[f"spindle.{_n}"] = ("spindle", _n, _u, "shared")
for _n, _u in _parse_spec("gto_gain:1 gto_r0:Hz gto_a:Hz gto_f0:1"):
    RUNTIME_VARS[f"gto.{_n}"] = ("gto", _n, _u, "shared")
for _n, _u in _parse_spec("tc:ms p_tw:1 mu_dec:1 mu_b:1"):
    RUNTIME_VARS[f"mu.{_n}"] = ("mu", _n, _u, "mn")
for _n, _u in _parse_spec("g_norm:1 g_knee:1"):
    RUNTIME_VARS[f"mu.{_n}"] = ("mu", _n, _u, "shared")

#: input time series (TimedArrays on the input grid): name -> unit description
TIME_SERIES = {
    "drive_E": "descending excitation (Fuglevand excitation units)",
    "stretch_len": "muscle stretch from rest length (mm)",
    "stretch_vel": "muscle stretch velocity (mm/s)",
    "gamma_drive": "fusimotor drive (0..1)",
    "nerve_hz": "nerve stimulation rate (Hz; 0 = off)",
    "tendon_hz": "tendon (Ib) stimulation rate (Hz; 0 = off)",
}


@dataclass
class RawRun:
    """Arrays read back from one run of the compiled network (internal units).

    Attributes
    ----------
    mn_i, mn_t : ndarray, shape (n_spikes,)
        Motor-neuron soma spikes: unit index and time (ms).
    mu_i, mu_t : ndarray
        Muscle-unit activations (motor-axon spikes arriving at the muscle).
    ia_i, ia_t : ndarray
        Ia spikes arriving at the cord (segment 0).
    ib_i, ib_t, rc_i, rc_t, ibin_i, ibin_t : ndarray
        Ib arrivals at the cord, Renshaw and Ib-interneuron spikes.
    stim_t : ndarray
        Nerve-stimulation pulse times (ms).
    force_t : ndarray, shape (n_rec,)
        Record times (ms).
    force : ndarray, shape (n_rec,)
        Total muscle force (twitch units of the smallest unit).
    vs, vd : ndarray, shape (n_rec, n_recorded)
        Soma and dendrite voltages (mV) of ``structure.record_voltage``.
    run_time, cpu_time : float
        Wall time and CPU time (user + system) of the binary (s).
    """

    mn_i: np.ndarray
    mn_t: np.ndarray
    mu_i: np.ndarray
    mu_t: np.ndarray
    ia_i: np.ndarray
    ia_t: np.ndarray
    ib_i: np.ndarray
    ib_t: np.ndarray
    rc_i: np.ndarray
    rc_t: np.ndarray
    ibin_i: np.ndarray
    ibin_t: np.ndarray
    stim_t: np.ndarray
    force_t: np.ndarray
    force: np.ndarray
    vs: np.ndarray
    vd: np.ndarray
    run_time: float
    cpu_time: float


def cache_root() -> Path:
    """Folder holding the compiled networks (``$NEUROSIM_CACHE`` or ~/.cache/neurosim)."""
    root = os.environ.get("NEUROSIM_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "neurosim"
    return base / "brian2"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class CompiledNetwork:
    """A built network: the binary, how to set its variables, where its results go.

    Create with :func:`compile_network`; call :meth:`run` once per sweep point.
    """

    structure: NetworkStructure
    directory: Path
    compile_time: float
    built: bool = False  # True if this call built the binary from scratch (none cached)
    arg_names: dict = field(default_factory=dict)  # caller name -> command-line name
    sizes: dict = field(default_factory=dict)  # shape tag -> length
    dtypes: dict = field(default_factory=dict)  # caller name -> numpy dtype
    result_files: dict = field(default_factory=dict)  # result key -> (filename, dtype)

    def run(
        self,
        values: dict,
        series: dict,
        ectopic: np.ndarray,
        rate_table: np.ndarray,
        seed: int,
        keep: bool = False,
    ) -> RawRun:
        """Run the binary once.

        Parameters
        ----------
        values : dict
            Every name of :data:`RUNTIME_VARS` -> float or array (internal units);
            arrays have the length of their group.
        series : dict
            Every name of :data:`TIME_SERIES` -> array of shape (structure.n_input,).
        ectopic : ndarray, shape (max_ectopic, n_generators)
            Event times (ms) per ectopic generator, sorted, padded with +inf.
        rate_table : ndarray, shape (TAB_N, len(RATE_TABLE_COLUMNS))
            Motor-neuron rate functions on the voltage grid ``TAB_VMIN + k * TAB_DV``
            (mV); decays are for the structure's ``dt``.
        seed : int
            Seed of the random number generator (Poisson encoders, noise).
        keep : bool
            Keep the results folder (for debugging).
        """
        missing = [k for k in RUNTIME_VARS if k not in values]
        if missing:
            raise KeyError(f"network values missing: {missing}")
        unknown = [k for k in values if k not in RUNTIME_VARS]
        if unknown:
            raise KeyError(f"unknown network values: {unknown}")
        tmp = Path(tempfile.mkdtemp(prefix="run_", dir=self.directory / "runs"))
        try:
            args = [f"ctrl.run_seed={int(seed)}"]
            for name, value in values.items():
                group, var, unit, shape = RUNTIME_VARS[name]
                args.append(self._arg(tmp, name, value, unit, shape))
            for name in TIME_SERIES:
                arr = np.ascontiguousarray(series[name], dtype=np.float64)
                if arr.shape != (self.structure.n_input,):
                    raise ValueError(
                        f"input series {name!r} has shape {arr.shape}; "
                        f"expected ({self.structure.n_input},)"
                    )
                fname = tmp / f"series_{name}.dat"
                arr.tofile(fname)
                args.append(f"{self.arg_names[name]}={fname}")
            ev = np.where(np.isfinite(ectopic), ectopic * 1e-3, 1e9).astype(np.float64)
            fname = tmp / "ectopic.dat"
            np.ascontiguousarray(ev).tofile(fname)
            args.append(f"{self.arg_names['ectopic']}={fname}")
            tab = np.ascontiguousarray(rate_table, dtype=np.float64)
            if tab.shape != (TAB_N, len(RATE_TABLE_COLUMNS)):
                raise ValueError(f"rate table has shape {tab.shape}")
            fname = tmp / "rate_tab.dat"
            tab.tofile(fname)
            args.append(f"{self.arg_names['rate_tab']}={fname}")
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run(
                ["./main", "--results_dir", str(tmp) + "/", *args],
                cwd=self.directory,
                capture_output=True,
                text=True,
            )
            run_time = time.perf_counter() - start
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_time = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            if proc.returncode != 0:
                raise RuntimeError(
                    f"spinal network binary failed ({proc.returncode}): {proc.stderr[-2000:]}"
                )
            return self._read(tmp, run_time, cpu_time)
        finally:
            if not keep:
                for f in tmp.iterdir():
                    f.unlink()
                tmp.rmdir()

    def _arg(self, tmp: Path, name: str, value, unit: str, shape: str) -> str:
        factor = _SI[unit]
        cli = self.arg_names[name]
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            if unit == "int":
                return f"{cli}={int(arr)}"
            return f"{cli}={float(arr) * factor!r}"
        n = self.sizes[shape]
        if arr.shape != (n,):
            raise ValueError(f"network value {name!r} has shape {arr.shape}; expected ({n},)")
        fname = tmp / f"{name}.dat"
        np.ascontiguousarray(arr * factor, dtype=self.dtypes.get(name, np.float64)).tofile(fname)
        return f"{cli}={fname}"

    def _read(self, tmp: Path, run_time: float, cpu_time: float) -> RawRun:
        def load(key):
            fname, dtype = self.result_files[key]
            path = tmp / fname
            return np.fromfile(path, dtype=dtype) if path.exists() else np.zeros(0, dtype)

        def spikes(prefix):
            return load(prefix + "_i").astype(np.int64), load(prefix + "_t") * 1e3

        for key in ("final_vs", "final_vd", "final_ca", "final_rc", "final_ibin", "final_y2"):
            if not np.all(np.isfinite(load(key))):
                raise FloatingPointError(
                    f"spinal network produced non-finite values ({key}); check the "
                    "parameters (time constants, dt) of this run"
                )
        mn_i, mn_t = spikes("mn")
        mu_i, mu_t = spikes("mu")
        ia_i, ia_t = spikes("ia")
        ib_i, ib_t = spikes("ib")
        rc_i, rc_t = spikes("rc")
        ibin_i, ibin_t = spikes("ibin")
        _, stim_t = spikes("stim")
        force_t = load("force_t") * 1e3
        force = load("force")
        nrec = len(self.structure.record_voltage)
        if nrec:
            vs = load("vs").reshape(-1, nrec) * 1e3
            vd = load("vd").reshape(-1, nrec) * 1e3
        else:
            vs = vd = np.zeros((len(force_t), 0))
        return RawRun(
            mn_i=mn_i,
            mn_t=mn_t,
            mu_i=mu_i,
            mu_t=mu_t,
            ia_i=ia_i,
            ia_t=ia_t,
            ib_i=ib_i,
            ib_t=ib_t,
            rc_i=rc_i,
            rc_t=rc_t,
            ibin_i=ibin_i,
            ibin_t=ibin_t,
            stim_t=stim_t,
            force_t=force_t,
            force=force,
            vs=vs,
            vd=vd,
            run_time=run_time,
            cpu_time=cpu_time,
        )


_COMPILED: dict[str, CompiledNetwork] = {}


def compile_network(structure: NetworkStructure) -> CompiledNetwork:
    """Build (or find up to date) the standalone project for ``structure``.

    The first call for a structure generates and compiles C++ (tens of seconds); later
    calls in the same process return the cached object at once, and calls in a new
    process regenerate the code, find every file unchanged, and skip compilation.
    ``compile_time`` is the wall time of this call: code generation and an incremental
    make (about 10 s) for a cached build, the full C++ build when ``built`` is True.
    """
    key = structure.key()
    if key in _COMPILED:
        return _COMPILED[key]
    directory = cache_root() / f"spinal-{key}"
    start = time.perf_counter()
    with _locked(cache_root() / f"spinal-{key}.lock"):
        # a cached build is regenerated and make recompiles the few files whose text
        # Brian2 writes differently each time, then relinks (~10 s); a missing one is
        # compiled from scratch (minutes)
        built = not (directory / "main").exists()
        info = _build(structure, directory)
    compiled = CompiledNetwork(
        structure=structure,
        directory=directory,
        compile_time=time.perf_counter() - start,
        built=built,
        **info,
    )
    (directory / "runs").mkdir(exist_ok=True)
    _COMPILED[key] = compiled
    return compiled


def _axon_index(s: NetworkStructure) -> dict:
    """Offsets of the three axon classes in the single axon group.

    Element ``offset + k * n + a`` is segment ``k`` of axon ``a`` of a class with ``n``
    axons, so segment 0 (the cord end) of a class is a contiguous block.
    """
    out, offset = {}, 0
    for name, n, geo in (("motor", s.n_mn, s.motor), ("ia", s.n_ia, s.ia), ("ib", s.n_ib, s.ib)):
        out[name] = (offset, n, geo)
        offset += n * geo.n_seg
    out["total"] = offset
    return out


_STOP_CODE = """
double neurosim_stop_at(double t, double t_stop)
{
    if (t >= t_stop)
        Network::_globally_stopped = true;
    return 0.0;
}
"""


def _build(s: NetworkStructure, directory: Path) -> dict:
    """Declare the network in Brian2's standalone device and compile it."""
    import brian2 as b2
    from brian2 import ms, mV, second
    from brian2.devices.device import reset_device

    @b2.implementation("cpp", _STOP_CODE)
    @b2.check_units(t=second, t_stop=second, result=1)
    def neurosim_stop_at(t, t_stop):  # pragma: no cover - only the C++ version runs
        raise NotImplementedError("standalone only")

    old_dt = b2.defaultclock.dt
    b2.set_device("cpp_standalone", build_on_run=False)
    device = b2.get_device()
    codegen_log = logging.getLogger("brian2.codegen.generators.base")
    invasion_filter = _OneToOneInvasion()
    codegen_log.addFilter(invasion_filter)
    try:
        device.reinit()
        device.activate(build_on_run=False)
        b2.defaultclock.dt = s.dt * ms
        n_in = s.n_input
        zeros_in = np.zeros(n_in)
        ta = {name: b2.TimedArray(zeros_in, dt=s.input_dt * ms, name=name) for name in TIME_SERIES}
        n_gen = 2 * (s.n_mn + s.n_ia)
        ectopic_table = b2.TimedArray(
            np.full((s.max_ectopic, n_gen), 1e9) * second, dt=1 * second, name="ectopic_times"
        )
        rate_tab = b2.TimedArray(
            np.zeros((TAB_N, len(RATE_TABLE_COLUMNS))), dt=1 * second, name="rate_tab"
        )
        ns = {
            **ta,
            "ectopic_times": ectopic_table,
            "neurosim_stop_at": neurosim_stop_at,
            "rate_tab": rate_tab,
            "tab_vmin": TAB_VMIN * mV,
            "tab_dv": TAB_DV * mV,
            "tab_last": TAB_N - 1.000001,
        }

        ctrl = b2.NeuronGroup(
            1,
            """run_seed : integer (shared)
               t_stop : second (shared)
               stopped : 1 (shared)""",
            namespace=ns,
            name="ctrl",
        )
        ctrl.run_regularly(
            "stopped = neurosim_stop_at(t, t_stop)", dt=s.record_dt * ms, name="ctrl_stop"
        )

        mn = b2.NeuronGroup(
            s.n_mn,
            _MN_EQS,
            threshold="Vs > v_thr",
            refractory="Vs > v_thr",
            reset="i_pump += pump_j",
            namespace=ns,
            name="mn",
        )
        mn.run_regularly(_MN_STEP, dt=s.dt * ms, when="groups", name="mn_step")
        mn.run_regularly(_MN_NOISE, dt=s.noise_dt * ms, when="start", name="mn_noise")

        # all peripheral axons in one group (fewer code objects, one compile)
        ai = _axon_index(s)
        ax = b2.NeuronGroup(
            ai["total"], _AXON_EQS, threshold="v > 0.5", reset="v = 0\nt_last = t", name="ax"
        )
        ax.t_last = -1 * second
        pre, post, delay = [], [], []
        for cls in ("motor", "ia", "ib"):
            off, n, geo = ai[cls]
            idx = off + np.arange(n * (geo.n_seg - 1))
            hop = max(geo.seg_delay - s.dt, s.dt)
            pre += [idx, idx + n]
            post += [idx + n, idx]
            delay += [np.full(2 * len(idx), hop)]
        hops = b2.Synapses(ax, ax, on_pre=_AXON_FIRE, name="ax_hop")
        hops.connect(i=np.concatenate(pre), j=np.concatenate(post))
        hops.delay = np.concatenate(delay) * ms

        def seg(cls, k, axons):
            off, n, _ = ai[cls]
            return off + k * n + np.asarray(axons)

        units = np.arange(s.n_mn)
        # soma -> axon (orthodromic start) and axon -> soma (antidromic invasion)
        mn_out = b2.Synapses(
            mn, ax, on_pre=_AXON_FIRE, delay=s.delay_initial_segment * ms, name="mn_out"
        )
        mn_out.connect(i=units, j=seg("motor", 0, units))
        invade = b2.Synapses(
            ax,
            mn,
            on_pre="Vs_post += int(t - lastspike_post > inv_guard_post)*(v_inv_post - Vs_post)",
            delay=max(s.delay_initial_segment - s.dt, s.dt) * ms,
            name="invade",
        )
        invade.connect(i=seg("motor", 0, units), j=units)

        mu = b2.NeuronGroup(
            s.n_mn,
            _MU_EQS,
            threshold="act > 0.5",
            reset=_MU_RESET,
            refractory=1 * ms,
            name="mu",
        )
        mu.tlast = -1e6 * second
        mu.run_regularly(_MU_STEP, dt=s.muscle_dt * ms, when="groups", name="mu_step")
        nmj = b2.Synapses(ax, mu, on_pre="act_post = 1", delay=s.delay_nmj * ms, name="nmj")
        nmj.connect(i=seg("motor", s.motor.n_seg - 1, units), j=units)
        muscle = b2.NeuronGroup(1, "force_total : 1", name="muscle")
        fsum = b2.Synapses(
            mu,
            muscle,
            "force_total_post = force_pre : 1 (summed)",
            dt=s.muscle_dt * ms,
            name="fsum",
        )
        fsum.connect(i=units, j=np.zeros(s.n_mn, dtype=int))

        # afferent encoders fire the peripheral end of their axons
        spindle = b2.NeuronGroup(
            s.n_ia, _SPINDLE_EQS, threshold="rand() < rate*dt", namespace=ns, name="spindle"
        )
        ia_units = np.arange(s.n_ia)
        sp_out = b2.Synapses(spindle, ax, on_pre=_AXON_FIRE, name="sp_out")
        sp_out.connect(i=ia_units, j=seg("ia", s.ia.n_seg - 1, ia_units))
        gto = b2.NeuronGroup(s.n_ib, _GTO_EQS, threshold="rand() < rate*dt", name="gto")
        gto.F = b2.linked_var(muscle, "force_total", index=np.zeros(s.n_ib, dtype=int))
        ib_units = np.arange(s.n_ib)
        gto_out = b2.Synapses(gto, ax, on_pre=_AXON_FIRE, name="gto_out")
        gto_out.connect(i=ib_units, j=seg("ib", s.ib.n_seg - 1, ib_units))

        # central synapses
        ia_syn = b2.Synapses(
            ax, mn, on_pre="g_ia_post += w_ia_post", delay=s.delay_central_ia * ms, name="ia_mn"
        )
        pre, post = s.ia_mn
        ia_syn.connect(i=seg("ia", 0, pre), j=np.asarray(post))

        def interneurons(name):
            return b2.NeuronGroup(
                s.n_ibin if name == "ibin" else s.n_rc,
                _IN_EQS,
                threshold="v > 1",
                reset="v = 0",
                refractory="t_ref",
                # not "exact": its solution divides by (tau_s - tau_m)
                method="exponential_euler",
                name=name,
            )

        ibin = interneurons("ibin")
        ib_syn = b2.Synapses(
            ax, ibin, on_pre="I_syn_post += w_in_post", delay=s.delay_ib_ibin * ms, name="ib_in"
        )
        pre, post = s.ib_ibin
        ib_syn.connect(i=seg("ib", 0, pre), j=np.asarray(post))
        ibin_syn = b2.Synapses(
            ibin, mn, on_pre="g_ib_post += w_ib_post", delay=s.delay_ibin_mn * ms, name="ibin_mn"
        )
        pre, post = s.ibin_mn
        ibin_syn.connect(i=np.asarray(pre), j=np.asarray(post))
        rc = interneurons("rc")
        mn_rc = b2.Synapses(
            ax, rc, on_pre="I_syn_post += w_in_post", delay=s.delay_mn_rc * ms, name="mn_rc"
        )
        pre, post = s.mn_rc
        mn_rc.connect(i=seg("motor", 0, pre), j=np.asarray(post))
        rc_mn = b2.Synapses(
            rc, mn, on_pre="g_rc_post += w_rc_post", delay=s.delay_rc_mn * ms, name="rc_mn"
        )
        pre, post = s.rc_mn
        rc_mn.connect(i=np.asarray(pre), j=np.asarray(post))

        # stimulators: the nerve (motor, Ia and Ib axons at the stimulation site) and the
        # tendon (the Ib endings)
        def stimulator(name, rate):
            return b2.NeuronGroup(
                1,
                _STIM_EQS.format(rate=rate),
                threshold=f"phase >= 1 and {rate}(t) > 0",
                # keep the overshoot within a train (no drift of the pulse times); at
                # the start of a train the phase is large and restarts at 0
                reset="phase = (phase - 1)*int(phase < 2)",
                method="euler",
                namespace=ns,
                name=name,
            )

        nervestim = stimulator("nervestim", "nerve_hz")
        tendonstim = stimulator("tendonstim", "tendon_hz")
        sites = np.concatenate(
            [
                seg("motor", s.motor.stim_seg, units),
                seg("ia", s.ia.stim_seg, ia_units),
                seg("ib", s.ib.stim_seg, ib_units),
            ]
        )
        nsyn = b2.Synapses(
            nervestim,
            ax,
            on_pre="v_post = conducts_post*stim_recruited_post*int(t - t_last_post > t_ref_post)",
            name="nervestim_ax",
        )
        nsyn.connect(i=np.zeros(len(sites), dtype=int), j=sites)
        tsyn = b2.Synapses(tendonstim, ax, on_pre=_AXON_FIRE, name="tendonstim_ax")
        tsyn.connect(i=np.zeros(s.n_ib, dtype=int), j=seg("ib", s.ib.n_seg - 1, ib_units))

        # ectopic generators: index 2*axon + d (d = 0 towards the cord, 1 towards the
        # periphery), motor axons first, then Ia. The site is marked as just fired and the
        # spike starts in the neighbouring segment in the given direction.
        ectopic = b2.NeuronGroup(
            n_gen,
            "ptr : integer",
            threshold="t >= ectopic_times(ptr*second, i)",
            reset="ptr += 1",
            namespace=ns,
            name="ectopic",
        )
        gens, site, toward, fire_delay = [], [], [], []
        for gen_off, cls, geo in ((0, "motor", s.motor), (2 * s.n_mn, "ia", s.ia)):
            n = ai[cls][1]
            a = np.arange(n)
            k = geo.ectopic_seg
            gens += [gen_off + 2 * a, gen_off + 2 * a + 1]
            site += [seg(cls, k, a), seg(cls, k, a)]
            toward += [seg(cls, max(k - 1, 0), a), seg(cls, min(k + 1, geo.n_seg - 1), a)]
            fire_delay += [np.full(2 * n, max(geo.seg_delay - s.dt, s.dt))]
        gens = np.concatenate(gens)
        mark = b2.Synapses(ectopic, ax, on_pre="t_last_post = t", name="ect_mark")
        mark.connect(i=gens, j=np.concatenate(site))
        fire = b2.Synapses(ectopic, ax, on_pre=_AXON_FIRE, name="ect_fire")
        fire.connect(i=gens, j=np.concatenate(toward))
        fire.delay = np.concatenate(fire_delay) * ms

        off_ia, off_ib = ai["ia"][0], ai["ib"][0]
        mon = {
            "mn": b2.SpikeMonitor(mn, name="mon_mn"),
            "mu": b2.SpikeMonitor(mu, name="mon_mu"),
            "ia": b2.SpikeMonitor(ax[off_ia : off_ia + s.n_ia], name="mon_ia"),
            "ib": b2.SpikeMonitor(ax[off_ib : off_ib + s.n_ib], name="mon_ib"),
            "rc": b2.SpikeMonitor(rc, name="mon_rc"),
            "ibin": b2.SpikeMonitor(ibin, name="mon_ibin"),
            "stim": b2.SpikeMonitor(nervestim, name="mon_stim"),
        }
        force_mon = b2.StateMonitor(
            muscle, "force_total", record=0, dt=s.record_dt * ms, name="mon_force"
        )
        objects = [ctrl, mn, ax, hops, mn_out, invade, mu, nmj, muscle, fsum]
        objects += [spindle, sp_out, gto, gto_out, ia_syn, ibin, ib_syn, ibin_syn, rc, mn_rc]
        objects += [rc_mn, nervestim, tendonstim, nsyn, tsyn, ectopic, mark, fire]
        objects += list(mon.values()) + [force_mon]
        vmon = None
        if s.record_voltage:
            vmon = b2.StateMonitor(
                mn, ["Vs", "Vd"], record=list(s.record_voltage), dt=s.record_dt * ms, name="mon_v"
            )
            objects.append(vmon)
        net = b2.Network(*objects, name="spinal_net")

        # initial values; the command line (applied after these) overrides them
        mn.Vs = -70 * mV
        mn.Vd = -70 * mV
        nervestim.phase = 1.0
        tendonstim.phase = 1.0
        ctrl.t_stop = s.duration * ms
        device.apply_run_args()
        seed_array = device.get_array_name(ctrl.variables["run_seed"])
        device.insert_code(
            "main",
            "for (size_t _k=0; _k<brian::_random_generators.size(); _k++) "
            f"brian::_random_generators[_k].seed((unsigned long) brian::{seed_array}[0] + _k);",
        )
        net.run(
            s.duration * ms, namespace=ns, profile=bool(os.environ.get("NEUROSIM_BRIAN_PROFILE"))
        )
        directory.mkdir(parents=True, exist_ok=True)
        device.build(directory=str(directory), run=False, compile=True, with_output=False)

        groups = {
            "mn": mn,
            "ax": ax,
            "ibin": ibin,
            "rc": rc,
            "spindle": spindle,
            "gto": gto,
            "mu": mu,
            "ctrl": ctrl,
        }
        arg_names, dtypes = {}, {}
        for name, (gname, var, _unit, _shape) in RUNTIME_VARS.items():
            v = groups[gname].variables[var]
            arg_names[name] = f"{gname}.{var}"
            dtypes[name] = v.dtype
        for name, arr in ta.items():
            arg_names[name] = f"{arr.name}.values"
        arg_names["ectopic"] = "ectopic_times.values"
        arg_names["rate_tab"] = "rate_tab.values"
        result_files = {}
        for key, m in mon.items():
            result_files[key + "_i"] = (device.get_array_filename(m.variables["i"]), np.int32)
            result_files[key + "_t"] = (device.get_array_filename(m.variables["t"]), np.float64)
        result_files["force_t"] = (
            device.get_array_filename(force_mon.variables["t"]),
            np.float64,
        )
        result_files["force"] = (
            device.get_array_filename(force_mon.variables["force_total"]),
            np.float64,
        )
        for key, (grp, var) in {
            "final_vs": (mn, "Vs"),
            "final_vd": (mn, "Vd"),
            "final_ca": (mn, "ca_d"),
            "final_rc": (rc, "v"),
            "final_ibin": (ibin, "v"),
            "final_y2": (mu, "y2"),
        }.items():
            result_files[key] = (device.get_array_filename(grp.variables[var]), np.float64)
        if vmon is not None:
            result_files["vs"] = (device.get_array_filename(vmon.variables["Vs"]), np.float64)
            result_files["vd"] = (device.get_array_filename(vmon.variables["Vd"]), np.float64)
        sizes = {"shared": 1, "mn": s.n_mn, "ia": s.n_ia, "ib": s.n_ib, "ax": ai["total"]}
    finally:
        codegen_log.removeFilter(invasion_filter)
        device.reinit()
        reset_device()
        b2.defaultclock.dt = old_dt
    return {
        "arg_names": arg_names,
        "sizes": sizes,
        "dtypes": dtypes,
        "result_files": result_files,
    }
