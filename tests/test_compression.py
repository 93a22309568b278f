"""Lesion geometry, pressure schedules, model files and the compression driver."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from neurosim.compression import (
    POSTURES,
    CompressionDriver,
    Gait,
    Lesion,
    Level,
    Phase,
    PressureSchedule,
    RootGrid,
    constant,
    load_compression,
    parse_speed,
    posture_schedule,
    ramp,
)
from neurosim.ions import read_ions
from neurosim.simulate.ionic import IonicSimulation, ion_pools
from neurosim.simulate.load import load_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models" / "compression"
MRG = ROOT / "models" / "axon" / "mrg.toml"
MIN = 60e3  # ms


@pytest.fixture(scope="module")
def mrg41():
    return load_model(MRG, {"model.rest": True, "protocol.record": ["node[0]"], "protocol.cv": []})


# -- lesion ----------------------------------------------------------------------------------
def test_coverage_of_a_level_adds_up_to_its_length():
    g = RootGrid.uniform(50e3, 50)
    les = Lesion((Level(7.5e3, center=20e3),))
    cov = les.coverage(g)
    assert cov.shape == (1, 50)
    assert (cov[0] * g.length).sum() == pytest.approx(7.5e3, rel=1e-12)
    # 16.25-23.75 mm: three quarters of segments 16 and 23, all of 17-22
    assert cov[0, 16] == pytest.approx(0.75) and cov[0, 23] == pytest.approx(0.75)
    np.testing.assert_allclose(cov[0, 17:23], 1.0)
    assert cov[0, :16].sum() == 0.0


def test_cord_end_mirrors_positions():
    g = RootGrid.uniform(50e3, 50)
    a = Lesion((Level(4e3, center=10e3),), cord_end="start").coverage(g)
    b = Lesion((Level(4e3, center=10e3),), cord_end="end").coverage(g)
    np.testing.assert_allclose(a[0], b[0][::-1])


def test_pools_of_an_mrg_axon_tile_the_root(mrg41):
    pool = ion_pools(mrg41.model)
    g = RootGrid.from_pools(mrg41.model.morphology, pool)
    assert g.n == 41
    assert g.lo[0] == 0.0
    np.testing.assert_allclose(g.lo[1:], g.hi[:-1])
    # node spacing 1150 um (10 um fibre): interior pools are one internode long
    np.testing.assert_allclose(g.length[1:-1], 1150.0, rtol=1e-9)


def test_level_by_node_is_centred_on_that_node(mrg41):
    morph = mrg41.model.morphology
    pos = morph.geometry.position
    drv = CompressionDriver(
        Lesion((Level(3450.0, node=20),)),
        constant(50.0),
        load_compression(MODELS / "pig_cauda_equina.toml").flow_law,
        arterial=150.0,
    )
    drv.bind(mrg41.model, ion_pools(mrg41.model), 1)
    x20 = pos[morph.compartment("node[20]")]
    iv = drv.lesion.intervals(float(drv.grid.hi[-1]), drv.node_position)
    assert iv[0].mean() == pytest.approx(x20)
    assert drv.coverage[0, 20] == pytest.approx(1.0)
    assert drv.coverage[0, 19] == pytest.approx(drv.coverage[0, 21])


@pytest.mark.parametrize(
    ("levels", "kwargs", "match"),
    [
        ((Level(1e3, center=5e3), Level(1e3, center=5.5e3)), {}, "overlap"),
        ((Level(1e3, center=9e3), Level(1e3, center=3e3)), {}, "in order"),
        ((Level(1e3, center=60e3),), {}, "beyond"),
        ((Level(1e3),), {}, "exactly one"),
        ((Level(1e3, center=5e3, node=3),), {}, "exactly one"),
        ((Level(-1e3, center=5e3),), {}, "length"),
        ((Level(1e3, center=5e3),), {"cord_end": "middle"}, "cord_end"),
        ((), {}, "at least one"),
    ],
)
def test_bad_lesion_is_refused(levels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Lesion(levels, **kwargs).coverage(RootGrid.uniform(50e3, 10))


# -- schedules --------------------------------------------------------------------------------
def test_constant_and_ramp():
    c = constant(40.0)
    np.testing.assert_array_equal(c.pressure([0.0, 1e3, 1e7]), 40.0)
    assert math.isinf(c.onset_speed(1.0))
    r = ramp(100.0, 5.0, start=10e3, hold=60e3)  # Olmarker 1990 slow onset: 20 s to 100 mmHg
    assert r.pressure(5e3) == 0.0
    assert r.pressure(20e3) == pytest.approx(50.0)  # 10 s into a 5 mmHg/s rise
    assert r.pressure(40e3) == pytest.approx(100.0)
    assert r.pressure(80e3) == 0.0  # released after the hold
    assert r.onset_speed(40e3) == pytest.approx(5.0)
    assert r.onset_speed(5e3) == 0.0
    fast = ramp(100.0, 1000.0)  # 0.1 s onset
    assert fast.onset_speed(1e3) == pytest.approx(1000.0)


def test_posture_pressures_are_those_chosen():
    s = posture_schedule([(p, 5 * MIN) for p in POSTURES], transition=0.0)
    mids = 5 * MIN * (np.arange(len(POSTURES)) + 0.5)
    np.testing.assert_allclose(s.pressure(mids), list(POSTURES.values()))
    # Takahashi et al. 1995: standing in extension 116.7 mmHg; lying and sitting low;
    # flexion below standing
    assert POSTURES["extension"] == 116.7
    assert POSTURES["lying"] < POSTURES["standing"] and POSTURES["sitting"] < POSTURES["standing"]
    assert POSTURES["flexion"] < POSTURES["standing"] < POSTURES["extension"]


def test_walking_oscillates_90_times_a_minute():
    s = posture_schedule([("walking", 2 * MIN)], transition=0.0)
    t = np.arange(0.0, 60e3, 1.0)
    p = s.pressure(t)
    peaks = np.flatnonzero((p[1:-1] > p[:-2]) & (p[1:-1] >= p[2:]))
    # Takahashi et al. 1995b: about 90 waves per minute at 2 km/h
    assert peaks.size == 90
    gait = s.phases[0].gait
    assert p.max() == pytest.approx(POSTURES["standing"] + gait.amplitude, abs=1e-3)
    assert p.min() == pytest.approx(POSTURES["standing"])
    assert p.mean() == pytest.approx(POSTURES["standing"] + gait.mean, rel=1e-3)


def test_walking_bent_forward_is_lower_and_sitting_relieves():
    s = posture_schedule(
        [("walking", 5 * MIN), ("walking_flexed", 5 * MIN), ("sitting", 5 * MIN)], transition=2e3
    )
    t = np.arange(0.0, 15 * MIN, 7.0)
    p = s.pressure(t)
    upright = p[(t > 0.5 * MIN) & (t < 5 * MIN)]
    flexed = p[(t > 5.5 * MIN) & (t < 10 * MIN)]
    sitting = p[t > 10.5 * MIN]
    assert flexed.mean() < upright.mean() and flexed.max() < upright.max()
    assert sitting.max() < flexed.min() + 1e-9 or sitting.mean() < flexed.mean()
    np.testing.assert_allclose(sitting, POSTURES["sitting"])


def test_arbitrary_sequence_with_explicit_starts_and_gaps():
    s = PressureSchedule(
        [
            Phase("a", 10e3, 30.0, rise_time=0.0),
            Phase("b", 5e3, 60.0, start=20e3, rise_time=1e3),
            Phase("c", 5e3, 10.0, rise_time=0.0),
        ],
        gap=5.0,
    )
    assert s.pressure(5e3) == 30.0
    assert s.pressure(15e3) == 5.0  # the gap
    assert s.pressure(20.5e3) == pytest.approx(5.0 + 0.5 * 55.0)  # rising out of the gap
    assert s.pressure(22e3) == 60.0
    assert s.pressure(27e3) == 10.0
    assert s.pressure(1e6) == 10.0  # the last level is held
    assert s.onset_speed(22e3) == pytest.approx(55.0)  # 55 mmHg in 1 s
    assert s.onset_speed(27e3) == pytest.approx(55.0)  # a fall is not an onset


@pytest.mark.parametrize(
    ("phases", "match"),
    [
        ([Phase("standing", -5e3, 80.0)], r"phase 0 \('standing'\): `duration` = -5000"),
        ([Phase("standing", 0.0, 80.0)], r"phase 0 \('standing'\): `duration` = 0"),
        (
            [Phase("lying", math.inf, 15.0), Phase("sitting", 1e3, 20.0)],
            r"phase 0 \('lying'\).*inf only",
        ),
        ([Phase("lying", 1e3, -3.0)], r"phase 0 \('lying'\): `pressure` = -3"),
        ([Phase("lying", 1e3, math.nan)], r"phase 0 \('lying'\): `pressure` = nan"),
        ([Phase("lying", 1e3, math.inf)], r"phase 0 \('lying'\): `pressure` = inf"),
        (
            [Phase("lying", 10e3, 15.0), Phase("standing", 5e3, 80.0, start=5e3)],
            r"phase 1 \('standing'\): `start` = 5000 ms is before.*overlap",
        ),
        (
            [Phase("sitting", 1e3, 20.0, rise_time=2e3)],
            r"phase 0 \('sitting'\).*longer than the phase",
        ),
        ([Phase("walk", 1e3, 80.0, gait=Gait(rate=-1.0))], r"gait.rate"),
        ([], "at least one phase"),
    ],
)
def test_bad_schedule_is_refused(phases, match):
    with pytest.raises(ValueError, match=match):
        PressureSchedule(phases)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: constant(-1.0), "pressure"),
        (lambda: ramp(100.0, 0.0), "speed"),
        (lambda: ramp(100.0, math.nan), "speed"),
        (lambda: posture_schedule([("dancing", 1e3)]), "unknown posture 'dancing'"),
        (lambda: posture_schedule([("lying", 1e3)], pressures={"lying": -2.0}), "postures.lying"),
    ],
)
def test_bad_schedule_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- model files -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["stenosis_single", "stenosis_double", "cuff_ischaemia", "pig_cauda_equina"]
)
def test_model_files_load(name):
    cf = load_compression(MODELS / f"{name}.toml")
    assert cf.name == name
    assert cf.citation
    assert cf.flow_law.breakpoint("capillary") == pytest.approx(
        cf.flow_law.surround + 39.93, abs=0.05
    )


def test_stenosis_files_recommend_csf_supply_and_cuff_none():
    single = load_compression(MODELS / "stenosis_single.toml")
    cuff = load_compression(MODELS / "cuff_ischaemia.toml")
    assert single.ions.diffusion_csf > 0 and single.ions.o2_exchange_csf > 0
    assert cuff.ions.diffusion_csf == 0 and cuff.ions.o2_exchange_csf == 0
    assert single.damage is not None and cuff.damage is None
    assert len(load_compression(MODELS / "stenosis_double.toml").lesion.levels) == 2


def test_overrides_and_units():
    cf = load_compression(
        MODELS / "stenosis_single.toml",
        {"flow.arterial": "8 kPa", "schedule.transition": "0.5 min"},
    )
    assert cf.arterial == pytest.approx(60.0, rel=1e-3)
    assert cf.schedule.transition == 30e3
    assert parse_speed("120 mmHg/min", "x") == pytest.approx(2.0)
    assert math.isinf(parse_speed("inf", "x"))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"flow.arterial": "93"}, "flow.arterial"),
        ({"flow.arterial": "20 mmHg"}, "venular breakpoint"),
        ({"flow.bogus": 1}, "bogus"),
        ({"damage.onset_half": "5 mmHg"}, "pressure rate"),
        ({"damage.onset_half": "-5 mmHg/s"}, "positive"),
        ({"schedule.kind": "zigzag"}, "schedule.kind"),
        ({"flow.rung": [0.5, 0.5, 0.5]}, "sum to 1"),
        ({"lesion.cord_end": "middle"}, "lesion.cord_end"),
        ({"flow.vein.log_sd": -1.0}, "log_sd"),
    ],
)
def test_bad_model_file_values_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        load_compression(MODELS / "stenosis_single.toml", overrides)


def test_phase_without_duration_must_be_last():
    cfg = {
        "compression": {"name": "x"},
        "lesion": {"level": [{"center": "10 mm", "length": "5 mm"}]},
        "schedule": {"kind": "posture", "phase": [{"posture": "lying"}, {"posture": "standing"}]},
        "flow": {"arterial": "93 mmHg"},
    }
    from neurosim.compression.load import compression_from_config

    with pytest.raises(ValueError, match=r"schedule.phase\[0\].duration"):
        compression_from_config(cfg)


# -- the driver ----------------------------------------------------------------------------------
def _pig_law():
    return load_compression(MODELS / "pig_cauda_equina.toml").flow_law


def test_driver_averages_flow_not_pressure(mrg41):
    """Walking: the flow law is nonlinear, so the step's flow is the mean of the flows at
    the samples, which differs from the flow of the mean pressure."""
    law = _pig_law()
    sched = posture_schedule([("walking", 10 * MIN)], transition=0.0, pressures={"standing": 20.0})
    drv = CompressionDriver(Lesion((Level(5e3, node=20),)), sched, law, arterial=150.0)
    drv.bind(mrg41.model, ion_pools(mrg41.model), 1)
    t0, dt = 60e3, 2e3
    q = drv.update(t0, dt)
    dense = np.linspace(t0, t0 + dt, 4001)[:-1] + dt / 8000
    q_dense = drv.flows(dense).mean(axis=1)
    # tolerance: 24 midpoint samples of a 1.5 Hz raised-cosine wave vs 4000 samples
    np.testing.assert_allclose(q, q_dense, atol=0.02)
    p_mean = drv.schedule.pressure(dense).mean()
    q_of_mean = law.relative_flow(drv.grid, drv.coverage, np.array([[p_mean]]), 150.0)
    assert abs(q[0, 20] - q_of_mean[0, 20]) > 0.05
    h = drv.history
    assert h["pressure_peak"][0, 0, 0] == pytest.approx(
        20.0 + sched.phases[0].gait.amplitude, rel=0.01
    )
    assert h["pressure"][0, 0, 0] == pytest.approx(p_mean, rel=0.02)


def test_driver_flow_is_normal_outside_a_single_lesion(mrg41):
    drv = CompressionDriver(
        Lesion((Level(5e3, node=20),)), constant(200.0), _pig_law(), arterial=150.0
    )
    drv.bind(mrg41.model, ion_pools(mrg41.model), 2)
    q = drv.update(0.0, 1e3)
    assert q.shape == (2, 41)
    assert np.all(q[:, 19:22] < 1e-6)  # under the lesion
    # the ends of the root are unaffected; near the lesion the network redistributes
    np.testing.assert_allclose(q[:, [0, 40]], 1.0, atol=0.05)


def test_driver_grade_and_arterial_per_member(mrg41):
    drv = CompressionDriver(
        Lesion((Level(5e3, node=20),)),
        constant(30.0),
        _pig_law(),
        arterial=[150.0, 150.0, 100.0],
        grade=[0.0, 1.0, 1.0],
    )
    drv.bind(mrg41.model, ion_pools(mrg41.model), 3)
    q = drv.update(0.0, 1e3)
    np.testing.assert_allclose(q[0], 1.0, atol=1e-12)  # grade 0: no compression
    assert q[1, 20] < q[0, 20]
    assert q[2, 0] < q[1, 0]  # lower arterial pressure: less flow everywhere


def test_driver_solves_the_network_once_per_distinct_pressures(mrg41, monkeypatch):
    """Steps of a constant phase reuse the flow solved at its first step; a new pressure
    (the next phase, a gait wave) is solved again. Every value equals a direct solve."""
    law = _pig_law()
    sched = posture_schedule(
        [("standing", 2 * MIN), ("walking", 2 * MIN)], transition=0.0, pressures={"standing": 40.0}
    )
    drv = CompressionDriver(
        Lesion((Level(5e3, node=20),)), sched, law, arterial=[150.0, 110.0], grade=[1.0, 0.5]
    )
    drv.bind(mrg41.model, ion_pools(mrg41.model), 2)
    solves = []
    solve = type(law).relative_flow

    def counted(self, grid, coverage, pressure, arterial):
        solves.append(pressure.shape)
        return solve(self, grid, coverage, pressure, arterial)

    monkeypatch.setattr(type(law), "relative_flow", counted)
    steps = [(t, 5e3) for t in np.arange(0.0, 60e3, 5e3)] + [(2 * MIN + 1e3, 2e3)]
    qs = []
    for t, dt in steps:
        qs.append((drv.flow(t, dt), drv._factor()))  # the step's flow and hyperaemia
        drv.advance(t, dt)
    assert len(solves) == 2  # the standing phase once, then the first walking step
    assert solves[0][0] == 2 and solves[1][0] > 2  # distinct rows only: one per member
    for (t, dt), (q, factor) in zip(steps, qs, strict=True):
        times = drv.schedule.samples(t, dt, drv.per_cycle)
        p = drv.pressures(times)  # (B, T, L)
        direct = [
            solve(law, drv.grid, drv.coverage, p[b], np.full(len(times), drv.arterial[b])).mean(
                axis=0
            )
            for b in range(2)
        ]
        np.testing.assert_array_equal(q, np.stack(direct) * factor)


def test_driver_needs_binding_and_arterial():
    with pytest.raises(ValueError, match="missing"):
        CompressionDriver(Lesion((Level(1e3, center=1e3),)), constant(10.0), _pig_law())
    drv = CompressionDriver(
        Lesion((Level(1e3, center=1e3),)), constant(10.0), _pig_law(), arterial=150.0
    )
    with pytest.raises(RuntimeError, match="not bound"):
        drv.update(0.0, 1e3)


def test_driver_in_an_ionic_simulation():
    """A 21-node MRG axon with a 200 mmHg lesion at node 10 for 60 s, released for 20 s:
    the compressed pools lose flow and O2, the history records every slow step, the edge
    damage grows while compressed and stays after release, the ion layer recovers."""
    mf = load_model(
        MRG,
        {"model.rest": True, "fiber.nodes": 21, "protocol.record": ["node[0]"], "protocol.cv": []},
    )
    cf = load_compression(MODELS / "stenosis_single.toml")
    sched = ramp(200.0, math.inf, hold=60e3)
    # the acute law: the file's chronic lesion starts retracted; here damage grows from 0
    acute = dataclasses.replace(cf.damage, initial=0.0, exposed_nav=0.0)
    drv = CompressionDriver(
        Lesion((Level(5e3, node=10),)), sched, cf.flow_law, acute, arterial=93.0
    )
    ions = read_ions({"diffusion_csf": "6.65e-4 1/ms", "o2_exchange_csf": "3.4e-5 1/ms"})
    isim = IonicSimulation(mf.model, ions, dt=0.025, window=5.0, slow_dt=2000.0, drivers=[drv])
    k = isim.sim.k
    node10 = isim.sim.morphology.compartment("node[10]")
    edge_nodes = [isim.sim.morphology.compartment(f"node[{i}]") for i in drv.myelin.nodes]
    cap0 = k.cap[0, edge_nodes].copy()
    res = isim.run(80e3)
    h = drv.history
    S = h["t"].size
    # one record per slow step, contiguous over the run, one step ending at the release
    np.testing.assert_allclose(h["t"][1:], (h["t"] + h["dt"])[:-1])
    assert h["t"][0] == 0.0 and (h["t"] + h["dt"])[-1] == pytest.approx(80e3)
    assert np.any(np.isclose(h["t"], 60e3))
    assert h["flow"].shape == (S, 1, 21) and h["damage"].shape == (S, 1, 2)
    assert h["pressure"].shape == (S, 1, 1) and h["pressure_peak"].shape == (S, 1, 1)
    comp = h["t"] < 60e3
    assert np.all(h["flow"][comp][:, 0, 10] < 1e-6)
    assert np.all(np.diff(h["damage"][:, 0, 0]) >= 0)
    assert h["damage"][-1, 0, 0] > 0 and h["damage"][-1, 0, 0] == h["damage"][-6, 0, 0]
    assert np.all(k.cap[0, edge_nodes] > cap0)  # damage was applied to the cable
    i10 = res.sites.index("node[10]")
    o2 = res.traces["o2"][0, i10]
    at_release = np.searchsorted(res.t, 60e3)
    assert o2[at_release] < 0.9 * o2[0]  # O2 falls under the lesion
    assert o2[-1] > o2[at_release]  # and recovers after release (with hyperaemia)
    assert h["hyperaemia"][~comp][:, 0, 10].max() > 1.0
    # the lesion centre is not an edge: its node is untouched by the damage
    assert k.cap[0, node10] == drv.myelin.cap0[0, node10]
