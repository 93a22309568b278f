"""Regenerate the Hodgkin-Huxley cable reference data ``tests/data/hh_*.npz`` with NEURON.

Hodgkin & Huxley (1952) J Physiol 117:500, through NEURON's built-in ``hh`` mechanism with
exact rates (``usetable_hh = 0``), on a straight cable and on a branched tree. Fixed time
step; backward Euler unless a case asks for Crank-Nicolson (``secondorder = 2``).

Run from the repository root::

    .venv/bin/python tests/reference/hh_cable_neuron.py [--out DIR]

``--out`` writes the files to another folder (default ``tests/data``); the test suite
uses it to check that the committed data are still what this script produces.

Needs the optional NEURON extra; does not import neurosim.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import refcommon
from neuron import h
from refcommon import (
    first_spike_peak,
    pad_spike_times,
    regenerate_command,
    save_case,
    upward_crossings,
)

DT = 0.025  # ms
V_INIT = -65.0  # mV
RA = 100.0  # ohm cm
CM = 1.0  # uF/cm2
# NEURON's hh defaults, set explicitly so a change of default cannot move the data.
HH = {"gnabar_hh": 0.12, "gkbar_hh": 0.036, "gl_hh": 0.0003, "el_hh": -54.3}
ENA, EK = 50.0, -77.0  # mV

CABLE = {"cable": {"L": 10000.0, "diam": 10.0, "nseg": 100, "parent": None}}
TREE = {
    "trunk": {"L": 2000.0, "diam": 4.0, "nseg": 40, "parent": None},
    "d1": {"L": 1500.0, "diam": 2.5, "nseg": 30, "parent": "trunk"},
    "d2": {"L": 1000.0, "diam": 1.6, "nseg": 25, "parent": "trunk"},
}

# Recording sites are (section, segment index); the trace is taken at the segment centre.
CABLE_SITES = [("cable", i) for i in (0, 25, 50, 75, 99)]
TREE_SITES = [
    ("trunk", 0),
    ("trunk", 20),
    ("trunk", 39),
    ("d1", 15),
    ("d1", 29),
    ("d2", 12),
    ("d2", 24),
]

CASES = {
    "hh_cable_be": {
        "morphology": CABLE,
        "celsius": 6.3,
        "secondorder": 0,
        "tstop": 50.0,
        "stim": {"section": "cable", "x": 0.005, "delay": 1.0, "dur": 0.5, "amp": 20.0},
        "sites": CABLE_SITES,
        "cv_pair": [("cable", 25), ("cable", 75)],
    },
    "hh_cable_cn": {
        "morphology": CABLE,
        "celsius": 6.3,
        "secondorder": 2,
        "tstop": 50.0,
        "stim": {"section": "cable", "x": 0.005, "delay": 1.0, "dur": 0.5, "amp": 20.0},
        "sites": CABLE_SITES,
        "cv_pair": [("cable", 25), ("cable", 75)],
    },
    "hh_cable_warm": {
        "morphology": CABLE,
        "celsius": 18.5,
        "secondorder": 0,
        "tstop": 30.0,
        "stim": {"section": "cable", "x": 0.005, "delay": 1.0, "dur": 0.5, "amp": 20.0},
        "sites": CABLE_SITES,
        "cv_pair": [("cable", 25), ("cable", 75)],
    },
    "hh_tree_be": {
        "morphology": TREE,
        "celsius": 6.3,
        "secondorder": 0,
        "tstop": 30.0,
        "stim": {"section": "trunk", "x": 0.0125, "delay": 1.0, "dur": 0.5, "amp": 5.0},
        "sites": TREE_SITES,
        "cv_pair": [("trunk", 10), ("trunk", 30)],
    },
}


def build(morphology):
    """Create the sections of ``morphology`` with passive properties and ``hh``.

    Parameters
    ----------
    morphology : dict
        Section name -> {"L" (um), "diam" (um), "nseg", "parent"}; a child's x=0 end is
        attached to its parent's x=1 end.

    Returns
    -------
    dict
        Section name -> ``nrn.Section``.
    """
    secs = {}
    for name, geo in morphology.items():
        sec = h.Section(name=name)
        sec.L, sec.diam, sec.nseg = geo["L"], geo["diam"], geo["nseg"]
        sec.Ra, sec.cm = RA, CM
        sec.insert("hh")
        for seg in sec:
            for key, value in HH.items():
                setattr(seg, key, value)
            seg.ena, seg.ek = ENA, EK
        if geo["parent"] is not None:
            sec.connect(secs[geo["parent"]](1), 0)
        secs[name] = sec
    return secs


def centre(sec, i):
    """Segment ``i`` of ``sec`` (its centre, x = (i + 0.5) / nseg)."""
    return sec((i + 0.5) / sec.nseg)


def run_case(name, case):
    """Simulate one case and write ``tests/data/<name>.npz``.

    Parameters
    ----------
    name : str
        Case name (file stem).
    case : dict
        One entry of ``CASES``.

    Returns
    -------
    dict
        Summary: file path, CV (m/s), AP peaks (mV) and spike counts.
    """
    secs = build(case["morphology"])
    stim_cfg = case["stim"]
    stim_seg = secs[stim_cfg["section"]](stim_cfg["x"])
    stim = h.IClamp(stim_seg)
    stim.delay, stim.dur, stim.amp = stim_cfg["delay"], stim_cfg["dur"], stim_cfg["amp"]

    h.usetable_hh = 0
    h.celsius = case["celsius"]
    h.secondorder = case["secondorder"]
    h.dt = DT
    n_steps = round(case["tstop"] / DT)

    all_sites = [(s, i) for s, sec in secs.items() for i in range(sec.nseg)]
    t_rec = h.Vector().record(h._ref_t)
    v_rec = [h.Vector().record(centre(secs[s], i)._ref_v) for s, i in all_sites]

    h.finitialize(V_INIT)
    for _ in range(n_steps):
        h.fadvance()

    t = t_rec.as_numpy().copy()
    if t.size != n_steps + 1 or not np.allclose(t, DT * np.arange(n_steps + 1), atol=1e-9):
        raise RuntimeError(f"{name}: recorded time grid is not the fixed grid of dt={DT}")
    v_all = np.array([vec.as_numpy() for vec in v_rec])
    index = {site: k for k, site in enumerate(all_sites)}

    trains = [upward_crossings(t, v) for v in v_all]
    spike_times, spike_counts = pad_spike_times(trains)
    if name.startswith("hh_tree") and spike_counts.min() == 0:
        raise RuntimeError(f"{name}: {stim_cfg['amp']} nA does not fire every branch")

    rows = [index[site] for site in case["sites"]]
    v = v_all[rows]
    ap_peak = np.array([first_spike_peak(trace) for trace in v])
    (sa, ia), (sb, ib) = case["cv_pair"]
    seg_a, seg_b = centre(secs[sa], ia), centre(secs[sb], ib)
    t_a, t_b = trains[index[(sa, ia)]][0], trains[index[(sb, ib)]][0]
    cv_distance = h.distance(seg_a, seg_b)
    cv = cv_distance / (t_b - t_a) * 1e-3  # um/ms -> m/s

    def dist(site):
        return h.distance(stim_seg, centre(secs[site[0]], site[1]))

    meta = {
        "case": name,
        "model": "NEURON built-in hh; Hodgkin & Huxley 1952, J Physiol 117:500",
        "neuron_version": h.nrnversion(),
        "command": regenerate_command(),
        "dt_ms": DT,
        "tstop_ms": case["tstop"],
        "n_steps": n_steps,
        "integrator": "fixed step, "
        + ("Crank-Nicolson (secondorder=2)" if case["secondorder"] else "backward Euler"),
        "secondorder": case["secondorder"],
        "usetable_hh": 0,
        "celsius_degC": case["celsius"],
        "v_init_mV": V_INIT,
        "Ra_ohm_cm": RA,
        "cm_uF_per_cm2": CM,
        "hh_S_per_cm2_and_mV": HH,
        "ena_mV": ENA,
        "ek_mV": EK,
        "sections_um": case["morphology"],
        "connection": "child x=0 attached to parent x=1",
        "stimulus": {**stim_cfg, "type": "IClamp", "units": "ms, nA"},
        "site_convention": "name[i] is the centre of segment i, x=(i+0.5)/nseg",
        "distance_convention": "path distance (um) from the stimulated segment centre",
        "spike_detection": "upward 0 mV crossing, linear interpolation between samples",
        "ap_peak": "max v (mV) of the first excursion above 0 mV at each recording site",
        "cv_between": [f"{sa}[{ia}]", f"{sb}[{ib}]"],
        "cv_distance_um": cv_distance,
    }
    path = save_case(
        name,
        meta,
        t=t,
        v=v,
        site_labels=np.array([f"{s}[{i}]" for s, i in case["sites"]]),
        site_distance_um=np.array([dist(site) for site in case["sites"]]),
        spike_sites=np.array([f"{s}[{i}]" for s, i in all_sites]),
        spike_site_distance_um=np.array([dist(site) for site in all_sites]),
        spike_times=spike_times,
        spike_counts=spike_counts,
        ap_peak=ap_peak,
        cv_m_per_s=np.float64(cv),
    )
    return {"path": path, "cv": cv, "ap_peak": ap_peak, "counts": spike_counts}


def main(argv=None):
    """Run every case and print a one-line summary of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=refcommon.DATA_DIR,
        help=f"folder for the .npz files (default: {refcommon.DATA_DIR})",
    )
    args = parser.parse_args(argv)
    # refcommon.save_case writes to its module-level DATA_DIR
    refcommon.DATA_DIR = args.out
    for name, case in CASES.items():
        out = run_case(name, case)
        peaks = ", ".join(f"{p:.2f}" for p in out["ap_peak"])
        print(
            f"{name}: CV {out['cv']:.3f} m/s, AP peaks [{peaks}] mV, "
            f"spikes per site {out['counts'].min()}-{out['counts'].max()} -> {out['path']}"
        )


if __name__ == "__main__":
    main()
