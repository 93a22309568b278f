"""Regenerate the human motor and sensory axon reference data with NEURON.

``tests/data/human_{motor,sensory}_D{8.7,10.0,12.8}.npz`` (stimulated, 37 degC),
``..._D10.0_T20.npz`` (20 degC), ``..._D10.0_rest.npz`` (no stimulus, 100 ms) and
``..._D10.0_sd.npz`` (thresholds at several pulse durations) and ``..._D10.0_step.npz``
(100 ms current steps: accommodation). ``human_neuron.py step`` writes only the last.

The axon is the MRG double cable of ``mrg_neuron.py`` (same geometry, myelin, periaxonal
space, built the same way) with the membrane of the human axon models of Gaines et al.
(2018, J Comput Neurosci 45:29; ModelDB 243841) as neurosim's SCIENCE.md section 3 and
``models/axon/human_*.toml`` describe them: the nodes carry ``mod/human_node.mod`` (fast
and persistent Na, slow K, fast K, leak), MYSA, FLUT and STIN carry
``mod/human_internode.mod`` (fast K, slow K, HCN, leak) with the per-axolemma densities
multiplied by innerD/fibreD. Fast K, HCN and internodal slow K scale with Q10 3 from
34 degC. Every number is written out below; nothing is read from neurosim.

The axon starts at its resting state: from v = -80 mV with steady-state gates, backward
Euler steps of 0.5 ms (whose fixed point is the exact steady state of the equations) run
until no potential changes by more than 1e-9 mV over 50 ms; then t is reset to 0 and
the run proceeds at dt = 5 us. Run from the repository root::

    .venv/bin/python tests/reference/human_neuron.py

Needs the optional NEURON extra; ``mod/*.mod`` are compiled into ``build/`` on demand.
"""

from __future__ import annotations

import sys

import numpy as np
from mrg_neuron import (
    CM_AXOLEMMA,
    CV_NODES,
    DT,
    LAYER1,
    MID_STIN,
    MYELIN_CM,
    MYELIN_G,
    MYSA_L,
    N_NODES,
    NODE_L,
    NODE_XG,
    RECORD_NODES,
    RHO_A,
    SPACE_FLUT_STIN,
    SPACE_NODE_MYSA,
    STIM,
    STIN_PER_INTERNODE,
    TSTOP,
    V_INIT,
    geometry,
    load_mechanisms,
    periaxonal_xraxial,
)
from neuron import h
from refcommon import (
    first_spike_peak,
    pad_spike_times,
    regenerate_command,
    save_case,
    upward_crossings,
)

CELSIUS = 37.0
DIAMETERS = (8.7, 10.0, 12.8)
REST_TSTOP = 100.0
RELAX_DT = 0.5  # ms
RELAX_CHUNK = 100  # steps
RELAX_TOL = 1e-9  # mV per chunk
RELAX_MAX_CHUNKS = 400
THRESHOLD_RTOL = 1e-4
# strength-duration thresholds: test pulse at node[20], AP must reach node[35]
SD_SITE, SD_DETECT = 20, 35
SD_DELAY = 1.0  # ms
SD_WINDOW = 3.0  # ms after the pulse end
SD_DURATIONS = (0.05, 0.1, 0.2, 0.5, 1.0)  # ms
# accommodation: a long current step at node[20] (README, "What the model does not
# reproduce": the axons fire once at the onset of a sustained depolarisation)
STEP_DELAY, STEP_DUR, STEP_TSTOP = 5.0, 100.0, 150.0  # ms
STEP_AMPS = (1.0, 3.0)  # nA
STEP_EVERY = 20  # keep every 20th sample (0.1 ms) of the traces

# Gaines et al. 2018 (ModelDB 243841) node_*, mysa_*, flut_*, stin_* parameter sets.
# Node densities in S/cm2 of nodal membrane; internodal densities per axolemma area
# (multiplied by innerD/fibreD below); reversals in mV; Na rate constants as the
# RANGE parameters of human_node.mod (1/ms, mV).
VARIANTS = {
    "human_motor": {
        "node": {
            "gnabar": 3.0,
            "gnapbar": 0.01,
            "gksbar": 0.08,
            "gkfbar": 0.02568,
            "gl": 0.007,
            "ena": 50.0,
            "ek": -90.0,
            "el": -90.0,
            "am_A": 1.86,
            "am_V": -20.4,
            "bm_A": 0.086,
            "bm_V": -25.7,
            "ah_A": 0.062,
            "ah_V": -114.0,
            "ah_k": 11.0,
            "bh_A": 2.3,
            "bh_V": -31.8,
            "bh_k": 13.4,
            "amp_A": 0.01,
            "amp_V": -27.0,
            "bmp_A": 0.00025,
            "bmp_V": -34.0,
            "tref_kf": 34.0,
        },
        "mysa": {"gkfbar": 0.15074, "gksbar": 0.002581, "ghbar": 0.002232, "gl": 0.002},
        "flut": {"gkfbar": 0.02568, "gksbar": 0.002581, "ghbar": 0.002232, "gl": 0.0002},
        "stin": {"gkfbar": 0.02568, "gksbar": 0.002581, "ghbar": 0.002232, "gl": 0.0002},
        "internode_common": {
            "ek": -90.0,
            "eh": -54.9,
            "el": -90.0,
            "vhalf_q": -107.3,
            "tref": 34.0,
        },
    },
    "human_sensory": {
        "node": {
            "gnabar": 3.0,
            "gnapbar": 0.01,
            "gksbar": 0.04106,
            "gkfbar": 0.02737,
            "gl": 0.006005,
            "ena": 50.0,
            "ek": -90.0,
            "el": -90.0,
            "am_A": 1.77753,
            "am_V": -20.1795,
            "bm_A": 0.0823,
            "bm_V": -25.4746,
            "ah_A": 0.075286,
            "ah_V": -112.7124,
            "ah_k": 8.3910,
            "bh_A": 2.8083,
            "bh_V": -30.5435,
            "bh_k": 10.2263,
            "amp_A": 0.00957,
            "amp_V": -26.852,
            "bmp_A": 0.0002401,
            "bmp_V": -33.8333,
            "tref_kf": 34.0,
        },
        "mysa": {"gkfbar": 0.1642, "gksbar": 0.001324, "ghbar": 0.003102, "gl": 0.001716},
        "flut": {"gkfbar": 0.02737, "gksbar": 0.001324, "ghbar": 0.003102, "gl": 0.0001716},
        "stin": {"gkfbar": 0.02737, "gksbar": 0.001324, "ghbar": 0.003102, "gl": 0.0001716},
        "internode_common": {"ek": -90.0, "eh": -54.9, "el": -90.0, "vhalf_q": -94.2, "tref": 34.0},
    },
}


def section_properties(geo, variant):
    """Passive properties and membrane parameters of each section type.

    Parameters
    ----------
    geo : dict
        ``mrg_neuron.geometry`` output.
    variant : dict
        One entry of ``VARIANTS``.

    Returns
    -------
    dict
        Type -> L, diam (um), Ra (ohm cm), cm (uF/cm2), xraxial (MOhm/cm), xg (S/cm2),
        xc (uF/cm2), mech (dict of mechanism RANGE values, densities already scaled).
    """
    fd, nl = geo["fibre_d"], geo["lamellae"]
    props = {
        "node": {
            "L": NODE_L,
            "diam": geo["node_d"],
            "Ra": RHO_A,
            "cm": CM_AXOLEMMA,
            "xraxial": periaxonal_xraxial(geo["node_d"], SPACE_NODE_MYSA),
            "xg": NODE_XG,
            "xc": 0.0,
            "mech": dict(variant["node"]),
        }
    }
    internodal = {
        "mysa": (MYSA_L, geo["node_d"], SPACE_NODE_MYSA),
        "flut": (geo["flut_l"], geo["flut_d"], SPACE_FLUT_STIN),
        "stin": (geo["stin_l"], geo["axon_d"], SPACE_FLUT_STIN),
    }
    for kind, (length, inner_d, space) in internodal.items():
        ratio = inner_d / fd
        mech = {k: g * ratio for k, g in variant[kind].items()}
        mech.update(variant["internode_common"])
        props[kind] = {
            "L": length,
            "diam": fd,
            "Ra": RHO_A / ratio**2,
            "cm": CM_AXOLEMMA * ratio,
            "xraxial": periaxonal_xraxial(inner_d, space),
            "xg": MYELIN_G / (2 * nl),
            "xc": MYELIN_CM / (2 * nl),
            "mech": mech,
        }
    return props


def build_axon(props, n_nodes=N_NODES):
    """The axon node-MYSA-FLUT-6 STIN-FLUT-MYSA-node..., numbered as ``mrg_neuron``.

    Returns
    -------
    dict
        "node", "mysa", "flut", "stin" -> list of sections; "clamps" -> IClamp at
        node[i] by node index (the stimulus and strength-duration sites).
    """
    secs = {"node": [], "mysa": [], "flut": [], "stin": []}

    def make(kind):
        p = props[kind]
        sec = h.Section(name=f"{kind}[{len(secs[kind])}]")
        sec.nseg, sec.L, sec.diam, sec.Ra, sec.cm = 1, p["L"], p["diam"], p["Ra"], p["cm"]
        suffix = "human_node" if kind == "node" else "human_internode"
        sec.insert(suffix)
        sec.insert("extracellular")
        seg = sec(0.5)
        for key, value in p["mech"].items():
            setattr(seg, f"{key}_{suffix}", value)
        seg.xraxial[0], seg.xg[0], seg.xc[0] = p["xraxial"], p["xg"], p["xc"]
        seg.xraxial[1], seg.xg[1], seg.xc[1] = LAYER1["xraxial"], LAYER1["xg"], LAYER1["xc"]
        seg.e_extracellular = 0.0
        secs[kind].append(sec)
        return sec

    order = ["mysa", "flut"] + ["stin"] * STIN_PER_INTERNODE + ["flut", "mysa", "node"]
    previous = make("node")
    for _ in range(n_nodes - 1):
        for kind in order:
            sec = make(kind)
            sec.connect(previous(1), 0)
            previous = sec
    # every IClamp exists from the start (amplitude 0 when unused), so that the saved
    # resting state and the runs have the same set of point processes
    secs["clamps"] = {}
    for i in (STIM["node"], SD_SITE):
        c = h.IClamp(secs["node"][i](0.5))
        c.delay, c.dur, c.amp = 0.0, 0.0, 0.0
        secs["clamps"][i] = c
    return secs


NODE_STATES = ("m", "h", "mp", "s", "n")
INTERNODE_STATES = ("n", "s", "q")


def snapshot(secs):
    """Every state variable of the axon: v, both extracellular layers, gates.

    Returns
    -------
    list of tuple
        Per section (in ``secs`` order): v, vext[0], vext[1] and the gate values.
    """
    snap = []
    for kind in ("node", "mysa", "flut", "stin"):
        names = NODE_STATES if kind == "node" else INTERNODE_STATES
        mech = "human_node" if kind == "node" else "human_internode"
        for sec in secs[kind]:
            seg = sec(0.5)
            gates = tuple(getattr(seg, f"{g}_{mech}") for g in names)
            snap.append((seg.v, seg.vext[0], seg.vext[1], gates))
    return snap


def restore(secs, snap):
    """Write a ``snapshot`` back (after ``h.finitialize``)."""
    it = iter(snap)
    for kind in ("node", "mysa", "flut", "stin"):
        names = NODE_STATES if kind == "node" else INTERNODE_STATES
        mech = "human_node" if kind == "node" else "human_internode"
        for sec in secs[kind]:
            seg = sec(0.5)
            v, e0, e1, gates = next(it)
            seg.v, seg.vext[0], seg.vext[1] = v, e0, e1
            for g, x in zip(names, gates, strict=True):
                setattr(seg, f"{g}_{mech}", x)


def relax_to_rest(secs, celsius):
    """Initialise at v = V_INIT, then integrate without stimuli to the resting state.

    Returns
    -------
    list
        The resting state (``snapshot``), to ``restore`` after ``h.finitialize``.
    chunks : int
        Chunks of ``RELAX_CHUNK`` steps it took.
    """
    all_secs = [s for kind in ("node", "mysa", "flut", "stin") for s in secs[kind]]
    h.celsius = celsius
    h.secondorder = 0
    h.dt = RELAX_DT
    h.finitialize(V_INIT)
    for chunk in range(1, RELAX_MAX_CHUNKS + 1):  # noqa: B007 (returned below)
        before = np.array([s(0.5).v for s in all_secs])
        for _ in range(RELAX_CHUNK):
            h.fadvance()
        after = np.array([s(0.5).v for s in all_secs])
        if np.abs(after - before).max() < RELAX_TOL:
            break
    else:
        raise RuntimeError("no resting state within the relaxation budget")
    return snapshot(secs), chunk


def run(secs, state, tstop, sites, celsius, stims=()):
    """Integrate from the saved resting state with fixed-step backward Euler.

    Parameters
    ----------
    secs : dict
        ``build_axon`` output.
    state : list
        From ``relax_to_rest`` (same axon, same temperature).
    tstop : float
        Duration (ms).
    sites : list of nrn.Section
        Sections whose centre potentials are recorded.
    celsius : float
        Temperature (degC).
    stims : sequence of (int, delay, dur, amp)
        Node index (a key of ``secs["clamps"]``), onset (ms), duration (ms), nA.

    Returns
    -------
    t, v, vext : ndarray
        Time (ms), membrane potential and periaxonal potential (mV), (len(sites), n_t).
    """
    for c in secs["clamps"].values():
        c.delay, c.dur, c.amp = 0.0, 0.0, 0.0
    for node, delay, dur, amp in stims:
        c = secs["clamps"][node]
        c.delay, c.dur, c.amp = delay, dur, amp
    h.celsius = celsius
    h.secondorder = 0
    t_rec = h.Vector().record(h._ref_t)
    v_rec = [h.Vector().record(sec(0.5)._ref_v) for sec in sites]
    e_rec = [h.Vector().record(sec(0.5)._ref_vext[0]) for sec in sites]
    h.dt = DT
    h.finitialize(V_INIT)
    restore(secs, state)
    h.frecord_init()
    n_steps = round(tstop / DT)
    for _ in range(n_steps):
        h.fadvance()
    t = t_rec.as_numpy().copy()
    if t.size != n_steps + 1 or not np.allclose(t, DT * np.arange(n_steps + 1), atol=1e-9):
        raise RuntimeError(f"recorded time grid is not the fixed grid of dt={DT}")
    return t, np.array([r.as_numpy() for r in v_rec]), np.array([r.as_numpy() for r in e_rec])


def threshold(secs, state, celsius, site, detect, delay, dur, limit):
    """Smallest IClamp (nA) at node[``site``] whose AP crosses 0 mV at ``detect`` by ``limit``.

    Bisection to a relative tolerance of ``THRESHOLD_RTOL``, from the resting state.
    """

    def fires(amp):
        t, v, _ = run(secs, state, limit, [detect], celsius, [(site, delay, dur, amp)])
        return upward_crossings(t, v[0]).size > 0

    lo, hi = 0.0, 0.5
    while not fires(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > THRESHOLD_RTOL * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    return hi


def run_case(name, variant, fibre_d, celsius, stim_amp, tstop, record, common_meta):
    """Simulate one case from rest and write ``tests/data/<name>.npz``.

    Returns
    -------
    dict
        Summary: path, CV (m/s), AP peaks (mV), node spike counts, rest potentials (mV) at
        the recording sites and the largest |v - v(0)| over the run (mV).
    """
    geo = geometry(fibre_d)
    props = section_properties(geo, VARIANTS[variant])
    secs = build_axon(props)
    nodes = secs["node"]
    sites = [secs[kind][i] for kind, i in record]
    state, chunks = relax_to_rest(secs, celsius)
    stims = [] if stim_amp is None else [(STIM["node"], STIM["delay"], STIM["dur"], stim_amp)]
    t, v_all, vext_all = run(secs, state, tstop, sites + nodes, celsius, stims)
    v, vext, v_nodes = v_all[: len(sites)], vext_all[: len(sites)], v_all[len(sites) :]
    trains = [upward_crossings(t, vn) for vn in v_nodes]
    spike_times, spike_counts = pad_spike_times(trains)
    ap_peak = np.array([first_spike_peak(trace) for trace in v + vext])
    origin = nodes[0](0.5)
    cv_distance = (CV_NODES[1] - CV_NODES[0]) * geo["spacing"]
    cv = float("nan")
    if stim_amp is not None:
        if spike_counts[-1] == 0:
            raise RuntimeError(f"{name}: the AP did not reach node[{N_NODES - 1}] by {tstop} ms")
        cv = cv_distance / (trains[CV_NODES[1]][0] - trains[CV_NODES[0]][0]) * 1e-3
    v_rest = v[:, 0].copy()
    max_dev = float(np.abs(v - v_rest[:, None]).max())
    stim = None if stim_amp is None else {**STIM, "type": "IClamp at centre", "amp": stim_amp}
    meta = {
        **common_meta,
        "case": name,
        "variant": variant,
        "command": regenerate_command(),
        "dt_ms": DT,
        "tstop_ms": tstop,
        "n_steps": round(tstop / DT),
        "integrator": "fixed step backward Euler (secondorder=0)",
        "celsius_degC": celsius,
        "initial_state": f"resting state: from v_init {V_INIT} mV, backward Euler at "
        f"{RELAX_DT} ms until max |dv| < {RELAX_TOL} mV per {RELAX_CHUNK} steps "
        f"({chunks} chunks), then t = 0",
        "fibre_d_um": fibre_d,
        "n_nodes": N_NODES,
        "geometry_um": geo,
        "section_properties": props,
        "extracellular_layer1": LAYER1,
        "stimulus_nA_ms": stim,
        "v": "membrane potential vi - vext[0] at section centres (mV)",
        "vext": "periaxonal potential vext[0] at section centres (mV)",
        "v_rest": "v at t = 0 (the resting state) at the recording sites (mV)",
        "distance_convention": "path distance (um) from the centre of node[0]",
        "spike_detection": "upward 0 mV crossing, linear interpolation between samples",
        "ap_peak": "max of vi = v + vext[0] (mV) during its first excursion above 0 mV",
        "cv_between": [f"node[{i}]" for i in CV_NODES],
        "cv_distance_um": cv_distance,
        "max_abs_v_minus_v_rest_mV": max_dev,
    }
    path = save_case(
        name,
        meta,
        t=t,
        v=v,
        vext=vext,
        v_rest=v_rest,
        site_labels=np.array([f"{kind}[{i}]" for kind, i in record]),
        site_distance_um=np.array([h.distance(origin, sec(0.5)) for sec in sites]),
        spike_sites=np.array([f"node[{i}]" for i in range(N_NODES)]),
        spike_site_distance_um=np.array([h.distance(origin, n(0.5)) for n in nodes]),
        spike_times=spike_times,
        spike_counts=spike_counts,
        ap_peak=ap_peak,
        cv_m_per_s=np.float64(cv),
    )
    return {
        "path": path,
        "cv": cv,
        "ap_peak": ap_peak,
        "counts": spike_counts,
        "v_rest": v_rest,
        "dev": max_dev,
    }


def strength_duration_case(name, variant, fibre_d, common_meta):
    """Thresholds at ``SD_DURATIONS`` (test at node[SD_SITE], AP at node[SD_DETECT])."""
    geo = geometry(fibre_d)
    props = section_properties(geo, VARIANTS[variant])
    secs = build_axon(props)
    state, chunks = relax_to_rest(secs, CELSIUS)
    detect = secs["node"][SD_DETECT]
    thresholds = np.array(
        [
            threshold(secs, state, CELSIUS, SD_SITE, detect, SD_DELAY, d, SD_DELAY + d + SD_WINDOW)
            for d in SD_DURATIONS
        ]
    )
    meta = {
        **common_meta,
        "case": name,
        "variant": variant,
        "command": regenerate_command(),
        "dt_ms": DT,
        "celsius_degC": CELSIUS,
        "fibre_d_um": fibre_d,
        "n_nodes": N_NODES,
        "section_properties": props,
        "initial_state": f"resting state ({chunks} relaxation chunks), as the other cases",
        "test_site": f"node[{SD_SITE}]",
        "detect_site": f"node[{SD_DETECT}]",
        "test_delay_ms": SD_DELAY,
        "criterion": f"0 mV crossing at node[{SD_DETECT}] by delay + duration + {SD_WINDOW} ms",
        "threshold_rtol": THRESHOLD_RTOL,
    }
    path = save_case(
        name,
        meta,
        durations_ms=np.array(SD_DURATIONS),
        thresholds_nA=thresholds,
    )
    return path, thresholds


def step_case(name, variant, fibre_d, common_meta):
    """Long current steps at node[SD_SITE]: spike counts at every node and the
    potential at the step site and at node[SD_DETECT] (every ``STEP_EVERY``-th sample)."""
    geo = geometry(fibre_d)
    props = section_properties(geo, VARIANTS[variant])
    secs = build_axon(props)
    state, chunks = relax_to_rest(secs, CELSIUS)
    sites = [secs["node"][SD_SITE], secs["node"][SD_DETECT]]
    counts, first, traces = [], [], []
    for amp in STEP_AMPS:
        stims = [(SD_SITE, STEP_DELAY, STEP_DUR, amp)]
        t, v, _ = run(secs, state, STEP_TSTOP, sites + secs["node"], CELSIUS, stims)
        trains = [upward_crossings(t, vn) for vn in v[len(sites) :]]
        spike_times, spike_counts = pad_spike_times(trains)
        counts.append(spike_counts)
        first.append(spike_times[:, 0])
        traces.append(v[: len(sites), ::STEP_EVERY])
    meta = {
        **common_meta,
        "case": name,
        "variant": variant,
        "command": regenerate_command(),
        "dt_ms": DT,
        "tstop_ms": STEP_TSTOP,
        "integrator": "fixed step backward Euler (secondorder=0)",
        "celsius_degC": CELSIUS,
        "fibre_d_um": fibre_d,
        "n_nodes": N_NODES,
        "section_properties": props,
        "initial_state": f"resting state ({chunks} relaxation chunks), as the other cases",
        "step": {"node": SD_SITE, "delay_ms": STEP_DELAY, "dur_ms": STEP_DUR},
        "amps_nA": list(STEP_AMPS),
        "v": f"membrane potential (mV) at node[{SD_SITE}] and node[{SD_DETECT}], every "
        f"{STEP_EVERY}th sample",
        "spike_detection": "upward 0 mV crossing, linear interpolation between samples",
    }
    path = save_case(
        name,
        meta,
        t=t[::STEP_EVERY],
        v=np.array(traces),
        amps_nA=np.array(STEP_AMPS),
        site_labels=np.array([f"node[{SD_SITE}]", f"node[{SD_DETECT}]"]),
        spike_counts=np.array(counts),
        first_spike_ms=np.array(first),
    )
    return path, np.array(counts)


def main(only=None):
    """Find each variant's stimulus amplitude, run every case and print a summary.

    ``only = "step"`` (``human_neuron.py step``) writes only the long-step cases."""
    if only not in (None, "step"):
        raise SystemExit(f"usage: human_neuron.py [step]; got {only!r}")
    load_mechanisms()
    for variant in VARIANTS:
        model_meta = {
            "model": f"{variant}: MRG double cable (SCIENCE.md s.3) with the Gaines et al. 2018 "
            "(ModelDB 243841) parameter set, fast K/HCN/internodal Ks Q10 3 from 34 degC",
            "neuron_version": h.nrnversion(),
        }
        if only == "step":
            path, counts = step_case(f"{variant}_D10.0_step", variant, 10.0, model_meta)
            print(f"{variant} step spikes per node {counts.min(1)}-{counts.max(1)} -> {path.name}")
            continue
        thresholds = {}
        for d in DIAMETERS:
            geo = geometry(d)
            secs = build_axon(section_properties(geo, VARIANTS[variant]))
            state, _ = relax_to_rest(secs, CELSIUS)
            thresholds[d] = threshold(
                secs, state, CELSIUS, STIM["node"], secs["node"][-1],
                STIM["delay"], STIM["dur"], TSTOP,
            )  # fmt: skip
            del secs, state
        amp = 2 * max(thresholds.values())
        print(f"{variant}: thresholds {thresholds} nA; stimulus {amp:.5f} nA")
        common = {
            **model_meta,
            "threshold_nA_by_fibre_d_um": {str(d): thr for d, thr in thresholds.items()},
            "threshold_criterion": f"AP at node[{N_NODES - 1}] (0 mV crossing) by {TSTOP} ms",
            "threshold_rtol": THRESHOLD_RTOL,
            "stim_amp_rule": "2 x the largest threshold among the diameters at 37 C",
        }
        traces = [("node", i) for i in RECORD_NODES] + [("stin", MID_STIN)]
        cases = [(f"{variant}_D{d:.1f}", d, CELSIUS, amp, TSTOP, traces) for d in DIAMETERS]
        cases.append((f"{variant}_D10.0_T20", 10.0, 20.0, amp, TSTOP, traces))
        rest_sites = [("node", 0), ("node", 20), ("stin", MID_STIN)]
        cases.append((f"{variant}_D10.0_rest", 10.0, CELSIUS, None, REST_TSTOP, rest_sites))
        for name, d, celsius, stim_amp, tstop, record in cases:
            out = run_case(name, variant, d, celsius, stim_amp, tstop, record, common)
            peaks = ", ".join(f"{p:.2f}" for p in out["ap_peak"])
            rest = ", ".join(f"{x:.4f}" for x in out["v_rest"])
            print(
                f"{name}: CV {out['cv']:.3f} m/s, AP peaks [{peaks}] mV, rest [{rest}] mV, "
                f"max |v - v_rest| {out['dev']:.4g} mV, node spikes "
                f"{out['counts'].min()}-{out['counts'].max()} -> {out['path'].name}"
            )
        path, thr = strength_duration_case(f"{variant}_D10.0_sd", variant, 10.0, common)
        print(f"{variant} strength-duration thresholds {np.round(thr, 5)} nA -> {path.name}")
        path, counts = step_case(f"{variant}_D10.0_step", variant, 10.0, common)
        print(f"{variant} step spikes per node {counts.min(1)}-{counts.max(1)} -> {path.name}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
