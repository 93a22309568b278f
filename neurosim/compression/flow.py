"""Intraneural blood flow of a compressed nerve root.

The law has two parts: how each class of vessel collapses under tissue pressure, and how
the root is supplied along its length.

Vessel collapse
---------------
A vessel collapses when the tissue pressure exceeds the pressure inside it. The vessels
of one class do not share one intraluminal pressure: their *closing pressures* are
distributed (normal, or log-normal for the draining veins), and the fraction of a class
still open at tissue pressure ``p`` is ``S(p) / S(0)``, ``S`` the distribution's survival
function. The flow a class carries is taken proportional to its open fraction; its
*breakpoint* is the tissue pressure at which that falls below ``stop`` (5%) of baseline.

Olmarker, Rydevik, Holm & Bagge 1989 (J Orthop Res 7:817; pig cauda equina, vital
microscopy) measured the balloon pressure at which flow stopped: arterioles 127 +/- 18
mmHg at a mean arterial pressure (MAP) of 150 +/- 14, capillaries 40 +/- 6, venules 30
+/- 10; the arteriolar value correlated with MAP (r = 0.83), the others did not. Hence
arteriolar closing pressures are a fixed fraction of arterial pressure (``tracks_arterial``)
and capillary and venular ones are absolute (the precapillary arterioles hold capillary
pressure against changes of arterial pressure). A fourth class, the *veins* that drain
the root longitudinally to its ends, is not in Olmarker's table: their pressure is a few
mmHg above the surroundings, so they are the first to close; their distribution is wide
(log-normal) because a congested vein's pressure rises until some of it reopens (a
Starling resistor), which a fixed closing pressure cannot express otherwise. It is
calibrated to the double-level result below.

Supply along the root
---------------------
Blood enters a lumbar root from both ends (radicular arteries at the foramen, medullary
vessels at the cord) and runs along it (Parke & Watanabe 1985, Spine 10:508; Rydevik,
Brown & Lundborg 1984, Spine 9:7). The root is modelled as a ladder network: an
arterial rail and a venous rail running along the root, joined in every segment by the
nutritive path (terminal arteriole -> capillary -> venule, in series, with fractions
``rung`` of its resistance), fed at both ends at ``feed`` x arterial pressure and
drained at both ends at ``venous_outlet``. With compression, the rails' conductances in
the compressed zone scale with the open fractions of arterioles (arterial rail) and
veins (venous rail), and the nutritive path with the series combination of its three
classes. Where the tissue pressure exceeds the venous pressure the nutritive path
empties against the tissue pressure (a vascular waterfall): its driving pressure is
arterial minus tissue pressure, so the perfusion pressure, not the tissue pressure alone,
sets the flow (Garfin et al. 1990, JBJS Am 72:1185: low systemic pressure makes 50 mmHg
harmful). Without compression every rail conductance is fixed: nerve blood flow follows
perfusion pressure without autoregulation (Low & Tuck 1984, J Physiol 347:513, rat
sciatic nerve), so flow relative to normal scales with ``feed x arterial - venous_outlet``.

The length constant of the ladder (``length_constant``) sets how far supply reaches
along the root. Two compressed levels cut the segment between them off from both ends,
so it is congested and underperfused although it is not compressed; one level leaves
the other end open. Olmarker & Rydevik 1993 (J Orthop Res 11:104): two balloons at 10
mmHg reduced flow in the uncompressed segment between them by 64%; single-level low
pressure did not (Baker et al. 1995, Spine 20:660).

The nerve root is also nourished by diffusion from the cerebrospinal fluid, independent
of flow (Rydevik et al. 1990, Acta Physiol Scand 138:247): that belongs to the ion layer
(``[ions] diffusion_csf``, ``o2_exchange_csf``), not to this law.

Post-ischaemic hyperaemia (Olmarker et al. 1989: flow above baseline for about 10 min
after release, with dilated venules) is :class:`Hyperaemia`: a vasodilator signal that
accumulates with the flow deficit and is washed out by flow.

Units: pressures mmHg, lengths um, times ms. Pressures are gauge pressures relative to
the root's normal surroundings: the applied pressure minus ``surround`` acts on the
vessels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from neurosim.compression.lesion import RootGrid
from neurosim.validate import check_choice, check_finite, check_positive, check_range

__all__ = ["VesselClass", "FlowLaw", "Hyperaemia", "VESSEL_CLASSES", "solve_ladder"]

#: the vessel classes of :class:`FlowLaw`, in order
VESSEL_CLASSES = ("arteriole", "capillary", "venule", "vein")

#: open fractions below this count as closed (keeps the network solvable)
_OPEN_FLOOR = 1e-12


@dataclass(frozen=True)
class VesselClass:
    """Closing pressures of one class of vessels.

    Parameters
    ----------
    name : str
    mean : float
        Mean (normal) or median (log-normal) closing pressure: mmHg, or a fraction of
        arterial pressure if ``tracks_arterial``.
    spread : float
        Standard deviation (normal; mmHg, or a fraction of arterial pressure) or the
        standard deviation of the log (log-normal; dimensionless).
    distribution : {"normal", "lognormal"}
    tracks_arterial : bool
        Closing pressures proportional to arterial pressure (arterioles).
    """

    name: str
    mean: float
    spread: float
    distribution: str = "normal"
    tracks_arterial: bool = False

    def __post_init__(self) -> None:
        where = f"flow.{self.name}"
        check_choice(f"{where}.distribution", self.distribution, ("normal", "lognormal"))
        check_positive(f"{where}.mean", self.mean)
        check_positive(f"{where}.spread", self.spread)

    def closing(self, arterial) -> tuple[np.ndarray, np.ndarray]:
        """Location and spread (mmHg, or log-scale for log-normal) at ``arterial`` mmHg."""
        a = np.asarray(arterial, dtype=float)
        if self.tracks_arterial:
            return self.mean * a, self.spread * a
        return np.full_like(a, self.mean), np.full_like(a, self.spread)

    def open_fraction(self, pressure, arterial=150.0) -> np.ndarray:
        """Fraction of the class open at tissue pressure ``pressure`` (mmHg), 1 at 0.

        ``pressure`` and ``arterial`` broadcast against each other.
        """
        p = np.asarray(pressure, dtype=float)
        loc, sd = self.closing(arterial)
        if self.distribution == "normal":
            return ndtr((loc - p) / sd) / ndtr(loc / sd)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(p, 0.0)) - np.log(loc)) / sd
        return np.where(p > 0, ndtr(-z), 1.0)

    def breakpoint(self, arterial=150.0, stop: float = 0.05) -> float:
        """Tissue pressure (mmHg) at which the open fraction falls to ``stop``."""
        lo, hi = 0.0, 10.0
        while self.open_fraction(hi, arterial) > stop:
            hi *= 2.0
            if hi > 1e6:
                raise ValueError(f"{self.name}: the open fraction never falls below {stop}")
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if self.open_fraction(mid, arterial) > stop:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Hyperaemia:
    """Reactive hyperaemia after ischaemia (Olmarker et al. 1989: ~10 min after release).

    A vasodilator signal ``m`` (ms of full-ischaemia equivalent) grows with the flow
    deficit and is washed out in proportion to flow::

        dm/dt = max(0, 1 - q) - m * q_out / washout,   q_out = q * (1 + gain * m / (m + half))

    so that a long occlusion gives a flow overshoot of up to ``1 + gain`` that decays
    over minutes once flow returns. ``q`` is the nutritive flow from the vessel law.

    Parameters
    ----------
    gain : float
        Largest relative increase of flow (1: flow up to twice normal).
    half : float
        Ischaemia (ms at zero flow) that gives half the largest increase.
    washout : float
        Washout time constant at normal flow (ms).
    """

    gain: float = 1.0
    half: float = 300e3
    washout: float = 180e3

    def __post_init__(self) -> None:
        check_range("flow.hyperaemia.gain", self.gain, 0.0)
        check_positive("flow.hyperaemia.half", self.half, "ms")
        check_positive("flow.hyperaemia.washout", self.washout, "ms")

    def factor(self, m) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        return 1.0 + self.gain * m / (m + self.half)

    def step(self, m, q, dt: float) -> np.ndarray:
        """Advance the signal ``m`` by ``dt`` ms at nutritive flow ``q`` (held constant):
        the exact solution of the linear equation with the rate frozen at its start."""
        m = np.asarray(m, dtype=float)
        q = np.asarray(q, dtype=float)
        source = np.clip(1.0 - q, 0.0, None)
        k = q * self.factor(m) / self.washout
        decay = np.exp(-k * dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            relaxed = m * decay + np.where(k > 0, source / np.where(k > 0, k, 1.0), 0.0) * (
                1 - decay
            )
        return np.where(k > 0, relaxed, m + source * dt)


def solve_ladder(
    ga_link: np.ndarray,
    gv_link: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    c0: np.ndarray,
    a_bnd: np.ndarray,
    u_bnd: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pressures of a two-rail ladder network (block-tridiagonal, 2x2 blocks).

    Node i has an arterial pressure ``a_i`` and a venous pressure ``u_i``; the rung
    between them carries ``j_i = alpha_i a_i - beta_i u_i - c0_i`` from the arterial to
    the venous rail. Mass balance at every node::

        sum_nb Ga (a_nb - a_i) = j_i,      sum_nb Gv (u_nb - u_i) = -j_i

    Parameters
    ----------
    ga_link, gv_link : ndarray (M, N + 1)
        Rail conductances; link ``k`` joins node ``k - 1`` and node ``k``; links 0 and N
        join the end nodes to the supply (pressures ``a_bnd``/``u_bnd``).
    alpha, beta, c0 : ndarray (M, N)
    a_bnd, u_bnd : ndarray (M,)
        Supply pressures at both ends.

    Returns
    -------
    a, u : ndarray (M, N)
    """
    M, N = alpha.shape
    sa = ga_link[:, :-1] + ga_link[:, 1:]
    sv = gv_link[:, :-1] + gv_link[:, 1:]
    d11 = sa + alpha
    d12 = -beta
    d21 = -alpha
    d22 = sv + beta
    r1 = c0.copy()
    r2 = -c0.copy()
    r1[:, 0] += ga_link[:, 0] * a_bnd
    r1[:, -1] += ga_link[:, -1] * a_bnd
    r2[:, 0] += gv_link[:, 0] * u_bnd
    r2[:, -1] += gv_link[:, -1] * u_bnd
    # forward elimination: off-diagonal blocks are -diag(Ga, Gv) of the shared link
    e11, e12, e21, e22 = (np.empty((M, N)) for _ in range(4))
    f1, f2 = np.empty((M, N)), np.empty((M, N))
    e11[:, 0], e12[:, 0], e21[:, 0], e22[:, 0] = d11[:, 0], d12[:, 0], d21[:, 0], d22[:, 0]
    f1[:, 0], f2[:, 0] = r1[:, 0], r2[:, 0]
    for i in range(1, N):
        la, lv = ga_link[:, i], gv_link[:, i]  # L_i = -diag(la, lv), U_{i-1} = same
        det = e11[:, i - 1] * e22[:, i - 1] - e12[:, i - 1] * e21[:, i - 1]
        i11 = e22[:, i - 1] / det
        i12 = -e12[:, i - 1] / det
        i21 = -e21[:, i - 1] / det
        i22 = e11[:, i - 1] / det
        # W = L_i inv(E_{i-1}) ; E_i = D_i - W U_{i-1} ; F_i = R_i - W F_{i-1}
        w11, w12 = -la * i11, -la * i12
        w21, w22 = -lv * i21, -lv * i22
        e11[:, i] = d11[:, i] + w11 * la
        e12[:, i] = d12[:, i] + w12 * lv
        e21[:, i] = d21[:, i] + w21 * la
        e22[:, i] = d22[:, i] + w22 * lv
        f1[:, i] = r1[:, i] - (w11 * f1[:, i - 1] + w12 * f2[:, i - 1])
        f2[:, i] = r2[:, i] - (w21 * f1[:, i - 1] + w22 * f2[:, i - 1])
    a = np.empty((M, N))
    u = np.empty((M, N))
    x1 = np.zeros(M)
    x2 = np.zeros(M)
    for i in range(N - 1, -1, -1):
        g1, g2 = f1[:, i], f2[:, i]
        if i < N - 1:
            g1 = g1 + ga_link[:, i + 1] * x1
            g2 = g2 + gv_link[:, i + 1] * x2
        det = e11[:, i] * e22[:, i] - e12[:, i] * e21[:, i]
        x1 = (e22[:, i] * g1 - e12[:, i] * g2) / det
        x2 = (e11[:, i] * g2 - e21[:, i] * g1) / det
        a[:, i], u[:, i] = x1, x2
    return a, u


def _series_inverse(free: np.ndarray, cov: np.ndarray, openf: np.ndarray) -> np.ndarray:
    """Relative resistance of a segment whose parts lie free (fraction ``free``) or under
    each level (fractions ``cov`` (L, N)) with open fractions ``openf`` (M, L)."""
    return free[None, :] + np.einsum("ln,ml->mn", cov, 1.0 / np.maximum(openf, _OPEN_FLOOR))


@dataclass(frozen=True)
class FlowLaw:
    """Nutritive blood flow along a compressed root, relative to normal (module docstring).

    Parameters
    ----------
    arteriole, capillary, venule, vein : VesselClass
    rung : (float, float, float)
        Fractions of the nutritive path's resistance in terminal arterioles, capillaries
        and venules (sum 1).
    feed : float
        Pressure at the root's supply points as a fraction of arterial pressure.
    venous_outlet : float
        Pressure at the root's venous outlets above the surroundings (mmHg).
    surround : float
        Normal pressure around the root (mmHg), subtracted from applied pressures.
    length_constant : float
        Length constant of longitudinal supply (um).
    venous_ratio : float
        Longitudinal conductance of the venous rail relative to the arterial rail.
    arterial_ref : float
        Arterial pressure at which flow is normal (= 1) (mmHg).
    stop : float
        Relative flow below which a class's flow has "stopped" (breakpoints).
    hyperaemia : Hyperaemia or None
    """

    arteriole: VesselClass
    capillary: VesselClass
    venule: VesselClass
    vein: VesselClass
    rung: tuple = (0.5, 0.25, 0.25)
    feed: float = 0.9
    venous_outlet: float = 5.0
    surround: float = 0.0
    length_constant: float = 20e3
    venous_ratio: float = 2.0
    arterial_ref: float = 150.0
    stop: float = 0.05
    hyperaemia: Hyperaemia | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        rung = tuple(float(x) for x in self.rung)
        if len(rung) != 3:
            raise ValueError(f"`flow.rung` = {self.rung!r} must give 3 fractions")
        check_range("flow.rung", rung, 0.0, 1.0)
        if abs(sum(rung) - 1.0) > 1e-9:
            raise ValueError(f"`flow.rung` = {rung!r} must sum to 1, sums to {sum(rung):g}")
        object.__setattr__(self, "rung", rung)
        check_range("flow.feed", self.feed, 0.0, 1.0, lo_open=True)
        check_range("flow.venous_outlet", self.venous_outlet, 0.0, unit="mmHg")
        check_range("flow.surround", self.surround, 0.0, unit="mmHg")
        check_positive("flow.length_constant", self.length_constant, "um")
        check_positive("flow.venous_ratio", self.venous_ratio)
        check_range("flow.stop", self.stop, 0.0, 0.5, lo_open=True)
        self.check_arterial(self.arterial_ref, "flow.arterial_ref")
        if not self.arteriole.tracks_arterial:
            raise ValueError("`flow.arteriole` closing pressures must track arterial pressure")

    # -- classes --------------------------------------------------------------------
    def vessel(self, name: str) -> VesselClass:
        check_choice("vessel class", name, VESSEL_CLASSES)
        return getattr(self, name)

    def class_flow(self, name: str, pressure, arterial=None) -> np.ndarray:
        """Relative flow of a vessel class at tissue pressure ``pressure`` (mmHg, applied:
        ``surround`` is subtracted)."""
        arterial = self.arterial_ref if arterial is None else arterial
        self.check_arterial(arterial)
        p = np.clip(np.asarray(pressure, dtype=float) - self.surround, 0.0, None)
        return self.vessel(name).open_fraction(p, arterial)

    def breakpoint(self, name: str, arterial=None) -> float:
        """Applied pressure (mmHg) at which class ``name``'s flow falls below ``stop``."""
        arterial = self.arterial_ref if arterial is None else float(arterial)
        self.check_arterial(arterial)
        return self.surround + self.vessel(name).breakpoint(arterial, self.stop)

    def breakpoints(self, arterial=None) -> dict[str, float]:
        return {c: self.breakpoint(c, arterial) for c in VESSEL_CLASSES}

    def check_arterial(self, arterial, key: str = "arterial") -> np.ndarray:
        """Arterial pressure must be given, finite and above the venular breakpoint (below
        it nothing is perfused and the law has no meaning)."""
        if arterial is None:
            raise ValueError(f"`{key}` (mean arterial pressure, mmHg) is missing")
        a = check_finite(key, arterial, "mmHg")
        floor = self.surround + self.venule.breakpoint(1.0, self.stop)
        low = a <= floor
        if np.any(low):
            raise ValueError(
                f"`{key}` = {float(a[low].flat[0]) if a.ndim else float(a):g} mmHg is at or "
                f"below the venular breakpoint ({floor:.3g} mmHg): the root would not be "
                f"perfused at all; allowed ({floor:.3g}, inf) mmHg"
            )
        return a

    # -- the network ----------------------------------------------------------------
    def _rail_constants(self) -> tuple[float, float]:
        """Longitudinal conductance x length of the rails (rung conductance 1 per um)."""
        lam = self.length_constant
        ka = lam * lam * (1.0 + 1.0 / self.venous_ratio)
        return ka, self.venous_ratio * ka

    def _network(self, grid: RootGrid, cov: np.ndarray, p: np.ndarray, arterial: np.ndarray):
        """Rung flow per unit length (M, N) of the root under level pressures ``p`` (M, L)
        (tissue pressure above the surroundings) at arterial pressures ``arterial`` (M,)."""
        M, N = p.shape[0], grid.n
        h = grid.length
        free = np.clip(1.0 - cov.sum(axis=0), 0.0, 1.0)
        o = {c: self.vessel(c).open_fraction(p, arterial[:, None]) for c in VESSEL_CLASSES}
        ka, kv = self._rail_constants()
        inv_a = _series_inverse(free, cov, o["arteriole"])  # (M, N) relative resistance
        inv_v = _series_inverse(free, cov, o["vein"])
        half = 0.5 * h
        ga = np.empty((M, N + 1))
        gv = np.empty((M, N + 1))
        ra = half[None, :] * inv_a / ka
        rv = half[None, :] * inv_v / kv
        ga[:, 1:N] = 1.0 / (ra[:, :-1] + ra[:, 1:])
        gv[:, 1:N] = 1.0 / (rv[:, :-1] + rv[:, 1:])
        e0, e1 = grid.extension
        ga[:, 0] = 1.0 / (e0 / ka + ra[:, 0])
        ga[:, N] = 1.0 / (e1 / ka + ra[:, -1])
        gv[:, 0] = 1.0 / (e0 / kv + rv[:, 0])
        gv[:, N] = 1.0 / (e1 / kv + rv[:, -1])
        fa, fc, fv = self.rung
        s = 1.0 / (
            fa / np.maximum(o["arteriole"], _OPEN_FLOOR)
            + fc / np.maximum(o["capillary"], _OPEN_FLOOR)
            + fv / np.maximum(o["venule"], _OPEN_FLOOR)
        )  # (M, L)
        g_free = (h * free)[None, :]  # (1, N)
        g_part = h[None, None, :] * cov[None, :, :] * s[:, :, None]  # (M, L, N)
        a_bnd = self.feed * arterial
        u_bnd = np.full(M, self.venous_outlet)
        pp = p[:, :, None]
        mode = np.zeros(g_part.shape, dtype=np.int8)  # 0 linear, 1 waterfall, 2 closed
        has = cov[None, :, :] > 0
        for _ in range(30):
            lin = np.where(mode == 0, g_part, 0.0).sum(axis=1)
            wf = np.where(mode == 1, g_part, 0.0)
            alpha = g_free + lin + wf.sum(axis=1)
            beta = g_free + lin
            c0 = (wf * pp).sum(axis=1)
            a, u = solve_ladder(ga, gv, alpha, beta, c0, a_bnd, u_bnd)
            aa, uu = a[:, None, :], u[:, None, :]
            new = np.where(aa <= pp, 2, np.where(uu < pp, 1, 0)).astype(np.int8)
            new = np.where(has, new, 0).astype(np.int8)
            if np.array_equal(new, mode):
                break
            mode = new
        j = alpha * a - beta * u - c0
        return np.clip(j, 0.0, None) / h[None, :], a, u

    def baseline(self, grid: RootGrid) -> np.ndarray:
        """Rung flow per length (N,) of the uncompressed root at ``arterial_ref``."""
        cov = np.zeros((1, grid.n))
        q, _, _ = self._network(grid, cov, np.zeros((1, 1)), np.array([self.arterial_ref]))
        return q[0]

    def relative_flow(self, grid: RootGrid, coverage, pressure, arterial) -> np.ndarray:
        """Nutritive flow of every segment relative to normal.

        Parameters
        ----------
        grid : RootGrid
        coverage : ndarray (L, N)
            Fraction of each segment under each level (:meth:`Lesion.coverage`).
        pressure : ndarray (M, L)
            Applied pressure at each level (mmHg); ``surround`` is subtracted.
        arterial : float or ndarray (M,)
            Mean arterial pressure (mmHg).

        Returns
        -------
        ndarray (M, N)
            1 = the uncompressed root at ``arterial_ref``.
        """
        cov = np.asarray(coverage, dtype=float)
        p = np.atleast_2d(np.asarray(pressure, dtype=float))
        if cov.ndim != 2 or cov.shape[1] != grid.n or p.shape[1] != cov.shape[0]:
            raise ValueError(
                f"coverage {cov.shape} and pressure {p.shape} do not match the grid "
                f"({grid.n} segments): expected (L, {grid.n}) and (M, L)"
            )
        bad = ~np.isfinite(p) | (p < 0)
        if bad.any():
            raise ValueError(
                f"pressure = {p[bad][0]:g} mmHg is not allowed; allowed [0, inf) mmHg, finite"
            )
        arterial = np.broadcast_to(self.check_arterial(arterial), (p.shape[0],)).astype(float)
        excess = np.clip(p - self.surround, 0.0, None)
        q, _, _ = self._network(grid, cov, excess, arterial)
        return q / self.baseline(grid)[None, :]

    def describe(self) -> dict:
        """JSON-ready parameters and the breakpoints at ``arterial_ref``."""
        out = {
            c: {
                "mean": self.vessel(c).mean,
                "spread": self.vessel(c).spread,
                "distribution": self.vessel(c).distribution,
                "tracks_arterial": self.vessel(c).tracks_arterial,
            }
            for c in VESSEL_CLASSES
        }
        out.update(
            rung=list(self.rung),
            feed=self.feed,
            venous_outlet_mmHg=self.venous_outlet,
            surround_mmHg=self.surround,
            length_constant_um=self.length_constant,
            venous_ratio=self.venous_ratio,
            arterial_ref_mmHg=self.arterial_ref,
            stop=self.stop,
            breakpoints_mmHg=self.breakpoints(),
        )
        if self.hyperaemia is not None:
            out["hyperaemia"] = {
                "gain": self.hyperaemia.gain,
                "half_ms": self.hyperaemia.half,
                "washout_ms": self.hyperaemia.washout,
            }
        return out
