"""The McIntyre-Richardson-Grill 2002 double-cable axon against NEURON, and its contracts.

Reference data: tests/data/mrg_*.npz, written by tests/reference/mrg_neuron.py (NEURON
9.0.2 running the same equations, see tests/reference/README.md). neurosim uses the same
discretisation (one compartment per section, backward Euler, exponential-Euler gates,
dt 5 us), so the two agree to round-off: achieved (all five diameters and 20 degC) CV
relative error < 3e-10, AP peaks < 2e-8 mV, spike times < 3e-10 ms, v RMS < 3e-8 mV,
vext RMS < 1e-8 mV. The tolerances below are the issue's numbers (CV 3 %, AP peak 2 mV)
plus tight ones far below them yet well above round-off, so that a real discrepancy
cannot hide.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from neurosim.cli import main as cli_main
from neurosim.simulate import CableSimulation, Protocol, Stimulus, simulate_cable
from neurosim.simulate.cable import path_distance
from neurosim.simulate.load import load_model

ROOT = Path(__file__).resolve().parents[1]
MRG_TOML = ROOT / "models" / "axon" / "mrg.toml"
DATA = ROOT / "tests" / "data"
DIAMETERS = (5.7, 8.7, 10.0, 12.8, 16.0)
NODES = [f"node[{i}]" for i in range(41)]

# tolerances: the issue's (CV 3 %, AP peak 2 mV) and tight ones (see module docstring)
CV_RTOL_ISSUE, PEAK_ATOL_ISSUE = 0.03, 2.0
CV_RTOL, PEAK_ATOL, SPIKE_ATOL, V_RMS, VEXT_RMS = 1e-6, 1e-3, 1e-5, 1e-3, 1e-4


def load_ref(name: str) -> dict:
    """A reference .npz as a dict (``meta`` parsed from JSON)."""
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    out["site_labels"] = [str(s) for s in out["site_labels"]]
    return out


def run_with_vext(models, protocol: Protocol, batch=None):
    """Run step by step, recording the periaxonal potential at the recording sites too.

    Returns the CableResult and vext of shape (B, R, n_steps + 1) in mV.
    """
    sim = CableSimulation(models, protocol, batch).initialize()
    rc = sim.rec_comp
    vx = np.empty((sim.k.B, rc.size, protocol.n_steps + 1))
    vx[:, :, 0] = sim.vx[:, rc]
    for k in range(protocol.n_steps):
        sim.advance(1)
        vx[:, :, k + 1] = sim.vx[:, rc]
    return sim.result(), vx


def reference_protocol(base: Protocol, ref: dict) -> Protocol:
    """The model file's protocol with the reference's stimulus, sites and duration."""
    stim = ref["meta"]["stimulus_nA_ms"]
    return dataclasses.replace(
        base,
        tstop=float(ref["meta"]["tstop_ms"]),
        stimuli=(Stimulus(f"node[{stim['node']}]", stim["delay"], stim["dur"], stim["amp"]),),
        record=tuple(ref["site_labels"]),
        detect=tuple(NODES),
        max_spikes=4,
    )


def member_cv(res, models, a: str = "node[10]", b: str = "node[30]") -> np.ndarray:
    """CV (m/s) per member with each member's OWN path distance between ``a`` and ``b``.

    ``CableResult.conduction_velocity`` takes the distance from member 0's geometry,
    which is wrong for the other members of a structural (diameter) sweep.
    """
    first = np.where(res.spike_counts > 0, res.spike_times[..., 0], np.nan)
    ka, kb = res.spike_sites.index(a), res.spike_sites.index(b)
    out = []
    for m, row in zip(models, first, strict=True):
        g = m.morphology.geometry
        dist = path_distance(g.parent, g.position, m.site(a), m.site(b))
        out.append(dist / abs(row[kb] - row[ka]) * 1e-3)
    return np.array(out)


def compare_to_reference(res, vx, member: int, ref: dict, cv: float) -> dict:
    """Assert agreement of one member with a NEURON reference; return the errors."""
    v = res.v[member]
    vi = v + vx[member]
    # the recorded grids are the same (dt * arange(n + 1))
    assert res.t.shape == ref["t"].shape
    np.testing.assert_allclose(res.t, ref["t"], rtol=0, atol=1e-9)
    err = {}
    err["v_rms"] = float(np.sqrt(np.mean((v - ref["v"]) ** 2)))
    err["vext_rms"] = float(np.sqrt(np.mean((vx[member] - ref["vext"]) ** 2)))
    assert err["v_rms"] < V_RMS, err
    assert err["vext_rms"] < VEXT_RMS, err
    # AP peak of vi = v + vext (= v at the nodes), first excursion above 0 mV
    peaks = []
    for r in range(vi.shape[0]):
        up = np.flatnonzero((vi[r, :-1] < 0) & (vi[r, 1:] >= 0))
        assert up.size, f"no spike at {ref['site_labels'][r]}"
        down = np.flatnonzero(vi[r, up[0] + 1 :] < 0)
        stop = up[0] + 1 + (down[0] if down.size else vi.shape[1])
        peaks.append(vi[r, up[0] + 1 : stop].max())
    dpeak = np.abs(np.array(peaks) - ref["ap_peak"])
    err["ap_peak"] = float(dpeak.max())
    assert err["ap_peak"] < PEAK_ATOL_ISSUE
    assert err["ap_peak"] < PEAK_ATOL, err
    # spike times at every node
    np.testing.assert_array_equal(res.spike_counts[member], ref["spike_counts"])
    m = ref["spike_times"].shape[1]
    dt_spk = np.abs(res.spike_times[member, :, :m] - ref["spike_times"])
    err["spike_time"] = float(np.nanmax(dt_spk))
    assert err["spike_time"] < SPIKE_ATOL, err
    err["cv_rel"] = abs(cv / float(ref["cv_m_per_s"]) - 1.0)
    assert err["cv_rel"] < CV_RTOL_ISSUE
    assert err["cv_rel"] < CV_RTOL, err
    return err


@pytest.fixture(scope="module")
def mrg():
    return load_model(MRG_TOML)


def test_matches_neuron_at_every_diameter_and_20C(mrg):
    """Five diameters at 37 degC and 10 um at 20 degC: one batched run of six axons."""
    refs = [load_ref(f"mrg_D{d:.1f}") for d in DIAMETERS] + [load_ref("mrg_D10.0_T20")]
    models = [mrg.rebuild({"fiber.diameter": f"{d} um"}).model for d in DIAMETERS]
    models.append(mrg.rebuild({"fiber.diameter": "10 um", "model.celsius": "20 degC"}).model)
    amps = {r["meta"]["stimulus_nA_ms"]["amp"] for r in refs}
    assert len(amps) == 1  # one stimulus for every case (tests/reference/README.md)
    proto = reference_protocol(mrg.protocol, refs[0])
    res, vx = run_with_vext(models, proto)
    cv = member_cv(res, models)
    for b, ref in enumerate(refs):
        compare_to_reference(res, vx, b, ref, cv[b])


def test_cv_rises_monotonically_with_diameter(mrg):
    """One batched run over table rows and interpolated diameters (a list of models)."""
    diameters = np.round(np.linspace(5.7, 16.0, 13), 4)
    models = [mrg.rebuild({"fiber.diameter": f"{d} um"}).model for d in diameters]
    proto = dataclasses.replace(mrg.protocol, record=(), detect=("node[10]", "node[30]"))
    cv = member_cv(simulate_cable(models, proto), models)
    assert np.all(np.isfinite(cv))
    assert np.all(np.diff(cv) > 0), cv
    # the classic ~6 m/s per um of fibre diameter (SCIENCE.md s.3): here 6.0 over 5.7-16
    slope = np.polyfit(diameters, cv, 1)[0]
    assert 4.5 < slope < 7.5, slope


def test_batch_over_temperature_and_gnap_in_one_run(mrg):
    """Temperature and nodal gNap vary per member of ONE run; every member equals its
    own single run exactly (members are independent), and CV rises with temperature."""
    celsius = np.array([20.0, 26.0, 32.0, 37.0, 37.0, 37.0])
    gnap = np.array([0.01, 0.01, 0.01, 0.005, 0.01, 0.02])
    batch = {"celsius": celsius, "node:mrg_node.gnapbar": gnap}
    proto = dataclasses.replace(mrg.protocol, detect=tuple(NODES), max_spikes=4)
    res = simulate_cable(mrg.model, proto, batch=batch)
    for b in (0, 3, 5):
        one = simulate_cable(
            mrg.model,
            proto,
            batch={"celsius": celsius[b : b + 1], "node:mrg_node.gnapbar": gnap[b : b + 1]},
        )
        np.testing.assert_array_equal(res.spike_counts[b], one.spike_counts[0])
        np.testing.assert_allclose(res.v[b], one.v[0], rtol=0, atol=1e-12)
    cv = res.conduction_velocity()
    assert np.all(np.diff(cv[:4]) > 0), cv
    # the model file's 2 nA stimulus, not the reference's 1.73 nA: the volley between
    # node[10] and node[30] still carries ~5e-6 of the stimulus, hence 1e-4
    ref20 = load_ref("mrg_D10.0_T20")
    assert abs(cv[0] / float(ref20["cv_m_per_s"]) - 1) < 1e-4
    # more persistent Na: a larger depolarising afterpotential at node[0] 1 ms after
    # the spike (DAP, McIntyre et al. 2002), a sign the batch value reached the kernel
    k = np.searchsorted(res.t, res.spikes("node[0]", 4)[0] + 1.0)
    dap = res.v[3:, 0, k]
    assert dap[0] < dap[1] < dap[2], dap


@pytest.mark.slow
def test_rest_stays_at_rest_for_100_ms(mrg):
    """Initialised at rest ([model] rest = true) the axon moves < 0.1 mV in 100 ms (the
    issue's number; achieved ~1e-9 mV). From v_init = -80 mV instead it drifts as the
    NEURON run of the same equations does (trace RMS < 1e-4 mV)."""
    ref = load_ref("mrg_D10.0_rest")
    proto = Protocol(tstop=100.0, dt=0.005, record=tuple(ref["site_labels"]), record_every=20)
    at_rest = simulate_cable(mrg.rebuild({"model.rest": True}).model, proto)
    drift = np.abs(at_rest.v[0] - at_rest.v[0, :, :1]).max()
    assert drift < 0.1
    assert drift < 1e-6, drift
    from_v_init = simulate_cable(mrg.model, proto)
    assert np.sqrt(np.mean((from_v_init.v[0] - ref["v"][:, ::20]) ** 2)) < 1e-4
    # the NEURON run from -80 mV ends within 1e-3 mV of neurosim's exact rest
    np.testing.assert_allclose(ref["v"][:, -1], at_rest.v[0, :, -1], atol=2e-3)


def test_cli_prints_cv_and_ap_peak(capsys):
    code = cli_main(["simulate", str(MRG_TOML), "--fiber-diameter", "10", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cv_m_per_s"] == pytest.approx(51.3448, rel=1e-4)
    peaks = {s["site"]: s["ap_peak_mV"] for s in out["sites"]}
    assert peaks["node[20]"] == pytest.approx(28.4, abs=0.1)


def test_no_cv_for_a_spike_that_starts_between_the_cv_sites(capsys):
    """Stimulated at node[20], between the CV sites node[10] and node[30], the spike
    reaches both at the same time: there is no conduction from one to the other, and the
    CV is undefined (it used to be the distance over a round-off difference, ~1e14 m/s).
    A batch member stimulated at node[0] keeps its CV."""
    mf = load_model(MRG_TOML)
    proto = dataclasses.replace(
        mf.protocol,
        stimuli=(
            Stimulus("node[20]", 0.5, 0.1, np.array([2.0, 0.0])),
            Stimulus("node[0]", 0.5, 0.1, np.array([0.0, 2.0])),
        ),
    )
    cv = simulate_cable([mf.model] * 2, proto).conduction_velocity()
    assert np.isnan(cv[0]), cv
    # a bracket around the 10 um MRG CV, 51.34 m/s (test_cli_prints_cv_and_ap_peak; NEURON
    # agrees to round-off, test_matches_neuron_at_every_diameter_and_20C): what is tested
    # is that it stays finite
    assert 40.0 < cv[1] < 60.0, cv
    stim = '[{site = "node[20]", delay = "0.5 ms", dur = "0.1 ms", amp = "2 nA"}]'
    assert cli_main(["simulate", str(MRG_TOML), "--set", f"protocol.stimulus={stim}"]) == 0
    assert "no spike conducted from one site to the other" in capsys.readouterr().out


# ---- bad input: a clear error before the run ------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"fiber.diameter": "5.6 um"}, r"fiber\.diameter.*5\.7, 16"),
        ({"fiber.diameter": "16.5 um"}, r"fiber\.diameter.*5\.7, 16"),
        ({"fiber.diameter": "nan um"}, r"fiber\.diameter"),
        ({"fiber.lamellae": 0}, r"fiber\.lamellae"),
        ({"fiber.lamellae": -10}, r"fiber\.lamellae"),
        ({"fiber.flut_length": "-5 um"}, r"fiber\.flut_length"),
        ({"fiber.node_length": "0 um"}, r"fiber\.node_length"),
        ({"fiber.mysa_length": "-3 um"}, r"fiber\.mysa_length"),
        ({"fiber.node_spacing": "50 um"}, r"inconsistent MRG geometry.*node_spacing"),
        ({"fiber.axon_diameter": "12 um"}, r"fiber\.axon_diameter"),
        ({"model.celsius": "46 degC"}, r"celsius.*0, 45"),
        ({"model.celsius": "-1 degC"}, r"celsius.*0, 45"),
    ],
)
def test_bad_model_input_is_refused(mrg, overrides, match):
    with pytest.raises(ValueError, match=match):
        mrg.rebuild(overrides)


def test_bad_batch_temperature_is_refused(mrg):
    with pytest.raises(ValueError, match=r"celsius.*0, 45"):
        simulate_cable(mrg.model, mrg.protocol, batch={"celsius": [37.0, 50.0]})


def test_cli_refuses_inconsistent_geometry(capsys):
    code = cli_main(["simulate", str(MRG_TOML), "--set", "fiber.node_spacing=80um"])
    assert code == 2
    err = capsys.readouterr().err
    assert "inconsistent MRG geometry" in err and "node_spacing" in err


def test_cli_refuses_diameter_outside_table(capsys):
    assert cli_main(["simulate", str(MRG_TOML), "--fiber-diameter", "20"]) == 2
    assert "fiber.diameter" in capsys.readouterr().err
