"""Ischaemia: the pump's anaerobic share, the root stage, and the cuff calibration.

Tiers: identities (pump activity and O2 use at zero O2; conservation with the
anaerobic share), the labelled result of the root stage and its bad input, and the
published numbers (SCIENCE.md section 2: human cutaneous-afferent threshold falls about
34% over the first 8 min of a 200 mmHg cuff, then plateaus; after release the pump
hyperpolarises the axons).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.compression.load import load_compression
from neurosim.ions import read_ions
from neurosim.simulate.ionic import IonicSimulation
from neurosim.simulate.load import load_model
from neurosim.simulate.protocol import Stimulus
from neurosim.simulate.root import AxonGroup, root_axon, simulate_root

CUFF = "models/compression/cuff_ischaemia.toml"
FAST_O2 = {"o2_exchange": "2 1/s", "o2_baseline": "27 mg/L"}


class NoFlow:
    """Blood flow stopped from t = 0 (a test driver)."""

    def flow(self, t, dt, isim):
        return np.zeros(isim.flow.shape)


@pytest.fixture(scope="module")
def mrg_small():
    return load_model(
        "models/axon/mrg.toml",
        {"model.rest": True, "fiber.nodes": 11, "protocol.record": ["node[5]"], "protocol.cv": []},
    ).model


@pytest.mark.parametrize("share", [0.0, 0.4])
def test_pump_keeps_its_anaerobic_share_and_uses_no_o2_at_zero_o2(mrg_small, share):
    isim = IonicSimulation(
        mrg_small, read_ions({**FAST_O2, "pump_anaerobic": share}), window=1, slow_dt=1
    )
    ions = isim.ions
    ions.o2[:] = 0.0
    assert np.allclose(ions.pump_activity(), share * ions._ion_activity(), rtol=1e-14, atol=0)
    assert np.all(ions._o2_use() == 0.0), "no oxidative pumping, no O2 use"
    ions.o2[:] = isim.params.o2_baseline
    np.testing.assert_allclose(ions._o2_use(), ions._o2_use().max(), rtol=1e-12)


def test_anaerobic_share_conserves_ions_and_keeps_o2_non_negative(mrg_small):
    isim = IonicSimulation(
        mrg_small,
        read_ions({**FAST_O2, "pump_anaerobic": 0.4}),
        window=1,
        slow_dt=50,
        drivers=[NoFlow()],
    )
    c0 = isim.ions.content()
    isim.run(6000.0)
    c1 = isim.ions.content()
    assert isim.ions.o2.min() >= 0.0
    # O2 falls below the pump's half-activation (its use slows as the oxidative share
    # shrinks, so it approaches 0 only slowly)
    assert isim.ions.o2.max() < 0.5 * isim.params.o2_half, "O2 runs down without flow"
    for ion in ("na", "k"):
        assert abs(c1[ion][0] - c0[ion][0]) / c0[ion][0] < 1e-12, ion


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_bad_anaerobic_share(share):
    with pytest.raises(ValueError, match="pump_anaerobic"):
        read_ions({"pump_anaerobic": share})


def _small_root(n=2, nodes=7):
    cuff = load_compression(
        CUFF,
        {
            "lesion.level": [{"node": nodes // 2, "length": "120 mm"}],
            "schedule.start": "2 s",
            "schedule.hold": "4 s",
        },
    )
    groups = [
        AxonGroup("motor", root_axon("models/axon/human_motor.toml", nodes), n),
        AxonGroup("sensory", root_axon("models/axon/human_sensory.toml", nodes), n, (0.5, 1.0)),
    ]
    return cuff, groups


def test_root_stage_gives_a_labelled_dataset():
    cuff, groups = _small_root()
    kw = dict(ions=FAST_O2, window=5, slow_dt=500, track_every=4000.0, sample=1000.0, seed=3)
    ds = simulate_root(cuff, groups, 8000.0, **kw).dataset()
    assert ds.sizes["axon"] == 4 and list(ds["kind"].values) == ["motor"] * 2 + ["sensory"] * 2
    assert ds.sizes["time"] == 9 and ds.sizes["track_time"] == 3
    g = ds["grade"].values
    assert np.all(g[:2] == 1.0) and np.all((g[2:] >= 0.5) & (g[2:] <= 1.0))
    for var, unit in (("pressure", "mmHg"), ("o2", "mg/L"), ("ko", "mM"), ("threshold", "nA")):
        assert ds[var].attrs["units"] == unit
    p = ds["pressure"].values
    assert p[:, 0].max() == 0.0 and p[0, 4] == pytest.approx(200.0, rel=0.01), "full cuff pressure"
    assert np.all(p[2:, 4] < 200.0), "sensory axons feel their grade"
    # flow stops under the cuff: O2 falls, then recovers after release
    o2 = ds["o2"].values
    assert np.all(o2[:, 6] < o2[:, 0]) and np.all(o2[:, 8] > o2[:, 6])
    assert np.all(np.isfinite(ds["threshold"].values)) and np.all(ds["threshold"].values > 0)
    # same seed, same grades and results
    again = simulate_root(cuff, groups, 8000.0, **kw).dataset()
    np.testing.assert_array_equal(again["threshold"].values, ds["threshold"].values)


def test_root_stage_bad_input():
    cuff, groups = _small_root(1)
    with pytest.raises(ValueError, match="groups"):
        simulate_root(cuff, [], 1000.0)
    with pytest.raises(ValueError, match="unique"):
        simulate_root(cuff, [groups[0], groups[0]], 1000.0)
    with pytest.raises(ValueError, match="duration"):
        simulate_root(cuff, groups, -1.0)
    with pytest.raises(ValueError, match="grade"):
        AxonGroup("motor", groups[0].model, 1, (1.0, 0.5))
    with pytest.raises(ValueError, match="n"):
        AxonGroup("motor", groups[0].model, 0)
    with pytest.raises(ValueError, match="pump_anaerobic"):
        simulate_root(cuff, groups, 1000.0, ions={"pump_anaerobic": 2})


@pytest.fixture(scope="module")
def cuff_run():
    """One motor and one sensory axon through the cuff: 1 min baseline, 13 min of
    ischaemia, 2 min after release; threshold tracked every minute."""
    cuff = load_compression(CUFF)
    groups = [
        AxonGroup("motor", root_axon("models/axon/human_motor.toml", 21), 1),
        AxonGroup("sensory", root_axon("models/axon/human_sensory.toml", 21), 1),
    ]
    return simulate_root(cuff, groups, 16 * 60e3, window=10.0, track_every=60e3)


@pytest.mark.slow
def test_cuff_ischaemia_threshold_calibration(cuff_run):
    """Sensory threshold falls by about a third over the first 8 min, then levels off;
    motor axons change less; after release both rise above baseline, sensory more.

    Tolerances: the published fall is 34% at 8 min (a group mean; individual subjects
    differ by several %): 34 +/- 8%. Plateau: over 8-13 min the threshold moves by less
    than 12 points (it eases back as [Na]i stimulates the remaining pump; measured
    -32% -> -24%). The calibration itself is stated in cuff_ischaemia.toml.
    """
    ds = cuff_run.dataset()
    t_min = ds["track_time"].values / 60 - 1.0  # minutes of ischaemia (cuff at 1 min)
    change = {
        k: ds["threshold_change"].values[ds["kind"].values == k][0] for k in ("motor", "sensory")
    }

    def at(kind, minute):
        return change[kind][int(np.argmin(np.abs(t_min - minute)))]

    assert -42.0 < at("sensory", 8) < -26.0, change["sensory"]
    assert abs(at("sensory", 13) - at("sensory", 8)) < 12.0, change["sensory"]
    during = (t_min > 0) & (t_min <= 13)
    assert change["sensory"][during].min() < change["motor"][during].min(), change
    after = t_min >= 14
    assert change["sensory"][after].max() > 15.0, change["sensory"]
    assert change["motor"][after].max() > 0.0, change["motor"]
    assert change["sensory"][after].max() > change["motor"][after].max()


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="post-ischaemic ectopic discharge of healthy axons is not reproduced (README, "
    "'What the model does not reproduce'): the axons are silent during and after the cuff",
)
def test_post_release_ectopy_exceeds_ischaemic_and_is_sensory(cuff_run):
    """Issue 4's number, as a specification of the known gap: paraesthesiae are mild
    during ischaemia and strong after release (Han et al. 2008), and sensory axons are
    more prone than motor axons (Mogyoros et al. 2000). Strict: the day the model fires
    after release this test passes, and the marker (and the README) must change."""
    during = {k: cuff_run.ectopic_rate(k, 60e3, 14 * 60e3)[0] for k in ("motor", "sensory")}
    after = {k: cuff_run.ectopic_rate(k, 14 * 60e3, 16 * 60e3)[0] for k in ("motor", "sensory")}
    assert after["sensory"] > during["sensory"], (during, after)
    assert after["sensory"] > after["motor"], (during, after)


@pytest.mark.slow
def test_sensory_axon_after_release_is_quiet_and_accommodates():
    """Why the test above fails, as the README states it ("What the model does not
    reproduce"): 30 s after release the pump has pulled the periaxonal [K] below its
    resting 4 mM, so the internodal K gradient is not reversed (E_K well below the
    membrane potential: Mogyoros et al. 2000's trigger is absent); and a 100 ms current
    step at the middle node, with the ion layer fully coupled (1 ms slow steps), evokes
    one spike and then none: no burst that periaxonal K could keep going (the "two stable
    states" of Bostock, Baker & Reid 1991). Nor does a 2 s train at 200 Hz: the [K] under
    the myelin falls (the pump) rather than rises, and no spike follows the train.
    Measured: node -80.3 mV, periaxonal [K] 3.26 mM (E_K -94.9 mV); 1 spike in the step,
    0 in the 900 ms after it; 400 spikes in the train, [K] under the myelin 3.24 -> 3.14
    mM over it, 0 spikes in the 1 s after it."""
    cuff = load_compression(CUFF)
    model = root_axon("models/axon/human_sensory.toml", 21).model
    site, stin = "node[10]", "stin[60]"  # the middle node; an internodal compartment
    step = Stimulus(site, delay=0.0, dur=1.0, amp=0.0)  # switched on below
    isim = IonicSimulation(
        [model],
        read_ions(cuff.source["ions"]),
        dt=0.025,
        window=10.0,
        slow_dt=5000.0,
        drivers=[cuff.driver(grade=np.ones(1))],
        stimuli=[step],
        detect=[site],
        trace_sites=[site, stin],
    )
    r = isim.run(14.5 * 60e3)  # 1 min baseline, 13 min cuff, 30 s after release
    v, ko, ek = (r.traces[k][0, :, -1] for k in ("v", "ko", "ek"))
    # v: within 3 mV of the measured -80.3 mV, i.e. hyperpolarised from the -77.8 mV rest
    # as after release (the size of that overshoot is the calibration test's); [K] below
    # its resting 4 mM and E_K 10 mV below v are the claim itself
    assert -83.0 < v[0] < -79.0, v
    assert ko[1] < 4.0, ko
    assert ek[1] < v[0] - 10.0, (ek, v)
    isim.window = isim.slow_dt = isim.firing_step = 1.0  # fully coupled from here
    isim.sim.stim_amp[:] = 1.0  # nA, over each 1 ms window: a continuous step
    during = isim.run(100.0)
    isim.sim.stim_amp[:] = 0.0
    after = isim.run(900.0)
    assert len(during.spikes) == 1, during.spikes
    assert len(after.spikes) == 0, after.spikes
    # nor does a train load the space under the myelin: 2 s at 200 Hz (the 1 ms pulse at
    # the start of every 5 ms window, ion layer coupled every window), then 1 s of quiet
    ko_before = after.traces["ko"][0, 1, -1]
    isim.window = isim.slow_dt = isim.firing_step = 5.0
    isim.sim.stim_amp[:] = 3.0
    train = isim.run(2000.0)
    isim.window = isim.slow_dt = isim.firing_step = 1.0
    isim.sim.stim_amp[:] = 0.0
    quiet = isim.run(1000.0)
    assert len(train.spikes) == 400, len(train.spikes)  # every pulse fires the node
    # the pump, driven by the train's Na, takes more K from the film than the spikes add
    assert train.traces["ko"][0, 1, -1] < ko_before < 4.0, (ko_before, train.traces["ko"][0, 1])
    assert len(quiet.spikes) == 0, quiet.spikes
