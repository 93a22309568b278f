"""Excitability measures: thresholds against NEURON and direct runs, strength-duration,
refractoriness, threshold tracking, conduction velocity, and bad input.

NEURON thresholds: tests/data/mrg_*.npz (``meta["threshold_nA_by_fibre_d_um"]``, stimulus
at node[0], AP at node[40] by 6 ms, bisection rtol 1e-4) and
tests/data/human_*_D10.0_sd.npz (test pulse at node[20], AP at node[35] by pulse end + 3
ms, rtol 1e-4), from tests/reference/mrg_neuron.py and human_neuron.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from neurosim import excitability as ex
from neurosim.simulate import Protocol, Stimulus, simulate_cable
from neurosim.simulate.load import load_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MRG = ROOT / "models" / "axon" / "mrg.toml"
MOTOR = ROOT / "models" / "axon" / "human_motor.toml"
SENSORY = ROOT / "models" / "axon" / "human_sensory.toml"


def load_npz(name: str) -> dict:
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out


@pytest.fixture(scope="module")
def mrg():
    return load_model(MRG)


@pytest.fixture(scope="module")
def motor():
    return load_model(MOTOR)


@pytest.fixture(scope="module")
def sensory():
    return load_model(SENSORY)


def test_threshold_matches_neuron_bisection(mrg):
    """Five fibre diameters, NEURON's criterion (AP at node[40] by 6 ms): agreement
    within the two bisection tolerances (1e-4 each; achieved < 3e-5)."""
    ref = load_npz("mrg_D10.0")["meta"]["threshold_nA_by_fibre_d_um"]
    diameters = sorted(ref, key=float)
    models = [mrg.rebuild({"fiber.diameter": f"{d} um"}).model for d in diameters]
    res = ex.threshold(
        models, site="node[0]", detect="node[40]", duration=0.1, delay=0.5, window=5.4, rtol=1e-4
    )
    expected = np.array([ref[d] for d in diameters])
    np.testing.assert_allclose(res.threshold, expected, rtol=2e-4)
    assert np.all(res.lower < res.threshold)
    assert np.all(res.threshold - res.lower <= 1e-4 * res.threshold * (1 + 1e-12))
    # batched: far fewer runs than one bisection per axon (5 x ~14)
    assert res.runs <= 8


def test_threshold_brackets_the_response(mrg):
    """Independent check with plain runs: 1.002 x threshold propagates, 0.998 x does not."""
    res = ex.threshold(mrg.model, site="node[20]", detect="node[35]", duration=0.1, rtol=1e-3)
    thr = float(res.threshold[0])
    amps = np.array([0.998, 1.002]) * thr
    proto = Protocol(
        tstop=1.0 + 0.1 + ex.DEFAULT_WINDOW,
        dt=0.005,
        stimuli=(Stimulus("node[20]", 1.0, 0.1, amps),),
        detect=("node[35]",),
    )
    # two members (the batch size comes from batch values, not stimulus amplitudes)
    counts = simulate_cable(mrg.model, proto, batch={"celsius": [37.0, 37.0]}).spike_counts
    np.testing.assert_array_equal(counts[:, 0], [0, 1])
    assert res.charge[0] == pytest.approx(0.1 * thr)


def test_threshold_batch_over_gnap(mrg):
    """A sweep of nodal gNap per member (batch keys): more Nap, lower threshold."""
    gnap = np.array([0.0, 0.01, 0.03])
    res = ex.threshold(
        mrg.model,
        site="node[20]",
        detect="node[35]",
        duration=1.0,
        batch={"node:mrg_node.gnapbar": gnap},
    )
    assert np.all(np.diff(res.threshold) < 0), res.threshold


@pytest.mark.slow
def test_strength_duration_motor_vs_sensory(motor, sensory):
    """Thresholds fall with pulse duration; they match NEURON at every duration; the
    sensory axon has the longer strength-duration time constant (Mogyoros, Kiernan &
    Burke 1996, Brain 119:439: 0.459 +/- 0.126 ms motor, 0.665 +/- 0.182 ms sensory,
    median nerve at the wrist, percutaneous stimulation)."""
    refs = {n: load_npz(f"{n}_D10.0_sd") for n in ("human_motor", "human_sensory")}
    durations = refs["human_motor"]["durations_ms"]
    sd = ex.strength_duration(
        [motor.model, sensory.model], durations, site="node[20]", detect="node[35]"
    )
    for b, name in enumerate(refs):
        # both bisections to 1e-4 (NEURON) and 1e-3 (here)
        np.testing.assert_allclose(sd.thresholds[b], refs[name]["thresholds_nA"], rtol=1.5e-3)
    assert np.all(np.diff(sd.thresholds, axis=1) < 0)
    assert np.all(np.diff(sd.charge, axis=1) > 0)
    assert np.all(sd.r2 > 0.99)
    tau_motor, tau_sensory = sd.tau_sd
    # point intracellular stimulation of one node gives shorter time constants than
    # clinical surface stimulation (here ~0.18 and ~0.37 ms); the order is the finding
    assert tau_sensory > 1.5 * tau_motor
    assert 0.1 < tau_motor < 0.7 and 0.2 < tau_sensory < 1.0
    assert np.all(sd.rheobase < sd.thresholds[:, -1])


@pytest.mark.slow
def test_refractory_period(mrg, motor):
    """Absolute refractory period of the order of 0.5-1 ms at 37 degC (achieved: MRG
    1.01 ms, human motor 0.75 ms); threshold elevated just after it, recovering within
    a few ms (then superexcitable, the depolarising afterpotential of MRG 2002)."""
    rp = ex.refractory_period(
        [mrg.model, motor.model],
        site="node[20]",
        detect="node[35]",
        interval_max=4.0,
        intervals=[1.1, 1.3, 1.6, 2.0, 2.5, 3.0],
    )
    assert np.all((rp.absolute > 0.4) & (rp.absolute < 1.2)), rp.absolute
    assert np.all(rp.increase_percent[:, 0] > 0)
    assert np.all(np.isfinite(rp.thresholds))
    assert np.all(rp.increase_percent[:, -1] < rp.increase_percent[:, 0])
    assert np.all(np.isfinite(rp.relative)) and np.all(rp.relative > rp.absolute)
    assert rp.increase_at(2.0).shape == (2,)
    # direct check of the ARP of the first member: a second 2x pulse one step before
    # it does not propagate, at the ARP it does
    thr = rp.control[0]
    arp = rp.absolute[0]
    ivals = np.array([arp - 0.005, arp])
    proto = Protocol(
        tstop=1.0 + 4.0 + 0.1 + 3.0,
        dt=0.005,
        stimuli=(
            Stimulus("node[20]", 1.0, 0.1, 2 * thr),
            Stimulus("node[20]", 1.0 + ivals[0], 0.1, np.array([2 * thr, 0.0])),
            Stimulus("node[20]", 1.0 + ivals[1], 0.1, np.array([0.0, 2 * thr])),
        ),
        detect=("node[35]",),
    )
    counts = simulate_cable(mrg.model, proto, batch={"celsius": [37.0, 37.0]}).spike_counts
    np.testing.assert_array_equal(counts[:, 0], [1, 2])


def test_threshold_tracking_during_polarising_current(mrg):
    """Threshold electrotonus in miniature: a 40 % depolarising current lowers the test
    threshold, a 40 % hyperpolarising current raises it (Bostock et al. 1998)."""
    control = ex.threshold(mrg.model, site="node[20]", detect="node[35]", duration=1.0, rtol=0.01)
    i40 = 0.4 * float(control.threshold[0])
    times = [3.0]
    # 1.5 ms after the pulse is ample for node[20] -> node[35] (17 mm at 51 m/s)
    kw = {"site": "node[20]", "detect": "node[35]", "duration": 1.0, "rtol": 5e-3, "window": 1.5}
    dep = ex.threshold_tracking(
        mrg.model, times, conditioning=[ex.Pulse("node[20]", 1.0, 4.0, i40)], **kw
    )
    hyp = ex.threshold_tracking(
        mrg.model, times, conditioning=[ex.Pulse("node[20]", 1.0, 4.0, -i40)], **kw
    )
    assert dep.control == pytest.approx(control.threshold[0], rel=0.012)
    assert hyp.control == dep.control
    assert dep.change_percent[0] < -10.0
    assert hyp.change_percent[0] > 10.0


def test_threshold_tracking_over_model_states(mrg):
    """Issue 4's interface: (time, overrides) states; each state's threshold equals a
    direct threshold measurement of that model."""
    states = [
        (0.0, {}),
        (60.0, {"node:mrg_node.gnapbar": 0.02}),
        (120.0, {"celsius": 30.0}),
        (180.0, mrg.rebuild({"fiber.diameter": "10 um"}).model),
    ]
    track = ex.threshold_tracking_states(
        states, model=mrg.model, site="node[20]", detect="node[35]", duration=0.5
    )
    np.testing.assert_array_equal(track.time, [0.0, 60.0, 120.0, 180.0])
    assert track.change_percent[1] < 0  # more persistent Na: more excitable
    assert track.threshold[3] == pytest.approx(track.threshold[0], rel=2e-3)
    direct = ex.threshold(
        ex.with_overrides(mrg.model, {"celsius": 30.0}),
        site="node[20]",
        detect="node[35]",
        duration=0.5,
    )
    assert track.threshold[2] == pytest.approx(direct.threshold[0], rel=2e-3)


def test_with_overrides_copies(mrg):
    m2 = ex.with_overrides(mrg.model, {"celsius": 30.0, "mrg_node.gnapbar": 0.02})
    assert m2.celsius == 30.0 and mrg.model.celsius == 37.0
    node = next(p for p in mrg.model.placements if p.mechanism.name == "mrg_node")
    node2 = next(p for p in m2.placements if p.mechanism.name == "mrg_node")
    assert float(node2.value("gnapbar")[0]) == 0.02
    assert float(node.value("gnapbar")[0]) == 0.01


def test_conduction_velocity_helper(mrg):
    """Default supramaximal stimulus (2 x threshold); per-member distances in a diameter
    sweep; agrees with the NEURON CVs (3 % is the issue's bound; achieved ~1e-5, the
    stimulus differs)."""
    models = [mrg.rebuild({"fiber.diameter": f"{d} um"}).model for d in (5.7, 10.0, 16.0)]
    cv = ex.conduction_velocity(models, site="node[0]", between=("node[10]", "node[30]"))
    refs = [float(load_npz(f"mrg_D{d}")["cv_m_per_s"]) for d in ("5.7", "10.0", "16.0")]
    np.testing.assert_allclose(cv.cv, refs, rtol=1e-3)
    assert np.all(np.diff(cv.distance) > 0)
    assert np.all(cv.ap_peak > 20.0)


# ---- bad input ------------------------------------------------------------------------
BASE = {"site": "node[20]", "detect": "node[35]"}


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"duration": 0.0}, ValueError, r"`duration`"),
        ({"duration": -0.1}, ValueError, r"`duration`"),
        ({"duration": 0.001}, ValueError, r"`duration`.*shorter than `dt`"),
        ({"delay": -1.0}, ValueError, r"`delay`"),
        ({"rtol": 0.0}, ValueError, r"`rtol`"),
        ({"rtol": 0.9}, ValueError, r"`rtol`"),
        ({"n_candidates": 1}, ValueError, r"`n_candidates`"),
        ({"amp_min": 0.0}, ValueError, r"`amp_min`"),
        ({"amp_max": 0.001}, ValueError, r"`amp_max`"),
        ({"dt": 0.0}, ValueError, r"`dt`"),
        ({"dt": 2.0}, ValueError, r"`dt`"),
        ({"window": -1.0}, ValueError, r"`window`"),
        ({"method": "rk4"}, ValueError, r"method"),
        ({"site": "node[99]"}, ValueError, r"node\[99\]"),
        ({"detect": "soma"}, ValueError, r"soma"),
        ({"site": 3}, TypeError, r"`site`"),
        (
            {"batch": {"mrg_node.gnapbar": [0.01, 0.02], "celsius": [37.0]}},
            ValueError,
            r"one length",
        ),
        ({"batch": {"mrg_node.nosuch": [0.01]}}, ValueError, r"nosuch"),
        ({"batch": {"celsius": [50.0]}}, ValueError, r"celsius.*0, 45"),
        ({"conditioning": ["x"]}, TypeError, r"conditioning\[0\]"),
        ({"conditioning": [ex.Pulse("node[20]", 1.0, -1.0, 0.1)]}, ValueError, r"dur"),
    ],
)
def test_threshold_refuses_bad_input(mrg, kwargs, err, match):
    with pytest.raises(err, match=match):
        ex.threshold(mrg.model, **{**BASE, **kwargs})


def test_bad_model_argument():
    with pytest.raises(TypeError, match="CableModel"):
        ex.threshold("models/axon/mrg.toml", **BASE)
    with pytest.raises(ValueError, match="empty"):
        ex.threshold([], **BASE)


def test_other_measures_refuse_bad_input(mrg):
    with pytest.raises(ValueError, match="two distinct"):
        ex.strength_duration(mrg.model, [0.1], **BASE)
    with pytest.raises(ValueError, match="durations"):
        ex.strength_duration(mrg.model, [0.1, -0.2], **BASE)
    with pytest.raises(ValueError, match="factor"):
        ex.refractory_period(mrg.model, factor=1.0, **BASE)
    with pytest.raises(ValueError, match="intervals"):
        ex.refractory_period(mrg.model, intervals=[2.0, 1.5], **BASE)
    with pytest.raises(ValueError, match="times"):
        ex.threshold_tracking(mrg.model, [], **BASE)
    with pytest.raises(ValueError, match="times"):
        ex.threshold_tracking(mrg.model, [-1.0], **BASE)
    with pytest.raises(ValueError, match="single model"):
        ex.threshold_tracking([mrg.model, mrg.model], [1.0], **BASE)
    with pytest.raises(ValueError, match="no `model`"):
        ex.threshold_tracking_states([(0.0, {"celsius": 30.0})], **BASE)
    with pytest.raises(ValueError, match="empty"):
        ex.threshold_tracking_states([], model=mrg.model, **BASE)
    with pytest.raises(TypeError, match="pair"):
        ex.threshold_tracking_states([0.0], model=mrg.model, **BASE)
    with pytest.raises(ValueError, match="unknown override"):
        ex.with_overrides(mrg.model, {"nosuch.g": 1.0})
    with pytest.raises(ValueError, match=r"gnapbar.*0, inf"):
        ex.with_overrides(mrg.model, {"mrg_node.gnapbar": -1.0})
    with pytest.raises(ValueError, match="same site"):
        ex.conduction_velocity(mrg.model, site="node[0]", between=("node[5]", "node[5]"))
    with pytest.raises(ValueError, match="two sites"):
        ex.conduction_velocity(mrg.model, site="node[0]", between=("node[5]",))


def test_dataclass_results_are_frozen(mrg):
    res = ex.threshold(mrg.model, site="node[20]", detect="node[35]", rtol=0.05)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.site = "node[1]"
