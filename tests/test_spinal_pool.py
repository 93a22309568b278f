"""Motor-neuron pool behaviour: bistability, recruitment and rate coding, force.

Runs the compiled network (``slow``: the first run in a fresh cache compiles it).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from neurosim.simulate.spinal import (
    Drive,
    NerveStimulation,
    default_models,
    pool_for,
    simulate_spinal,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models():
    return default_models()


def _vibration():
    """1 s of 100 Hz Ia input, as tendon vibration gives (Kiehn & Eken 1997)."""
    return NerveStimulation(
        trains=((500.0, 1500.0, 100.0),), motor_fraction=0.0, ia_fraction=1.0, ib_fraction=0.0
    )


@pytest.mark.parametrize("level,sustained", [(1.0, True), (0.0, False)])
def test_bistability_with_serotonin_only(models, level, sustained):
    spinal, muscle = models
    sp = spinal.with_overrides({"neuromodulation": {"level": level}})
    r = simulate_spinal(sp, muscle, 4000.0, stimulation=_vibration(), seed=3)
    during = r.rates(1000.0, 1500.0)
    after = r.rates(2500.0, 4000.0)  # 1-2.5 s after the input has ended
    print(
        f"\nneuromodulation level {level}: units firing during the input "
        f"{(during > 0).sum()}, firing > 2 Hz 1-2.5 s after it {(after > 2.0).sum()}"
    )
    assert (during > 0).sum() > 0.5 * r.n_units  # the input recruits in both settings
    if sustained:
        # Booth et al. 1997, serotonergic setting: the plateau keeps the soma firing
        assert (after > 2.0).sum() > 0.5 * r.n_units
    else:
        # canonical setting: firing stops with the input (noise may give a stray spike)
        assert (after > 2.0).sum() == 0


@pytest.fixture(scope="module")
def ramp(models):
    """Slow triangular descending drive 0 -> E_top -> 0 over 20 s, default (normal) pool."""
    spinal, muscle = models
    top, T = 260.0, 20000.0
    r = simulate_spinal(spinal, muscle, T, drive=Drive((0.0, T / 2, T), (0.0, top, 0.0)), seed=1)
    return r, top, T, pool_for(spinal, muscle)


def _recruitment(r, top, T):
    e_of_t = lambda t: np.interp(t, [0, T / 2, T], [0, top, 0])  # noqa: E731
    rec, f_rec = np.full(r.n_units, np.nan), np.full(r.n_units, np.nan)
    for u, s in enumerate(r.spike_trains()):
        up = s[s < T / 2]
        isi = np.diff(up)
        ok = np.flatnonzero(isi < 250.0)  # first spike of sustained firing
        if len(ok):
            rec[u] = e_of_t(up[ok[0]])
            f_rec[u] = 1e3 / isi[ok[0]]
    return rec, f_rec


def test_recruitment_follows_the_fuglevand_thresholds(ramp):
    r, top, T, pool = ramp
    rec, f_rec = _recruitment(r, top, T)
    assert np.all(np.isfinite(rec))  # every unit recruited below E_top
    # size principle: recruitment order follows the Fuglevand thresholds RTE_i
    assert spearmanr(rec, pool.rte).statistic > 0.9
    # thresholds in units of RTE: calibrated to ~1 (drive.current_per_excitation); the
    # PIC and synaptic noise scatter them, so a factor 2 either way
    ratio = rec / pool.rte
    assert 0.5 < np.median(ratio) < 2.0
    # range of recruitment thresholds ~ RR = 30 (last / first decile), within a factor 2
    span = np.median(rec[-12:]) / np.median(rec[:12])
    assert 30 / 2 < span < 30 * 2
    print(
        f"\nrecruitment: median E/RTE {np.median(ratio):.2f}, decile span {span:.1f}, "
        f"median rate at recruitment {np.median(f_rec):.1f} Hz"
    )
    # rate at recruitment "near 8 Hz" (SCIENCE.md s.4): median within 4-12 Hz
    assert 4.0 < np.median(f_rec) < 12.0


def test_peak_rates_and_force_at_maximal_drive(ramp, models):
    r, top, T, pool = ramp
    peak = r.rates(T / 2 - 1000.0, T / 2)
    print(
        f"\npeak rates at maximal drive: first 10 units {peak[:10].mean():.1f} Hz, last 10 "
        f"{peak[-10:].mean():.1f} Hz"
    )
    # SCIENCE.md s.4/5: peak 25-35 Hz, higher for the first units; +-3 Hz for the
    # 1 s window and noise
    assert 30.0 <= peak[:10].mean() <= 38.0
    assert 21.0 <= peak[-10:].mean() <= 30.0
    assert peak[:10].mean() > peak[-10:].mean()
    # force rises with excitation: mean force in 1 s windows along the rising ramp, up to
    # the excitation where the last unit's drive saturates (RTE_n^x times its saturation
    # multiple, models/spinal/motoneuron_pool.toml); beyond it every unit's drive is
    # constant and so is the force (Fuglevand's rates are capped the same way)
    p = models[0]["pool"]
    e_sat = pool.rte[-1] ** p["drive_size_exponent"] * p["drive_saturation_last"]
    edges = np.linspace(0, T / 2, 11)
    f = np.array(
        [r.force[(r.t >= a) & (r.t < b)].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)]
    )
    rising = top * edges[1:] / (T / 2) <= e_sat  # windows that end below saturation
    print(
        "force along the rising ramp (fraction of max):",
        np.round(f / r.max_force, 3),
        f"drive saturated from E = {e_sat:.0f}",
    )
    assert rising.sum() >= 5
    assert np.all(np.diff(f[rising]) > 0)
    assert np.all(np.abs(np.diff(f[~rising])) < 0.01 * r.max_force)  # a plateau
    assert f[-1] > 0.6 * r.max_force


def test_last_unit_recruited_at_about_64_percent_of_maximal_excitation(ramp):
    """Fuglevand et al. 1993: the last unit is recruited at RTE_n = 30 of E_max = 47.

    The network's descending drive is in Fuglevand's excitation units, so the excitation
    at which the largest units start firing, over Fuglevand's E_max (``pool.e_max``),
    should be near 30 / 47 = 0.64. A single unit's threshold scatters by ~15% around
    its RTE (synaptic noise, the AHP spread, the PIC), so the last unit alone is a poor
    estimate (SD 0.10 over 8 seeds); the estimate here is the median recruitment
    excitation of the largest fifth of the pool in units of their RTE, times RTE_n
    (seed-to-seed SD 0.019 over 8 seeds, the calibration of ``drive_size_exponent``
    in models/spinal/motoneuron_pool.toml). Tolerance 0.05, 2.5 of those SDs.
    """
    r, top, T, pool = ramp
    rec, _ = _recruitment(r, top, T)
    k = max(1, r.n_units // 5)
    frac = np.median(rec[-k:] / pool.rte[-k:]) * pool.rte[-1] / pool.e_max
    print(
        f"\nlargest {k} units recruited at {np.median(rec[-k:] / pool.rte[-k:]):.2f} x RTE: "
        f"last unit at {100 * frac:.0f}% of Fuglevand's E_max = {pool.e_max:.1f} (the "
        f"last unit alone {100 * rec[-1] / pool.e_max:.0f}%)"
    )
    assert frac == pytest.approx(30.0 / 47.0, abs=0.05)


def test_biophysical_pool_reaches_peak_rates_later_than_fuglevand(ramp):
    """By Fuglevand's own definition of E_max (where the last unit reaches its peak rate)
    the biophysical pool gives a smaller fraction than 64%: the retuned Booth cell's
    rate coding is shallower than Fuglevand's 1 Hz per excitation unit for the largest
    units, so the last unit reaches its peak rate only at 2-4 times its recruitment
    excitation (measured 0.32). This records the value and guards it against drifting;
    it is a known difference from the rate model, not a target.
    """
    r, top, T, pool = ramp
    rec, _ = _recruitment(r, top, T)
    last = r.spike_trains()[-1]
    up = last[last < T / 2]
    inst = 1e3 / np.diff(up)
    e_of_t = lambda t: np.interp(t, [0, T / 2, T], [0, top, 0])  # noqa: E731
    reach = up[1:][inst >= pool.peak_rate[-1] - 1.0]
    e_max = e_of_t(reach[0]) if len(reach) else top
    frac = rec[-1] / e_max
    print(f"\nbiophysical E_max {e_max:.0f}: last unit recruited at {100 * frac:.0f}% of it")
    assert 0.2 < frac < 0.5


def test_fatigue_increases_self_sustained_firing(models):
    spinal, muscle = models
    stim = NerveStimulation(trains=((500.0, 2500.0, 18.0),))
    fresh = simulate_spinal(spinal, muscle, 5500.0, stimulation=stim, seed=1)
    tired = simulate_spinal(
        spinal, muscle.with_overrides({"fatigue": {"level": 1.0}}), 5500.0, stimulation=stim, seed=1
    )
    n_fresh = (fresh.rates(4000.0, 5500.0) > 2).sum()
    n_tired = (tired.rates(4000.0, 5500.0) > 2).sum()
    # fatigue: spindle drive up, tendon-organ inhibition down (Schwellnus 2009)
    assert n_tired > n_fresh
