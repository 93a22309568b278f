"""What the scenarios change: electrolytes (surface-charge gating shift, Nernst K), the
calf's perfusion (vascular claudication), experiment files built on a base, and the
scenario files themselves (they load; bad input fails loudly)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from neurosim.electrolytes import (
    NORMAL,
    SHIFT_PER_DECADE,
    Electrolytes,
    nernst_shift,
    read_electrolytes,
    surface_shift,
)
from neurosim.experiments import load_experiment
from neurosim.muscle.perfusion import MusclePerfusion, read_perfusion
from neurosim.simulate.cable import simulate_cable
from neurosim.simulate.load import load_model

ROOT = Path(__file__).resolve().parents[1]
HH = ROOT / "models" / "cable" / "hh_cable.toml"
SCENARIOS = [
    "stenosis_standing_vs_flexion",
    "stenosis_standing",
    "low_magnesium_calcium",
    "low_potassium",
    "high_potassium",
    "dehydration",
    "fatigue",
    "quinine",
    "double_level_stenosis",
    "walking_cramp",
    "vascular_claudication",
    "night_cramp",
    "stenosis_partial_root",
    "fatigue_partial_root",
]


# -- electrolytes ------------------------------------------------------------------------


def test_surface_shift_follows_the_squid_axon_law():
    assert surface_shift(NORMAL.ca, NORMAL.mg) == 0.0
    # Frankenhaeuser & Hodgkin 1957: 10-15 mV per 5-fold change of divalent cations
    five_fold = surface_shift(NORMAL.ca / 5, NORMAL.mg / 5)
    assert five_fold == pytest.approx(-12.5, abs=1e-12)
    assert SHIFT_PER_DECADE == pytest.approx(17.88, abs=0.01)
    # less Ca or Mg: gating moves to hyperpolarised voltages (negative), monotonic
    shifts = [surface_shift(ca, 0.55) for ca in (0.6, 0.9, 1.2, 1.5)]
    assert shifts[0] < shifts[1] < shifts[2] == 0.0 < shifts[3]
    assert Electrolytes(ca=0.9, mg=0.35).gating_shift == pytest.approx(-2.613, abs=1e-3)


def test_potassium_moves_the_motoneuron_reversal_by_nernst():
    assert nernst_shift(4.0, 4.0) == 0.0
    # RT/F ln(10) at 37 degC = 61.5 mV per decade
    assert nernst_shift(40.0, 4.0) == pytest.approx(61.54, abs=0.01)
    from neurosim.simulate.spinal import default_models

    spinal, _ = default_models()
    over = Electrolytes(k=3.0, ca=0.9).overrides(spinal)
    shift = Electrolytes(ca=0.9).gating_shift
    mn = over["spinal"]["motoneuron"]
    assert float(mn["th_m"].split()[0]) == pytest.approx(spinal["motoneuron"]["th_m"] + shift)
    assert float(mn["ek"].split()[0]) == pytest.approx(
        -80.0 + 8.3145 * 310.15 / 96.485 * math.log(0.75), abs=1e-3
    )
    assert over["ions"]["ko"] == "3.0 mM"
    shifted = spinal.with_overrides(over["spinal"])
    assert shifted["motoneuron"]["th_h"] == pytest.approx(spinal["motoneuron"]["th_h"] + shift)


@pytest.mark.parametrize(
    "table, match",
    [
        ({"ca": "-1 mM"}, "ca"),
        ({"k": "20 mM"}, "k"),
        ({"mg": "nan mM"}, "mg"),
        ({"calcium": "1 mM"}, "calcium"),
        ({"na": "145 mV"}, "na"),
    ],
)
def test_bad_electrolytes_fail_loudly(table, match):
    with pytest.raises((ValueError, TypeError), match=match):
        read_electrolytes(table)


def test_gating_shift_is_a_shift_of_the_voltage_axis():
    """Shifting every gate, every reversal potential and the start by the same s must
    shift the whole voltage trace by exactly s (the gates see V - s)."""
    s = 7.0
    base = load_model(HH, {"protocol.tstop": "15 ms"})
    moved = load_model(
        HH,
        {
            "protocol.tstop": "15 ms",
            "model.gating_shift": f"{s} mV",
            "model.v_init": f"{-65 + s} mV",
            "mechanisms.hh.ena": f"{50 + s} mV",
            "mechanisms.hh.ek": f"{-77 + s} mV",
            "mechanisms.hh.el": f"{-54.3 + s} mV",
            "protocol.threshold": f"{s} mV",
        },
    )
    a = simulate_cable(base.model, base.protocol)
    b = simulate_cable(moved.model, moved.protocol)
    assert int(a.spike_counts.sum()) > 0
    np.testing.assert_array_equal(b.spike_counts, a.spike_counts)
    np.testing.assert_allclose(b.v - s, a.v, atol=1e-9)


def test_low_divalent_cations_make_the_hh_axon_fire_on_its_own():
    """Frankenhaeuser & Hodgkin 1957: in low Ca the squid axon discharges spontaneously.
    With no stimulus, the HH cable is silent unshifted and fires repetitively once its
    gates move 10-15 mV towards hyperpolarised voltages (a ~5-fold fall of Ca)."""

    def spikes(shift):
        m = load_model(
            HH,
            {
                "protocol.tstop": "50 ms",
                "model.gating_shift": f"{shift} mV",
                "protocol.stimulus": [],
            },
        )
        return int(simulate_cable(m.model, m.protocol).spike_counts.sum())

    assert spikes(0.0) == 0
    assert spikes(-5.0) == 0
    assert spikes(-10.0) > 5 and spikes(-15.0) > 5


def test_gating_shift_out_of_range_fails():
    with pytest.raises(ValueError, match="gating_shift"):
        load_model(HH, {"model.gating_shift": "40 mV"})


# -- muscle perfusion ----------------------------------------------------------------------


class _Phase:
    def __init__(self, walking):
        self.gait = object() if walking else None


class _Schedule:
    """Stand 1 min, walk 8 min, sit (the walking scenarios' schedule)."""

    phases = (_Phase(False), _Phase(True), _Phase(False))
    starts = np.array([0.0, 60e3, 540e3])

    def phase_index(self, t):
        return np.searchsorted(self.starts, np.asarray(t, float), side="right") - 1


def _at(r, key, minutes):
    return float(np.interp(minutes * 60e3, r["time"], r[key]))


def test_healthy_calf_keeps_up_with_walking():
    r = MusclePerfusion().run(_Schedule(), 14 * 60e3)
    assert r["o2_store"].min() == 1.0 and r["fatigue"].max() == 0.0


def test_narrowed_artery_gives_ischaemia_after_minutes_and_relief_on_sitting():
    r = MusclePerfusion(max_flow=3.0).run(_Schedule(), 16 * 60e3)
    # O2 store empties within a minute of walking; fatigue builds over minutes
    assert _at(r, "o2_store", 2.0) == 0.0
    assert 0.05 < _at(r, "fatigue", 2.0) < 0.5
    assert _at(r, "fatigue", 8.0) > 0.9
    # sitting down: flow catches up, store refills, metabolites wash out within minutes
    assert _at(r, "o2_store", 10.0) == 1.0
    assert _at(r, "fatigue", 14.0) < 0.3
    assert np.all((r["fatigue"] >= 0) & (r["fatigue"] <= 1))


@pytest.mark.parametrize(
    "table, match",
    [
        ({"max_flow": -1.0}, "max_flow"),
        ({"walking_demand": 0.5}, "walking_demand"),
        ({"washout": "0 s"}, "washout"),
        ({"max_flw": 3.0}, "max_flw"),
    ],
)
def test_bad_perfusion_fails_loudly(table, match):
    with pytest.raises((ValueError, TypeError), match=match):
        read_perfusion(table)


# -- experiment files ----------------------------------------------------------------------


def test_a_file_builds_on_its_base(tmp_path):
    (tmp_path / "base.toml").write_text(
        '[experiment]\nkind = "scenario"\ndescription = "base"\n'
        '[run]\nduration = "1 min"\nseed = 3\n[compression]\nfile = "c.toml"\n'
        '[compression.set]\n"flow.arterial" = "93 mmHg"\n'
    )
    (tmp_path / "child.toml").write_text(
        '[experiment]\nbase = "base.toml"\n[run]\nseed = 4\n'
        '[compression.set]\n"damage.initial" = 0.5\n'
    )
    cfg = load_experiment(tmp_path / "child.toml")
    assert cfg["experiment"] == {"kind": "scenario", "description": "base", "name": "child"}
    assert cfg["run"] == {"duration": "1 min", "seed": 4}
    assert cfg["compression"]["set"] == {"flow.arterial": "93 mmHg", "damage.initial": 0.5}


def test_bad_bases_fail_loudly(tmp_path):
    (tmp_path / "a.toml").write_text('[experiment]\nkind = "scenario"\nbase = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[experiment]\nkind = "scenario"\nbase = "a.toml"\n')
    with pytest.raises(ValueError, match="cycle"):
        load_experiment(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('[experiment]\nbase = "../x/b.toml"\n')
    with pytest.raises(ValueError, match="same folder"):
        load_experiment(tmp_path / "c.toml")
    (tmp_path / "d.toml").write_text('[experiment]\nbase = "missing.toml"\n')
    with pytest.raises(FileNotFoundError, match="missing"):
        load_experiment(tmp_path / "d.toml")


def _read_scenario(name):
    from neurosim.experiments._root import read_root
    from neurosim.experiments.scenario import read_modifiers, read_segments, read_spinal

    cfg = load_experiment(ROOT / "experiments" / f"{name}.toml")
    spinal, muscle, _ = read_spinal(cfg)
    el, over, perf = read_modifiers(cfg, spinal)
    compression, groups, run = read_root(cfg, axon_set=over["axon"])
    return cfg, el, perf, compression, groups, run, read_segments(cfg), spinal, muscle


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_files_load(name):
    cfg, el, perf, compression, groups, run, segments, spinal, muscle = _read_scenario(name)
    assert cfg["experiment"]["kind"] == "scenario"
    assert {g.kind for g in groups} == {"motor", "sensory"}
    assert all(s.start + s.duration <= run["duration"] for s in segments)


def test_scenarios_change_what_their_comments_say():
    ref = _read_scenario("stenosis_standing")
    low = _read_scenario("low_magnesium_calcium")
    assert [g.model.model.gating_shift for g in low[4]] == pytest.approx([-1.4605] * 2, abs=1e-4)
    assert [g.model.model.gating_shift for g in ref[4]] == [0.0, 0.0]
    assert _read_scenario("dehydration")[3].arterial == 80.0
    assert _read_scenario("fatigue")[8]["fatigue"]["level"] == 0.6
    q = _read_scenario("quinine")
    assert q[7]["motoneuron"]["gnabar"] == pytest.approx(0.85 * ref[7]["motoneuron"]["gnabar"])
    part = load_experiment(ROOT / "experiments" / "fatigue_partial_root.toml")
    assert part["spinal"]["ia_share"] == 0.2
    assert _read_scenario("fatigue_partial_root")[8]["fatigue"]["level"] == 0.6
    assert _read_scenario("stenosis_partial_root")[8]["fatigue"]["level"] == 0.0
    vasc = _read_scenario("vascular_claudication")
    assert vasc[2].max_flow < vasc[2].walking_demand <= _read_scenario("walking_cramp")[2].max_flow
    assert max(p["pressure_mmHg"] for p in vasc[3].schedule.describe()) == 8.0
    # double level: two levels, each as long as the reference's one, both on the simulated
    # root with uncompressed root between them
    dbl = _read_scenario("double_level_stenosis")
    total = dbl[4][0].model.model.morphology.geometry.position.max()
    iv = dbl[3].lesion.intervals(total)
    assert [lv.length for lv in dbl[3].lesion.levels] == [ref[3].lesion.levels[0].length] * 2
    assert iv[0, 0] > 0 and iv[1, 1] < total and iv[1, 0] - iv[0, 1] >= 10_000.0  # um


def test_plasma_k_in_two_places_is_refused(tmp_path):
    src = (ROOT / "experiments" / "low_potassium.toml").read_text()
    for f in ("stenosis_standing.toml",):
        (tmp_path / f).write_text((ROOT / "experiments" / f).read_text())
    (tmp_path / "k.toml").write_text(src + '\n[ions]\nko = "5 mM"\n')
    from neurosim.experiments.scenario import read_modifiers
    from neurosim.simulate.spinal import default_models

    cfg = load_experiment(tmp_path / "k.toml")
    with pytest.raises(ValueError, match="electrolytes"):
        read_modifiers(cfg, default_models()[0])


def test_segment_fatigue_must_match_segments():
    from neurosim.simulate.chain import Segment, simulate_chain

    with pytest.raises(ValueError, match="fatigue"):
        simulate_chain(None, [], 1e3, [Segment("a", 0.0, 10.0)], fatigue=[0.2, 0.3])
    with pytest.raises(ValueError, match="fatigue"):
        simulate_chain(None, [], 1e3, [Segment("a", 0.0, 10.0)], fatigue=[1.5])


def test_modifier_model_files_match_their_scenarios():
    """The model files of experiments/cramp_threshold_modifiers.toml carry the same
    changes as the scenario files (electrolytes shift, quinine block, fatigue)."""
    from neurosim.muscle.params import load_muscle_model
    from neurosim.spinal.params import load_spinal_model

    models = ROOT / "models"
    base = load_spinal_model(models / "spinal" / "motoneuron_pool.toml")["motoneuron"]
    low = load_spinal_model(models / "spinal" / "motoneuron_pool_low_mg_ca.toml")["motoneuron"]
    shift = Electrolytes(ca=1.0, mg=0.45).gating_shift
    for key in ("th_m", "th_h", "th_n", "th_mn", "th_hn", "th_ml"):
        assert low[key] == pytest.approx(base[key] + shift, abs=1e-3)
    q = load_spinal_model(models / "spinal" / "motoneuron_pool_quinine.toml")["motoneuron"]
    scen = _read_scenario("quinine")[7]["motoneuron"]
    assert (q["gnabar"], q["tau_h"]) == (scen["gnabar"], scen["tau_h"])
    tired = load_muscle_model(models / "muscle" / "fuglevand_1993_fatigued.toml")
    assert tired["fatigue"]["level"] == _read_scenario("fatigue")[8]["fatigue"]["level"]
    cfg = load_experiment(ROOT / "experiments" / "cramp_threshold_modifiers.toml")
    assert [g["name"] for g in cfg["groups"]] == ["normal", "low_mg_ca", "fatigue", "quinine"]
