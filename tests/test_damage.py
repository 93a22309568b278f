"""Mechanical damage: the retraction law and its effect on the MRG double cable.

Targets (neurosim/compression/damage.py): no lasting damage at 50 mmHg for 2 h, more at
100 and 200 mmHg and more after a rapid than a slow onset (Olmarker et al. 1990, Spine
15:416; Garfin et al. 1990; Pedowitz et al. 1992); damage at the lesion edges slows
conduction across the lesion and then blocks it (Ochoa et al. 1972; paranodal retraction
as node lengthening: Babbs & Shi 2013).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from neurosim.compression import (
    CompressionDriver,
    DamageLaw,
    Lesion,
    Level,
    MyelinDamage,
    load_compression,
    ramp,
)
from neurosim.simulate.cable import CableSimulation
from neurosim.simulate.ionic import ion_pools
from neurosim.simulate.load import load_model
from neurosim.simulate.protocol import Protocol, Stimulus

ROOT = Path(__file__).resolve().parents[1]
MRG = ROOT / "models" / "axon" / "mrg.toml"
HUMAN = ROOT / "models" / "axon" / "human_motor.toml"
HOURS2 = 7200e3  # ms


def rapid(p):
    """Onset speed (mmHg/s) of Olmarker et al. 1990's rapid onset (0.05-0.1 s)."""
    return p / 0.1


def slow(p):
    """Their slow onset: 20 s."""
    return p / 20.0


def _damage_after(law, pressure, speed, duration=HOURS2):
    return float(law.advance(0.0, law.rate(pressure, speed), duration))


# -- the law ------------------------------------------------------------------------------
def test_no_damage_below_threshold_and_more_at_higher_pressure():
    law = DamageLaw()
    assert _damage_after(law, 50.0, math.inf) == 0.0
    d = [_damage_after(law, p, slow(p)) for p in (60.0, 100.0, 150.0, 200.0, 300.0)]
    assert np.all(np.diff(d) > 0)


@pytest.mark.parametrize(
    ("pressure", "onset", "expected"),
    [(100.0, slow, 0.135), (100.0, rapid, 0.23), (200.0, slow, 0.55), (200.0, rapid, 0.75)],
)
def test_two_hour_damage_matches_the_documented_calibration(pressure, onset, expected):
    # tolerance 0.01: the values quoted in damage.py are rounded to two digits
    got = _damage_after(DamageLaw(), pressure, onset(pressure))
    assert got == pytest.approx(expected, abs=0.01)


def test_fast_onset_does_more_harm():
    law = DamageLaw()
    f = law.onset_factor([0.0, slow(200.0), rapid(200.0), math.inf])
    assert f[0] == 1.0 and f[-1] == law.onset_gain
    assert np.all(np.diff(f) > 0)
    for p in (100.0, 200.0):  # Olmarker et al. 1990: rapid worse than slow at both
        assert _damage_after(law, p, rapid(p)) > 1.3 * _damage_after(law, p, slow(p))


def test_damage_never_recovers_after_release():
    """Through the driver: 200 mmHg for 30 min then released for 30 min."""
    mf = load_model(MRG, {"model.rest": True})
    cf = load_compression(ROOT / "models" / "compression" / "stenosis_single.toml")
    sched = ramp(208.0, math.inf, hold=30 * 60e3)  # 200 mmHg above the 8 mmHg surroundings
    sim = CableSimulation(mf.model, mf.protocol)
    acute = dataclasses.replace(cf.damage, initial=0.0)  # damage grows from 0 here
    drv = CompressionDriver(cf.lesion, sched, cf.flow_law, acute, arterial=93.0)
    drv.bind(mf.model, ion_pools(mf.model), 1, sim)
    for k in range(60):
        drv.update(k * 60e3, 60e3)
    d = drv.history["damage"][:, 0, 0]
    t = drv.history["t"]
    assert np.all(np.diff(d) >= 0)
    assert d[t >= 31 * 60e3].max() == d[t >= 31 * 60e3].min() > 0  # frozen after release
    # 30 min at 200 mmHg above the surroundings, step onset (rate x 2): exact solution
    tau = cf.damage.time_constant
    assert d[-1] == pytest.approx(1 - math.exp(-2 * 30 * 60e3 / tau), rel=1e-9)


# -- the cable ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mrg():
    return load_model(MRG).model


def _lesion_sim(model, damage, nodes=41, stim=True, dt=0.005, tstop=6.0):
    B = damage.shape[0]
    prot = Protocol(
        tstop=tstop,
        dt=dt,
        stimuli=(Stimulus("node[0]", 0.5, 0.1, 2.0),) if stim else (),
        detect=tuple(f"node[{i}]" for i in range(nodes)),
    )
    sim = CableSimulation(model, prot, batch={"celsius": np.full(B, 37.0)})
    les = Lesion((Level(10e3, node=nodes // 2),))
    pos = sim.k.position[0]
    morph = sim.morphology

    def node_pos(i):
        return float(pos[morph.compartment(f"node[{i}]")])

    total = float(pos[-1] + 0.5)
    md = MyelinDamage(DamageLaw(), sim, model, les.edges(total, node_pos))
    md.apply(np.repeat(damage[:, None], md.n_edges, axis=1))
    return sim, md


def test_zero_damage_changes_nothing_and_damage_is_reversible_in_the_arrays(mrg):
    sim, md = _lesion_sim(mrg, np.zeros(2))
    k = sim.k
    np.testing.assert_array_equal(k.cap, md.cap0)
    np.testing.assert_array_equal(k.gbar, md.gbar0)
    np.testing.assert_array_equal(k.gxa, md.gxa0)
    md.apply(np.array([[0.6, 0.3], [1.0, 1.0]]))
    assert not np.array_equal(k.cap, md.cap0)
    md.apply(np.zeros((2, 2)))
    np.testing.assert_array_equal(k.cap, md.cap0)
    np.testing.assert_array_equal(k.gbar, md.gbar0)
    np.testing.assert_array_equal(k.gxa, md.gxa0)


def test_retraction_moves_membrane_to_the_node_and_conserves_it(mrg):
    """The exposed paranodal axolemma joins the node: total capacitance is unchanged
    (MRG scales paranodal capacitance by innerD/fibreD, so it is cm x inner area)."""
    D = np.array([0.0, 0.05, 0.3, 1.0])
    sim, md = _lesion_sim(mrg, D)
    k = sim.k
    np.testing.assert_allclose(k.cap.sum(axis=1), md.cap0.sum(axis=1), rtol=1e-12)
    nodes = [en["node_comp"] for en in md.entries]
    ratio = k.cap[:, nodes] / md.cap0[:, nodes]
    assert np.all(np.diff(ratio, axis=0) > 0)
    # full retraction exposes MYSA + FLUT: ~100 x the node's own area at 10 um
    assert ratio[-1].min() > 50
    # periaxonal resistance of the retracted paranodes falls
    links = md.links
    assert np.all(k.gxa[-1, links] > md.gxa0[-1, links])


def test_juxtaparanodal_fast_k_is_exposed_at_the_node():
    """Human motor axon: FLUT fast K (human_kf) moves to the node in proportion."""
    hm = load_model(HUMAN)
    sim, md = _lesion_sim(hm.model, np.array([0.0, 1.0]))
    k = sim.k
    kf = [
        np.arange(sl.start, sl.stop) for (_, mech, cur, _, sl) in k.currents if mech == "human_kf"
    ]
    kf = np.concatenate(kf)
    np.testing.assert_allclose(k.gbar[:, kf].sum(axis=1), md.gbar0[:, kf].sum(axis=1), rtol=1e-12)
    en = md.entries[0]
    node_kf = [s for s in kf if k.site_comp[s] == en["node_comp"]]
    assert k.gbar[1, node_kf].sum() > 10 * md.gbar0[1, node_kf].sum()


def test_damage_slows_then_blocks_conduction(mrg):
    D = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.74, 0.76, 0.9, 1.0])
    sim, md = _lesion_sim(mrg, D)
    sim.initialize()
    sim.advance(sim.protocol.n_steps)
    r = sim.result()
    cv = r.conduction_velocity("node[10]", "node[30]")  # across the 10 mm lesion at node 20
    ctrl = r.conduction_velocity("node[2]", "node[8]")  # proximal to it
    # intact: the MRG CV of a 10 um fibre (51.3 m/s here; the model matches NEURON)
    assert cv[0] == pytest.approx(ctrl[0], rel=0.01)
    ok = np.isfinite(cv)
    np.testing.assert_array_equal(ok, D < 0.75)  # block between 0.74 and 0.76
    assert np.all(np.diff(cv[ok]) < 0)  # slows monotonically first
    assert cv[ok][-1] < 0.25 * cv[0]
    assert np.all(r.spike_counts[~ok, 40] == 0) and np.all(r.spike_counts[ok, 40] == 1)
    # the damage is local: 8 nodes proximal to the lesion the CV changes by < 0.2%
    np.testing.assert_allclose(ctrl, ctrl[0], rtol=2e-3)


# -- bad input -------------------------------------------------------------------------------
def test_damage_needs_an_mrg_axon(hh_cable):
    sim = CableSimulation(hh_cable.model, hh_cable.protocol)
    les = Lesion((Level(1e3, center=5e3),))
    with pytest.raises(ValueError, match="MRG-type"):
        MyelinDamage(DamageLaw(), sim, hh_cable.model, les.edges(10e3))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (np.zeros((1, 3)), "shape"),
        (np.full((1, 2), 1.5), "out of range"),
        (np.full((1, 2), np.nan), "not finite"),
    ],
)
def test_bad_damage_values_are_refused(mrg, damage, match):
    sim, md = _lesion_sim(mrg, np.zeros(1))
    with pytest.raises(ValueError, match=match):
        md.apply(damage)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": -1.0}, "threshold"),
        ({"reference": 40.0}, "reference"),
        ({"onset_gain": 0.5}, "onset_gain"),
        ({"time_constant": 0.0}, "time_constant"),
        ({"widening": 0.5}, "widening"),
    ],
)
def test_bad_damage_law_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DamageLaw(**kwargs)
