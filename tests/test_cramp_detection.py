"""Cramp detection on synthetic force records and spike trains (no simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim.muscle.cramp import CrampCriteria, detect_cramp, unit_discharge

T = np.arange(0.0, 10000.0, 1.0)  # ms


def _force(on: float, off: float, level: float = 5.0) -> np.ndarray:
    return np.where((T >= on) & (T < off), level, 0.0)


def test_sustained_involuntary_force_is_a_cramp():
    c = detect_cramp(T, _force(3000, 6000), 100.0, last_stimulus=2500.0)
    assert c.detected
    # a 250 ms moving average of a 5%-high box crosses 2% where the overlap exceeds
    # 2/5 of the window: each edge moves by 250 (1/2 - 2/5) = 25 ms outwards
    assert c.onset == pytest.approx(2975, abs=1.5)
    assert c.duration == pytest.approx(3050, abs=1.5)
    assert c.peak_force_fraction == pytest.approx(0.05)
    assert not c.ongoing


def test_brief_force_below_threshold_or_during_stimulation_is_not():
    assert not detect_cramp(T, _force(3000, 3800), 100.0).detected  # shorter than 1 s
    assert not detect_cramp(T, _force(3000, 6000, 1.0), 100.0).detected  # 1% < 2%
    # force that ends before the involuntary window starts does not count
    assert not detect_cramp(T, _force(1000, 4000), 100.0, last_stimulus=4000.0).detected


def test_later_cramps_are_counted_and_timed():
    # three boxes: 2 s, 0.5 s (too short to count) and 3 s; each counted cramp widens by
    # 50 ms under the 250 ms moving average (first test)
    force = _force(1000, 3000) + _force(4000, 4500) + _force(6000, 9000)
    c = detect_cramp(T, force, 100.0)
    assert c.detected and c.episodes == 2
    assert c.onset == pytest.approx(975, abs=1.5) and c.duration == pytest.approx(2050, abs=1.5)
    assert c.total_duration == pytest.approx(2050 + 3050, abs=3)
    assert np.ravel(c.intervals) == pytest.approx([975, 3025, 5975, 9025], abs=1.5)
    none = detect_cramp(T, _force(3000, 3800), 100.0)
    assert none.episodes == 0 and none.total_duration == 0.0


def test_voluntary_drive_excludes_force():
    drive = np.where(T < 7000, 5.0, 0.0)
    assert not detect_cramp(T, _force(3000, 6000), 100.0, drive=drive).detected
    assert detect_cramp(T, _force(3000, 6000), 100.0, drive=np.zeros_like(T)).detected


def test_ongoing_cramp_is_cut_at_the_end():
    c = detect_cramp(T, _force(5000, 20000), 100.0)
    assert c.detected and c.ongoing
    assert c.onset + c.duration == pytest.approx(T[-1] + 1, abs=1)


def test_discharge_metrics():
    rng = np.random.default_rng(0)
    regular = np.arange(3000, 6000, 1000 / 14.5)  # 14.5 Hz, CV 0
    poisson = 3000 + np.cumsum(rng.exponential(1000 / 10.0, 40))
    poisson = poisson[poisson < 6000]
    unit = np.r_[np.zeros(len(regular), int), np.ones(len(poisson), int)]
    times = np.r_[regular, poisson]
    u, rate, cv = unit_discharge(unit, times, 3000, 6000, 5)
    assert list(u) == [0, 1]
    assert rate[0] == pytest.approx(14.5, rel=1e-9) and cv[0] == pytest.approx(0.0, abs=1e-9)
    # Poisson train: CV near 1 (about 35 intervals: +-0.3 covers the sampling spread)
    assert cv[1] == pytest.approx(1.0, abs=0.3)
    c = detect_cramp(T, _force(3000, 6000), 100.0, spike_unit=unit, spike_time=times)
    assert c.n_active_units == 2 and math.isfinite(c.isi_cv_mean)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"force_fraction": 0.0}, "force_fraction"),
        ({"force_fraction": float("nan")}, "force_fraction"),
        ({"min_duration": -1.0}, "min_duration"),
        ({"smoothing": -5.0}, "smoothing"),
        ({"min_spikes": 2}, "min_spikes"),
    ],
)
def test_bad_criteria(kw, match):
    with pytest.raises(ValueError, match=match):
        CrampCriteria(**kw)
