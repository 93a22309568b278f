"""Surface EMG synthesis (Hermite-Rodriguez MUAPs) and the fatigue map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.muscle.emg import muap, muap_parameters, synthesize_emg
from neurosim.muscle.params import fatigue, load_muscle_model

ROOT = Path(__file__).resolve().parents[1]
MUSCLE = ROOT / "models" / "muscle" / "fuglevand_1993.toml"


def test_muap_is_biphasic_with_zero_mean():
    t = np.linspace(-20, 20, 40001)
    w = muap(t, 1.0, 2.0)
    # first-order Hermite-Rodriguez: odd function, extrema at +-lambda/sqrt(2)
    assert np.trapezoid(w, t) == pytest.approx(0.0, abs=1e-12)
    assert t[np.argmax(w)] == pytest.approx(2.0 / np.sqrt(2), abs=1e-3)
    assert w.max() == pytest.approx(np.exp(-0.5) / np.sqrt(2), rel=1e-6)


def test_emg_is_the_sum_of_muaps():
    amp, width = np.array([0.1, 0.3]), np.array([1.0, 2.0])
    t, emg = synthesize_emg(np.array([0, 1]), np.array([50.0, 120.0]), amp, width, 200.0, 2000.0)
    expected = muap(t - 50.0, 0.1, 1.0) + muap(t - 120.0, 0.3, 2.0)
    # exact up to the kernel truncation at 4 widths (exp(-16) ~ 1e-7 relative)
    np.testing.assert_allclose(emg, expected, atol=1e-7)


def test_bigger_units_have_bigger_wider_muaps():
    p = np.exp(np.arange(1, 121) * np.log(100) / 120)
    amp, width = muap_parameters(
        p, amplitude_first=0.02, amplitude_exponent=0.7, width_first=1.0, width_last=3.0
    )
    assert np.all(np.diff(amp) > 0) and np.all(np.diff(width) > 0)
    assert width[0] == pytest.approx(1.0) and width[-1] == pytest.approx(3.0)


def test_fatigue_directions():
    m = load_muscle_model(MUSCLE, {"fatigue": {"level": 1.0}})
    fx = fatigue(m["fatigue"])
    # SCIENCE.md s.6 / issue 5: twitch force down, contraction time up,
    # spindle gain up, tendon-organ inhibition down
    assert fx.twitch_force < 1 and fx.contraction_time > 1
    assert fx.spindle_gain > 1 and fx.tendon_organ_gain < 1
    fresh = fatigue(load_muscle_model(MUSCLE)["fatigue"])
    assert fresh.twitch_force == fresh.contraction_time == fresh.spindle_gain == 1.0


@pytest.mark.parametrize(
    "table,key,value,match",
    [
        ("fatigue", "level", 1.5, "fatigue.level"),
        ("fatigue", "level", float("nan"), "fatigue.level"),
        ("muscle", "contraction_time_max", "-90 ms", "contraction_time_max"),
        ("muscle", "peak_rate_last", "5 Hz", "peak_rate_last"),
        ("emg", "width_first", "0 ms", "width_first"),
    ],
)
def test_bad_muscle_values(table, key, value, match):
    with pytest.raises(ValueError, match=match):
        load_muscle_model(MUSCLE, {table: {key: value}})
