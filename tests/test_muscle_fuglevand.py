"""Fuglevand, Winter & Patla (1993) pool, twitch and gain law (SCIENCE.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.muscle.fuglevand import (
    GAIN_KNEE,
    force_from_spikes,
    fuglevand_pool,
    gain,
    twitch,
)


@pytest.fixture(scope="module")
def pool():
    return fuglevand_pool(120)


def test_distributions_match_the_paper(pool):
    # Fuglevand 1993: RTE 30-fold, twitch 100-fold, contraction time 90 -> 30 ms,
    # peak rates 35 -> 25 Hz; exact formulas, so float64 round-off tolerance
    assert pool.rte[-1] / pool.rte[0] == pytest.approx(30.0 ** (119 / 120), rel=1e-12)
    assert pool.rte[-1] == pytest.approx(30.0, rel=1e-12)
    assert pool.p[-1] == pytest.approx(100.0, rel=1e-12)
    assert pool.t[-1] == pytest.approx(30.0, rel=1e-12)
    assert pool.t[0] == pytest.approx(90.0 * 100 ** (-1 / 120 * np.log(3) / np.log(100)))
    assert pool.peak_rate[0] == pytest.approx(35.0) and pool.peak_rate[-1] == pytest.approx(25.0)
    assert np.all(np.diff(pool.rte) > 0) and np.all(np.diff(pool.t) < 0)


def test_last_unit_recruited_at_64_percent_of_max_excitation(pool):
    # Fuglevand 1993: E_max = RTE_n + (PFR_n - 8)/g_e = 30 + 17 = 47; 30/47 = 63.8 %
    rates = pool.rates(np.linspace(0, pool.e_max, 4701))
    e = np.linspace(0, pool.e_max, 4701)
    last_on = e[np.argmax(rates[:, -1] > 0)]
    assert last_on / pool.e_max == pytest.approx(0.64, abs=0.01)  # "about 64%" (issue 5)
    # at E_max every unit fires at its peak rate
    np.testing.assert_allclose(pool.rates(pool.e_max)[0], pool.peak_rate, rtol=1e-12)


def test_recruitment_rate_and_rate_coding(pool):
    # a unit starts at the minimum rate (8 Hz) and gains 1 Hz per excitation unit
    r = pool.rates([pool.rte[10], pool.rte[10] + 5.0])
    assert r[0, 10] == pytest.approx(8.0) and r[1, 10] == pytest.approx(13.0)
    assert r[0, 11] == 0.0


def test_force_rises_monotonically_with_excitation(pool):
    e = np.linspace(0, 1.2 * pool.e_max, 600)
    f = pool.steady_force(pool.rates(e))
    assert np.all(np.diff(f) >= 0)
    active = (e[:-1] >= pool.rte[0]) & (e[1:] < pool.e_max)
    assert np.all(np.diff(f)[active] > 0)  # strictly, while some unit is below its peak
    assert f[-1] == pytest.approx(pool.max_force(), rel=1e-12)


def test_gain_law():
    # SCIENCE.md s.5: g = 1 for T/ISI <= 0.4, else (1 - exp(-2 r^3)) / r / 0.3
    r = np.array([0.0, 0.2, 0.4, 0.6, 1.0, 2.0])
    expected = np.where(r <= 0.4, 1.0, (1 - np.exp(-2 * r**3)) / np.maximum(r, 1e-9) / 0.3)
    # 0.3 is the rounded normaliser (1 - exp(-2 0.4^3)) / 0.4 = 0.30037 that makes g
    # continuous at the knee (used here): 0.12 % apart
    np.testing.assert_allclose(gain(r), expected, rtol=2e-3)
    assert gain(GAIN_KNEE + 1e-12)[()] == pytest.approx(1.0, abs=1e-9)  # continuous
    assert gain(np.array(1.0)) == pytest.approx(2.88, abs=0.01)


def test_twitch_shape():
    t = np.linspace(0, 2000, 200001)
    f = twitch(t, 3.0, 60.0)
    assert t[np.argmax(f)] == pytest.approx(60.0, abs=0.01)
    assert f.max() == pytest.approx(3.0, rel=1e-9)
    # integral P T e (used by steady_force)
    assert np.trapezoid(f, t) == pytest.approx(3.0 * 60.0 * np.e, rel=1e-3)
    assert twitch(-1.0, 3.0, 60.0) == 0.0


def test_spike_train_force_matches_the_steady_state_formula(pool):
    # a regular train: mean force over whole periods equals P g(T f) T e f
    u = 30
    rate = 20.0
    times = np.arange(0, 5000, 1e3 / rate)
    t = np.arange(0, 5000, 0.25)
    f = force_from_spikes(np.full(len(times), u), times, pool.p, pool.t, t)
    steady = (t >= 2000) & (t < 4000)
    expected = pool.steady_force(np.where(np.arange(pool.n) == u, rate, 0.0)[None, :])[0]
    assert f[steady].mean() == pytest.approx(expected, rel=2e-3)  # grid quadrature only
