"""The cable engine against cable theory and against itself.

Identities and invariants (rest stays at rest; batch, width, thread and call-splitting
invariance; determinism) and analytic solutions (passive steady state, passive
transient, convergence order in dt). Passive cables here: diameter 10 um, Ra 100 ohm cm,
cm 1 uF/cm2, pas g 1 mS/cm2, e -70 mV, so lambda = sqrt(d / (4 Ra g)) = 500 um and
tau = cm / g = 1 ms.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.linalg import eigh_tridiagonal
from scipy.special import erfc, erfcx

from neurosim.channels import get_mechanism
from neurosim.morphology import Morphology, Section
from neurosim.simulate import CableModel, CableSimulation, Protocol, Stimulus

pytestmark = pytest.mark.usefixtures("fp_raise")

PAS = get_mechanism("pas")
DIAM, RA, CM, G_PAS, E_PAS = 10.0, 100.0, 1.0, 1e-3, -70.0  # um, ohm cm, uF/cm2, S/cm2, mV
LAMBDA = math.sqrt(DIAM * 1e-4 / (4 * RA * G_PAS)) * 1e4  # um (= 500)
TAU = CM / G_PAS * 1e-3  # ms (= 1): uF/cm2 / (S/cm2) = 1e-6 s
R_A = 4 * RA / (math.pi * (DIAM * 1e-4) ** 2)  # axial resistance per length, ohm/cm


def _input_scale(amp_nA: float) -> float:
    """``I r_a lambda`` in mV: the steady potential of a semi-infinite cable at its end."""
    return amp_nA * 1e-9 * R_A * LAMBDA * 1e-4 * 1e3


def passive_cable(L: float, nseg: int) -> CableModel:
    sec = Section("cable", L=L, diam=DIAM, nseg=nseg, Ra=RA, cm=CM)
    model = CableModel("passive", Morphology([sec]), celsius=6.3, v_init=E_PAS)
    return model.insert(PAS, g=G_PAS, e=E_PAS)


def centres(nseg: int) -> tuple[str, ...]:
    return tuple(f"cable({(k + 0.5) / nseg})" for k in range(nseg))


def step_protocol(tstop, dt, sites, amp=1.0, method="backward_euler") -> Protocol:
    """A current step into the end segment from t = 0 to the end of the run."""
    stim = Stimulus("cable(0)", delay=0.0, dur=tstop, amp=amp)
    return Protocol(tstop=tstop, dt=dt, stimuli=(stim,), record=sites, method=method)


def run(model, protocol, **kw) -> CableSimulation:
    sim = CableSimulation(model, protocol, **kw)
    sim.initialize()
    sim.advance(protocol.n_steps)
    return sim


# --------------------------------------------------------------------------- (a) rest

# 1e-6 mV over 100 ms (issue requirement); the measured drift is ~1e-13 mV (round-off).
REST_DRIFT = 1e-6


def test_passive_cable_at_rest_stays_at_rest():
    model = passive_cable(1000.0, 50)
    p = Protocol(tstop=100.0, dt=0.025, record=centres(50))
    sim = run(model, p)
    drift = np.max(np.abs(sim.rec_out - E_PAS))
    assert drift < REST_DRIFT, f"passive cable drifted {drift:.3g} mV from e_pas"


def test_hh_cable_at_its_exact_rest_stays_at_rest(hh_cable):
    mf = hh_cable.rebuild({"model.rest": True, "protocol.stimulus": [], "protocol.tstop": "100 ms"})
    p = dataclasses.replace(mf.protocol, record=centres(100))
    sim = CableSimulation(mf.model, p)
    sim.initialize()
    v0 = sim.v.copy()
    # hh's rest is not -65 mV: NEURON's hh settles near -64.974 mV
    assert -65.0 < v0[0, 0] < -64.9
    sim.advance(p.n_steps)
    drift = np.max(np.abs(sim.rec_out - v0[:, :, None]))
    assert drift < REST_DRIFT, f"HH cable drifted {drift:.3g} mV from its rest"


def test_hh_cable_at_minus_65_is_not_at_rest(hh_cable):
    # the reason the test above initialises with rest = true: from -65 mV the same run
    # moves by ~0.05 mV, far beyond the rest tolerance
    mf = hh_cable.rebuild({"protocol.stimulus": [], "protocol.tstop": "100 ms"})
    sim = run(mf.model, mf.protocol)
    drift = np.max(np.abs(sim.rec_out + 65.0))
    assert drift > 1e3 * REST_DRIFT


# --------------------------------------------------------------------------- (b) steady state

SS_L, SS_NSEG = 1000.0, 200  # L = 2 lambda; segment length h = 5 um = lambda / 100


def _steady_discretisation_error(x: np.ndarray) -> np.ndarray:
    """Leading relative error of the segment-centre scheme against the continuum.

    The discrete solution is exactly ``C cosh(mu (n - 1/2 - k))`` with
    ``cosh mu = 1 + h^2 / (2 lambda^2)``, and its amplitude matches the continuum to
    O(h^4); with ``mu = (h / lambda)(1 - h^2 / (24 lambda^2) + ...)`` the relative error at
    x is ``(h/lambda)^2 / 24 * |X tanh X - L/lambda coth(L/lambda)|``, X = (L - x)/lambda.
    """
    eps2 = (SS_L / SS_NSEG / LAMBDA) ** 2
    X = (SS_L - x) / LAMBDA
    return eps2 / 24 * np.abs(X * np.tanh(X) - SS_L / LAMBDA / np.tanh(SS_L / LAMBDA))


@pytest.fixture(scope="module")
def steady_state():
    """Potential (mV above rest) at every segment centre after 25 tau of a 1 nA step.

    Backward Euler's fixed point is the exact steady state of the discrete equations for
    any dt, so a large dt converges fast: the slowest mode (rate 1/tau) shrinks by
    1/(1 + dt/tau) per step, (1/1.5)^100 = 2.5e-18 after 100 steps of 0.5 ms.
    """
    model = passive_cable(SS_L, SS_NSEG)
    sim = run(model, step_protocol(50.0, 0.5, centres(SS_NSEG)))
    x = (np.arange(SS_NSEG) + 0.5) * SS_L / SS_NSEG
    return x, sim.v[0] - E_PAS


def test_passive_steady_state_against_cable_theory(steady_state):
    x, v = steady_state
    # sealed ends, current I into the x = 0 end: V = I r_a lambda cosh((L-x)/l) / sinh(L/l)
    ana = _input_scale(1.0) * np.cosh((SS_L - x) / LAMBDA) / np.sinh(SS_L / LAMBDA)
    rel_rms = np.sqrt(np.mean((v - ana) ** 2) / np.mean(ana**2))
    est = np.sqrt(np.mean((_steady_discretisation_error(x) * ana) ** 2) / np.mean(ana**2))
    # issue requirement: relative RMS < 0.1 %. With h = lambda/100 the estimate above is
    # 3.9e-6, so nseg = 200 meets it 250-fold (nseg = 20 would still give 4e-4)
    assert rel_rms < 1e-3, f"relative RMS {rel_rms:.3g} (estimate {est:.3g})"
    # and the error is the discretisation error, not something else: the measured value
    # agrees with the O(h^2) estimate to its O(h^4) remainder (measured ratio 1.000000)
    assert rel_rms == pytest.approx(est, rel=1e-3), f"relative RMS {rel_rms:.6g} vs {est:.6g}"


def test_passive_steady_state_equals_exact_discrete_solution(steady_state):
    x, v = steady_state
    n, h = SS_NSEG, SS_L / SS_NSEG
    g_axial = 1.0 / (R_A * h * 1e-4)  # S, between neighbouring centres
    mu = math.acosh(1.0 + (h / LAMBDA) ** 2 / 2.0)
    amp = 1e-9 / (2.0 * g_axial * math.sinh(mu * n) * math.sinh(mu / 2.0)) * 1e3  # mV
    disc = amp * np.cosh(mu * (n - 0.5 - np.arange(n)))
    err = np.max(np.abs(v - disc)) / np.max(disc)
    # round-off: condition number of the implicit matrix ~ 1 + 4 g_axial / (g_m + C/dt)
    # ~ 1.3e4, so ~ 1.3e4 EPS ~ 3e-12 per solve (measured 1.6e-11); 1e-9 leaves margin
    assert err < 1e-9, f"relative max error {err:.3g} against the discrete closed form"


# --------------------------------------------------------------------------- (c) transient

TR_L, TR_NSEG = 10 * LAMBDA, 1000  # effectively semi-infinite: h = lambda / 100
TR_SITES = (0, 10, 50, 100, 200)  # segment indices: x = 0.005 .. 0.4 lambda


def semi_infinite_step(x_um: np.ndarray, t_ms: np.ndarray, amp_nA: float) -> np.ndarray:
    """Potential above rest (mV) of a semi-infinite cable, current step I at its end.

    Rall's solution for a current step into an infinite cable (Jack, Noble & Tsien 1975,
    Electric Current Flow in Excitable Cells, ch. 3), doubled because at a sealed end all
    the current flows one way:
    ``V = (I r_a lambda / 2) [e^-X erfc(X/(2 sqrt T) - sqrt T) - e^X erfc(X/(2 sqrt T)
    + sqrt T)]``, X = x/lambda, T = t/tau; at X = 0 it is ``I r_a lambda erf(sqrt T)``
    (the infinite cable's ``I r_a lambda / 2 erf(sqrt T)``, doubled).
    The e^X erfc(...) products are written with erfcx so nothing overflows.
    """
    X = x_um / LAMBDA
    T = np.maximum(t_ms / TAU, 1e-300)
    sT = np.sqrt(T)
    a = X / (2 * sT) + sT
    b = X / (2 * sT) - sT
    gauss = np.exp(-(X**2) / (4 * T) - T)
    first = np.where(b > 0, gauss * erfcx(np.maximum(b, 0.0)), np.exp(-X) * erfc(b))
    return _input_scale(amp_nA) / 2 * (first - gauss * erfcx(a))


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
def test_passive_transient_against_semi_infinite_cable(method):
    dt, tstop = 0.001, 5.0  # dt = tau / 1000, 5 tau
    sites = tuple(f"cable({(k + 0.5) / TR_NSEG})" for k in TR_SITES)
    sim = run(passive_cable(TR_L, TR_NSEG), step_protocol(tstop, dt, sites, amp=1.0, method=method))
    res = sim.result()
    x = (np.array(TR_SITES) + 0.5) * TR_L / TR_NSEG
    ana = semi_infinite_step(x[:, None], res.t[None, :], 1.0)
    err = res.v[0] - E_PAS - ana
    rel_rms = np.sqrt(np.mean(err**2) / np.mean(ana**2))
    # issue requirement: < 0.1 %. Error budget: space O((h/lambda)^2) ~ 1e-5 (see the
    # steady state); time: backward Euler is first order, its error ~ 0.2 dt/tau = 2e-4
    # (measured 1.9e-4); Crank-Nicolson's is second order but the step at one node
    # excites modes that it damps slowly (see the convergence test), measured 6e-5; the
    # far end at 10 lambda reflects e^-19 ~ 6e-9 of the signal
    assert rel_rms < 1e-3, f"{method}: relative RMS {rel_rms:.3g}"


# --------------------------------------------------------------------------- (d) order

CONV_L, CONV_NSEG, CONV_T = 2 * LAMBDA, 20, 2.0  # h = lambda / 10, t = 2 tau
CONV_DTS = np.array([0.025, 0.0125, 0.00625, 0.003125, 0.0015625])  # ms


def _exact_semidiscrete(amp_nA: float, t: float) -> np.ndarray:
    """Exact-in-time solution (mV above rest) of the same compartments: the reference
    that leaves only the time-stepping error. Built from the geometry directly (not the
    engine's arrays): C dV/dt = -K V + I e_0 with K the tridiagonal conductance matrix,
    solved by the eigen-decomposition of C^-1/2 K C^-1/2."""
    n, h = CONV_NSEG, CONV_L / CONV_NSEG
    area = math.pi * DIAM * h  # um2
    cap = 1e-5 * CM * area  # nF
    gm = 1e-2 * G_PAS * area  # uS
    ga = 1.0 / (1e-2 * RA * h / (math.pi * (DIAM / 2) ** 2))  # uS
    diag = np.full(n, gm + 2 * ga)
    diag[[0, -1]] = gm + ga  # sealed ends
    lam, Q = eigh_tridiagonal(diag / cap, np.full(n - 1, -ga / cap))
    b = np.zeros(n)
    b[0] = amp_nA / cap
    return Q @ ((Q.T @ b) / lam * -np.expm1(-lam * t))


@pytest.mark.parametrize(("method", "order"), [("backward_euler", 1.0), ("crank_nicolson", 2.0)])
def test_convergence_order_in_dt(method, order):
    model = passive_cable(CONV_L, CONV_NSEG)
    exact = _exact_semidiscrete(1.0, CONV_T)
    errors = []
    for dt in CONV_DTS:
        sim = run(model, step_protocol(CONV_T, float(dt), ("cable(0.5)",), method=method))
        errors.append(np.max(np.abs(sim.v[0] - E_PAS - exact)) / np.max(exact))
    slope = np.polyfit(np.log(CONV_DTS), np.log(errors), 1)[0]
    # backward Euler is order 1 and Crank-Nicolson (NEURON's secondorder = 2) order 2;
    # +-10 % allows for the next term of the error expansion (measured slopes 1.0006 and
    # 2.000). Crank-Nicolson is only A-stable: a mode of rate r decays per step by
    # |1 - r dt/2| / (1 + r dt/2) ~ exp(-4 / (r dt)), and the step into one compartment
    # excites every mode up to r_max ~ 4 (lambda/h)^2 / tau = 400/tau. Its asymptotic
    # order shows once those are damped by t = 2 tau, exp(-8 / (r_max dt^2)) << error,
    # i.e. dt <~ 0.03 tau at h = lambda/10, hence this grid and these dts
    # (at dt = 0.1 tau, or h = lambda/50, the apparent order is 3-6).
    assert abs(slope - order) < 0.1 * order, f"{method}: slope {slope:.4f}, errors {errors}"
    assert errors[-1] < errors[0], errors


# --------------------------------------------------------------------------- (e)-(g)

BATCH = {
    "hh.gnabar": np.array([0.12, 0.10, 0.14, 0.12, 0.08, 0.16, 0.12]),
    "celsius": np.array([6.3, 6.3, 10.0, 18.5, 6.3, 15.0, 0.0]),
}
AMPS = np.array([20.0, 20.0, 15.0, 30.0, 1.0, 20.0, 10.0])  # nA; member 4 stays subthreshold


def _hh_protocol(mf, amp, tstop=15.0) -> Protocol:
    stim = dataclasses.replace(mf.protocol.stimuli[0], amp=amp)
    return dataclasses.replace(mf.protocol, tstop=tstop, stimuli=(stim,))


def _run_batch(mf, width=None, threads=None, batch=BATCH, amps=AMPS) -> CableSimulation:
    sim = CableSimulation(mf.model, _hh_protocol(mf, amps), batch=batch, threads=threads)
    if width is not None:
        sim.width = width
    sim.initialize()
    sim.advance(sim.protocol.n_steps)
    return sim


def _outputs(sim: CableSimulation) -> dict:
    return {
        "rec": sim.rec_out,
        "v": sim.v,
        "gates": sim.gstate,
        "spk_t": sim.spk_t,
        "spk_peak": sim.spk_peak,
        "spk_n": sim.spk_n,
    }


def _assert_identical(a: dict, b: dict, what: str) -> None:
    for key in a:
        # bit-identical: equal_nan because unused spike slots are NaN in both
        assert np.array_equal(a[key], b[key], equal_nan=True), f"{what}: {key} differs"


def test_batch_members_equal_separate_runs(hh_cable):
    batch = _run_batch(hh_cable)
    fired = batch.spk_n[:, 0] > 0
    assert fired.sum() >= 5 and not fired.all()  # the batch really differs per member
    for b in range(len(AMPS)):
        mf = hh_cable.rebuild(
            {
                "mechanisms.hh.gnabar": f"{float(BATCH['hh.gnabar'][b])!r} S/cm2",
                "model.celsius": f"{float(BATCH['celsius'][b])!r} degC",
            }
        )
        alone = _run_batch(mf, batch={}, amps=float(AMPS[b]))
        got = {k: v[b : b + 1] for k, v in _outputs(batch).items()}
        _assert_identical(got, _outputs(alone), f"member {b}")


def test_block_width_does_not_change_results(hh_cable):
    # the kernel claims a block of W members computes exactly what W separate runs would;
    # blocks of 3 and 10 are padded to 8 and 16 columns (kernels/cable.py, LANES)
    ref = _outputs(_run_batch(hh_cable, width=1))
    for width in (3, 10, 16):
        _assert_identical(ref, _outputs(_run_batch(hh_cable, width=width)), f"width {width}")


def test_runs_are_deterministic(hh_cable):
    a = _outputs(_run_batch(hh_cable, threads=2, width=3))
    b = _outputs(_run_batch(hh_cable, threads=2, width=3))
    _assert_identical(a, b, "second run")
    c = _outputs(_run_batch(hh_cable, threads=1, width=3))
    _assert_identical(a, c, "one thread")


def test_split_advance_equals_one_call(hh_cable):
    # recording every 4 steps; splits inside the stimulus pulse (steps 40-60), off the
    # recording grid, and while the spike at the first site is above threshold
    p = dataclasses.replace(_hh_protocol(hh_cable, AMPS), record_every=4)
    one = CableSimulation(hh_cable.model, p, batch=BATCH)
    one.initialize()
    one.advance(p.n_steps)
    split = CableSimulation(hh_cable.model, p, batch=BATCH)
    split.initialize()
    done = 0
    for stop in (37, 47, 48, 61, 79, 83, 230, 401, p.n_steps):
        split.advance(stop - done)
        done = stop
    assert split.step == one.step == p.n_steps
    _assert_identical(_outputs(one), _outputs(split), "split run")
    assert np.any(one.spk_n > 0)


def test_initialize_starts_a_fresh_run(hh_cable):
    # ENGINE BUG (neurosim/simulate/cable.py, CableSimulation.initialize): it resets v,
    # the gates and the clock but not the spike detector (spk_n, spk_t, spk_peak) nor
    # q_acc, so a second run() of the same simulation reports every spike twice (counts
    # 2 instead of 1 with the same time repeated). Fix: end initialize() with
    # ``self.q_acc[:] = 0.0; return self.reset_clock()``.
    sim = CableSimulation(hh_cable.model, _hh_protocol(hh_cable, AMPS), batch=BATCH)
    first = sim.run()
    second = sim.run()
    np.testing.assert_array_equal(second.spike_counts, first.spike_counts)
    np.testing.assert_array_equal(second.spike_times, first.spike_times)
