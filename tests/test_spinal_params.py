"""Spinal model files and bad input: clear errors before any network is built or run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurosim.simulate.spinal as sim
from neurosim.muscle.params import load_muscle_model
from neurosim.spinal.motoneuron import boltzmann, kca_scale, rate_table, resting_state, tau_h
from neurosim.spinal.network import TAB_DV, TAB_VMIN
from neurosim.spinal.params import SPINAL_SCHEMA, load_spinal_model

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "models" / "spinal" / "motoneuron_pool.toml"
PRONE = ROOT / "models" / "spinal" / "motoneuron_pool_cramp_prone.toml"
MUSCLE = ROOT / "models" / "muscle" / "fuglevand_1993.toml"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to build or run the network fails the test: errors must come first."""

    def boom(*a, **k):
        raise AssertionError("the network was built although the input is bad")

    monkeypatch.setattr(sim, "compile_network", boom)


def test_model_files_load_with_citations_and_units():
    m = load_spinal_model(POOL)
    for table in SPINAL_SCHEMA:
        if table != "model":
            assert m[table]["citation"].strip(), table
    # units converted to the internal system: mS/cm2 -> S/cm2, uM -> mM, mm -> um
    assert m["motoneuron"]["g_leak"] == pytest.approx(0.51e-3)
    assert m["motoneuron"]["kd"] == pytest.approx(0.2e-3)
    assert m["axons"]["cord_to_stimulation"] == pytest.approx(700e3)
    assert m["pool"]["n_units"] == 120


def test_cramp_prone_inherits_and_differs_only_in_neuromodulation():
    a, b = load_spinal_model(POOL), load_spinal_model(PRONE)
    assert b["neuromodulation"]["level"] > a["neuromodulation"]["level"]
    for table in SPINAL_SCHEMA:
        if table not in ("model", "neuromodulation"):
            assert a[table] == b[table], table


def test_serotonergic_and_canonical_settings_are_expressible():
    # Booth et al. 1997: serotonin scales gK(Ca) by 3.136/5 (soma) and 0.69/1.1 (dendrite)
    m = load_spinal_model(POOL, {"neuromodulation": {"level": 1.0}})
    s = kca_scale(m["neuromodulation"]["level"], m["neuromodulation"]["gkca_scale_serotonergic"])
    assert s == pytest.approx(3.136 / 5, rel=2e-3) and s == pytest.approx(0.69 / 1.1, rel=2e-3)
    assert kca_scale(0.0, 0.627) == 1.0


def test_rate_table_matches_the_rate_functions():
    p = load_spinal_model(POOL)["motoneuron"]
    tab = rate_table(p, 0.05)
    v = TAB_VMIN + TAB_DV * np.arange(len(tab))
    np.testing.assert_allclose(tab[:, 0], boltzmann(v, -35.0, -7.8), rtol=1e-12)
    np.testing.assert_allclose(tab[:, 2], np.exp(-0.05 / tau_h(v, 30.0)), rtol=1e-12)
    # tau_h peaks near -50 mV at 30 ms / 2 (Booth et al. 1997)
    assert tau_h(-50.0, 30.0) == pytest.approx(15.0)


def test_resting_state_balances_the_currents():
    p = load_spinal_model(POOL)["motoneuron"]
    for level in (0.0, 1.0):
        rest = resting_state(p, kca_scale(level, 0.627))
        assert -72.0 < rest["Vs"] < -60.0 and -72.0 < rest["Vd"] < -60.0
        assert 0.0 <= rest["ml"] < 0.2  # the plateau is off at rest


@pytest.mark.parametrize(
    "override,match",
    [
        ({"pool": {"n_units": 0}}, r"pool.n_units.* = 0 .*\[1, 10000\]"),
        ({"pool": {"n_units": -5}}, "pool.n_units"),
        ({"motoneuron": {"gcal": "-0.5 mS/cm2"}}, r"motoneuron.gcal.*-0.0005.*range"),
        ({"motoneuron": {"g_leak": "nan mS/cm2"}}, "motoneuron.g_leak.*not finite"),
        ({"motoneuron": {"gnabar": "120"}}, "no unit"),
        ({"synapses": {"w_ia": "-0.02 mS/cm2"}}, "synapses.w_ia"),
        ({"spindle": {"baseline_rate": "-6 Hz"}}, "spindle.baseline_rate"),
        ({"spindle": {"velocity_gain": "-4.3 Hz"}}, "spindle.velocity_gain"),
        ({"tendon_organ": {"gain": "-10 Hz"}}, "tendon_organ.gain"),
        ({"noise": {"sigma": "nan uA/cm2"}}, "noise.sigma"),
        ({"pump": {"current_per_spike": "-0.04 uA/cm2"}}, "pump.current_per_spike"),
        ({"pump": {"tau": "0 s"}}, "pump.tau"),
        ({"pump": {"tau": "30 mV"}}, "pump.tau"),
        ({"neuromodulation": {"level": float("nan")}}, "neuromodulation.level"),
        ({"axons": {"block_site": "800 mm"}}, "axons.block_site"),
        ({"axons": {"refractory": "1 ms"}}, "refractory"),
        ({"simulation": {"dt": "0.03 ms"}}, "input_dt"),
        ({"renshaw": {"unknown_key": 1}}, "unknown key"),
    ],
)
def test_bad_model_values_fail_before_the_run(override, match, no_network):
    with pytest.raises(ValueError, match=match):
        spinal = load_spinal_model(POOL, override)
        sim.simulate_spinal(spinal, load_muscle_model(MUSCLE), 100.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"duration": -10.0}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"duration": "10 mV"}, "duration"),
        ({"seed": -1}, "seed"),
        ({"drive": lambda: sim.Drive((0.0, 10.0), (0.0, float("nan")))}, "drive.excitation"),
        ({"drive": lambda: sim.Drive((0.0, 10.0), (0.0, -1.0))}, "drive.excitation"),
        (
            {"stimulation": lambda: sim.NerveStimulation(trains=((0.0, 100.0, -5.0),))},
            r"stimulation.trains\[0\].rate.*-5",
        ),
        (
            {
                "stimulation": lambda: sim.NerveStimulation(
                    trains=((0.0, 100.0, 20.0),), motor_fraction=1.5
                )
            },
            "motor_fraction",
        ),
        ({"tendon": lambda: sim.TendonStimulation(trains=((50.0, 10.0, 20.0),))}, "stop"),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("motor",), (0,), (float("nan"),), ("to_cord",))},
            "ectopic.time",
        ),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("motor",), (0,), (5.0,), ("sideways",))},
            "ectopic.direction",
        ),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("motor",), (500,), (5.0,), ("to_cord",))},
            r"ectopic.index.*500",
        ),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("motor",), (0,), (5.0,), ("local",))},
            r"ectopic.direction\[0\].*local",
        ),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("ib",), (0,), (5.0,), ("to_cord",))},
            r"ectopic.fibre\[0\].*ib",
        ),
        (
            {"ectopic": lambda: sim.EctopicSpikes(("motor",), (0,), (-5.0,), ("to_cord",))},
            "ectopic.time",
        ),
        (
            {
                "ectopic": lambda: sim.EctopicSpikes.from_arrays(
                    "motor", 0, np.arange(3000.0), "to_cord"
                )
            },
            r"3000 ectopic events.*max_ectopic",
        ),
        ({"stretch": lambda: sim.Stretch((0.0, 10.0), (0.0, float("inf")))}, "stretch.length"),
    ],
)
def test_bad_inputs_fail_before_the_run(kwargs, match, no_network):
    spinal, muscle = load_spinal_model(POOL), load_muscle_model(MUSCLE)
    with pytest.raises((ValueError, TypeError), match=match):
        args = {k: (v() if callable(v) else v) for k, v in kwargs.items()}
        duration = args.pop("duration", 100.0)
        sim.simulate_spinal(spinal, muscle, duration, **args)


def test_ectopic_aliases_of_the_axon_stage():
    from neurosim.ectopic import Direction

    e = sim.EctopicSpikes.from_arrays(
        ["sensory", "motor", "motor"],
        [1, 2, 3],
        [1.0, 2.0, 3.0],
        [Direction.PROXIMAL, "distal", Direction.BOTH],
    )
    assert e.fibre == ("ia", "motor", "motor")
    assert e.direction == ("to_cord", "to_periphery", "both")
    assert len(sim.EctopicSpikes.empty()) == 0 and len(e) == 3


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    level=st.floats(0.0, 2.0, allow_nan=False),
    w_ia=st.floats(0.0, 1.0, allow_nan=False),
)
def test_overrides_round_trip(level, w_ia):
    m = load_spinal_model(POOL).with_overrides(
        {"neuromodulation": {"level": level}, "synapses": {"w_ia": f"{w_ia!r} mS/cm2"}}
    )
    assert m["neuromodulation"]["level"] == level
    assert m["synapses"]["w_ia"] == pytest.approx(w_ia * 1e-3, rel=1e-12, abs=1e-300)
