"""Ectopic-discharge analysis: synthetic spike patterns with known answers, and a real
MRG axon made to fire ectopically at a lesion (SCIENCE.md section 3's probe)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.ectopic import (
    Direction,
    afterdischarge,
    analyse,
    event_rates,
    find_bursts,
    find_events,
    observed_time,
    summarize,
)
from neurosim.simulate.cable import CableSimulation
from neurosim.simulate.load import load_model
from neurosim.simulate.protocol import Protocol, Stimulus

ROOT = Path(__file__).resolve().parents[1]
MRG = ROOT / "models" / "axon" / "mrg.toml"
D = 11
POS = np.arange(D) * 1000.0  # um, site 0 nearest the cord with cord_end="start"


def ap(member, origin, t0, delay=0.05, lo=0, hi=D - 1):
    """Spikes of one AP starting at ``origin`` at ``t0`` and spreading to sites lo..hi."""
    sites = np.arange(lo, hi + 1)
    return np.column_stack(
        [np.full(sites.size, member), sites, t0 + delay * np.abs(sites - origin)]
    )


def events_of(*aps, **kw):
    spikes = np.concatenate(aps) if aps else np.zeros((0, 3))
    rng = np.random.default_rng(0)
    spikes = spikes[rng.permutation(len(spikes))]  # input order must not matter
    return find_events(spikes, POS, **kw)


# -- grouping, origin, direction ----------------------------------------------------------
def test_one_ap_both_ways_is_one_event():
    ev = events_of(ap(0, 5, 10.0))
    assert len(ev) == 1
    assert ev.origin[0] == 5 and ev.time[0] == 10.0 and ev.n_spikes[0] == D
    assert ev.direction[0] == Direction.BOTH
    assert ev.reaches_cord[0] and ev.reaches_muscle[0]
    assert ev.origin_position[0] == 5000.0


@pytest.mark.parametrize(
    ("lo", "hi", "cord_end", "direction"),
    [
        (0, 5, "start", Direction.PROXIMAL),
        (5, 10, "start", Direction.DISTAL),
        (0, 5, "end", Direction.DISTAL),
        (5, 10, "end", Direction.PROXIMAL),
        (5, 5, "start", Direction.LOCAL),
    ],
)
def test_direction_relative_to_the_cord(lo, hi, cord_end, direction):
    ev = events_of(ap(0, 5, 3.0, lo=lo, hi=hi), cord_end=cord_end)
    assert len(ev) == 1 and ev.direction[0] == direction
    assert ev.reaches_cord[0] == (direction == Direction.PROXIMAL)
    assert ev.reaches_muscle[0] == (direction == Direction.DISTAL)


def test_colliding_aps_stay_two_events_and_the_stimulated_one_is_evoked():
    # an AP evoked at site 0 travels up; an ectopic one from site 10 travels down; they
    # meet between sites 6 and 7 and annihilate. Site 7 fires 0.02 ms after site 6 but
    # 0.1 ms (the internode delay of both APs) after site 8: it belongs to the down AP.
    up = ap(0, 0, 1.0, delay=0.1, lo=0, hi=6)  # sites 0..6 at 1.0..1.6
    down = ap(0, 10, 1.32, delay=0.1, lo=7, hi=10)  # sites 10..7 at 1.32..1.62
    ev = events_of(up, down, stimuli=np.array([[0.9, 0.0]]))
    assert len(ev) == 2
    order = np.argsort(ev.origin)
    np.testing.assert_array_equal(ev.origin[order], [0, 10])
    np.testing.assert_array_equal(ev.n_spikes[order], [7, 4])
    np.testing.assert_array_equal(ev.evoked[order], [True, False])
    np.testing.assert_array_equal(ev.direction[order], [Direction.DISTAL, Direction.PROXIMAL])


def test_a_delay_longer_than_max_delay_splits_an_event():
    a = ap(0, 2, 1.0, delay=0.05, lo=0, hi=5)
    b = ap(0, 6, 3.0, delay=0.05, lo=6, hi=10)  # site 6 fires 1.75 ms after site 5
    assert len(events_of(a, b, max_delay=1.0)) == 2
    assert len(events_of(a, b, max_delay=2.0)) == 1


def test_simultaneous_neighbours_are_one_event_with_a_deterministic_origin():
    spikes = np.array([[0, 4, 2.0], [0, 5, 2.0], [0, 3, 2.05], [0, 6, 2.05]])
    ev = find_events(spikes, POS)
    assert len(ev) == 1 and ev.origin[0] == 4


def test_many_members_vectorised():
    rng = np.random.default_rng(7)
    B = 200
    origins = rng.integers(0, D, B)
    n_aps = rng.integers(0, 5, B)
    chunks, truth = [], []
    for b in range(B):
        for k in range(n_aps[b]):
            t0 = 10.0 * k + rng.uniform(0, 2)
            chunks.append(ap(b, origins[b], t0, delay=rng.uniform(0.02, 0.3)))
            truth.append((b, origins[b], t0))
    ev = events_of(*chunks, n_members=B + 3)
    assert ev.n_members == B + 3
    assert len(ev) == len(truth)
    got = sorted(
        zip(ev.member.tolist(), ev.origin.tolist(), np.round(ev.time, 9).tolist(), strict=True)
    )
    exp = sorted((int(b), int(o), round(t, 9)) for b, o, t in truth)
    assert got == exp
    np.testing.assert_array_equal(np.bincount(ev.member, minlength=B + 3)[:B], n_aps)
    # every spike is assigned to the event of its own member
    assert np.all(ev.spike_event >= 0)


# -- evoked vs ectopic ----------------------------------------------------------------------
def test_evoked_needs_the_stimulated_site_and_a_short_latency():
    ev = events_of(
        ap(0, 0, 1.2),  # 0.2 ms after the pulse at site 0: evoked
        ap(0, 0, 30.0),  # 20 ms after the second pulse: ectopic
        ap(0, 7, 10.3),  # right after the pulse but far from site 0: ectopic
        stimuli=np.array([[1.0, 0.0], [10.0, 0.0]]),
        evoked_latency=2.0,
    )
    order = np.argsort(ev.time)
    np.testing.assert_array_equal(ev.evoked[order], [True, False, False])


def test_member_specific_stimuli():
    ev = events_of(ap(0, 0, 1.1), ap(1, 0, 1.1), stimuli=np.array([[1, 1.0, 0]]))
    np.testing.assert_array_equal(ev.evoked[np.argsort(ev.member)], [False, True])


# -- rates, bursts, afterdischarge ------------------------------------------------------------------
def test_rates_use_the_observed_time_of_windows():
    windows = np.array([[0.0, 20.0], [1000.0, 20.0], [2000.0, 20.0]])  # 60 ms observed
    aps = [ap(0, 5, w + 2.0 + 6.0 * k) for w in windows[:, 0] for k in range(3)]
    ev = events_of(*aps, n_members=2)
    assert observed_time(windows) == 60.0
    rates = event_rates(ev, windows)
    np.testing.assert_allclose(rates, [9 / 0.060, 0.0])
    # [0, 1010): 20 + 10 ms observed, 3 + 2 events
    np.testing.assert_allclose(event_rates(ev, windows, 0.0, 1010.0), [5 / 0.030, 0.0])
    # windows may carry a third column (the step each stands for)
    w3 = np.column_stack([windows, [1000.0, 1000.0, 1000.0]])
    np.testing.assert_allclose(event_rates(ev, w3), rates)


def test_bursts_by_interval_and_not_across_windows():
    times = [0.0, 5.0, 10.0, 50.0, 55.0, 200.0, 1000.0, 1004.0]
    ev = events_of(*[ap(0, 5, t) for t in times])
    b = find_bursts(ev, max_isi=10.0, min_events=2)
    np.testing.assert_array_equal(b.n_events, [3, 2, 2])
    np.testing.assert_array_equal(b.start, [0.0, 50.0, 1000.0])
    np.testing.assert_array_equal(b.end, [10.0, 55.0, 1004.0])
    assert b.per_member.tolist() == [3]
    # with windows [0, 52) and [52, ...) the pair 50/55 is split by the window gap
    w = np.array([[0.0, 52.0], [52.0, 2000.0]])
    np.testing.assert_array_equal(find_bursts(ev, 10.0, 2, windows=w).n_events, [3, 2])
    np.testing.assert_array_equal(find_bursts(ev, 10.0, 3).n_events, [3])


def test_afterdischarge_counts_ectopic_events_after_triggers():
    ev = events_of(
        ap(0, 0, 0.5),  # evoked by the stimulus at 0.3: not counted
        ap(0, 6, 4.0),
        ap(0, 6, 9.0),
        ap(0, 6, 40.0),
        ap(1, 6, 501.0),
        stimuli=np.array([[0.3, 0.0]]),
        n_members=2,
    )
    counts, latency = afterdischarge(ev, [0.3, 500.0], window=20.0)
    np.testing.assert_array_equal(counts, [[2, 0], [0, 1]])
    np.testing.assert_allclose(latency[0, 0], 3.7)
    np.testing.assert_allclose(latency[1, 1], 1.0)
    assert np.isnan(latency[0, 1]) and np.isnan(latency[1, 0])


def test_summary_per_member():
    aps = [ap(0, 3, 10.0 * k, lo=0, hi=3) for k in range(4)] + [
        ap(0, 8, 10.0 * k + 5, lo=8) for k in range(4)
    ]
    aps.append(ap(2, 5, 1.0))
    ev = events_of(*aps, n_members=3)
    s = summarize(ev, 100.0, max_isi=6.0)
    assert [x.member for x in s] == [0, 1, 2]
    s0 = s[0]
    assert s0.n_ectopic == 8 and s0.rate_hz == pytest.approx(80.0)
    assert s0.fraction_proximal == 0.5 and s0.fraction_distal == 0.5
    assert s0.rate_to_cord_hz == pytest.approx(40.0) and s0.rate_to_muscle_hz == pytest.approx(40.0)
    assert s0.origin_site in (3, 8) and s0.origin_position_um == pytest.approx(5500.0)
    assert s0.n_bursts == 1 and s0.mean_burst_events == 8
    assert s[1].n_events == 0 and s[1].origin_site == -1 and np.isnan(s[1].origin_position_um)
    assert s[2].fraction_both == 1.0 and s[2].origin_cord_distance_um == 5000.0


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spikes", "kwargs", "match"),
    [
        (np.zeros((3, 2)), {}, r"shape \(N, 3\)"),
        (np.array([[0, 1, np.nan]]), {}, "NaN"),
        (np.array([[0, -1, 1.0]]), {}, "non-negative integers"),
        (np.array([[0, 1.5, 1.0]]), {}, "non-negative integers"),
        (np.array([[0, 11, 1.0]]), {}, "site 11"),
        (np.array([[0, 1, 1.0]]), {"cord_end": "middle"}, "cord_end"),
        (np.array([[0, 1, 1.0]]), {"max_delay": 0.0}, "max_delay"),
        (np.array([[0, 1, 1.0]]), {"stimuli": np.zeros((2, 4))}, "stimuli"),
        (np.array([[0, 1, 1.0]]), {"stimuli": np.array([[1.0, 20]])}, "site indices"),
        (np.array([[4, 1, 1.0]]), {"n_members": 2}, "n_members"),
    ],
)
def test_bad_input_is_refused(spikes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_events(spikes, POS, **kwargs)


# -- a real MRG axon ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def probe():
    """SCIENCE.md section 3: a 10 um, 41-node MRG axon with EK and the leak reversal moved
    together to -60 mV at five middle nodes (18-22) fires spontaneously; member 1 is the
    intact control. 300 ms, no stimulus."""
    mf = load_model(MRG)
    ek = np.full((2, 41), -90.0)
    el = np.full((2, 41), -90.0)
    ek[0, 18:23] = el[0, 18:23] = -60.0
    prot = Protocol(
        tstop=300.0, dt=0.005, detect=tuple(f"node[{i}]" for i in range(41)), max_spikes=400
    )
    sim = CableSimulation(mf.model, prot, batch={"node:mrg_node.ek": ek, "node:mrg_node.el": el})
    sim.initialize()
    sim.advance(prot.n_steps)
    return sim.result()


def test_lesion_fires_ectopically_from_its_edges_both_ways(probe):
    # the first ~60 ms are the settling of the depolarised lesion; analyse after 100 ms
    ev, summ = analyse(probe, t0=100.0)
    s, ctrl = summ
    assert ctrl.n_events == 0 and s.n_evoked == 0
    # SCIENCE.md: "about 90/s" in the NEURON probe; tolerance 15% ("about"). Each discharge
    # leaves as two events, one per lesion edge, so 90/s reach each end of the axon.
    assert s.rate_to_cord_hz == pytest.approx(90.0, rel=0.15)
    assert s.rate_to_muscle_hz == pytest.approx(90.0, rel=0.15)
    late = ev.select((ev.member == 0) & (ev.time >= 100.0))
    # origins at the lesion edges: within 5 nodes outside the lesion (nodes 18-22); none
    # in the depolarised lesion itself
    assert np.all((late.origin >= 13) & (late.origin <= 27))
    assert not np.any((late.origin >= 18) & (late.origin <= 22))
    # both ways: from the proximal edge towards the cord, from the distal edge to the muscle
    prox = late.origin < 18
    assert prox.any() and (~prox).any()
    assert np.all(late.direction[prox] == Direction.PROXIMAL)
    assert np.all(late.direction[~prox] == Direction.DISTAL)
    assert np.all(late.reaches_cord[prox]) and np.all(late.reaches_muscle[~prox])


def test_stimulus_evoked_aps_are_not_ectopic():
    mf = load_model(MRG)
    prot = Protocol(
        tstop=20.0,
        dt=0.005,
        stimuli=(Stimulus("node[0]", 1.0, 0.1, 2.0, number=3, interval=6.0),),
        detect=tuple(f"node[{i}]" for i in range(41)),
    )
    sim = CableSimulation(mf.model, prot)
    sim.initialize()
    sim.advance(prot.n_steps)
    r = sim.result()
    stimuli = np.array([[1.0 + 6.0 * k, 0] for k in range(3)])
    ev, (s,) = analyse(r, stimuli=stimuli)
    assert len(ev) == 3 and np.all(ev.evoked) and s.n_ectopic == 0
    assert np.all(ev.origin == 0)
    assert np.all(ev.direction == Direction.DISTAL) and np.all(ev.reaches_muscle)


# -- conduction tests on an axon that fires ectopically -----------------------------------


@pytest.mark.parametrize("pacemaker", [2, 97])
def test_conduction_time_ignores_ectopic_spikes(pacemaker):
    """The conduction test of the root stage (neurosim.simulate.root.conduction_time) on
    an HH cable (100 compartments) made to fire at ~80 Hz by a constant current at one
    compartment, tested every 1 ms over one firing period. Pacemaker behind the
    stimulation site (2): its spikes run ahead of the evoked one, which arrives 5.3-5.5 ms
    later, against 4.60 ms in the quiet cable (measured 2026-12-06; the evoked spike
    follows an ectopic one by a few ms). Pacemaker beyond the far site (97): its spikes
    run against the evoked one and collide with it: NaN. Reading the first spike at each
    site instead gave -7.1 and 3.8 ms in the first case and -5.3 and 7.3 ms in the
    second."""
    from neurosim.simulate.root import conduction_time

    mf = load_model(ROOT / "models" / "cable" / "hh_cable.toml")
    m = mf.model
    label = [m.morphology.label(c) for c in range(m.morphology.n)]
    start, end = label[10], label[60]

    def cable():
        proto = Protocol(tstop=200.0, dt=0.025, record=(), detect=(label[pacemaker],))
        return CableSimulation(m, proto).initialize()

    quiet = float(conduction_time(cable(), start, end, amplitude=50.0)[0])
    assert quiet == pytest.approx(4.60, abs=0.02)
    sim = cable()
    sim.i_extra[:, pacemaker] = -5.0  # nA, inward: repetitive firing, period ~12.3 ms
    sim.advance(2000)
    assert sim.spk_n[0, 0] >= 3
    vals = []
    for _ in range(13):
        vals.append(float(conduction_time(sim, start, end, amplitude=50.0)[0]))
        sim.advance(40)
    vals = np.array(vals)
    ok = np.isfinite(vals)
    assert np.all((vals[ok] >= quiet) & (vals[ok] < 1.25 * quiet)), vals
    if pacemaker == 2:
        assert ok.sum() >= 5, vals
    else:
        assert not ok.any(), vals
