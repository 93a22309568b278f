"""The compression driver of an :class:`~neurosim.simulate.ionic.IonicSimulation`.

For a slow step ``[t, t + dt)`` the driver

1. samples the schedule inside the step (enough points to resolve the gait
   oscillation, 8 per wave by default), scales it per level and per batch member,
2. solves the flow law at every sample and averages the *flow* (the law is nonlinear,
   so the flow of the mean pressure would be wrong), then applies the post-ischaemic
   hyperaemia factor: :meth:`CompressionDriver.flow`, shape (B, P), no side effects;
3. advances the hyperaemia signal and the myelin damage over the step with the step's
   mean rates, records the step in :attr:`CompressionDriver.history`, and writes the
   damage into the cable's kernel arrays so that the next fast window sees it:
   :meth:`CompressionDriver.advance`;
4. tells the simulation where its slow steps should end (:meth:`next_event`: posture
   changes, the ends of transitions, a release).

:meth:`CompressionDriver.update` does 2 and 3 in one call made before the step's window
(the older single-call driver protocol): then the damage reached at ``t`` is applied
before the window.

The driver only reads ``isim.sim`` (the cable batch), ``isim.ions.pool`` and
``isim.models``; it can be bound without a simulation (:meth:`CompressionDriver.bind`)
to preview pressures and flows.
"""

from __future__ import annotations

import numpy as np

from neurosim.compression.damage import DamageLaw, MyelinDamage
from neurosim.compression.flow import FlowLaw
from neurosim.compression.lesion import Lesion, RootGrid
from neurosim.compression.schedule import PressureSchedule
from neurosim.validate import check_int, check_range

__all__ = ["CompressionDriver"]


class CompressionDriver:
    """Pressure, blood flow and myelin damage of a compressed root, step by step.

    Parameters
    ----------
    lesion : Lesion
    schedule : PressureSchedule
        Pressure at the lesion (mmHg, applied; the flow law subtracts its ``surround``).
    flow_law : FlowLaw
    damage : DamageLaw, optional
        Paranodal retraction at the lesion edges (needs an MRG-type axon).
    arterial : float or array (B,)
        Mean arterial pressure (mmHg) per batch member. Required.
    grade : float or array (B,), optional
        Multiplier of the schedule's pressure per member (a sweep over stenosis grade).
    extension : (float, float)
        Root length (um) between the blood supply and each end of the simulated axon
        (start end, far end): see :class:`RootGrid`.
    per_cycle : int
        Samples per gait wave inside a slow step.
    """

    def __init__(
        self,
        lesion: Lesion,
        schedule: PressureSchedule,
        flow_law: FlowLaw,
        damage: DamageLaw | None = None,
        arterial=None,
        *,
        grade=1.0,
        extension=(0.0, 0.0),
        per_cycle: int = 8,
    ):
        for name, obj, cls in (
            ("lesion", lesion, Lesion),
            ("schedule", schedule, PressureSchedule),
            ("flow_law", flow_law, FlowLaw),
        ):
            if not isinstance(obj, cls):
                raise TypeError(f"`{name}` must be a {cls.__name__}, got {type(obj).__name__}")
        if damage is not None and not isinstance(damage, DamageLaw):
            raise TypeError(f"`damage` must be a DamageLaw or None, got {type(damage).__name__}")
        self.arterial_in = flow_law.check_arterial(arterial)
        self.grade_in = check_range("grade", grade, 0.0, unit="")
        self.lesion = lesion
        self.schedule = schedule
        self.flow_law = flow_law
        self.damage_law = damage
        self.extension = tuple(float(x) for x in extension)
        self.per_cycle = check_int("per_cycle", per_cycle, 1, 1000)
        self.bound = False
        self._hist: dict[str, list] = {}
        self._cache = None

    # -- binding ------------------------------------------------------------------------
    def bind(self, model, pool, B: int, sim=None) -> CompressionDriver:
        """Lay the lesion onto a model's ion pools (and, with ``sim``, its kernel arrays).

        Parameters
        ----------
        model : CableModel
            The model (member 0 for a structural batch).
        pool : ndarray (n,)
            Ion pool of each compartment.
        B : int
            Batch size.
        sim : CableSimulation, optional
            Whose kernel arrays the myelin damage is written into; without it the damage
            is computed and recorded only (a preview).
        """
        morph = model.morphology
        self.grid = RootGrid.from_pools(morph, pool, self.extension)
        nodes = [s for s in morph.names if s.startswith("node[")]
        pos = morph.geometry.position

        def node_position(i: int) -> float:
            if not 0 <= i < len(nodes):
                raise ValueError(f"lesion level at node {i}: the axon has nodes 0-{len(nodes) - 1}")
            return float(pos[morph.compartment(f"node[{i}]")])

        self.node_position = node_position if nodes else None
        self.coverage = self.lesion.coverage(self.grid, self.node_position)
        self.B = int(B)
        self.arterial = np.broadcast_to(self.arterial_in, (self.B,)).astype(float).copy()
        self.grade = np.broadcast_to(self.grade_in, (self.B,)).astype(float).copy()
        self.scales = self.lesion.scales
        self.baseline = self.flow_law.baseline(self.grid)
        P = self.grid.n
        self.hyper_signal = np.zeros((self.B, P))
        self.myelin = None
        total = float(self.grid.hi[-1])
        self.edges = self.lesion.edges(total, self.node_position)
        self.edge_level = np.array([e.level for e in self.edges], dtype=np.int64)
        d0 = self.damage_law.initial if self.damage_law is not None else 0.0
        self.damage_state = np.full((self.B, len(self.edges)), float(d0))
        if self.damage_law is not None and sim is not None:
            self.myelin = MyelinDamage(self.damage_law, sim, model, self.edges)
            self.myelin.apply(self.damage_state)
        self._hist = {}
        self._cache = None
        self._flow_memo = None
        self.bound = True
        self._sim_bound = sim
        return self

    def prepare(self, isim) -> None:
        """Called once by :class:`IonicSimulation` before the ionic balance: binds the
        driver and, for a chronic lesion (``damage.initial`` > 0), applies the initial
        damage and lets the cable settle at its new rest, which the balance then keeps."""
        models = isim.models
        first = models if not isinstance(models, list | tuple) else models[0]
        self.bind(first, isim.ions.pool, isim.sim.k.B, isim.sim)
        if self.myelin is not None and np.any(self.damage_state > 0):
            isim.sim._relax()

    def setup(self, isim) -> None:
        """Called once by :class:`IonicSimulation` after the ionic balance (binds the
        driver unless :meth:`prepare` did)."""
        if self.bound and getattr(self, "_sim_bound", None) is isim.sim:
            return
        models = isim.models
        first = models if not isinstance(models, list | tuple) else models[0]
        self.bind(first, isim.ions.pool, isim.sim.k.B, isim.sim)

    # -- one slow step ----------------------------------------------------------------
    def pressures(self, times) -> np.ndarray:
        """Applied pressure (mmHg) at every level, per member, at ``times`` (ms):
        shape (B, T, L)."""
        p = self.schedule.pressure(np.asarray(times, dtype=float))  # (T,)
        return self.grade[:, None, None] * p[None, :, None] * self.scales[None, None, :]

    def flows(self, times) -> np.ndarray:
        """Nutritive flow per pool (relative to normal) at ``times``: (B, T, N)."""
        self._need_bound()
        pr = self.pressures(times)
        B, T, L = pr.shape
        # The vessel network is solved once per distinct (pressures, arterial) row, and
        # not again while the rows stay the same (a constant phase, slow step after slow
        # step): each row's flow depends on that row alone.
        rows = np.column_stack([pr.reshape(B * T, L), np.repeat(self.arterial, T)])
        distinct, which = np.unique(rows, axis=0, return_inverse=True)
        key = distinct.tobytes()
        if self._flow_memo is None or self._flow_memo[0] != key:
            q = self.flow_law.relative_flow(
                self.grid, self.coverage, distinct[:, :L], distinct[:, L]
            )
            self._flow_memo = (key, q)
        return self._flow_memo[1][which.ravel()].reshape(B, T, self.grid.n)

    def _step(self, t: float, dt: float):
        """Sample times, level pressures (B, T, L) and mean nutritive flow (B, N) of the
        step ``[t, t + dt)``; the last step asked for is cached (the simulation asks for
        the flow of a step before advancing over it)."""
        key = (float(t), float(dt))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        times = self.schedule.samples(t, dt, self.per_cycle)
        pr = self.pressures(times)  # (B, T, L)
        q = self.flows(times).mean(axis=1)  # (B, N): mean of the flow, not of the pressure
        self._cache = (key, (times, pr, q))
        return times, pr, q

    def _factor(self) -> np.ndarray:
        hy = self.flow_law.hyperaemia
        return np.ones_like(self.hyper_signal) if hy is None else hy.factor(self.hyper_signal)

    def flow(self, t: float, dt: float, isim=None) -> np.ndarray:
        """Mean flow per pool over ``[t, t + dt)`` relative to normal, (B, P), including
        the present hyperaemia; no side effects."""
        self._need_bound()
        _, _, q = self._step(t, dt)
        return q * self._factor()

    def advance(self, t: float, dt: float, isim=None) -> None:
        """Advance hyperaemia and damage over ``[t, t + dt)``, record the step, and write
        the damage reached at ``t + dt`` into the kernel arrays (for the next window)."""
        self._need_bound()
        self._advance(t, dt, apply_after=True)

    def update(self, t: float, dt: float, isim=None) -> np.ndarray:
        """One call per slow step, before its fast window: apply the damage reached so
        far, return the flow per pool (B, P) for ``[t, t + dt)`` and advance the state."""
        flow = self.flow(t, dt)
        self._advance(t, dt, apply_after=False)
        return flow

    def next_event(self, t: float) -> float | None:
        """Time (ms) of the schedule's next change after ``t`` (a phase start or the end
        of a transition), or None: slow steps should end there."""
        s = self.schedule
        marks = np.concatenate([s.starts, s.starts + s.rise, s.ends])
        marks = marks[np.isfinite(marks) & (marks > t + 1e-9)]
        return float(marks.min()) if marks.size else None

    def _advance(self, t: float, dt: float, apply_after: bool) -> None:
        times, pr, q = self._step(t, dt)
        factor = self._factor()
        dense = self.schedule.samples(t, dt, 4 * self.per_cycle, minimum=4)
        peak = np.maximum(self.pressures(dense).max(axis=1), pr.max(axis=1))
        speed = float(self.schedule.onset_speed(t))
        during = self.damage_state.copy()
        if self.myelin is not None and not apply_after:
            self.myelin.apply(during)
        self._record(
            t=t,
            dt=dt,
            pressure=pr.mean(axis=1),
            pressure_peak=peak,
            onset_speed=speed,
            flow=q * factor,
            hyperaemia=factor,
            damage=during,
        )
        hy = self.flow_law.hyperaemia
        if hy is not None:
            self.hyper_signal = hy.step(self.hyper_signal, q, dt)
        if self.damage_law is not None and len(self.edges):
            excess = np.clip(pr - self.flow_law.surround, 0.0, None)  # (B, T, L)
            rate = self.damage_law.rate(excess, speed).mean(axis=1)  # (B, L)
            self.damage_state = self.damage_law.advance(
                self.damage_state, rate[:, self.edge_level], dt
            )
        if self.myelin is not None and apply_after:
            self.myelin.apply(self.damage_state)

    # -- records ------------------------------------------------------------------------
    def _record(self, **values) -> None:
        for k, v in values.items():
            self._hist.setdefault(k, []).append(np.array(v, dtype=float, copy=True))

    @property
    def history(self) -> dict[str, np.ndarray]:
        """Per slow step (S steps): ``t``, ``dt`` (ms, (S,)), ``pressure`` and
        ``pressure_peak`` (mean and peak applied pressure per level, mmHg, (S, B, L)),
        ``onset_speed`` (mmHg/s, (S,)), ``flow`` (flow per pool returned to the ion layer,
        relative to normal, (S, B, P)), ``hyperaemia`` (its factor, (S, B, P)),
        ``damage`` (damage per edge applied during the step, (S, B, E))."""
        return {k: np.stack(v) for k, v in self._hist.items()}

    def describe(self) -> dict:
        """JSON-ready description (lesion geometry, schedule, laws) for saving."""
        self._need_bound()
        iv = self.lesion.intervals(float(self.grid.hi[-1]), self.node_position)
        out = {
            "levels_um": iv.tolist(),
            "cord_end": self.lesion.cord_end,
            "edges_um": [e.position for e in self.edges],
            "schedule": self.schedule.describe(),
            "flow": self.flow_law.describe(),
            "arterial_mmHg": self.arterial.tolist(),
            "grade": self.grade.tolist(),
        }
        if self.myelin is not None:
            out["damaged_paranodes"] = self.myelin.describe()
        return out

    def _need_bound(self) -> None:
        if not self.bound:
            raise RuntimeError(
                "the compression driver is not bound to an axon: pass it to IonicSimulation "
                "(drivers=[...]) or call bind(model, pool, B)"
            )
