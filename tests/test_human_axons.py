"""Human motor and sensory axons (MRG + fast K, internodal slow K, HCN) against NEURON.

Reference data: tests/data/human_{motor,sensory}_*.npz, written by
tests/reference/human_neuron.py from its own .mod files (tests/reference/mod/human_*.mod)
with the Gaines et al. 2018 parameter set (see tests/reference/README.md). Both
simulators start from the exact resting state of the equations (neurosim: ``rest =
true``; NEURON: relaxation by backward Euler to a fixed point), so they agree to
round-off: achieved resting potentials < 2e-10 mV, CV relative error < 3e-10, AP peaks
< 2e-8 mV, spike times < 4e-10 ms, v RMS < 4e-8 mV. Tolerances: the issue's (CV 3 %, AP
peak 2 mV, rest 0.1 mV) and tight ones far below them yet well above round-off.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from neurosim.channels import get_mechanism
from neurosim.cli import main as cli_main
from neurosim.simulate import CableSimulation, Protocol, Stimulus, simulate_cable
from neurosim.simulate.cable import path_distance
from neurosim.simulate.load import load_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TOML = {v: ROOT / "models" / "axon" / f"{v}.toml" for v in ("human_motor", "human_sensory")}
DIAMETERS = (8.7, 10.0, 12.8)
NODES = [f"node[{i}]" for i in range(41)]

CV_RTOL_ISSUE, PEAK_ATOL_ISSUE, REST_ATOL_ISSUE = 0.03, 2.0, 0.1
CV_RTOL, PEAK_ATOL, SPIKE_ATOL, V_RMS, VEXT_RMS, REST_ATOL = 1e-6, 1e-3, 1e-5, 1e-3, 1e-4, 1e-6


def load_ref(name: str) -> dict:
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    if "site_labels" in out:
        out["site_labels"] = [str(s) for s in out["site_labels"]]
    return out


def run_with_vext(models, protocol: Protocol):
    """Run step by step recording vext too; returns (CableResult, vext (B, R, T))."""
    sim = CableSimulation(models, protocol).initialize()
    rc = sim.rec_comp
    vx = np.empty((sim.k.B, rc.size, protocol.n_steps + 1))
    vx[:, :, 0] = sim.vx[:, rc]
    for k in range(protocol.n_steps):
        sim.advance(1)
        vx[:, :, k + 1] = sim.vx[:, rc]
    return sim.result(), vx


def member_cv(res, models, a="node[10]", b="node[30]") -> np.ndarray:
    """CV per member with each member's own distance (see tests/test_mrg.py)."""
    first = np.where(res.spike_counts > 0, res.spike_times[..., 0], np.nan)
    ka, kb = res.spike_sites.index(a), res.spike_sites.index(b)
    out = []
    for m, row in zip(models, first, strict=True):
        g = m.morphology.geometry
        out.append(
            path_distance(g.parent, g.position, m.site(a), m.site(b))
            / abs(row[kb] - row[ka])
            * 1e-3
        )
    return np.array(out)


def first_peak(trace: np.ndarray) -> float:
    up = np.flatnonzero((trace[:-1] < 0) & (trace[1:] >= 0))
    assert up.size
    down = np.flatnonzero(trace[up[0] + 1 :] < 0)
    stop = up[0] + 1 + (down[0] if down.size else trace.size)
    return float(trace[up[0] + 1 : stop].max())


@pytest.fixture(scope="module", params=sorted(TOML))
def variant(request):
    return request.param, load_model(TOML[request.param])


@pytest.mark.slow
def test_matches_neuron(variant):
    """Three diameters at 37 degC and 10 um at 20 degC, one batched run per variant."""
    name, mf = variant
    cases = [f"{name}_D{d:.1f}" for d in DIAMETERS] + [f"{name}_D10.0_T20"]
    refs = [load_ref(c) for c in cases]
    models = [mf.rebuild({"fiber.diameter": f"{d} um"}).model for d in DIAMETERS]
    models.append(mf.rebuild({"model.celsius": "20 degC"}).model)
    stim = refs[0]["meta"]["stimulus_nA_ms"]
    proto = dataclasses.replace(
        mf.protocol,
        stimuli=(Stimulus("node[0]", stim["delay"], stim["dur"], stim["amp"]),),
        record=tuple(refs[0]["site_labels"]),
        detect=tuple(NODES),
        max_spikes=4,
    )
    res, vx = run_with_vext(models, proto)
    cv = member_cv(res, models)
    for b, ref in enumerate(refs):
        # the resting state (t = 0) found independently by both simulators
        drest = np.abs(res.v[b, :, 0] - ref["v_rest"]).max()
        assert drest < REST_ATOL, (ref["meta"]["case"], drest)
        assert np.sqrt(np.mean((res.v[b] - ref["v"]) ** 2)) < V_RMS
        assert np.sqrt(np.mean((vx[b] - ref["vext"]) ** 2)) < VEXT_RMS
        peaks = np.array([first_peak(tr) for tr in res.v[b] + vx[b]])
        dpeak = np.abs(peaks - ref["ap_peak"]).max()
        assert dpeak < PEAK_ATOL_ISSUE and dpeak < PEAK_ATOL, dpeak
        np.testing.assert_array_equal(res.spike_counts[b], ref["spike_counts"])
        m = ref["spike_times"].shape[1]
        assert np.nanmax(np.abs(res.spike_times[b, :, :m] - ref["spike_times"])) < SPIKE_ATOL
        rel = abs(cv[b] / float(ref["cv_m_per_s"]) - 1)
        assert rel < CV_RTOL_ISSUE and rel < CV_RTOL, (ref["meta"]["case"], rel)
    assert np.all(np.diff(cv[:3]) > 0), cv


@pytest.mark.slow
def test_rest_stays_at_rest_for_100_ms(variant):
    name, mf = variant
    ref = load_ref(f"{name}_D10.0_rest")
    proto = Protocol(tstop=100.0, dt=0.005, record=tuple(ref["site_labels"]), record_every=20)
    res = simulate_cable(mf.model, proto)
    drift = np.abs(res.v[0] - res.v[0, :, :1]).max()
    assert drift < REST_ATOL_ISSUE
    assert drift < 1e-6, drift
    np.testing.assert_allclose(res.v[0, :, 0], ref["v_rest"], atol=REST_ATOL)


@pytest.mark.slow
def test_one_spike_to_a_long_current_step_as_in_neuron(variant):
    """Accommodation: a 100 ms step of 1 or 3 nA at node[20] evokes one spike at every
    node, then none, in both simulators, and the potentials through the step agree to
    round-off. So the silence of the healthy axons under sustained depolarisation (README,
    "What the model does not reproduce") belongs to the published equations, not to this
    implementation. Measured: v RMS 3.4e-9 (motor) and 2.2e-9 mV (sensory), first spike
    times within 1.3e-10 ms; node[20] at the end of the step -60.7 / -35.0 mV (motor) and
    -57.3 / -31.9 mV (sensory) at 1 / 3 nA."""
    name, mf = variant
    ref = load_ref(f"{name}_D10.0_step")
    step = ref["meta"]["step"]
    amps = ref["amps_nA"]
    proto = Protocol(
        tstop=ref["meta"]["tstop_ms"],
        dt=ref["meta"]["dt_ms"],
        stimuli=(Stimulus(f"node[{step['node']}]", step["delay_ms"], step["dur_ms"], amps),),
        record=tuple(ref["site_labels"]),
        record_every=round(ref["t"][1] / ref["meta"]["dt_ms"]),
        detect=tuple(NODES),
        max_spikes=4,
    )
    res = simulate_cable([mf.model] * amps.size, proto)
    np.testing.assert_array_equal(ref["spike_counts"], 1)
    np.testing.assert_array_equal(res.spike_counts, ref["spike_counts"])
    assert np.abs(res.spike_times[..., 0] - ref["first_spike_ms"]).max() < SPIKE_ATOL
    assert np.sqrt(np.mean((res.v - ref["v"]) ** 2)) < V_RMS


@pytest.fixture(scope="module")
def rests():
    """Resting potential (mV) per compartment of each variant at 10 um."""
    out = {}
    for name, path in TOML.items():
        mf = load_model(path)
        sim = CableSimulation(mf.model, mf.protocol).initialize()
        out[name] = (mf.model, sim.v[0].copy())
    return out


def test_sensory_rests_a_few_mv_depolarised(rests):
    """Howells et al. 2012; Burke, Howells & Kiernan 2017: sensory axons rest more
    depolarised than motor axons. Here -77.8 vs -85.2 mV at the nodes (10 um)."""
    (m_model, v_motor), (_, v_sensory) = rests["human_motor"], rests["human_sensory"]
    nodes = m_model.morphology.compartments("node[*]")
    diff = v_sensory[nodes] - v_motor[nodes]
    assert np.all((diff > 3.0) & (diff < 10.0)), diff
    assert -90.0 < v_motor[nodes].mean() < -80.0


def _conductance(model, v, mech_name, current) -> float:
    """Total steady-state conductance (uS) of one current of a mechanism at ``v``."""
    total = 0.0
    area = model.morphology.geometry.area  # um2
    for pl in model.placements:
        if pl.mechanism.name != mech_name:
            continue
        mech = pl.mechanism
        cur = next(c for c in mech.currents if c.name == current)
        states = mech.steady_state(v[pl.comps])
        g = mech.conductance(cur, {p: pl.value(p) for p in mech.defaults}, states)
        total += float(np.sum(g * area[pl.comps]) * 1e-2)
    return total


def test_sensory_has_more_persistent_na_and_hcn_at_rest(rests):
    """SCIENCE.md s.3: sensory axons carry more persistent Na and HCN current. With the
    Gaines et al. 2018 sets the Nap density is equal; the depolarised rest activates more
    of it (Burke, Howells & Kiernan 2017), and HCN is denser and activates at more
    depolarised potentials."""
    (m_model, v_m), (s_model, v_s) = rests["human_motor"], rests["human_sensory"]
    nap_m = _conductance(m_model, v_m, "human_node_motor", "inap")
    nap_s = _conductance(s_model, v_s, "human_node_sensory", "inap")
    hcn_m = _conductance(m_model, v_m, "human_hcn_motor", "ih")
    hcn_s = _conductance(s_model, v_s, "human_hcn_sensory", "ih")
    # achieved at 10 um: Nap 6.0 x, HCN 3.5 x the motor axon's resting conductance
    assert nap_s > 3.0 * nap_m, (nap_s, nap_m)
    assert hcn_s > 2.5 * hcn_m, (hcn_s, hcn_m)
    # HCN activation 13.1 mV more depolarised in sensory axons (Gaines et al. 2018)
    q_m = get_mechanism("human_hcn_motor").gate("q")
    q_s = get_mechanism("human_hcn_sensory").gate("q")
    assert q_m.inf(-107.3) == pytest.approx(0.5) and q_s.inf(-94.2) == pytest.approx(0.5)


@pytest.mark.parametrize("name", sorted(TOML))
def test_cli_prints_cv_and_ap_peak(name, capsys):
    code = cli_main(["simulate", str(TOML[name]), "--fiber-diameter", "10", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    ref = load_ref(f"{name}_D10.0")
    # the model file's 2 nA stimulus vs the reference's: CV agrees to ~1e-5
    assert out["cv_m_per_s"] == pytest.approx(float(ref["cv_m_per_s"]), rel=1e-4)
    peaks = {s["site"]: s["ap_peak_mV"] for s in out["sites"]}
    assert peaks["node[20]"] == pytest.approx(float(ref["ap_peak"][2]), abs=0.05)


@pytest.mark.parametrize("name", sorted(TOML))
def test_temperature_is_a_parameter(name):
    """--celsius and batch temperatures reach every channel: CV rises with temperature."""
    mf = load_model(TOML[name])
    proto = dataclasses.replace(mf.protocol, record=(), detect=("node[10]", "node[30]"))
    res = simulate_cable(mf.model, proto, batch={"celsius": [25.0, 31.0, 37.0]})
    cv = res.conduction_velocity()
    assert np.all(np.diff(cv) > 0), cv
    with pytest.raises(ValueError, match=r"celsius.*0, 45"):
        mf.rebuild({"model.celsius": "45.5 degC"})
