"""The compiled Brian2 network: conduction, collision, block, reflex, muscle, determinism.

Every test here runs the compiled network; the first one in a fresh cache also compiles
it (minutes), hence ``slow``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurosim.muscle.fuglevand import force_from_spikes
from neurosim.simulate.spinal import (
    Drive,
    EctopicSpikes,
    NerveStimulation,
    Stretch,
    default_models,
    network_structure,
    pool_for,
    simulate_spinal,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models():
    spinal, muscle = default_models()
    # quiet pool: no synaptic noise, no spindle background, so every spike is evoked
    quiet = spinal.with_overrides(
        {"noise": {"sigma": "0 uA/cm2"}, "spindle": {"baseline_rate": "0 Hz"}}
    )
    return spinal, quiet, muscle


@pytest.fixture(scope="module")
def geometry(models):
    s = network_structure(models[0])
    return s.motor, s.ia


def _motor_only(trains, **kw):
    return NerveStimulation(
        trains=trains, motor_fraction=1.0, ia_fraction=0.0, ib_fraction=0.0, **kw
    )


def test_m_wave_and_antidromic_latencies(models, geometry):
    spinal, quiet, muscle = models
    motor, _ = geometry
    r = simulate_spinal(quiet, muscle, 200.0, stimulation=_motor_only(((100.0, 101.0, 10.0),)))
    d = spinal["delays"]
    # orthodromic: stimulation site -> muscle (3 segments of 1 ms) + neuromuscular delay;
    # one integration step of detection per event (dt = 0.05 ms)
    m_lat = (motor.n_seg - 1 - motor.stim_seg) * motor.seg_delay + d["neuromuscular"]
    assert len(r.mu_time) == r.n_units
    np.testing.assert_allclose(r.mu_time - 100.0, m_lat, atol=0.15)
    # antidromic: stimulation site -> cord (700 mm at 50 m/s = 14 ms) + initial segment
    a_lat = motor.stim_seg * motor.seg_delay + d["initial_segment"]
    assert a_lat == pytest.approx(14.5)
    assert len(r.mn_time) == r.n_units  # every soma invaded once
    np.testing.assert_allclose(r.mn_time - 100.0, a_lat, atol=0.2)


def test_ectopic_spikes_act_at_both_ends(models, geometry):
    _, quiet, muscle = models
    motor, _ = geometry
    ect = EctopicSpikes.from_arrays("motor", [3, 7], [50.0, 50.0], ["to_periphery", "to_cord"])
    r = simulate_spinal(quiet, muscle, 150.0, ectopic=ect)
    # towards the muscle: fires unit 3's fibres after the rest of the axon + NMJ
    to_muscle = (motor.n_seg - 1 - motor.ectopic_seg) * motor.seg_delay + 1.0
    assert list(r.mu_unit) == [3]
    assert r.mu_time[0] - 50.0 == pytest.approx(to_muscle, abs=0.2)
    # towards the cord: reaches unit 7's soma (it fires once, and its fibres do not)
    assert list(r.mn_unit) == [7]
    assert r.mn_time[0] - 50.0 == pytest.approx(motor.ectopic_seg * motor.seg_delay + 0.5, abs=0.2)


def test_empty_ectopic_input_is_no_input_and_aliases_match(models):
    _, quiet, muscle = models
    stim = _motor_only(((50.0, 51.0, 10.0),))
    a = simulate_spinal(quiet, muscle, 100.0, stimulation=stim, seed=2)
    b = simulate_spinal(
        quiet, muscle, 100.0, stimulation=stim, seed=2, ectopic=EctopicSpikes.empty()
    )
    c = simulate_spinal(
        quiet,
        muscle,
        100.0,
        stimulation=stim,
        seed=2,
        ectopic=EctopicSpikes.from_arrays([], [], [], []),
    )
    for r in (b, c):
        np.testing.assert_array_equal(r.mn_time, a.mn_time)
        np.testing.assert_array_equal(r.force, a.force)
    # the axon stage's labels (kind "sensory", Direction names) mean the same events;
    # "both" is one spike leaving the site in both directions
    named = EctopicSpikes.from_arrays(
        ["motor", "ia", "motor"], [3, 2, 9], 20.0, ["distal", "proximal", "both"]
    )
    plain = EctopicSpikes(
        ("motor", "ia", "motor", "motor"),
        (3, 2, 9, 9),
        (20.0, 20.0, 20.0, 20.0),
        ("to_periphery", "to_cord", "to_cord", "to_periphery"),
    )
    r1 = simulate_spinal(quiet, muscle, 100.0, ectopic=named, seed=2)
    r2 = simulate_spinal(quiet, muscle, 100.0, ectopic=plain, seed=2)
    np.testing.assert_array_equal(r1.mu_unit, r2.mu_unit)
    np.testing.assert_array_equal(r1.mn_time, r2.mn_time)
    assert sorted(r1.mu_unit) == [3, 9] and 9 in r1.mn_unit


def test_opposite_spikes_in_one_axon_collide(models, geometry):
    _, quiet, muscle = models
    motor, _ = geometry
    # an ectopic spike travelling to the muscle reaches the stimulation site 11 ms after it
    # leaves the root; a stimulus 5 ms after it starts sends an antidromic spike the
    # other way: they meet between root and stimulation site and both vanish
    ect = EctopicSpikes.from_arrays("motor", 5, 100.0, "to_periphery")
    r = simulate_spinal(
        quiet, muscle, 200.0, ectopic=ect, stimulation=_motor_only(((105.0, 106.0, 10.0),))
    )
    mu5 = r.mu_time[r.mu_unit == 5]
    mn5 = r.mn_time[r.mn_unit == 5]
    assert len(mu5) == 1  # only the stimulus's orthodromic half reaches the muscle
    assert mu5[0] == pytest.approx(105.0 + 4.0, abs=0.2)
    assert len(mn5) == 0  # the antidromic half collided: no soma invasion
    assert np.all(np.isin(np.delete(np.arange(r.n_units), 5), r.mn_unit))  # others invaded
    # control: the same two spikes far apart in time do not meet
    ect = EctopicSpikes.from_arrays("motor", 5, 100.0, "to_periphery")
    r2 = simulate_spinal(
        quiet, muscle, 300.0, ectopic=ect, stimulation=_motor_only(((200.0, 201.0, 10.0),))
    )
    assert (r2.mu_unit == 5).sum() == 2 and (r2.mn_unit == 5).sum() == 1


def test_ia_volley_excites_motor_neurons_monosynaptically(models, geometry):
    _, quiet, muscle = models
    _, ia = geometry
    n_ia = quiet["spindle"]["n_afferents"]
    ect = EctopicSpikes.from_arrays("ia", np.arange(n_ia), 100.0, "to_cord")
    r = simulate_spinal(quiet, muscle, 200.0, ectopic=ect)
    assert len(r.ia_time) == n_ia
    np.testing.assert_allclose(r.ia_time - 100.0, ia.ectopic_seg * ia.seg_delay, atol=0.15)
    # the motor neurons answer after the central (synaptic) delay + EPSP rise: a reflex
    lat = r.mn_time - r.ia_time.min()
    assert 0.3 * r.n_units < len(np.unique(r.mn_unit)) <= r.n_units
    assert np.all((lat > quiet["delays"]["ia_central"]) & (lat < 15.0))
    # the smallest units (largest Ia EPSPs) are the ones recruited
    assert np.median(np.unique(r.mn_unit)) < 0.5 * r.n_units


def test_proximal_block_keeps_only_the_m_wave(models):
    _, quiet, muscle = models
    stim = NerveStimulation(
        trains=((100.0, 400.0, 20.0),),
        motor_fraction=1.0,
        ia_fraction=1.0,
        ib_fraction=1.0,
        blocked=True,
    )
    r = simulate_spinal(quiet, muscle, 500.0, stimulation=stim)
    assert len(r.stim_time) == 6
    assert len(r.mu_time) == 6 * r.n_units  # direct activation of every unit per pulse
    assert len(r.mn_time) == 0 and len(r.ia_time) == 0 and len(r.ib_time) == 0


def test_network_force_is_the_fuglevand_twitch_sum(models):
    spinal, _, muscle = models
    r = simulate_spinal(spinal, muscle, 3000.0, drive=Drive.pulse(200.0, 2200.0, 8.0), seed=4)
    pool = pool_for(spinal, muscle)
    ref = force_from_spikes(r.mu_unit, r.mu_time, pool.p, pool.t, r.t)
    assert r.force.max() > 0.01 * r.max_force
    # the network advances the twitch filter on a 0.5 ms clock: activations shift by
    # < 0.5 ms, i.e. < 1% of the 30-90 ms twitches; compare in the L1 norm
    assert np.abs(r.force - ref).sum() / np.abs(ref).sum() < 0.02


def test_same_seed_same_spikes(models):
    spinal, _, muscle = models
    vib = NerveStimulation(trains=((100.0, 600.0, 50.0),), motor_fraction=0.2, ia_fraction=1.0)
    a = simulate_spinal(spinal, muscle, 1000.0, stimulation=vib, seed=11)
    b = simulate_spinal(spinal, muscle, 1000.0, stimulation=vib, seed=11)
    c = simulate_spinal(spinal, muscle, 1000.0, stimulation=vib, seed=12)
    for key in ("mn_unit", "mn_time", "ia_time", "rc_time", "force"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))  # bit-identical
    np.testing.assert_array_equal(a.mean_rate, b.mean_rate)
    assert not np.array_equal(a.mn_time, c.mn_time)


def test_a_saved_result_reads_back(models, tmp_path):
    from dataclasses import replace

    from neurosim.muscle.cramp import CrampMetrics
    from neurosim.simulate.spinal import SpinalResult

    spinal, _, muscle = models
    r = simulate_spinal(spinal, muscle, 500.0, seed=3)
    two = CrampMetrics(
        detected=True,
        onset=10.0,
        duration=5.0,
        episodes=2,
        total_duration=9.0,
        intervals=((10.0, 15.0), (20.0, 24.0)),
    )
    for res in (r, replace(r, cramp=two)):
        back = SpinalResult.load(res.save(tmp_path / "r"))
        # NaN fields (no cramp) compare through their JSON; intervals keep their tuples
        assert json.dumps(back.cramp.to_dict()) == json.dumps(res.cramp.to_dict())
        assert back.cramp.intervals == res.cramp.intervals
        np.testing.assert_array_equal(back.force, res.force)
        np.testing.assert_array_equal(back.mn_time, res.mn_time)


def _dead_time(rate_hz: np.ndarray, refractory_ms: float) -> np.ndarray:
    """Poisson events through an axon end that ignores events within its refractory
    period (non-paralysable dead time): observed rate = rate / (1 + rate * tau)."""
    return rate_hz / (1.0 + rate_hz * refractory_ms * 1e-3)


def test_spindle_encodes_stretch_and_fusimotor_drive(models, geometry):
    _, quiet, muscle = models
    _, ia = geometry
    sp = quiet.with_overrides({"spindle": {"baseline_rate": "6 Hz"}})
    # rest, stretch 10 mm at 10 mm/s, hold, full fusimotor drive while holding
    t = (0.0, 1000.0, 2000.0, 3000.0, 3001.0, 4000.0)
    stretch = Stretch(t, (0, 0, 10, 10, 10, 10), (0, 0, 0, 0, 1, 1))
    r = simulate_spinal(sp, muscle, 4000.0, stretch=stretch, seed=6)
    c = sp["spindle"]
    lag = ia.cord_to_periphery  # ending -> cord
    tt = np.arange(0.0, 4000.0, 1.0)
    length = np.interp(tt, t, stretch.length)
    vel = np.where((tt >= 1000) & (tt < 2000), 10.0, 0.0)  # mm/s
    fus = np.interp(tt, t, stretch.fusimotor)
    # Prochazka & Gorassini 1998: r0 + k_v v^0.6 + k_d d + k_g fusimotor
    model = c["baseline_rate"] + c["velocity_gain"] * vel**0.6
    model = model + c["length_gain"] * length + c["fusimotor_gain"] * fus
    expected = _dead_time(model, sp["axons"]["refractory"])
    n = sp["spindle"]["n_afferents"]
    rates = []
    for a, b in ((200, 1000), (1100, 2000), (2100, 3000), (3100, 4000)):
        sel = (r.ia_time >= a + lag) & (r.ia_time < b + lag)
        got = sel.sum() / n / ((b - a) * 1e-3)
        want = expected[(tt >= a) & (tt < b)].mean()
        rates.append(got)
        # Poisson counts: >= 280 spikes per window, SD <= 6%; 15% is 2.5 SD
        assert got == pytest.approx(want, rel=0.15), (a, b, got, want)
    print("\nIa rates (Hz) at rest, stretching, holding, + fusimotor:", np.round(rates, 1))
    assert rates[0] < rates[2] < rates[1] < rates[3]


def test_tendon_organs_encode_muscle_force(models, geometry):
    spinal, _, muscle = models
    s = network_structure(spinal)
    r = simulate_spinal(spinal, muscle, 3500.0, drive=Drive.pulse(300.0, 3300.0, 12.0), seed=8)
    g = spinal["tendon_organ"]
    # Prochazka 1999: r0 + a ln(1 + F / F0), from the recorded force, then the axon's
    # dead time; compared over 2 s of steady contraction
    model = g["baseline_rate"] + g["gain"] * np.log1p(r.force / (g["force_scale"] * r.max_force))
    expected = _dead_time(model, spinal["axons"]["refractory"])
    a, b = 1200.0, 3200.0
    lag = s.ib.cord_to_periphery
    sel = (r.ib_time >= a + lag) & (r.ib_time < b + lag)
    got = sel.sum() / s.n_ib / ((b - a) * 1e-3)
    want = expected[(r.t >= a) & (r.t < b)].mean()
    print(
        f"\nIb rate {got:.1f} Hz (law {want:.1f} Hz) at {100 * r.force_fraction[(r.t >= a) & (r.t < b)].mean():.0f}% of max force"
    )
    assert r.force_fraction[(r.t >= a) & (r.t < b)].mean() > 0.05  # a real contraction
    # 30 afferents x 2 s at >= 10 Hz: >= 600 spikes, SD <= 4%; 12% is 3 SD
    assert got == pytest.approx(want, rel=0.12)
    # without force the tendon organs are silent (baseline 0 Hz)
    assert not np.any(r.ib_time < 300.0)


def test_only_the_one_to_one_invasion_warning_is_silenced():
    """Brian2's order-dependence warning is dropped for the antidromic invasion (one
    invading axon per motoneuron) and kept for any other synaptic code. (The network
    build installs this filter on Brian2's code-generation logger.)"""
    import logging

    from neurosim.spinal.network import _OneToOneInvasion

    logger = logging.getLogger("neurosim.tests.invasion_filter")
    logger.addFilter(_OneToOneInvasion())
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep()
    logger.addHandler(handler)
    try:
        head = "Came across an abstract code block that may not be well-defined: "
        logger.warning(
            head + "Abstract code: 'Vs_post += int((t - lastspike_post) > inv_guard_post)"
            " * (v_inv_post - Vs_post) (in-place)'"
        )
        logger.warning(head + "Abstract code: 'v_post += w * v_post (in-place)'")
    finally:
        logger.removeHandler(handler)
    assert seen == [head + "Abstract code: 'v_post += w * v_post (in-place)'"]
