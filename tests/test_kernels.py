"""Kernels against independent references: exprel and the rate forms against mpmath,
vexp against libm's exp, the tree solvers against dense LAPACK solves.

Tolerances are stated in units of the float64 machine epsilon ``EPS`` and derived from
the operations each kernel performs (see each test).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from neurosim.channels.hh import HH
from neurosim.kernels import rates as R
from neurosim.kernels.hines import solve_tree, solve_tree_2x2

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50  # 50 digits: the reference is exact to far below float64 round-off

# --------------------------------------------------------------------------- exprel

# The points where a naive (exp(x) - 1)/x fails (0, subnormal-scale, cancellation) and
# the two sides of exprel's switch from its Taylor series to the direct formula at 0.01.
EXPREL_POINTS = [
    0.0,
    1e-300,
    1e-12,
    1e-5,
    0.00999,
    np.nextafter(0.01, 0.0),
    0.01,
    0.0101,
    1.0,
    50.0,
]
EXPREL_POINTS = sorted({*EXPREL_POINTS, *(-x for x in EXPREL_POINTS)})


def _exprel_mp(x: float) -> mpmath.mpf:
    if x == 0.0:
        return mpmath.mpf(1)
    xm = mpmath.mpf(x)
    return mpmath.expm1(xm) / xm


def _exprel_bound(x: float) -> float:
    """Relative error bound of rates.exprel at ``x``.

    Series branch (|x| < 0.01): truncation after x^5 leaves x^6/5040 < 2e-16 ~ 1 EPS,
    Horner's rule adds ~2 EPS: bound 4 EPS.
    Direct branch: vexp is within 2 ulp (tested below), i.e. an absolute error of
    2 EPS e^x that the subtraction of 1 turns into a relative error of
    2 EPS e^x / |e^x - 1| (cancellation, ~200 EPS at x = 0.01); the subtraction and
    division round once each: + 2 EPS.
    """
    if abs(x) < 0.01:
        return 4 * EPS
    return 2 * EPS * math.exp(x) / abs(math.expm1(x)) + 2 * EPS


@pytest.mark.parametrize("x", EXPREL_POINTS)
def test_exprel_against_mpmath(x):
    got = R.exprel(x)
    ref = _exprel_mp(x)
    rel = float(abs((mpmath.mpf(got) - ref) / ref))
    assert math.isfinite(got)
    assert rel <= _exprel_bound(x), (
        f"exprel({x!r}) = {got!r}: relative error {rel:.3g} = {rel / EPS:.1f} EPS > bound "
        f"{_exprel_bound(x) / EPS:.1f} EPS"
    )


def test_exprel_is_exactly_one_at_zero():
    # the singular point itself: the series returns 1 exactly (no 0/0 leaks through)
    assert R.exprel(0.0) == 1.0
    assert R.exprel(-0.0) == 1.0


# --------------------------------------------------------------------------- rate forms

# One example of each form; voltages span the physiological range and beyond.
FORM_CASES = {
    "const": (R.CONST, (0.3, 0.0, 0.0, 0.0)),
    "exp": (R.EXP, (4.0, -65.0, -18.0, 0.0)),  # hh beta_m
    "sigmoid": (R.SIGMOID, (1.0, -35.0, 10.0, 0.0)),  # hh beta_h
    "explinear": (R.EXPLINEAR, (1.0, -40.0, 10.0, 0.0)),  # hh alpha_m
    "explinear_n": (R.EXPLINEAR, (0.1, -55.0, 10.0, 0.0)),  # hh alpha_n
    "bell": (R.BELL, (5.0, -60.0, 10.0, 15.0)),
}


def _rate_mp(form: int, p, v: float) -> mpmath.mpf:
    p0, p1, p2, p3 = (mpmath.mpf(q) for q in p)
    x = (mpmath.mpf(v) - p1) / p2 if form != R.CONST else 0
    if form == R.CONST:
        return p0
    if form == R.EXP:
        return p0 * mpmath.exp(x)
    if form == R.SIGMOID:
        return p0 / (1 + mpmath.exp(-x))
    if form == R.EXPLINEAR:
        return p0 if x == 0 else p0 * x / (-mpmath.expm1(-x))
    if form == R.BELL:
        return p0 / (mpmath.exp(x) + mpmath.exp(-(mpmath.mpf(v) - p1) / p3))
    raise AssertionError(form)


def _rate_bound(form: int, p, v: float) -> float:
    """Relative error bound of a rate form at ``v``.

    ``x = (v - p1)/p2`` is rounded twice: an absolute error of 2 EPS |x| in the exponent,
    amplified by the condition number of the form with respect to x, which is at most
    |x| + 1 for exp, sigmoid, bell and x/(1 - e^-x). vexp adds 2 EPS, the remaining
    multiply/add/divide round 4 times. EXPLINEAR also carries exprel's own bound.
    """
    if form == R.CONST:
        return 0.0
    x = abs((v - p[1]) / p[2])
    if form == R.BELL:
        x = max(x, abs((v - p[1]) / p[3]))
    bound = 2 * EPS * x * (x + 1) + 6 * EPS
    if form == R.EXPLINEAR:
        bound += _exprel_bound(-(v - p[1]) / p[2])
    return bound


@pytest.mark.parametrize("case", FORM_CASES)
def test_rate_forms_against_mpmath(case):
    form, p = FORM_CASES[case]
    mid = p[1]
    v = np.concatenate(
        [
            np.linspace(-150.0, 150.0, 241),
            mid + np.array([0.0, 1e-12, -1e-12, 1e-7, -1e-7, 0.0999, -0.0999, 0.1, -0.1]),
        ]
    )
    got = R.rate_array(form, p, v)
    for vi, gi in zip(v, got, strict=True):
        ref = _rate_mp(form, p, float(vi))
        rel = float(abs((mpmath.mpf(gi) - ref) / ref))
        bound = _rate_bound(form, p, float(vi))
        assert rel <= bound, f"{case} at v={vi!r}: rel error {rel:.3g} > bound {bound:.3g}"
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize(
    ("case", "expected"),
    [("exp", 4.0), ("sigmoid", 0.5), ("explinear", 1.0), ("explinear_n", 0.1), ("bell", 2.5)],
)
def test_rate_forms_exactly_at_midpoint(case, expected):
    # vexp(0) is exactly 1 (k = 0, r = 0) and exprel(-0.0) exactly 1, so every form is
    # exact at v = midpoint: no 0/0 at NEURON's vtrap singularity (hh alpha_m at -40 mV,
    # alpha_n at -55 mV)
    form, p = FORM_CASES[case]
    assert R.rate_array(form, p, [p[1]])[0] == expected


def _vtrap(x: float, y: float) -> float:
    """NEURON's hh.mod ``vtrap`` (src/nrnoc/hh.mod), transcribed."""
    if abs(x / y) < 1e-6:
        return y * (1 - x / y / 2)
    return x / (math.exp(x / y) - 1)


@pytest.mark.parametrize("dv", [0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-5, -1e-5, 1e-3, -1e-3, 1.0])
def test_hh_alpha_m_matches_neuron_vtrap_near_singularity(dv):
    # hh.mod: alpha_m = .1 * vtrap(-(v + 40), 10). Tolerance 1e-9 relative is NEURON's own
    # precision there: its direct branch at |x/y| just above 1e-6 loses EPS/1e-6 ~ 2e-10
    # to cancellation in exp(x/y) - 1 (its series branch is within (x/y)^2/12 < 1e-13).
    v = -40.0 + dv
    neuron = 0.1 * _vtrap(-(v + 40.0), 10.0)
    ours = float(HH.gate("m").first([v])[0])
    assert ours == pytest.approx(neuron, rel=1e-9, abs=0.0)


# --------------------------------------------------------------------------- vexp


def _vexp(x) -> np.ndarray:
    # rate form EXP with p0 = 1, p1 = 0, p2 = 1 is vexp(x) exactly: (x - 0)/1 and 1 * y
    # are exact in float64, and it runs the same compiled code as the kernels
    return R.rate_array(R.EXP, (1.0, 0.0, 1.0, 0.0), x)


def test_vexp_within_4_ulp_of_libm():
    x = np.concatenate(
        [
            np.linspace(-700.0, 700.0, 1_400_001),  # step 1e-3: every k and every r region
            np.random.default_rng(7).uniform(-700.0, 700.0, 200_000),
            np.array([-1e-300, -1e-17, 0.0, 1e-17, 1e-300, 0.5 * math.log(2.0)]),
        ]
    )
    got = _vexp(x)
    ref = np.exp(x)
    ulps = np.abs(got - ref) / np.spacing(ref)
    k = int(np.argmax(ulps))
    # 4 ulp: the docstring claims ~2 ulp (Cody-Waite reduction, degree-12 Taylor
    # remainder < 2e-17, Horner round-off); libm itself is within ~0.5 ulp of exact
    assert ulps[k] <= 4.0, f"vexp({x[k]!r}) = {got[k]!r}, exp = {ref[k]!r}: {ulps[k]} ulp"


def test_vexp_clamps_instead_of_overflowing():
    # arguments are clamped to [-708, 709]: a huge argument gives a large finite number
    # (not inf) and a very negative one the smallest value it reaches (not 0 or subnormal)
    hi, lo = _vexp([709.0, -708.0])
    for big in (709.5, 710.0, 1e6, np.inf):
        assert _vexp([big])[0] == hi
    for small in (-708.5, -745.0, -1e6, -np.inf):
        assert _vexp([small])[0] == lo
    assert np.isfinite(hi) and hi == pytest.approx(math.exp(709.0), rel=4 * EPS)
    assert lo > np.finfo(np.float64).tiny and lo == pytest.approx(math.exp(-708.0), rel=4 * EPS)


# --------------------------------------------------------------------------- tree solvers


def _random_tree(n: int, rng) -> np.ndarray:
    parent = np.empty(n, dtype=np.int64)
    parent[0] = -1
    for i in range(1, n):
        parent[i] = rng.integers(0, i)
    return parent


def _dense_single(parent, d, g, w) -> np.ndarray:
    n = parent.shape[0]
    A = np.diag(d[:, w].copy())
    for i in range(1, n):
        A[i, parent[i]] = A[parent[i], i] = -g[i, w]
    return A


# Solver error bound: Gaussian elimination without pivoting is backward stable on
# diagonally dominant matrices (growth factor <= 2, Wilkinson), so the forward error is
# <= c n kappa(A) EPS; c = 8 covers the two sweeps, and numpy's LU contributes the same
# again. Measured errors are ~1e-16 relative.
def _solve_tol(A) -> float:
    return 16 * A.shape[0] * np.linalg.cond(A) * EPS


@pytest.mark.parametrize("n", [1, 2, 17, 200])
@pytest.mark.parametrize("W", [1, 3, 16])
def test_solve_tree_matches_dense_solve(n, W):
    rng = np.random.default_rng(1000 * n + W)
    parent = _random_tree(n, rng)
    g = rng.uniform(0.1, 10.0, (n, W))
    g[0] = 0.0
    # diagonal = axial conductances of every neighbour + a positive membrane term,
    # like the cable matrix (d = C/dt + g_ion + sum g_axial)
    d = rng.uniform(0.01, 1.0, (n, W)) + g
    for i in range(1, n):
        d[parent[i]] += g[i]
    r = rng.normal(size=(n, W))
    want = [np.linalg.solve(_dense_single(parent, d, g, w), r[:, w]) for w in range(W)]
    tols = [_solve_tol(_dense_single(parent, d, g, w)) for w in range(W)]
    width = W - 1 if W > 1 else W  # a partial block must leave the last column alone
    d2, r2 = d.copy(), r.copy()
    solve_tree(parent, d2, g, r2, width)
    for w in range(width):
        err = np.max(np.abs(r2[:, w] - want[w])) / np.max(np.abs(want[w]))
        assert err <= tols[w], f"member {w}: relative error {err:.3g} > {tols[w]:.3g}"
    if width < W:
        assert np.array_equal(r2[:, width:], r[:, width:])
        assert np.array_equal(d2[:, width:], d[:, width:])


def _dense_double(parent, a, b, c, gi, gx, w) -> np.ndarray:
    n = parent.shape[0]
    A = np.zeros((2 * n, 2 * n))
    for i in range(n):
        A[2 * i, 2 * i] = a[i, w]
        A[2 * i, 2 * i + 1] = A[2 * i + 1, 2 * i] = b[i, w]
        A[2 * i + 1, 2 * i + 1] = c[i, w]
        if i:
            p = parent[i]
            A[2 * i, 2 * p] = A[2 * p, 2 * i] = -gi[i, w]
            A[2 * i + 1, 2 * p + 1] = A[2 * p + 1, 2 * i + 1] = -gx[i, w]
    return A


@pytest.mark.parametrize("n", [1, 2, 17, 120])
@pytest.mark.parametrize("W", [1, 3, 16])
def test_solve_tree_2x2_matches_dense_solve(n, W):
    rng = np.random.default_rng(7000 * n + W)
    parent = _random_tree(n, rng)
    gi = rng.uniform(0.1, 10.0, (n, W))
    gx = rng.uniform(0.01, 1.0, (n, W))
    gi[0] = gx[0] = 0.0
    # the double-cable structure of kernels/cable.py: membrane conductance gm joins vi and
    # vx (b = -gm); vi rows have no path to ground of their own (a = gm + sum gi, only
    # weakly dominant), vx rows do (myelin capacitance/conductance to ground)
    gm = rng.uniform(0.5, 5.0, (n, W))
    a = gm + gi
    b = -gm
    c = gm + gx + rng.uniform(0.01, 1.0, (n, W))
    for i in range(1, n):
        a[parent[i]] += gi[i]
        c[parent[i]] += gx[i]
    r1 = rng.normal(size=(n, W))
    r2 = rng.normal(size=(n, W))
    mats = [_dense_double(parent, a, b, c, gi, gx, w) for w in range(W)]
    want = [
        np.linalg.solve(A, np.column_stack([r1[:, w], r2[:, w]]).ravel())
        for w, A in enumerate(mats)
    ]
    width = W - 1 if W > 1 else W
    aa, bb, cc, s1, s2 = a.copy(), b.copy(), c.copy(), r1.copy(), r2.copy()
    solve_tree_2x2(parent, aa, bb, cc, gi, gx, s1, s2, width)
    for w in range(width):
        got = np.column_stack([s1[:, w], s2[:, w]]).ravel()
        err = np.max(np.abs(got - want[w])) / np.max(np.abs(want[w]))
        tol = _solve_tol(mats[w])
        assert err <= tol, f"member {w}: relative error {err:.3g} > {tol:.3g}"
    if width < W:
        assert np.array_equal(s1[:, width:], r1[:, width:])
        assert np.array_equal(s2[:, width:], r2[:, width:])
