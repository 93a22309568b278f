"""Regenerate the MRG double-cable axon reference data ``tests/data/mrg_*.npz`` with NEURON.

McIntyre, Richardson & Grill (2002) J Neurophysiol 87:995 (ModelDB 3810), built from the
numbers and construction rules in neurosim's SCIENCE.md section 3: the paranodal and
internodal sections take the fibre diameter, with Ra scaled by (fibreD/innerD)^2 and cm
and leak by innerD/fibreD; the periaxonal space and myelin are NEURON's ``extracellular``
layer 0, shorted to ground at the nodes. The nodal membrane is ``mod/mrg_node.mod``;
MYSA, FLUT and STIN use ``pas``. One compartment per section, 41 nodes, fixed step
backward Euler.

Run from the repository root::

    .venv/bin/python tests/reference/mrg_neuron.py

The .mod file is compiled on demand into ``tests/reference/build/`` (not committed). Needs
the optional NEURON extra; does not import neurosim.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from neuron import h
from refcommon import (
    first_spike_peak,
    pad_spike_times,
    regenerate_command,
    save_case,
    upward_crossings,
)

HERE = Path(__file__).resolve().parent
MOD_DIR = HERE / "mod"
BUILD_DIR = HERE / "build"

# SCIENCE.md section 3 (McIntyre et al. 2002, Table 1 / ModelDB 3810), one row per fibre
# diameter: fibre D, axon (inner) diameter, node = MYSA diameter, FLUT diameter, node
# spacing (node-to-node period), FLUT length (all um), myelin lamellae.
GEOMETRY_COLUMNS = ("fibre_d", "axon_d", "node_d", "flut_d", "spacing", "flut_l", "lamellae")
GEOMETRY_TABLE = np.array(
    [
        [5.7, 3.4, 1.9, 3.4, 500.0, 35.0, 80.0],
        [7.3, 4.6, 2.4, 4.6, 750.0, 38.0, 100.0],
        [8.7, 5.8, 2.8, 5.8, 1000.0, 40.0, 110.0],
        [10.0, 6.9, 3.3, 6.9, 1150.0, 46.0, 120.0],
        [11.5, 8.1, 3.7, 8.1, 1250.0, 50.0, 130.0],
        [12.8, 9.2, 4.2, 9.2, 1350.0, 54.0, 135.0],
        [14.0, 10.4, 4.7, 10.4, 1400.0, 56.0, 140.0],
        [15.0, 11.5, 5.0, 11.5, 1450.0, 58.0, 145.0],
        [16.0, 12.7, 5.5, 12.7, 1500.0, 60.0, 150.0],
    ]
)

# SCIENCE.md section 3, fixed across diameters.
NODE_L = 1.0  # um
MYSA_L = 3.0  # um
STIN_PER_INTERNODE = 6
SPACE_NODE_MYSA = 0.002  # um, periaxonal space at node and MYSA
SPACE_FLUT_STIN = 0.004  # um, periaxonal space at FLUT and STIN
RHO_A = 70.0  # ohm cm, axoplasm (and periaxonal fluid)
CM_AXOLEMMA = 2.0  # uF/cm2
MYELIN_CM = 0.1  # uF/cm2 per lamella membrane
MYELIN_G = 0.001  # S/cm2 per lamella membrane
G_MYSA = 0.001  # S/cm2, before the innerD/fibreD scaling
G_FLUT_STIN = 0.0001  # S/cm2, before the innerD/fibreD scaling
E_PAS = -80.0  # mV
NODE_XG = 1e10  # S/cm2: periaxonal layer shorted to ground at the nodes
NODE = {
    "gnabar_mrg_node": 3.0,
    "gnapbar_mrg_node": 0.01,
    "gkbar_mrg_node": 0.08,
    "gl_mrg_node": 0.007,
    "ena_mrg_node": 50.0,
    "ek_mrg_node": -90.0,
    "el_mrg_node": -90.0,
}
# NEURON's extracellular has two layers; only layer 0 (periaxonal space + myelin) is
# used. Layer 1 keeps NEURON's defaults, set here explicitly: grounded through 1e9 S/cm2.
LAYER1 = {"xraxial": 1e9, "xg": 1e9, "xc": 0.0}

N_NODES = 41
V_INIT = -80.0  # mV
DT = 0.005  # ms
CELSIUS = 37.0  # degC
STIM = {"node": 0, "delay": 0.5, "dur": 0.1}  # ms
TSTOP = 6.0  # ms
REST_TSTOP = 100.0  # ms
DIAMETERS = (5.7, 8.7, 10.0, 12.8, 16.0)  # um
THRESHOLD_RTOL = 1e-4
RECORD_NODES = (0, 10, 20, 30, 40)
MID_STIN = 6 * 20 + 2  # 3rd STIN of the internode between node[20] and node[21]
CV_NODES = (10, 30)


def geometry(fibre_d):
    """MRG geometry for one fibre diameter, linearly interpolated between table rows.

    Parameters
    ----------
    fibre_d : float
        Fibre diameter (um), within the table's 5.7-16 um.

    Returns
    -------
    dict
        ``GEOMETRY_COLUMNS`` -> value (um, lamellae as a real number) plus ``stin_l``,
        the STIN length (um).
    """
    lo, hi = GEOMETRY_TABLE[0, 0], GEOMETRY_TABLE[-1, 0]
    if not np.isfinite(fibre_d) or not lo <= fibre_d <= hi:
        raise ValueError(f"`fibre_d` = {fibre_d} um is outside the MRG table ({lo}-{hi} um)")
    row = {
        col: float(np.interp(fibre_d, GEOMETRY_TABLE[:, 0], GEOMETRY_TABLE[:, j]))
        for j, col in enumerate(GEOMETRY_COLUMNS)
    }
    row["stin_l"] = (row["spacing"] - NODE_L - 2 * MYSA_L - 2 * row["flut_l"]) / 6
    return row


def periaxonal_xraxial(inner_d, space):
    """Axial resistance of the periaxonal annulus (MOhm/cm).

    Parameters
    ----------
    inner_d : float
        Diameter of the axon inside the annulus (um).
    space : float
        Periaxonal space width (um).
    """
    area_um2 = np.pi * ((inner_d / 2 + space) ** 2 - (inner_d / 2) ** 2)
    return RHO_A / (area_um2 * 1e-8) / 1e6


def section_properties(geo):
    """Electrical properties of each MRG section type for one geometry.

    Parameters
    ----------
    geo : dict
        Output of ``geometry``.

    Returns
    -------
    dict
        Type ("node", "mysa", "flut", "stin") -> L, diam (um), Ra (ohm cm),
        cm (uF/cm2), g_pas (S/cm2, absent for the node), xraxial (MOhm/cm),
        xg (S/cm2), xc (uF/cm2).
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
        }
    }
    internodal = {
        "mysa": (MYSA_L, geo["node_d"], G_MYSA, SPACE_NODE_MYSA),
        "flut": (geo["flut_l"], geo["flut_d"], G_FLUT_STIN, SPACE_FLUT_STIN),
        "stin": (geo["stin_l"], geo["axon_d"], G_FLUT_STIN, SPACE_FLUT_STIN),
    }
    for kind, (length, inner_d, g, space) in internodal.items():
        ratio = inner_d / fd
        props[kind] = {
            "L": length,
            "diam": fd,
            "Ra": RHO_A / ratio**2,
            "cm": CM_AXOLEMMA * ratio,
            "g_pas": g * ratio,
            "xraxial": periaxonal_xraxial(inner_d, space),
            "xg": MYELIN_G / (2 * nl),
            "xc": MYELIN_CM / (2 * nl),
        }
    return props


def load_mechanisms():
    """Compile ``mod/*.mod`` into ``build/`` when stale, and load it into NEURON."""
    mods = sorted(MOD_DIR.glob("*.mod"))
    arch = BUILD_DIR / platform.machine()
    libs = sorted(arch.glob("libnrnmech.*"))
    newest_mod = max(m.stat().st_mtime for m in mods)
    if not libs or libs[0].stat().st_mtime < newest_mod:
        nrnivmodl = Path(sys.executable).with_name("nrnivmodl")
        exe = str(nrnivmodl) if nrnivmodl.exists() else shutil.which("nrnivmodl")
        if exe is None:
            raise RuntimeError("nrnivmodl not found; install the NEURON extra")
        BUILD_DIR.mkdir(exist_ok=True)
        subprocess.run([exe, str(MOD_DIR)], cwd=BUILD_DIR, check=True, capture_output=True)
        libs = sorted(arch.glob("libnrnmech.*"))
    if not h.nrn_load_dll(str(libs[0])):
        raise RuntimeError(f"NEURON could not load {libs[0]}")


def build_axon(props, n_nodes=N_NODES):
    """Create the MRG axon: node-MYSA-FLUT-6 STIN-FLUT-MYSA-node, repeated.

    Parameters
    ----------
    props : dict
        Output of ``section_properties``.
    n_nodes : int
        Number of nodes of Ranvier.

    Returns
    -------
    dict
        "node", "mysa", "flut", "stin" -> list of sections, numbered along the axon
        (internode i holds mysa[2i], mysa[2i+1], flut[2i], flut[2i+1], stin[6i..6i+5]).
    """
    secs = {"node": [], "mysa": [], "flut": [], "stin": []}

    def make(kind):
        p = props[kind]
        sec = h.Section(name=f"{kind}[{len(secs[kind])}]")
        sec.nseg, sec.L, sec.diam, sec.Ra, sec.cm = 1, p["L"], p["diam"], p["Ra"], p["cm"]
        if kind == "node":
            sec.insert("mrg_node")
        else:
            sec.insert("pas")
        sec.insert("extracellular")
        seg = sec(0.5)
        if kind == "node":
            for key, value in NODE.items():
                setattr(seg, key, value)
        else:
            seg.g_pas, seg.e_pas = p["g_pas"], E_PAS
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
    return secs


def run(secs, tstop, sites, celsius, stim_amp=None):
    """Integrate the axon from rest with fixed-step backward Euler.

    Parameters
    ----------
    secs : dict
        Output of ``build_axon``.
    tstop : float
        Duration (ms); the grid is ``DT * arange(round(tstop / DT) + 1)``.
    sites : list of nrn.Section
        Sections whose centre potentials are recorded.
    celsius : float
        Temperature (degC).
    stim_amp : float or None
        IClamp amplitude (nA) at ``node[STIM["node"]]``; None for no stimulus.

    Returns
    -------
    t : ndarray, shape (n_t,)
        Time (ms).
    v : ndarray, shape (len(sites), n_t)
        Membrane potential v = vi - vext[0] (mV).
    vext : ndarray, shape (len(sites), n_t)
        Periaxonal potential vext[0] (mV).
    """
    stim = None
    if stim_amp is not None:
        stim = h.IClamp(secs["node"][STIM["node"]](0.5))
        stim.delay, stim.dur, stim.amp = STIM["delay"], STIM["dur"], stim_amp
    h.celsius = celsius
    h.secondorder = 0
    h.dt = DT
    n_steps = round(tstop / DT)
    t_rec = h.Vector().record(h._ref_t)
    v_rec = [h.Vector().record(sec(0.5)._ref_v) for sec in sites]
    e_rec = [h.Vector().record(sec(0.5)._ref_vext[0]) for sec in sites]
    h.finitialize(V_INIT)
    for _ in range(n_steps):
        h.fadvance()
    t = t_rec.as_numpy().copy()
    if t.size != n_steps + 1 or not np.allclose(t, DT * np.arange(n_steps + 1), atol=1e-9):
        raise RuntimeError(f"recorded time grid is not the fixed grid of dt={DT}")
    del stim
    return t, np.array([r.as_numpy() for r in v_rec]), np.array([r.as_numpy() for r in e_rec])


def propagates(secs, amp, celsius=CELSIUS):
    """Whether an IClamp of ``amp`` nA at node[0] gives a spike at the last node."""
    t, v, _ = run(secs, TSTOP, [secs["node"][-1]], celsius, amp)
    return upward_crossings(t, v[0]).size > 0


def threshold(fibre_d):
    """Smallest IClamp amplitude (nA) that sends an AP from node[0] to the last node.

    Bisection to a relative tolerance of ``THRESHOLD_RTOL``, at ``CELSIUS``, with the
    stimulus timing of ``STIM``.
    """
    secs = build_axon(section_properties(geometry(fibre_d)))
    lo, hi = 0.0, 0.5
    while not propagates(secs, hi):
        lo, hi = hi, 2 * hi
    while hi - lo > THRESHOLD_RTOL * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if propagates(secs, mid) else (mid, hi)
    return hi


def run_case(name, fibre_d, celsius, stim_amp, tstop, record, common_meta):
    """Simulate one MRG case and write ``tests/data/<name>.npz``.

    Parameters
    ----------
    name : str
        Case name (file stem).
    fibre_d : float
        Fibre diameter (um).
    celsius : float
        Temperature (degC).
    stim_amp : float or None
        IClamp amplitude (nA) at node[0]; None for a rest run.
    tstop : float
        Duration (ms).
    record : list of (str, int)
        Recording sites as (section type, index).
    common_meta : dict
        Meta entries shared by all cases (thresholds, versions).

    Returns
    -------
    dict
        Summary: path, CV (m/s), AP peaks (mV), spike counts at the nodes, and the
        largest |v - V_INIT| over the recorded sites (mV).
    """
    geo = geometry(fibre_d)
    props = section_properties(geo)
    secs = build_axon(props)
    nodes = secs["node"]
    sites = [secs[kind][i] for kind, i in record]
    t, v_all, vext_all = run(secs, tstop, sites + nodes, celsius, stim_amp)
    v, vext, v_nodes = v_all[: len(sites)], vext_all[: len(sites)], v_all[len(sites) :]

    trains = [upward_crossings(t, vn) for vn in v_nodes]
    spike_times, spike_counts = pad_spike_times(trains)
    # The STIN axolemma sees only a sliver of the AP (the myelin carries the rest), so the
    # peak is taken on the potential across the whole fibre wall, vi = v + vext[0]; at the
    # nodes vext[0] is shorted to ground and vi is v.
    ap_peak = np.array([first_spike_peak(trace) for trace in v + vext])
    origin = nodes[0](0.5)
    node_a, node_b = (nodes[i] for i in CV_NODES)
    cv_distance = (CV_NODES[1] - CV_NODES[0]) * geo["spacing"]
    if not np.isclose(cv_distance, h.distance(node_a(0.5), node_b(0.5)), rtol=1e-9):
        raise RuntimeError(f"{name}: node spacing does not match the built axon")
    cv = float("nan")
    if stim_amp is not None:
        if spike_counts[-1] == 0:
            raise RuntimeError(f"{name}: the AP did not reach node[{N_NODES - 1}] by {tstop} ms")
        cv = cv_distance / (trains[CV_NODES[1]][0] - trains[CV_NODES[0]][0]) * 1e-3
    max_dev = float(np.abs(v - V_INIT).max())

    stim = None if stim_amp is None else {**STIM, "type": "IClamp at centre", "amp": stim_amp}
    meta = {
        **common_meta,
        "case": name,
        "command": regenerate_command(),
        "dt_ms": DT,
        "tstop_ms": tstop,
        "n_steps": round(tstop / DT),
        "integrator": "fixed step backward Euler (secondorder=0)",
        "celsius_degC": celsius,
        "v_init_mV": V_INIT,
        "fibre_d_um": fibre_d,
        "n_nodes": N_NODES,
        "geometry_um": geo,
        "section_properties": props,
        "extracellular_layer1": LAYER1,
        "node_mechanism": {"mod": "tests/reference/mod/mrg_node.mod", **NODE},
        "e_pas_mV": E_PAS,
        "stimulus_nA_ms": stim,
        "v": "membrane potential vi - vext[0] at section centres (mV)",
        "vext": "periaxonal potential vext[0] at section centres (mV)",
        "distance_convention": "path distance (um) from the centre of node[0]",
        "spike_detection": "upward 0 mV crossing, linear interpolation between samples",
        "ap_peak": "max of vi = v + vext[0] (mV) during its first excursion above 0 mV "
        "at each recording site (vi = v at the nodes)",
        "cv_between": [f"node[{i}]" for i in CV_NODES],
        "cv_distance_um": cv_distance,
        "max_abs_v_minus_v_init_mV": max_dev,
    }
    path = save_case(
        name,
        meta,
        t=t,
        v=v,
        vext=vext,
        site_labels=np.array([f"{kind}[{i}]" for kind, i in record]),
        site_distance_um=np.array([h.distance(origin, sec(0.5)) for sec in sites]),
        spike_sites=np.array([f"node[{i}]" for i in range(N_NODES)]),
        spike_site_distance_um=np.array([h.distance(origin, n(0.5)) for n in nodes]),
        spike_times=spike_times,
        spike_counts=spike_counts,
        ap_peak=ap_peak,
        cv_m_per_s=np.float64(cv),
    )
    return {"path": path, "cv": cv, "ap_peak": ap_peak, "counts": spike_counts, "dev": max_dev}


def main():
    """Find the stimulus amplitude, run every case and print a summary of each."""
    load_mechanisms()
    thresholds = {d: threshold(d) for d in DIAMETERS}
    amp = 2 * max(thresholds.values())
    for d, thr in thresholds.items():
        print(f"threshold D={d} um: {thr:.5f} nA")
    print(f"stimulus amplitude: {amp:.5f} nA")
    common = {
        "model": "McIntyre, Richardson & Grill 2002, J Neurophysiol 87:995 (SCIENCE.md s.3)",
        "neuron_version": h.nrnversion(),
        "threshold_nA_by_fibre_d_um": {str(d): thr for d, thr in thresholds.items()},
        "threshold_criterion": f"AP at node[{N_NODES - 1}] (0 mV crossing) by {TSTOP} ms",
        "threshold_rtol": THRESHOLD_RTOL,
        "stim_amp_rule": "2 x the largest threshold among the five diameters at 37 C",
    }
    traces = [("node", i) for i in RECORD_NODES] + [("stin", MID_STIN)]
    cases = [(f"mrg_D{d:.1f}", d, CELSIUS, amp, TSTOP, traces) for d in DIAMETERS]
    cases.append(("mrg_D10.0_T20", 10.0, 20.0, amp, TSTOP, traces))
    rest_sites = [("node", 0), ("node", 20), ("stin", MID_STIN)]
    cases.append(("mrg_D10.0_rest", 10.0, CELSIUS, None, REST_TSTOP, rest_sites))
    for name, d, celsius, stim_amp, tstop, record in cases:
        out = run_case(name, d, celsius, stim_amp, tstop, record, common)
        peaks = ", ".join(f"{p:.2f}" for p in out["ap_peak"])
        print(
            f"{name}: CV {out['cv']:.3f} m/s, AP peaks [{peaks}] mV, "
            f"max |v - v_init| {out['dev']:.4g} mV, "
            f"node spikes {out['counts'].min()}-{out['counts'].max()} -> {out['path'].name}"
        )


if __name__ == "__main__":
    main()
